"""Prevention at entry: does a record about to be saved look like someone already registered?

Two callers:

* the importer checks the rows of a file about to be created
  (:class:`SimilarSearch`, which is :func:`similar_existing` in three steps so
  that the matching can run while the rows are written) and shows each row's
  likely matches as warnings in its report;
* the admin form calls :func:`warn_after_save` after saving a record: the
  record is checked against the register and the DPT at once, the pairs land
  in the review queue, and the user sees a warning with a link to each pair.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.contrib import messages
from django.db.models import Q
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from inmates import dedup, dedup_scan
from inmates.matching import MatchIndex, PersonRecord
from inmates.models import DuplicateCandidate, Facility, Inmate

# Above this many rows, the register is read once instead of looked up row by row.
_TARGETED_ROWS = 200


@dataclass(frozen=True)
class SimilarMatch:
    """An existing inmate that a new or edited row probably is."""

    inmate_pk: int
    url: str  # the admin page of the existing record (visible to the officers of its facility)
    score: float
    reasons: list[str]  # machine codes, see inmates.matching.REASON_LABELS
    facility_code: str
    registration_number: str
    full_name: str

    @property
    def reason_labels(self) -> list[str]:
        return dedup.reason_labels(self.reasons)


def _value(record: dict, *names: str):
    for name in names:
        if name in record and record[name] not in (None, ""):
            return record[name]
    return None


def _as_date(value) -> datetime.date | None:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str) and value:
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _region_code(record: dict) -> str | None:
    value = _value(record, "domicile_region_id", "domicile_region", "domicile_code")
    if value is None:
        return None
    return getattr(value, "pk", None) or str(value)


def _probe(facility: Facility, index: int, record: dict) -> PersonRecord:
    return PersonRecord(
        ref=index,
        nik=_value(record, "nik"),
        nkk=_value(record, "nkk"),
        name=_value(record, "full_name", "name") or "",
        birth_date=_as_date(_value(record, "birth_date")),
        sex=_value(record, "sex"),
        birth_place=_value(record, "birth_place"),
        domicile_code=_region_code(record),
        facility=str(facility.pk),
    )


def similar_existing(
    facility: Facility, records: list[dict], *, threshold: float = dedup.REVIEW_THRESHOLD
) -> dict[int, list[SimilarMatch]]:
    """For each row (by its index in ``records``) the active inmates it probably is, best first.

    A row is a dict of Inmate field names (``nik``, ``nkk``, ``full_name``,
    ``birth_date``, ``sex``, ``birth_place``, ``domicile_region_id`` or
    ``domicile_region``, ``registration_number``, optionally ``pk``). The
    record a row updates (same ``pk``, or the same registration number in
    ``facility``) is not its own match. Rows without a match are left out.
    Matches come from every facility: a person in two facilities is the
    second kind of duplicate. Matches reaching the review band are listed
    (``threshold``), so possible twins show up too.
    """
    search = SimilarSearch.prepare(facility, records, threshold=threshold)
    if search is None:
        return {}
    search.match()
    return search.result()


class SimilarSearch:
    """:func:`similar_existing` in three steps, so its middle one can run beside other work.

    ``prepare`` reads the register (queries), ``match`` only computes (no
    database: it may run in another thread while the caller's connection is
    busy), ``result`` reads the matched records' names (queries).
    """

    def __init__(
        self, facility: Facility, records: list[dict], probes, existing, own_pk_by_number, threshold: float
    ) -> None:
        self.facility = facility
        self.records = records
        self.probes = probes
        self.existing = existing
        self.own_pk_by_number = own_pk_by_number
        self.threshold = threshold
        self.found: dict[int, list[tuple[int, float, list[str]]]] = {}

    @staticmethod
    def read_register() -> list[PersonRecord]:
        """Every active inmate, as the matching compares them (for ``prepare``'s ``register``)."""
        return dedup_scan.load_inmates(Inmate.objects.active())

    @classmethod
    def prepare(
        cls,
        facility: Facility,
        records: list[dict],
        *,
        threshold: float = dedup.REVIEW_THRESHOLD,
        register: list[PersonRecord] | None = None,
        new_records: bool = False,
    ) -> SimilarSearch | None:
        """Read what the rows may match; None when there is nothing to compare.

        ``register`` is the register read earlier by :meth:`read_register`
        (the importer reads it before it writes its new rows). With
        ``new_records`` the rows are known not to be in the register yet, so
        their own records are not looked up.
        """
        if not records:
            return None
        probes = None
        existing = register
        if existing is None and len(records) <= _TARGETED_ROWS:
            probes = [_probe(facility, i, record) for i, record in enumerate(records)]
            existing = dedup_scan.targeted_inmates(probes)
        if existing is None:
            existing = cls.read_register()
        if not existing:
            return None
        own = set()
        numbers = {r.get("registration_number") for r in records if r.get("registration_number")}
        pks = {r.get("pk") or r.get("id") for r in records} - {None}
        if not new_records and (numbers or pks):
            own_query = Q(pk__in=pks) | Q(facility=facility, registration_number__in=numbers)
            own_rows = Inmate.objects.filter(own_query).values_list("pk", "registration_number")
            own = {(pk, number) for pk, number in own_rows}
        return cls(facility, records, probes, existing, {number: pk for pk, number in own}, threshold)

    def match(self) -> None:
        """Probe every row against the register (pure computation)."""
        index = MatchIndex(self.existing)
        self.existing = None  # the index holds what it needs
        found = self.found
        probes = self.probes or [_probe(self.facility, i, record) for i, record in enumerate(self.records)]
        for i, probe in enumerate(probes):
            record = self.records[i]
            self_pks = {
                record.get("pk"),
                record.get("id"),
                self.own_pk_by_number.get(record.get("registration_number")),
            }
            for other, match in index.matches(probe, threshold=self.threshold):
                if other.ref in self_pks:
                    continue
                found.setdefault(i, []).append((other.ref, float(match.score), list(match.reasons)))
        self.probes = None

    def result(self) -> dict[int, list[SimilarMatch]]:
        found = self.found
        if not found:
            return {}
        ids = sorted({pk for matches in found.values() for pk, _score, _reasons in matches})
        info = {}
        for start in range(0, len(ids), 900):
            for pk, code, number, name in Inmate.objects.filter(pk__in=ids[start : start + 900]).values_list(
                "pk", "facility__code", "registration_number", "full_name"
            ):
                info[pk] = (code, number, name)
        result: dict[int, list[SimilarMatch]] = {}
        for i, matches in found.items():
            matches.sort(key=lambda item: -item[1])
            result[i] = [
                SimilarMatch(
                    inmate_pk=pk,
                    url=reverse("admin:inmates_inmate_change", args=[pk]),
                    score=score,
                    reasons=reasons,
                    facility_code=info[pk][0],
                    registration_number=info[pk][1],
                    full_name=info[pk][2],
                )
                for pk, score, reasons in matches
                if pk in info  # merged away or deleted meanwhile: nothing to show
            ]
        return {i: matches for i, matches in result.items() if matches}


def warn_after_save(request, inmate: Inmate) -> list[DuplicateCandidate]:
    """Check a just-saved record, queue its pairs and tell the user, with a link to each pair they may see.

    Pairs outside the user's scope (a record in another facility) are not
    shown in detail: the user learns that KPU will review them.
    """
    dedup.detect_for_inmates([inmate], user=request.user)
    candidates = list(
        DuplicateCandidate.objects.open()
        .filter(Q(inmate_a=inmate) | Q(inmate_b=inmate))
        .select_related("inmate_a", "inmate_b", "dpt_record__dpt_file")
        .order_by("-score")
    )
    if not candidates:
        return []
    visible = set(
        DuplicateCandidate.objects.for_user(request.user)
        .filter(pk__in=[c.pk for c in candidates])
        .values_list("pk", flat=True)
    )
    shown = [c for c in candidates if c.pk in visible]
    hidden = sum(1 for c in candidates if c.pk not in visible and c.inmate_b_id)
    hidden_dpt = sum(1 for c in candidates if c.pk not in visible and not c.inmate_b_id)
    if shown:
        links = format_html_join(
            ", ",
            '<a href="{}">{}</a>',
            (
                (
                    reverse("inmates:duplicate_compare", args=[c.pk]),
                    str(c.inmate_b if c.inmate_b_id and c.inmate_b_id != inmate.pk else c.inmate_a)
                    if c.inmate_b_id
                    else _("DPT %(file)s line %(line)d")
                    % {"file": c.dpt_record.dpt_file.name, "line": c.dpt_record.line},
                )
                for c in shown
            ),
        )
        messages.warning(
            request,
            format_html(
                "{} {}",
                ngettext(
                    "This record looks like a record already registered; check the pair before it counts as a voter:",
                    "This record looks like %(count)d records already registered; check the pairs before it counts as a voter:",
                    len(shown),
                )
                % {"count": len(shown)},
                links,
            ),
        )
    if hidden:
        messages.warning(
            request,
            ngettext(
                "This record also looks like a record outside your facility; KPU will review that pair.",
                "This record also looks like %(count)d records outside your facility; KPU will review those pairs.",
                hidden,
            )
            % {"count": hidden},
        )
    if hidden_dpt:
        messages.warning(request, _("This person also appears on a KPU DPT; KPU will review it."))
    return candidates
