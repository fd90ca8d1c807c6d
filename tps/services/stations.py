"""TPS Khusus of a facility: planning, manual moves, ballots per type, logistics, dapil.

Writes go through these functions whoever calls them (admin, pages, commands,
demo data, tests); each is keyword-only, atomic and records the acting user
in the audit history. The rules themselves live in the pure modules
``tps.planning`` (how many TPS, who goes where) and ``tps.entitlement``
(which ballots a voter gets, the reserve), so this module only loads, calls
them and stores.

Capacity is guarded three times: the planner never proposes a TPS over
capacity, a move checks the target under a row lock, and ``Tps.voter_count``
(recounted from the assignments inside the same transaction) carries a check
constraint, so the database itself refuses a TPS over capacity.

Category (DPT/DPTb/DPK) of a voter: the latest *accepted* potential-voter
list of the facility says it; a voter on no accepted list, or with no
category there, counts as "DPT" for planning and exports.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from inmates.models import Facility, Inmate, Region, User
from tps import entitlement as rules
from tps import planning
from tps.models import BallotAllocation, BallotType, Dapil, Election, Tps, TpsAssignment, VoterList
from tps.selectors import projected_voters
from voterreg import spreadsheets

DEFAULT_CATEGORY = "DPT"
CATEGORIES = ("DPT", "DPTb", "DPK")

# A problem of the TPS, not of the voter: without the village the TPS stands
# in, nothing but the presidential ballot can be decided.
TPS_VILLAGE_MISSING = "tps_village_missing"
_EXTRA_REASON_LABELS = {TPS_VILLAGE_MISSING: _("The TPS has no village set")}


def can_manage_tps(user: Any) -> bool:
    """KPU Kab/Kota forms the TPS (PKPU 7/2022 art. 179); admins may too. Rutan staff read."""
    return bool(
        getattr(user, "is_authenticated", False)
        and user.is_active
        and (user.is_admin_role or user.role == User.Role.KPU)
    )


def _as_history_user(instance: Any, user: User | None) -> None:
    if user is not None:
        instance._history_user = user


def number_key(number: str) -> tuple[int, int | str]:
    """TPS numbers in numeric order ("99" before "901"), anything else after."""
    return (0, int(number)) if number.isdigit() else (1, number)


def _name_key(name: str) -> tuple[str, str]:
    # The same alphabetical order as tps.planning uses for its numbering.
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return (" ".join(plain.casefold().split()), name)


# --- reads shared by planning, ballots, exports and the recap ---------------------


def voter_categories(*, election: Election, facility: Facility) -> dict[int, str]:
    """Inmate id -> DPT/DPTb/DPK from the facility's latest accepted list (absent: not known)."""
    latest = (
        VoterList.objects.filter(election=election, facility=facility, status=VoterList.Status.ACCEPTED)
        .order_by("-version")
        .first()
    )
    if latest is None:
        return {}
    return {
        inmate_id: category
        for inmate_id, category in latest.entries.exclude(category="").values_list("inmate_id", "category")
    }


def home_tps_notes(*, election: Election, facility: Facility) -> dict[int, str]:
    """Inmate id -> the home TPS recorded on the latest accepted list, for DPTb voters."""
    latest = (
        VoterList.objects.filter(election=election, facility=facility, status=VoterList.Status.ACCEPTED)
        .order_by("-version")
        .first()
    )
    if latest is None:
        return {}
    return dict(latest.entries.exclude(home_tps="").values_list("inmate_id", "home_tps"))


def dapil_map(election: Election) -> dict[str, dict[str, int]]:
    """``{contest: {region code: dapil id}}`` for ``tps.entitlement``, in one query."""
    mapping: dict[str, dict[str, int]] = defaultdict(dict)
    rows = Dapil.regions.through.objects.filter(dapil__election=election).values_list(
        "dapil__contest", "region_id", "dapil_id"
    )
    for contest, region_code, dapil_id in rows:
        mapping[contest][region_code] = dapil_id
    return dict(mapping)


# --- planning ---------------------------------------------------------------------


@dataclass(frozen=True)
class RemovedVoter:
    """A voter who had a TPS and is no longer projected to vote at the facility."""

    inmate_id: int
    name: str
    from_tps: str


@dataclass(frozen=True)
class PlanResult:
    plan: planning.Plan
    removed: tuple[RemovedVoter, ...]
    created_tps: tuple[str, ...]
    applied: bool
    shortages: tuple[Shortage, ...] = ()

    @property
    def moved(self) -> tuple[planning.Move, ...]:
        return self.plan.moved

    @property
    def added(self) -> tuple[planning.Assignment, ...]:
        return self.plan.added

    @property
    def changed(self) -> bool:
        return bool(self.moved or self.added or self.removed or self.created_tps)


def _lock_tps(election: Election, facility: Facility) -> list[Tps]:
    return list(
        Tps.objects.select_for_update(of=("self",))
        .filter(election=election, facility=facility)
        .select_related("village")
        .order_by("pk")
    )


def _sync_counts(tps_ids: Iterable[int]) -> None:
    """Recount the voters of these TPS; the check constraint refuses one over capacity."""
    ids = list(tps_ids)
    if not ids:
        return
    counted = (
        TpsAssignment.objects.filter(tps=OuterRef("pk"))
        .order_by()
        .values("tps")
        .annotate(total=Count("pk"))
        .values("total")
    )
    Tps.objects.filter(pk__in=ids).update(voter_count=Coalesce(Subquery(counted), Value(0)))


def _plan_capacities(election: Election, existing: list[Tps]) -> dict[str, int]:
    """Each existing TPS holds its own capacity, never more than the election's
    maximum (which may have been lowered after the TPS was made)."""
    return {tps.number: min(tps.capacity, election.max_voters_per_tps) for tps in existing}


def _plan_numbers(
    existing: list[Tps], capacities: dict[str, int], voters: int, capacity: int
) -> list[str] | None:
    """The existing TPS, plus as few new ones (of ``capacity`` voters) as the voters need."""
    numbers = sorted((tps.number for tps in existing), key=number_key)
    if not numbers:
        return None  # the planner's own numbering: 901, 902 ...
    numeric = [int(number) for number in numbers if number.isdigit()]
    next_number = (max(numeric) + 1) if numeric else planning.DEFAULT_START_NUMBER
    room = sum(capacities.values())
    while room < voters:
        while str(next_number) in numbers:
            next_number += 1
        numbers.append(str(next_number))
        room += capacity
        next_number += 1
    return numbers


@transaction.atomic
def tps_plan(
    *,
    election: Election,
    facility: Facility,
    user: User | None,
    dry_run: bool = False,
    rebalance: bool = False,
    village: Region | None = None,
) -> PlanResult:
    """Plan the facility's TPS from the voters projected for voting day, and store it.

    Existing TPS are kept, each filled against its own capacity (never above
    the election's maximum), and as few new ones (of the election's maximum)
    are added as the voters need. Voters keep their TPS wherever it still
    has room (also after a manual move), cell blocks stay together where
    possible and each TPS numbers its voters alphabetically. Voters who are
    no longer projected lose their assignment. The result says who moved,
    who was added and who was removed; ``dry_run`` computes it without
    saving. A new TPS stands in ``village`` or, by default, in the village of
    the facility's other TPS.
    """
    Facility.objects.select_for_update().filter(pk=facility.pk).first()  # one planner per facility
    existing = _lock_tps(election, facility)
    voters = projected_voters(election=election, facility=facility)
    voter_ids = {inmate.pk for inmate in voters}
    current = {
        assignment.inmate_id: assignment
        for assignment in TpsAssignment.objects.filter(election=election)
        .filter(tps__facility=facility)
        .select_related("tps", "inmate")
    }
    current.update(
        {
            assignment.inmate_id: assignment
            for assignment in TpsAssignment.objects.filter(election=election, inmate_id__in=voter_ids)
            .exclude(tps__facility=facility)
            .select_related("tps", "inmate")
        }
    )

    def current_tps(inmate: Inmate) -> str | None:
        assignment = current.get(inmate.pk)
        if assignment is None or assignment.tps.facility_id != facility.pk:
            return None
        return assignment.tps.number

    people = [
        planning.PlanVoter(
            key=inmate.pk,
            name=inmate.full_name,
            cell_block=inmate.cell_block,
            current_tps=current_tps(inmate),
        )
        for inmate in voters
    ]
    # Each TPS is filled against its own capacity; new ones get the election's maximum.
    capacity = election.max_voters_per_tps
    capacities = _plan_capacities(election, existing)
    numbers = _plan_numbers(existing, capacities, len(people), capacity)
    proposal = planning.plan(
        people, capacity, tps_numbers=numbers, rebalance=rebalance, capacities=capacities
    )
    removed = tuple(
        sorted(
            (
                RemovedVoter(
                    inmate_id=inmate_id, name=assignment.inmate.full_name, from_tps=assignment.tps.number
                )
                for inmate_id, assignment in current.items()
                if inmate_id not in voter_ids and assignment.tps.facility_id == facility.pk
            ),
            key=lambda item: (number_key(item.from_tps), _name_key(item.name)),
        )
    )
    by_number = {tps.number: tps for tps in existing}
    created = tuple(number for number in proposal.numbers if number not in by_number)
    if dry_run:
        return PlanResult(plan=proposal, removed=removed, created_tps=created, applied=False)

    default_village = village or next((tps.village for tps in existing if tps.village_id), None)
    for number in created:
        tps = Tps(
            election=election,
            facility=facility,
            number=number,
            village=default_village,
            capacity=election.max_voters_per_tps,
        )
        tps.full_clean()
        _as_history_user(tps, user)
        tps.save()
        by_number[number] = tps

    for item in removed:
        assignment = current[item.inmate_id]
        _as_history_user(assignment, user)
        assignment.delete()

    categories = voter_categories(election=election, facility=facility)
    to_create: list[TpsAssignment] = []
    to_update: list[TpsAssignment] = []
    for planned in proposal.assignments:
        tps = by_number[planned.tps_number]
        category = categories.get(planned.key, DEFAULT_CATEGORY)
        assignment = current.get(planned.key)
        if assignment is None:
            assignment = TpsAssignment(election=election, tps=tps, inmate_id=planned.key)
            to_create.append(assignment)
        elif (
            assignment.tps_id == tps.pk
            and assignment.order_number == planned.sequence
            and assignment.category == category
        ):
            continue
        else:
            to_update.append(assignment)
        if assignment.tps_id != tps.pk:
            assignment.manual = False
        assignment.tps = tps
        assignment.order_number = planned.sequence
        assignment.category = category
        # The foreign keys come from rows locked above and uniqueness is a
        # database constraint: skip the per-row lookups full_clean would make.
        assignment.full_clean(exclude=["election", "tps", "inmate"], validate_constraints=False)
    # A facility may have thousands of voters: write them (and their history
    # rows, with the user) in batches.
    bulk_create_with_history(to_create, TpsAssignment, batch_size=500, default_user=user)
    bulk_update_with_history(
        to_update,
        TpsAssignment,
        ["tps", "order_number", "category", "manual"],
        batch_size=500,
        default_user=user,
    )

    _sync_counts(tps.pk for tps in by_number.values())
    shortages: tuple[Shortage, ...] = ()
    if any(tps.logistics_fixed_at for tps in by_number.values()):
        # Every projected voter is on a TPS now: the plan is current.
        shortages = tuple(
            logistics_shortages(
                election=election, facility=facility, drift=PlanDrift(projected=len(voter_ids))
            )
        )
    return PlanResult(plan=proposal, removed=removed, created_tps=created, applied=True, shortages=shortages)


# --- manual moves -----------------------------------------------------------------


class TpsFullError(ValidationError):
    """The target TPS has no room left."""


def tps_room(tps: Tps) -> int:
    """Places left on ``tps`` now (counted from the assignments, not the stored counter)."""
    return tps.capacity - TpsAssignment.objects.filter(tps=tps).count()


def _full_error(tps: Tps, count: int) -> TpsFullError:
    return TpsFullError(
        _(
            "TPS %(number)s is full: %(count)d of %(capacity)d voters. Choose another TPS or move someone out first."
        )
        % {"number": tps.number, "count": count, "capacity": tps.capacity},
        code="tps_full",
    )


def _renumber(tps: Tps, user: User | None) -> None:
    """Number the voters of a TPS 1..n in alphabetical order, saving only what changed."""
    assignments = list(TpsAssignment.objects.filter(tps=tps).select_related("inmate"))
    assignments.sort(key=lambda item: (*_name_key(item.inmate.full_name), item.inmate_id))
    changed = []
    for sequence, assignment in enumerate(assignments, start=1):
        if assignment.order_number != sequence:
            assignment.order_number = sequence
            changed.append(assignment)
    bulk_update_with_history(changed, TpsAssignment, ["order_number"], batch_size=500, default_user=user)


@transaction.atomic
def tps_move_voter(*, assignment: TpsAssignment, to_tps: Tps, user: User | None) -> TpsAssignment:
    """Move one voter to another TPS of the same facility and election, by hand.

    Refused (``TpsFullError``) when the target is full; both TPS are locked
    first, so two officers filling the last place at once cannot both win.
    Both lists are renumbered alphabetically. The assignment is marked
    manual; re-planning keeps it where it is while the TPS has room.
    """
    locked = {
        tps.pk: tps
        for tps in Tps.objects.select_for_update(of=("self",))
        .filter(pk__in={assignment.tps_id, to_tps.pk})
        .select_related("facility")
        .order_by("pk")
    }
    assignment = (
        TpsAssignment.objects.select_for_update(of=("self",))
        .select_related("tps", "inmate")
        .get(pk=assignment.pk)
    )
    target = locked.get(to_tps.pk)
    if target is None:
        raise ValidationError(_("That TPS no longer exists."), code="tps_missing")
    source = locked[assignment.tps_id]
    if target.pk == source.pk:
        raise ValidationError(
            _("%(name)s is already on TPS %(number)s.")
            % {"name": assignment.inmate.full_name, "number": target.number},
            code="same_tps",
        )
    if target.election_id != assignment.election_id or target.facility_id != source.facility_id:
        raise ValidationError(
            _("A voter can only move to another TPS of the same facility and election."),
            code="other_facility",
        )
    count = TpsAssignment.objects.filter(tps=target).count()
    if count >= target.capacity:
        raise _full_error(target, count)
    assignment.tps = target
    assignment.manual = True
    assignment.order_number = count + 1
    assignment.full_clean(exclude=["election", "tps", "inmate"], validate_constraints=False)
    _as_history_user(assignment, user)
    assignment.save()
    try:
        with transaction.atomic():
            _sync_counts([source.pk, target.pk])
    except IntegrityError as exc:  # pragma: no cover - the count above is taken under the lock
        raise _full_error(target, count) from exc
    _renumber(source, user)
    _renumber(target, user)
    return assignment


@transaction.atomic
def tps_save(*, tps: Tps, user: User | None) -> Tps:
    """Create or change a TPS by hand (number, village, capacity).

    The capacity defaults to the election's maximum and can never be set
    below the voters the TPS already holds.
    """
    if tps.pk is not None:
        Tps.objects.select_for_update().filter(pk=tps.pk).first()
        tps.voter_count = TpsAssignment.objects.filter(tps=tps).count()
    if not tps.capacity and tps.election_id:
        tps.capacity = tps.election.max_voters_per_tps
    tps.full_clean()
    _as_history_user(tps, user)
    if tps.pk is None:
        tps.save()
    else:
        # voter_count belongs to the move and plan services.
        tps.save(update_fields=["number", "village", "capacity", "logistics_fixed_at"])
    return tps


# --- ballots ----------------------------------------------------------------------


def reason_label(reason: str) -> str:
    if reason in _EXTRA_REASON_LABELS:
        return str(_EXTRA_REASON_LABELS[reason])
    return str(rules.EntitlementReason(reason).label)


@dataclass(frozen=True)
class BallotProblem:
    """One ballot that cannot be decided for one voter: data to fix, never guessed."""

    tps_number: str
    inmate_id: int
    name: str
    registration_number: str
    ballot_type: str
    reason: str

    @property
    def label(self) -> str:
        return reason_label(self.reason)

    @property
    def ballot_label(self) -> str:
        return str(BallotType(self.ballot_type).label)


@dataclass(frozen=True)
class BallotLine:
    """Ballots of one type for one TPS: entitled voters, reserve (rounded up) and total."""

    ballot_type: str
    voters: int
    reserve: int
    total: int
    not_entitled: int = 0
    undecided: int = 0

    @property
    def label(self) -> str:
        return str(BallotType(self.ballot_type).label)

    def as_json(self) -> dict[str, int]:
        return {"voters": self.voters, "reserve": self.reserve, "total": self.total}


@dataclass(frozen=True)
class TpsBallots:
    tps: Tps
    voters: int
    lines: dict[str, BallotLine]
    problems: tuple[BallotProblem, ...] = ()
    # Only when tps_ballots was given the projected voters (``projected_ids``):
    # the TPS's voters still projected for voting day, and per ballot type
    # how many of the entitled voters are no longer projected.
    still_projected: frozenset[int] | None = None
    gone_entitled: dict[str, int] | None = None

    @property
    def no_longer_projected(self) -> int:
        """Voters on the TPS no longer projected for voting day (0 when not asked)."""
        return 0 if self.still_projected is None else self.voters - len(self.still_projected)

    @property
    def number(self) -> str:
        return self.tps.number

    def as_json(self) -> dict[str, Any]:
        return {
            "number": self.tps.number,
            "voters": self.voters,
            "ballots": {ballot_type: line.as_json() for ballot_type, line in self.lines.items()},
        }


@dataclass(frozen=True)
class FacilityBallots:
    election: Election
    facility: Facility
    tps: tuple[TpsBallots, ...]
    ballot_types: tuple[str, ...] = field(default=())

    @property
    def problems(self) -> tuple[BallotProblem, ...]:
        return tuple(problem for item in self.tps for problem in item.problems)

    @property
    def undecided_voters(self) -> int:
        return len({problem.inmate_id for problem in self.problems})

    @property
    def voters(self) -> int:
        return sum(item.voters for item in self.tps)

    def totals(self) -> dict[str, BallotLine]:
        """The facility's ballots per type: the sums of its TPS (reserves rounded per TPS)."""
        totals: dict[str, BallotLine] = {}
        for ballot_type in self.ballot_types:
            lines = [item.lines[ballot_type] for item in self.tps]
            totals[ballot_type] = BallotLine(
                ballot_type=ballot_type,
                voters=sum(line.voters for line in lines),
                reserve=sum(line.reserve for line in lines),
                total=sum(line.total for line in lines),
                not_entitled=sum(line.not_entitled for line in lines),
                undecided=sum(line.undecided for line in lines),
            )
        return totals

    def for_number(self, number: str) -> TpsBallots:
        for item in self.tps:
            if item.number == number:
                return item
        raise KeyError(number)

    @property
    def knows_projection(self) -> bool:
        """Computed with the projected voters (``tps_ballots(projected_ids=...)``)."""
        return all(item.still_projected is not None for item in self.tps)

    def as_json(self) -> dict[str, Any]:
        return {"tps": [item.as_json() for item in self.tps]}


def _decisions_without_village(ballot_types: Iterable[str]) -> dict[str, rules.BallotDecision]:
    decisions = {}
    for ballot_type in ballot_types:
        if ballot_type == rules.PPWP:
            decisions[ballot_type] = rules.BallotDecision(ballot_type, rules.Entitlement.ENTITLED.value)
        else:
            decisions[ballot_type] = rules.BallotDecision(
                ballot_type, rules.Entitlement.UNKNOWN.value, TPS_VILLAGE_MISSING
            )
    return decisions


def _decide(
    home_code: str | None,
    village_code: str | None,
    ballot_types: tuple[str, ...],
    dapils: dict[str, dict[str, int]],
) -> dict[str, rules.BallotDecision]:
    if village_code:
        return rules.entitlement(home_code, village_code, ballot_types, dapils).decisions
    return _decisions_without_village(ballot_types)


def tps_ballots(
    *,
    election: Election,
    facility: Facility,
    tps_list: Iterable[Tps] | None = None,
    projected_ids: Collection[int] | None = None,
    dapils: dict[str, dict[str, int]] | None = None,
) -> FacilityBallots:
    """Ballots per TPS and type for the facility's planned voters (art. 348(4), art. 344(2)).

    Each voter is judged per ballot type by ``tps.entitlement`` from their
    domicile and the TPS's village, with the election's dapils. Only
    entitled voters are counted; a ballot that cannot be decided (unknown
    domicile, dapil not configured, TPS without village) is listed in
    ``problems``. The reserve is the election's rate, rounded up, per TPS
    and type.

    These are the ballots of the stored plan. Given ``projected_ids`` (the
    voters projected for voting day), each TPS also says which of its voters
    are still projected and how many entitled ones are not, for
    ``plan_drift`` and ``logistics_shortages``; the figures above stay those
    of the plan. ``dapils`` (``dapil_map``) saves its query for callers that have it.
    """
    ballot_types = tuple(election.ballot_types or ())
    dapils = dapil_map(election) if dapils is None else dapils
    rate = election.ballot_reserve_rate
    if tps_list is None:
        tps_list = Tps.objects.filter(election=election, facility=facility).select_related("village")
    stations = sorted(tps_list, key=lambda tps: number_key(tps.number))
    rows = (
        TpsAssignment.objects.filter(tps__in=[tps.pk for tps in stations])
        .order_by("tps_id", "order_number")
        .values_list(
            "tps_id",
            "inmate_id",
            "inmate__full_name",
            "inmate__registration_number",
            "inmate__domicile_region_id",
        )
    )
    by_tps: dict[int, list[tuple]] = defaultdict(list)
    for tps_id, *voter in rows:
        by_tps[tps_id].append(tuple(voter))

    result = []
    # Voters of a TPS share a handful of home villages: decide each once.
    decided: dict[tuple[str | None, str | None], dict[str, rules.BallotDecision]] = {}
    for tps in stations:
        counts: dict[str, Counter] = {ballot_type: Counter() for ballot_type in ballot_types}
        problems: list[BallotProblem] = []
        still_projected: set[int] = set()
        gone_entitled: Counter = Counter()
        for inmate_id, name, registration_number, home_code in by_tps[tps.pk]:
            decisions = decided.get((home_code, tps.village_id))
            if decisions is None:
                decisions = _decide(home_code, tps.village_id, ballot_types, dapils)
                decided[(home_code, tps.village_id)] = decisions
            if projected_ids is not None:
                if inmate_id in projected_ids:
                    still_projected.add(inmate_id)
                else:
                    gone_entitled.update(
                        ballot_type
                        for ballot_type, decision in decisions.items()
                        if decision.status == rules.Entitlement.ENTITLED
                    )
            for ballot_type, decision in decisions.items():
                counts[ballot_type][decision.status] += 1
                if decision.status == rules.Entitlement.UNKNOWN:
                    problems.append(
                        BallotProblem(
                            tps_number=tps.number,
                            inmate_id=inmate_id,
                            name=name,
                            registration_number=registration_number,
                            ballot_type=ballot_type,
                            reason=decision.reason or "",
                        )
                    )
        lines = {}
        for ballot_type in ballot_types:
            entitled = counts[ballot_type][rules.Entitlement.ENTITLED]
            reserve, total = rules.ballots_for(entitled, rate)
            lines[ballot_type] = BallotLine(
                ballot_type=ballot_type,
                voters=entitled,
                reserve=reserve,
                total=total,
                not_entitled=counts[ballot_type][rules.Entitlement.NOT_ENTITLED],
                undecided=counts[ballot_type][rules.Entitlement.UNKNOWN],
            )
        result.append(
            TpsBallots(
                tps=tps,
                voters=len(by_tps[tps.pk]),
                lines=lines,
                problems=tuple(problems),
                still_projected=None if projected_ids is None else frozenset(still_projected),
                gone_entitled=None
                if projected_ids is None
                else {ballot_type: gone_entitled[ballot_type] for ballot_type in ballot_types},
            )
        )
    return FacilityBallots(election=election, facility=facility, tps=tuple(result), ballot_types=ballot_types)


# --- logistics --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProjectedVoter:
    """A voter projected for voting day, with what their ballots depend on."""

    inmate_id: int
    domicile_code: str | None


def projected_plan_voters(*, election: Election, facility: Facility) -> list[ProjectedVoter]:
    """The voters planning would place now (``tps.selectors.projected_voters``)."""
    return [
        ProjectedVoter(inmate_id=inmate.pk, domicile_code=inmate.domicile_region_id)
        for inmate in projected_voters(election=election, facility=facility)
    ]


@dataclass(frozen=True)
class PlanDrift:
    """How the stored TPS plan differs from the voters projected for voting day.

    The plan is made from the projection, but the register moves on: people
    are admitted (projected, on no TPS yet) and released or moved (on a TPS,
    no longer projected). Until someone plans again the lists and the ballots
    follow the old plan; this says by how much.
    """

    projected: int
    # Projected voters on no TPS of the facility (inmate ids).
    unplanned: tuple[int, ...] = ()
    # Voters on a TPS of the facility who are no longer projected.
    no_longer_projected: int = 0
    # Per ballot type: the unplanned voters entitled to it at the facility's TPS village.
    unplanned_entitled: dict[str, int] = field(default_factory=dict)

    @property
    def out_of_date(self) -> bool:
        return bool(self.unplanned or self.no_longer_projected)

    @property
    def message(self) -> str:
        unplanned = len(self.unplanned)
        return gettext("The TPS plan is out of date: %(unplanned)s, %(gone)s. Plan the TPS again.") % {
            "unplanned": ngettext(
                "%(count)d voter projected for voting day is on no TPS",
                "%(count)d voters projected for voting day are on no TPS",
                unplanned,
            )
            % {"count": unplanned},
            "gone": ngettext(
                "%(count)d voter on a TPS is no longer projected",
                "%(count)d voters on a TPS are no longer projected",
                self.no_longer_projected,
            )
            % {"count": self.no_longer_projected},
        }


def _plan_village(stations: Iterable[Tps]) -> str | None:
    # Where a new TPS would stand (tps_plan): the village of the first TPS that has one.
    with_village = [tps for tps in stations if tps.village_id]
    return min(with_village, key=lambda tps: tps.pk).village_id if with_village else None


def plan_drift(
    *,
    ballots: FacilityBallots,
    projected: Sequence[ProjectedVoter],
    dapils: dict[str, dict[str, int]] | None = None,
) -> PlanDrift:
    """Compare the stored plan (``ballots``, computed with ``projected_ids``) with ``projected``.

    No query beyond the dapils (pass ``dapils`` to skip it): the unplanned
    voters' ballots are decided for the village a new TPS of the facility
    would stand in.
    """
    if not ballots.knows_projection:
        raise ValueError("plan_drift needs ballots computed with projected_ids")
    planned = set().union(*(item.still_projected or () for item in ballots.tps))
    unplanned = [voter for voter in projected if voter.inmate_id not in planned]
    ballot_types = ballots.ballot_types
    entitled: Counter = Counter()
    if unplanned:
        dapils = dapil_map(ballots.election) if dapils is None else dapils
        village = _plan_village(item.tps for item in ballots.tps)
        decided: dict[str | None, dict[str, rules.BallotDecision]] = {}
        for voter in unplanned:
            decisions = decided.get(voter.domicile_code)
            if decisions is None:
                decisions = decided[voter.domicile_code] = _decide(
                    voter.domicile_code, village, ballot_types, dapils
                )
            entitled.update(
                ballot_type
                for ballot_type, decision in decisions.items()
                if decision.status == rules.Entitlement.ENTITLED
            )
    return PlanDrift(
        projected=len(projected),
        unplanned=tuple(sorted(voter.inmate_id for voter in unplanned)),
        no_longer_projected=sum(item.no_longer_projected for item in ballots.tps),
        unplanned_entitled={ballot_type: entitled[ballot_type] for ballot_type in ballot_types},
    )


@dataclass(frozen=True)
class Shortage:
    """Ballots fixed for delivery that no longer cover a TPS after the register changed.

    ``tps_number`` empty: the facility's TPS together, against the voters
    projected for voting day, ``unplanned`` of them on no TPS yet.
    """

    tps_number: str
    ballot_type: str
    fixed_total: int
    voters_now: int
    needed_now: int
    unplanned: int = 0

    @property
    def short_by(self) -> int:
        return self.needed_now - self.fixed_total

    @property
    def critical(self) -> bool:
        """Even the reserve does not cover the entitled voters: someone goes without a ballot."""
        return self.voters_now > self.fixed_total

    @property
    def whole_facility(self) -> bool:
        return not self.tps_number

    @property
    def ballot_label(self) -> str:
        return str(BallotType(self.ballot_type).label)

    @property
    def message(self) -> str:
        figures = {
            "number": self.tps_number,
            "ballot": self.ballot_label,
            "fixed": self.fixed_total,
            "needed": self.needed_now,
            "voters": self.voters_now,
            "short": self.short_by,
            "unplanned": self.unplanned,
        }
        if self.whole_facility:
            return (
                gettext(
                    "All TPS of the facility, %(ballot)s: %(fixed)d ballots fixed, %(needed)d needed for "
                    "the voters projected for voting day (%(voters)d voters + reserve, %(unplanned)d of "
                    "them on no TPS yet): %(short)d short."
                )
                % figures
            )
        return (
            gettext(
                "TPS %(number)s, %(ballot)s: %(fixed)d ballots fixed, %(needed)d needed now "
                "(%(voters)d voters + reserve): %(short)d short."
            )
            % figures
        )


def fixed_allocations(*, election: Election, facility_ids: Iterable[int]) -> dict[tuple[int, str], int]:
    """``{(tps id, ballot type): total}`` fixed for the TPS of these facilities, in one query."""
    return {
        (tps_id, ballot_type): total
        for tps_id, ballot_type, total in BallotAllocation.objects.filter(
            tps__election=election, tps__facility_id__in=list(facility_ids)
        ).values_list("tps_id", "ballot_type", "total")
    }


def logistics_shortages(
    *,
    election: Election,
    facility: Facility,
    ballots: FacilityBallots | None = None,
    drift: PlanDrift | None = None,
    fixed: dict[tuple[int, str], int] | None = None,
) -> list[Shortage]:
    """The ballot types now short where logistics were fixed, with by how much.

    Per TPS: the voters on it now against what was fixed for it. And when
    projected voters are on no TPS yet (admitted since the last plan), for
    the fixed TPS together: the voters projected for voting day who are
    entitled to the type (those on a fixed TPS who are still projected, and
    the unplanned ones) plus the reserve, rounded once for the facility
    (the least the new voters can need, wherever they are placed), against
    the sum fixed. Without ``drift`` the projection is read here; ``fixed``
    (``fixed_allocations``) saves the query for callers that have it.
    """
    if ballots is not None and not any(item.tps.logistics_fixed_at for item in ballots.tps):
        return []
    if drift is None:
        projected = projected_plan_voters(election=election, facility=facility)
        if ballots is None or not ballots.knows_projection:
            ballots = tps_ballots(
                election=election,
                facility=facility,
                projected_ids={voter.inmate_id for voter in projected},
            )
        drift = plan_drift(ballots=ballots, projected=projected)
    ballots = ballots or tps_ballots(election=election, facility=facility)
    fixed_tps = [item for item in ballots.tps if item.tps.logistics_fixed_at is not None]
    if not fixed_tps:
        return []
    if fixed is None:
        fixed = fixed_allocations(election=election, facility_ids=[facility.pk])
    shortages = []
    for item in fixed_tps:
        for ballot_type, line in item.lines.items():
            fixed_total = fixed.get((item.tps.pk, ballot_type), 0)
            if line.total > fixed_total:
                shortages.append(
                    Shortage(
                        tps_number=item.number,
                        ballot_type=ballot_type,
                        fixed_total=fixed_total,
                        voters_now=line.voters,
                        needed_now=line.total,
                    )
                )
    if drift.unplanned:
        if not ballots.knows_projection:
            raise ValueError("a drift with unplanned voters needs ballots computed with projected_ids")
        for ballot_type in ballots.ballot_types:
            voters = drift.unplanned_entitled.get(ballot_type, 0) + sum(
                item.lines[ballot_type].voters - (item.gone_entitled or {}).get(ballot_type, 0)
                for item in fixed_tps
            )
            fixed_total = sum(fixed.get((item.tps.pk, ballot_type), 0) for item in fixed_tps)
            _reserve, needed = rules.ballots_for(voters, election.ballot_reserve_rate)
            if needed > fixed_total:
                shortages.append(
                    Shortage(
                        tps_number="",
                        ballot_type=ballot_type,
                        fixed_total=fixed_total,
                        voters_now=voters,
                        needed_now=needed,
                        unplanned=len(drift.unplanned),
                    )
                )
    return shortages


@dataclass(frozen=True)
class LogisticsCheck:
    """A facility's ballots, how far its plan is from the projection, and its shortages."""

    ballots: FacilityBallots
    drift: PlanDrift
    shortages: tuple[Shortage, ...]


def logistics_check(*, election: Election, facility: Facility) -> LogisticsCheck:
    """Everything the facility page and the ``ballots`` command warn about, read once.

    The ballots are those of the stored plan; the drift and the shortages
    also count the voters projected for voting day who are on no TPS yet,
    so a change in the register shows before anyone plans again.
    """
    projected = projected_plan_voters(election=election, facility=facility)
    ballots = tps_ballots(
        election=election, facility=facility, projected_ids={voter.inmate_id for voter in projected}
    )
    if not ballots.tps:
        # Nothing planned yet: there is no plan to be out of date.
        return LogisticsCheck(ballots=ballots, drift=PlanDrift(projected=len(projected)), shortages=())
    drift = plan_drift(ballots=ballots, projected=projected)
    shortages = logistics_shortages(election=election, facility=facility, ballots=ballots, drift=drift)
    return LogisticsCheck(ballots=ballots, drift=drift, shortages=tuple(shortages))


@transaction.atomic
def logistics_fix(
    *, election: Election, facility: Facility, user: User | None, allow_undecided: bool = False
) -> list[BallotAllocation]:
    """Fix the ballots to deliver to each TPS of the facility, per type, as computed now.

    Refused while some voter's entitlement is undecided (unless
    ``allow_undecided``): a count fixed on guesses is how a TPS ends up
    short. Later changes to the register are compared with what was fixed
    (``logistics_shortages``).
    """
    stations = _lock_tps(election, facility)
    if not stations:
        raise ValidationError(
            _("This facility has no TPS for the election yet: plan them first."), code="no_tps"
        )
    ballots = tps_ballots(election=election, facility=facility, tps_list=stations)
    if ballots.problems and not allow_undecided:
        raise ValidationError(
            _(
                "The ballots of %(count)d voters cannot be decided yet (domicile or dapil missing). "
                "Fix their data or the dapil configuration first."
            )
            % {"count": ballots.undecided_voters},
            code="undecided",
        )
    now = timezone.now()
    saved = []
    for item in ballots.tps:
        existing = {allocation.ballot_type: allocation for allocation in item.tps.ballot_allocations.all()}
        for ballot_type, line in item.lines.items():
            allocation = existing.pop(ballot_type, None) or BallotAllocation(
                tps=item.tps, ballot_type=ballot_type
            )
            allocation.voters, allocation.reserve, allocation.total = line.voters, line.reserve, line.total
            allocation.fixed_by = user
            allocation.full_clean(exclude=["tps", "fixed_by"], validate_constraints=False)
            _as_history_user(allocation, user)
            allocation.save()
            saved.append(allocation)
        for stale in existing.values():
            _as_history_user(stale, user)
            stale.delete()
        item.tps.logistics_fixed_at = now
        _as_history_user(item.tps, user)
        item.tps.save(update_fields=["logistics_fixed_at"])
    return saved


# --- dapil ------------------------------------------------------------------------

_CONTEST_NAMES = {
    "dpr": Dapil.Contest.DPR,
    "dprri": Dapil.Contest.DPR,
    "dprdprov": Dapil.Contest.DPRD_PROV,
    "dprdprovinsi": Dapil.Contest.DPRD_PROV,
    "dprdkabkota": Dapil.Contest.DPRD_KABKOTA,
    "dprdkabupatenkota": Dapil.Contest.DPRD_KABKOTA,
    "dprdkab": Dapil.Contest.DPRD_KABKOTA,
    "dprdkabupaten": Dapil.Contest.DPRD_KABKOTA,
    "dprdkota": Dapil.Contest.DPRD_KABKOTA,
}
_REGION_SPLIT = re.compile(r"[;,|\s]+")

DAPIL_COLUMNS = (
    spreadsheets.ColumnSpec(
        key="contest",
        label="Kontestasi",
        synonyms=("jenis", "pemilihan", "contest"),
        required=True,
        help_text="DPR, DPRD_PROV atau DPRD_KABKOTA",
    ),
    spreadsheets.ColumnSpec(key="code", label="Kode Dapil", synonyms=("dapil", "kode"), required=True),
    spreadsheets.ColumnSpec(key="name", label="Nama", synonyms=("nama dapil", "name")),
    spreadsheets.ColumnSpec(
        key="regions",
        label="Wilayah",
        synonyms=("kode wilayah", "regions", "region", "wilayah dapil"),
        required=True,
        help_text="Kode Kemendagri dipisah titik koma, mis. 33.15;33.16",
    ),
)


def _area_problems(contest: str, regions: list[Region]) -> list[str]:
    """Levels and containment of a dapil's areas (messages; empty when fine)."""
    problems = []
    if not regions:
        return [gettext("A dapil needs at least one area.")]
    if contest == Dapil.Contest.DPRD_KABKOTA:
        wrong = [region.code for region in regions if region.level != Region.Level.DISTRICT]
        if wrong:
            problems.append(
                gettext("A DPRD Kab/Kota dapil is a set of districts (kecamatan); not districts: %(codes)s")
                % {"codes": ", ".join(wrong)}
            )
        elif len({region.code[:5] for region in regions}) > 1:
            problems.append(gettext("The districts of a DPRD Kab/Kota dapil must lie in one regency/city."))
    else:
        wrong = [
            region.code
            for region in regions
            if region.level not in (Region.Level.REGENCY, Region.Level.DISTRICT)
        ]
        if wrong:
            problems.append(
                gettext("A DPR or DPRD Provinsi dapil is a set of regencies/cities; not regencies: %(codes)s")
                % {"codes": ", ".join(wrong)}
            )
        elif len({region.code[:2] for region in regions}) > 1:
            problems.append(gettext("The areas of a dapil must lie in one province."))
    return problems


def _overlap_problems(
    *,
    election: Election,
    contest: str,
    code: str,
    region_codes: Iterable[str],
    skip_codes: Iterable[str] = (),
    exclude_pk: int | None = None,
) -> list[str]:
    """An area may belong to one dapil per contest only.

    The dapil itself (``exclude_pk``, or its ``code``) and the dapils the
    same import replaces (``skip_codes``) do not count.
    """
    taken = Dapil.regions.through.objects.filter(
        dapil__election=election, dapil__contest=contest, region_id__in=list(region_codes)
    ).exclude(dapil__code__in=[code, *skip_codes])
    if exclude_pk is not None:
        taken = taken.exclude(dapil_id=exclude_pk)
    taken = taken.values_list("region_id", "dapil__code")
    return [
        gettext("%(region)s is already in dapil %(dapil)s.") % {"region": region, "dapil": other}
        for region, other in taken
    ]


def dapil_problems(
    *, election: Election, contest: str, code: str, regions: Iterable[Region], exclude_pk: int | None = None
) -> list[str]:
    """What is wrong with a dapil's areas: levels, one province/regency, overlaps with other dapils."""
    regions = list(regions)
    return _area_problems(contest, regions) + _overlap_problems(
        election=election,
        contest=contest,
        code=code,
        region_codes=[region.code for region in regions],
        exclude_pk=exclude_pk,
    )


@transaction.atomic
def dapil_save(*, dapil: Dapil, regions: Iterable[Region], user: User | None) -> Dapil:
    """Create or change one dapil with its areas, checking levels and overlaps."""
    regions = list(regions)
    dapil.full_clean()
    problems = dapil_problems(
        election=dapil.election,
        contest=dapil.contest,
        code=dapil.code,
        regions=regions,
        exclude_pk=dapil.pk,
    )
    if problems:
        raise ValidationError({"regions": problems})
    _as_history_user(dapil, user)
    dapil.save()
    dapil.regions.set(regions)
    return dapil


@dataclass(frozen=True)
class DapilImportResult:
    created: int
    updated: int
    dapils: tuple[str, ...]


class DapilImportError(ValidationError):
    """The file cannot be imported; ``messages`` say where and why (nothing was saved)."""


@transaction.atomic
def dapil_import(
    *,
    election: Election,
    file: str | IO[bytes],
    filename: str,
    user: User | None,
    is_demo: bool = False,
) -> DapilImportResult:
    """Load dapils from a CSV (or XLSX) file: one row per dapil, or several rows adding areas.

    Columns: Kontestasi (DPR / DPRD_PROV / DPRD_KABKOTA), Kode Dapil, Nama,
    Wilayah (Kemendagri codes separated by ";", "," or spaces). A dapil
    already in the election (same contest and code) gets the file's areas
    instead of its own. All or nothing: any error and nothing is saved.
    """
    errors: list[str] = []
    wanted: dict[tuple[str, str], dict[str, Any]] = {}
    try:
        reader = spreadsheets.read_rows(file, filename, columns=DAPIL_COLUMNS)
        with reader:
            header = reader.match_headers(DAPIL_COLUMNS)
            for row in reader:
                cells = header.extract(row.values)
                line = row.number
                contest_raw = spreadsheets.parse_text(cells.get("contest"))
                contest = _CONTEST_NAMES.get(spreadsheets.normalize_key(contest_raw))
                code = spreadsheets.parse_text(cells.get("code"), max_length=50)
                name = spreadsheets.parse_text(cells.get("name"), max_length=200)
                if contest is None:
                    errors.append(
                        gettext(
                            'Row %(row)d: unknown contest "%(value)s"; use DPR, DPRD_PROV or DPRD_KABKOTA.'
                        )
                        % {"row": line, "value": contest_raw}
                    )
                    continue
                if not code:
                    errors.append(gettext("Row %(row)d: the dapil code is empty.") % {"row": line})
                    continue
                entry = wanted.setdefault((contest, code), {"name": "", "codes": [], "rows": []})
                entry["name"] = entry["name"] or name
                entry["rows"].append(line)
                for piece in _REGION_SPLIT.split(spreadsheets.parse_text(cells.get("regions"))):
                    if not piece:
                        continue
                    try:
                        region_code = spreadsheets.parse_region_code(piece)
                    except spreadsheets.CellError as exc:
                        errors.append(gettext("Row %(row)d: %(error)s") % {"row": line, "error": exc.message})
                        continue
                    if region_code and region_code not in entry["codes"]:
                        entry["codes"].append(region_code)
    except spreadsheets.SpreadsheetError as exc:
        raise DapilImportError([exc.message]) from exc
    except spreadsheets.CellError as exc:
        raise DapilImportError([exc.message]) from exc
    if not wanted and not errors:
        errors.append(gettext("The file holds no dapil."))

    all_codes = {code for entry in wanted.values() for code in entry["codes"]}
    regions = Region.objects.in_bulk(list(all_codes))
    owner: dict[tuple[str, str], tuple[str, int]] = {}
    for (contest, code), entry in wanted.items():
        rows = ", ".join(str(row) for row in entry["rows"])
        missing = [region_code for region_code in entry["codes"] if region_code not in regions]
        if missing:
            errors.append(
                gettext("Dapil %(code)s (rows %(rows)s): unknown region codes %(codes)s.")
                % {"code": code, "rows": rows, "codes": ", ".join(missing)}
            )
            continue
        for problem in _area_problems(contest, [regions[region_code] for region_code in entry["codes"]]):
            errors.append(
                gettext("Dapil %(code)s (rows %(rows)s): %(problem)s")
                % {"code": code, "rows": rows, "problem": problem}
            )
        for region_code in entry["codes"]:
            other = owner.setdefault((contest, region_code), (code, entry["rows"][0]))
            if other[0] != code:
                errors.append(
                    gettext("%(region)s is in both dapil %(first)s and dapil %(second)s.")
                    % {"region": region_code, "first": other[0], "second": code}
                )
        codes_in_file = [other for other_contest, other in wanted if other_contest == contest]
        for problem in _overlap_problems(
            election=election,
            contest=contest,
            code=code,
            region_codes=entry["codes"],
            skip_codes=codes_in_file,
        ):
            errors.append(
                gettext("Dapil %(code)s (rows %(rows)s): %(problem)s")
                % {"code": code, "rows": rows, "problem": problem}
            )
    if errors:
        raise DapilImportError(errors)

    created = updated = 0
    for (contest, code), entry in wanted.items():
        dapil = Dapil.objects.filter(election=election, contest=contest, code=code).first()
        if dapil is None:
            dapil = Dapil(election=election, contest=contest, code=code)
            created += 1
        else:
            updated += 1
        dapil.name = entry["name"] or dapil.name
        dapil.is_demo = is_demo
        dapil.full_clean()
        _as_history_user(dapil, user)
        dapil.save()
        dapil.regions.set([regions[region_code] for region_code in entry["codes"]])
    return DapilImportResult(
        created=created, updated=updated, dapils=tuple(code for _contest, code in wanted)
    )
