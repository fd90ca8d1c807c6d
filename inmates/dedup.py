"""Data ganda: finding duplicate records and resolving them.

Three kinds of duplicate (UU 7/2017 art. 198(2): a voter is registered once):

* the same person entered twice in one facility (re-admission, typing variants);
* the same person in two facilities (a transfer that was not recorded);
* an inmate still on the DPT of their home TPS, who must move to the prison TPS
  as DPTb (Formulir Model A-Surat Pindah Memilih) and not stay active at home.

The rules (name normalisation, blocking, scoring) are the pure modules
``inmates.names`` and ``inmates.matching``. This module loads records from the
database, runs those rules for a scope, keeps the review queue
(``DuplicateCandidate``) up to date and carries out the decisions:

* :func:`duplicates_detect` (background task, ``find_duplicates``, seeding);
* :func:`detect_for_inmates` (after a form save or a merge: only those records);
* :func:`duplicate_confirm` merges a pair, :func:`duplicate_dismiss` records
  "not a duplicate", :func:`dpt_match_confirm` confirms a home-DPT match,
  :func:`duplicates_auto_merge` merges the pairs that are safe unseen.

A dismissal holds while both records keep the fields that matching looks at:
the candidate stores a fingerprint of those fields and a later run proposes
the pair again only when the fingerprint differs. The fingerprint is taken
from the fields, not from ``updated_at``, because custody events touch
``updated_at`` without changing who the person is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from inmates import matching
from inmates.audit import access_log_record
from inmates.dedup_queue import DetectionResult, lock_queue, remove_orphans, save_pairs
from inmates.dedup_scan import (
    DPT_FIELDS,
    INMATE_FIELDS,
    FoundPair,
    Scan,
    dpt_record,
    inmate_record,
    inmate_record_of,
    load_inmates,
    near_dates,
    noop_progress,
    pair_fingerprint,
    targeted_dpt,
    targeted_inmates,
)
from inmates.models import (
    AccessLog,
    CustodyStatus,
    DptRecord,
    DuplicateCandidate,
    Facility,
    Inmate,
    Region,
    User,
)

__all__ = [
    "MATCH_THRESHOLD",
    "MERGE_FIELDS",
    "REVIEW_THRESHOLD",
    "CandidateDecidedError",
    "CandidateOutOfScopeError",
    "DetectionResult",
    "FoundPair",
    "HomeDpt",
    "candidate_fingerprint",
    "detect_for_inmates",
    "dpt_match_confirm",
    "duplicate_confirm",
    "duplicate_dismiss",
    "duplicates_auto_merge",
    "duplicates_detect",
    "home_dpt_for",
    "near_dates",
    "open_candidate_inmate_ids",
    "pair_fingerprint",
    "pairs_as_json",
    "reason_labels",
]

REVIEW_THRESHOLD = matching.REVIEW_THRESHOLD
MATCH_THRESHOLD = matching.MATCH_THRESHOLD

Progress = Callable[[str, int, int], None]


class CandidateDecidedError(ValidationError):
    """The pair was decided (by someone else) in the meantime."""


class CandidateOutOfScopeError(ValidationError):
    """A record of the pair lies outside the user's scope: only an admin decides such a pair."""


def _check_scope(candidate: DuplicateCandidate, user: User | None) -> None:
    """Officers decide only pairs whose every record lies in their scope (``user=None``: a command)."""
    if user is None or user.is_admin_role:
        return
    if not DuplicateCandidate.objects.filter(pk=candidate.pk).inside_scope(user).exists():
        raise CandidateOutOfScopeError(
            _("A record of this pair lies outside your area (another regency/city): an admin decides it."),
            code="out_of_scope",
        )


def candidate_fingerprint(candidate: DuplicateCandidate) -> str:
    """The fingerprint of a candidate's records as they are in the database now."""
    a = inmate_record(Inmate.objects.filter(pk=candidate.inmate_a_id).values_list(*INMATE_FIELDS).get())
    if candidate.inmate_b_id:
        b = inmate_record(Inmate.objects.filter(pk=candidate.inmate_b_id).values_list(*INMATE_FIELDS).get())
    else:
        b = dpt_record(DptRecord.objects.filter(pk=candidate.dpt_record_id).values_list(*DPT_FIELDS).get())
    return pair_fingerprint(a, b)


def reason_labels(reasons: Iterable[str]) -> list[str]:
    """The reasons of a candidate in the user's language."""
    return [gettext(matching.REASON_LABELS.get(code, code)) for code in reasons]


def _scope_inmates(facility: Facility | None, regency: Region | str | None) -> QuerySet:
    queryset = Inmate.objects.active()
    if facility is not None:
        return queryset.filter(facility=facility)
    if regency is not None:
        regency_id = regency.pk if isinstance(regency, Region) else regency
        return queryset.filter(facility__regency_id=regency_id)
    return queryset


def _touching(queryset: QuerySet) -> Q:
    return Q(inmate_a__in=queryset) | Q(inmate_b__in=queryset)


def duplicates_detect(
    *,
    facility: Facility | None = None,
    regency: Region | str | None = None,
    against_dpt: bool = False,
    user: User | None = None,
    threshold: float = REVIEW_THRESHOLD,
    progress: Progress | None = None,
) -> DetectionResult:
    """Find duplicate pairs for a scope and update the review queue.

    Scope: one facility, the facilities of one regency, or everything (no
    argument). A scope run compares its inmates with every active inmate,
    so a person in two facilities is found from either side. With
    ``against_dpt`` the scope's inmates in custody are also compared with
    every loaded DPT record. Pairs scoring at least ``threshold`` become
    candidates (the default keeps the review band: possible twins, conflicting
    NIKs). Records marked as duplicates of another are left out.
    """
    progress = progress or noop_progress
    result = DetectionResult()
    scope_qs = _scope_inmates(facility, regency)
    everything = facility is None and regency is None

    progress("inmates", 0, 0)
    scope = load_inmates(scope_qs)
    population = scope if everything else targeted_inmates(scope)
    if population is None:
        population = load_inmates(Inmate.objects.active())
    result.inmates = len(scope)
    scan = Scan(population=population, scope=scope, threshold=threshold)
    if against_dpt:
        scan.dpt_inmates = set(
            scope_qs.filter(custody_status=CustodyStatus.IN_CUSTODY).values_list("pk", flat=True)
        )
        scan.dpt_rows = "all"
        scan.dpt_total = result.dpt_records = DptRecord.objects.count()
    progress("inmates", len(scope), len(scope))
    pairs, dpt_pairs = scan.run(progress)
    del scan, scope, population

    progress("saving", 0, len(pairs) + len(dpt_pairs))
    with transaction.atomic():
        lock_queue()
        existing = (
            DuplicateCandidate.objects.all()
            if everything
            else DuplicateCandidate.objects.filter(_touching(scope_qs))
        )
        save_pairs(pairs, existing, kind=DuplicateCandidate.Kind.INMATE_PAIR, user=user, result=result)
        if against_dpt:
            save_pairs(dpt_pairs, existing, kind=DuplicateCandidate.Kind.DPT, user=user, result=result)
        result.removed += remove_orphans()
    progress("saving", len(pairs) + len(dpt_pairs), len(pairs) + len(dpt_pairs))
    return result


def detect_for_inmates(
    inmates: Iterable[Inmate | int],
    *,
    user: User | None = None,
    with_dpt: bool = True,
    threshold: float = REVIEW_THRESHOLD,
) -> DetectionResult:
    """Re-check a few records (just saved, or merged) against the register and the DPT.

    Fetches only the records that can match (same NIK or NKK, birth dates
    within a typo), so it is fast enough to run on every form save.
    """
    ids = [i.pk if isinstance(i, Inmate) else i for i in inmates]
    result = DetectionResult()
    scope_qs = Inmate.objects.active().filter(pk__in=ids)
    scope = load_inmates(scope_qs)
    result.inmates = len(scope)
    population = targeted_inmates(scope)
    if population is None:
        population = load_inmates(Inmate.objects.active())
    scan = Scan(population=population, scope=scope, threshold=threshold)
    if with_dpt:
        scan.dpt_inmates = set(
            scope_qs.filter(custody_status=CustodyStatus.IN_CUSTODY).values_list("pk", flat=True)
        )
        scan.dpt_rows = targeted_dpt([rec for rec in scope if rec.ref in scan.dpt_inmates])
    pairs, dpt_pairs = scan.run()
    with transaction.atomic():
        lock_queue()
        existing = DuplicateCandidate.objects.filter(Q(inmate_a_id__in=ids) | Q(inmate_b_id__in=ids))
        save_pairs(pairs, existing, kind=DuplicateCandidate.Kind.INMATE_PAIR, user=user, result=result)
        if with_dpt:
            save_pairs(dpt_pairs, existing, kind=DuplicateCandidate.Kind.DPT, user=user, result=result)
    return result


# =============================================================================
# Decisions
# =============================================================================

# Values a reviewer may take from either record when merging, as (key, fields).
# The revocation flag and its court decision travel together (the database
# requires a decision number for a revoked right).
MERGE_FIELDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("nik", ("nik",)),
    ("nkk", ("nkk",)),
    ("full_name", ("full_name",)),
    ("birth_place", ("birth_place",)),
    ("birth_date", ("birth_date",)),
    ("sex", ("sex",)),
    ("marital_status", ("marital_status",)),
    ("citizenship", ("citizenship",)),
    ("address", ("address",)),
    ("rt", ("rt",)),
    ("rw", ("rw",)),
    ("domicile_region", ("domicile_region_id",)),
    ("disability", ("disability",)),
    ("ktp_el_status", ("ktp_el_status",)),
    ("is_tni_polri", ("is_tni_polri",)),
    ("voting_right_revoked", ("voting_right_revoked", "revocation_decision")),
)
MERGE_KEYS = tuple(key for key, _fields in MERGE_FIELDS)


def _already_decided(candidate: DuplicateCandidate) -> CandidateDecidedError:
    who = candidate.decided_by.get_username() if candidate.decided_by else "-"
    when = (
        timezone.localtime(candidate.decided_at).strftime("%d-%m-%Y %H:%M") if candidate.decided_at else "-"
    )
    return CandidateDecidedError(
        _("This pair was already decided (%(status)s) by %(user)s at %(when)s. Reload the page."),
        code="already_decided",
        params={"status": candidate.get_status_display(), "user": who, "when": when},
    )


def _lock_candidate(candidate: DuplicateCandidate, user: User | None) -> DuplicateCandidate:
    _check_scope(candidate, user)
    lock_queue()
    locked = DuplicateCandidate.objects.select_for_update().get(pk=candidate.pk)
    if locked.status != DuplicateCandidate.Status.OPEN:
        raise _already_decided(locked)
    return locked


def _decide(candidate: DuplicateCandidate, status: str, user: User | None, reason: str) -> None:
    candidate.status = status
    candidate.decided_by = user
    candidate.decided_at = timezone.now()
    candidate._history_user = user
    candidate._change_reason = reason
    candidate.full_clean(exclude=["reasons"])
    candidate.save()


def _choose_values(values: dict[str, str], survivor_side: str) -> dict[str, str]:
    unknown = set(values) - set(MERGE_KEYS)
    if unknown:
        raise ValidationError(
            _("Unknown fields to merge: %(fields)s."),
            code="unknown_field",
            params={"fields": ", ".join(sorted(unknown))},
        )
    bad = {key for key, side in values.items() if side not in ("a", "b")}
    if bad:
        raise ValidationError(
            _("Choose A or B for: %(fields)s."), code="bad_side", params={"fields": ", ".join(sorted(bad))}
        )
    return {key: values.get(key, survivor_side) for key in MERGE_KEYS}


@transaction.atomic
def duplicate_confirm(
    *,
    candidate: DuplicateCandidate,
    survivor: Inmate,
    values: dict[str, str],
    user: User | None,
    seen_fingerprint: str | None = None,
) -> Inmate:
    """Merge two inmate records into ``survivor``, taking each value from the side chosen in ``values``.

    ``values`` maps keys of :data:`MERGE_FIELDS` to ``"a"`` or ``"b"``; keys
    left out keep the survivor's value. The other record stays, marked as a
    duplicate of the survivor (``duplicate_of``), so it leaves voter lists but
    keeps its custody history; both records' histories record the user.
    Both inmates and the candidate are locked: of two officers merging the same
    pair, the second gets :class:`CandidateDecidedError`. With
    ``seen_fingerprint`` (what the reviewer's page showed), a record changed in
    the meantime stops the merge instead of overwriting the change.
    """
    locked = _lock_candidate(candidate, user)
    if locked.kind != DuplicateCandidate.Kind.INMATE_PAIR:
        raise ValidationError(_("Only two inmate records can be merged."), code="not_a_pair")
    ids = sorted([locked.inmate_a_id, locked.inmate_b_id])
    rows = {
        inmate.pk: inmate for inmate in Inmate.objects.select_for_update().filter(pk__in=ids).order_by("pk")
    }
    a, b = rows[locked.inmate_a_id], rows[locked.inmate_b_id]
    if survivor.pk not in (a.pk, b.pk):
        raise ValidationError(_("The surviving record must be one of the pair."), code="bad_survivor")
    if a.duplicate_of_id or b.duplicate_of_id:
        raise ValidationError(
            _("One of the records has already been merged into another. Reload the page."),
            code="already_merged",
        )
    current = pair_fingerprint(inmate_record_of(a), inmate_record_of(b))
    if seen_fingerprint is not None and seen_fingerprint != current:
        raise ValidationError(
            _("One of the records was changed after you opened this page. Review the pair again."),
            code="changed",
        )
    survivor_side = "a" if survivor.pk == a.pk else "b"
    keep, loser = (a, b) if survivor_side == "a" else (b, a)
    chosen = _choose_values(values, survivor_side)
    taken_from_other = []
    for key, fields in MERGE_FIELDS:
        source = a if chosen[key] == "a" else b
        if source is loser:
            taken_from_other.append(key)
        for name in fields:
            setattr(keep, name, getattr(source, name))
    reason = f"merge: kept #{keep.pk}, #{loser.pk} marked as its duplicate"
    if taken_from_other:
        reason += f"; values from #{loser.pk}: {', '.join(taken_from_other)}"
    keep.full_clean()
    keep.refresh_warnings()
    keep._history_user = user
    keep._change_reason = reason[:100]
    keep.save()
    loser.duplicate_of = keep
    loser._history_user = user
    loser._change_reason = f"merge: duplicate of #{keep.pk}"
    # Only the link changes: the loser's own data is kept as it was.
    loser.save(update_fields=["duplicate_of", "updated_at"])
    locked.fingerprint = current
    _decide(locked, DuplicateCandidate.Status.CONFIRMED, user, f"merged into #{keep.pk}")
    _after_merge(keep=keep, loser=loser, user=user)
    access_log_record(
        user=user,
        action=AccessLog.Action.MERGE,
        target=f"{loser} -> {keep}"[:255],
        facility=keep.facility,
        details={"survivor": keep.pk, "duplicate": loser.pk, "candidate": locked.pk},
    )
    return keep


def _after_merge(*, keep: Inmate, loser: Inmate, user: User | None) -> None:
    """Carry the loser's confirmed home-DPT matches over, drop its open pairs, re-check the survivor."""
    for candidate in DuplicateCandidate.objects.filter(
        inmate_a=loser, kind=DuplicateCandidate.Kind.DPT, status=DuplicateCandidate.Status.CONFIRMED
    ):
        on_survivor = DuplicateCandidate.objects.filter(inmate_a=keep, dpt_record_id=candidate.dpt_record_id)
        if on_survivor.exclude(status=DuplicateCandidate.Status.OPEN).exists():
            continue
        # The decision outranks a question still open on the survivor.
        on_survivor.delete()
        candidate.inmate_a = keep
        candidate._history_user = user
        candidate._change_reason = f"moved from #{loser.pk} after merge"
        candidate.save()
    DuplicateCandidate.objects.open().filter(Q(inmate_a=loser) | Q(inmate_b=loser)).delete()
    detect_for_inmates([keep], user=user)


@transaction.atomic
def duplicate_dismiss(*, candidate: DuplicateCandidate, user: User | None) -> DuplicateCandidate:
    """Record that the pair is not one person; later runs skip it while neither record changes."""
    locked = _lock_candidate(candidate, user)
    locked.fingerprint = candidate_fingerprint(locked)
    _decide(locked, DuplicateCandidate.Status.DISMISSED, user, "dismissed: not a duplicate")
    return locked


@transaction.atomic
def dpt_match_confirm(*, candidate: DuplicateCandidate, user: User | None) -> DuplicateCandidate:
    """Confirm that the inmate is the voter on that home DPT: they move to the prison TPS as DPTb."""
    locked = _lock_candidate(candidate, user)
    if locked.kind != DuplicateCandidate.Kind.DPT:
        raise ValidationError(_("This is not a DPT match."), code="not_dpt")
    if Inmate.objects.filter(pk=locked.inmate_a_id, duplicate_of__isnull=False).exists():
        raise ValidationError(
            _("The inmate record has been merged into another. Reload the page."), code="already_merged"
        )
    locked.fingerprint = candidate_fingerprint(locked)
    _decide(locked, DuplicateCandidate.Status.CONFIRMED, user, "confirmed: on a home DPT, move as DPTb")
    return locked


def auto_survivor(a: Inmate, b: Inmate) -> Inmate:
    """The record that stays when no human chooses: the one in custody, else the later admission."""

    def rank(inmate: Inmate) -> tuple:
        return (inmate.custody_status == CustodyStatus.IN_CUSTODY, inmate.admission_date, inmate.pk)

    return max(a, b, key=rank)


def duplicates_auto_merge(*, candidates: Iterable[DuplicateCandidate], user: User | None) -> tuple[int, int]:
    """Merge the pairs marked safe (same NIK, agreeing name, birth date and sex); (merged, skipped).

    The survivor is the record in custody (else the later admission); each
    value is the survivor's unless it is empty and the other record has one.
    Possible twins, DPT matches and decided pairs are skipped: they need a
    human. Each pair is merged in its own transaction.
    """
    merged = skipped = 0
    for candidate in candidates:
        if (
            candidate.kind != DuplicateCandidate.Kind.INMATE_PAIR
            or not candidate.auto_merge_ok
            or "possible_twins" in candidate.reasons
            or candidate.status != DuplicateCandidate.Status.OPEN
        ):
            skipped += 1
            continue
        a = Inmate.objects.get(pk=candidate.inmate_a_id)
        b = Inmate.objects.get(pk=candidate.inmate_b_id)
        survivor = auto_survivor(a, b)
        side, other = ("a", b) if survivor.pk == a.pk else ("b", a)
        values = {}
        for key, fields in MERGE_FIELDS:
            mine = getattr(survivor, fields[0])
            theirs = getattr(other, fields[0])
            empty = mine in (None, "") and theirs not in (None, "")
            values[key] = ("b" if side == "a" else "a") if empty else side
        try:
            duplicate_confirm(candidate=candidate, survivor=survivor, values=values, user=user)
        except ValidationError:
            skipped += 1
            continue
        merged += 1
    return merged, skipped


# =============================================================================
# Reads for other features
# =============================================================================


@dataclass(frozen=True)
class HomeDpt:
    """Where an inmate is registered at home, according to a DPT match."""

    candidate_id: int
    tps: str
    region_code: str
    dpt_file: str
    line: int
    confirmed: bool
    score: float


def home_dpt_for(inmate_ids: Iterable[int], *, include_open: bool = True) -> dict[int, HomeDpt]:
    """The home TPS of each inmate found on a DPT (confirmed first, then the best open match).

    The voter list uses it to list the inmate as DPTb with the home TPS.
    """
    ids = list(inmate_ids)
    statuses = [DuplicateCandidate.Status.CONFIRMED]
    if include_open:
        statuses.append(DuplicateCandidate.Status.OPEN)
    found: dict[int, HomeDpt] = {}
    for start in range(0, len(ids), 900):
        rows = (
            DuplicateCandidate.objects.filter(
                kind=DuplicateCandidate.Kind.DPT,
                status__in=statuses,
                inmate_a_id__in=ids[start : start + 900],
            )
            .values_list(
                "pk",
                "inmate_a_id",
                "status",
                "score",
                "dpt_record__tps",
                "dpt_record__region_code",
                "dpt_record__dpt_file__name",
                "dpt_record__line",
            )
            .order_by("inmate_a_id", "status", "-score")
        )
        for pk, inmate_id, status, score, tps, region, file_name, line in rows:
            entry = HomeDpt(
                pk, tps, region, file_name, line, status == DuplicateCandidate.Status.CONFIRMED, score
            )
            best = found.get(inmate_id)
            if best is None or (entry.confirmed, entry.score) > (best.confirmed, best.score):
                found[inmate_id] = entry
    return found


def open_candidate_inmate_ids() -> set[int]:
    """Inmates with an open duplicate question (a list may want to flag them before hand-over)."""
    rows = DuplicateCandidate.objects.open().values_list("inmate_a_id", "inmate_b_id")
    return {pk for pair in rows for pk in pair if pk is not None}


def pairs_as_json(pairs: Iterable[FoundPair]) -> dict:
    """The ``find_duplicates --json`` document.

    ``{"pairs": [{"a": REF, "b": REF, "score": float, "reasons": [str]}]}``
    where an inmate REF is ``{"facility": CODE, "registration_number": STR}``
    and a DPT REF is ``{"dpt_file": NAME, "line": INT, "nik": STR}``.
    """
    pairs = sorted(pairs, key=lambda p: (-p.score, p.a, p.b or 0, p.dpt or 0))
    inmate_ids = {p.a for p in pairs} | {p.b for p in pairs if p.b is not None}
    dpt_ids = [p.dpt for p in pairs if p.dpt is not None]
    inmate_refs: dict[int, dict] = {}
    ordered = sorted(inmate_ids)
    for start in range(0, len(ordered), 900):
        for pk, code, number in Inmate.objects.filter(pk__in=ordered[start : start + 900]).values_list(
            "pk", "facility__code", "registration_number"
        ):
            inmate_refs[pk] = {"facility": code, "registration_number": number}
    dpt_refs: dict[int, dict] = {}
    ordered = sorted(set(dpt_ids))
    for start in range(0, len(ordered), 900):
        for pk, name, line, nik in DptRecord.objects.filter(pk__in=ordered[start : start + 900]).values_list(
            "pk", "dpt_file__name", "line", "nik"
        ):
            dpt_refs[pk] = {"dpt_file": name, "line": line, "nik": nik}
    return {
        "pairs": [
            {
                "a": inmate_refs[p.a],
                "b": inmate_refs[p.b] if p.b is not None else dpt_refs[p.dpt],  # type: ignore[index]
                "score": float(p.score),
                "reasons": list(p.reasons),
            }
            for p in pairs
        ]
    }
