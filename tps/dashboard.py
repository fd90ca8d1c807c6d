"""The dashboard: per facility in the user's scope, the figures an officer
watches before voting day.

A Rutan officer sees their facility, a KPU officer the facilities of their
regency (and the regency's total), an admin every facility; anyone else
nothing. Per facility: inmates in custody today, voters projected for voting
day (eligible), records that need data (in custody without NIK), open
duplicate pairs, TPS and voters on them, ballots to deliver per type, and
the projection at H-30, H-7 and voting day (``tps.projection``); warnings
when the TPS plan no longer matches the voters projected for voting day
(``stations.plan_drift``) and when fixed ballot logistics fall short
(``stations.logistics_shortages``, the unplanned voters included).
"""

from __future__ import annotations

import dataclasses
import datetime
import time
from collections import Counter, defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from itertools import groupby
from operator import attrgetter
from typing import Any

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext

from inmates.models import CustodyEvent, DuplicateCandidate, Facility, Inmate, User
from tps import eligibility, projection, selectors
from tps.eligibility import judge
from tps.models import BallotType, DashboardSnapshot, Election, Tps
from tps.services import stations


def default_election(today: datetime.date) -> Election | None:
    """The next election to vote in, else the most recent one."""
    upcoming = Election.objects.filter(voting_day__gte=today).order_by("voting_day").first()
    return upcoming or Election.objects.order_by("-voting_day").first()


@dataclass
class FacilityFigures:
    facility: Facility
    in_custody: int = 0
    eligible: int = 0
    needs_data: int = 0
    open_duplicates: int = 0
    tps_count: int = 0
    voters_on_tps: int = 0
    undecided: int = 0
    shortages: int = 0
    # The plan against the voters projected for voting day (facilities with TPS).
    unplanned: int = 0
    no_longer_projected: int = 0
    ballots: Counter = field(default_factory=Counter)
    # (checkpoint key, day, in custody, eligible) at H-30, H-7 and voting day
    # (keys: tps.projection.CHECKPOINT_LABELS).
    projection: list[tuple[str, datetime.date, int, int]] = field(default_factory=list)
    ballot_types: tuple[str, ...] = ()

    @property
    def ballot_list(self) -> list[int]:
        return [self.ballots.get(code, 0) for code in self.ballot_types]

    @property
    def plan_out_of_date(self) -> bool:
        return bool(self.unplanned or self.no_longer_projected)

    @property
    def projection_eligible(self) -> list[int]:
        return [eligible for _label, _day, _inside, eligible in self.projection]


@dataclass
class RegencyFigures:
    """A regency's facilities and their sums (what a KPU officer answers for)."""

    code: str
    name: str
    facilities: list[FacilityFigures]
    ballot_types: tuple[str, ...] = ()

    def total(self, name: str) -> int:
        return sum(getattr(item, name) for item in self.facilities)

    @property
    def in_custody(self) -> int:
        return self.total("in_custody")

    @property
    def eligible(self) -> int:
        return self.total("eligible")

    @property
    def needs_data(self) -> int:
        return self.total("needs_data")

    @property
    def open_duplicates(self) -> int:
        return self.total("open_duplicates")

    @property
    def tps_count(self) -> int:
        return self.total("tps_count")

    @property
    def voters_on_tps(self) -> int:
        return self.total("voters_on_tps")

    @property
    def ballots(self) -> Counter:
        total: Counter = Counter()
        for item in self.facilities:
            total.update(item.ballots)
        return total

    @property
    def ballot_list(self) -> list[int]:
        ballots = self.ballots
        return [ballots.get(code, 0) for code in self.ballot_types]


@dataclass
class Dashboard:
    user: User
    election: Election | None
    today: datetime.date
    regencies: list[RegencyFigures]
    # The national page's figures come from here (None: computed for this view).
    snapshot: DashboardSnapshot | None = None

    @property
    def snapshot_minutes(self) -> int:
        """How old the snapshot may get before it is recomputed, in minutes (for the page)."""
        return max(1, round(snapshot_max_age().total_seconds() / 60))

    @property
    def facilities(self) -> list[FacilityFigures]:
        return [item for regency in self.regencies for item in regency.facilities]

    @property
    def ballot_types(self) -> tuple[str, ...]:
        return tuple(self.election.ballot_types or ()) if self.election else ()

    @property
    def scope_label(self) -> str:
        user = self.user
        if user.is_admin_role:
            return gettext("All facilities")
        if user.role == User.Role.KPU and user.regency_id:
            return gettext("Facilities of %(regency)s") % {"regency": user.regency.name}
        if user.role == User.Role.RUTAN and user.facility_id:
            return user.facility.name
        return gettext("No facility")


def _count_by_facility(queryset, field_name: str = "facility_id") -> dict[int, int]:
    return {
        row[field_name]: row["total"]
        for row in queryset.order_by().values(field_name).annotate(total=Count("pk"))
    }


# The inmate fields the projection reads (tps.selectors.facts_for, tps.projection):
# loading only these keeps 300,000 records affordable.
_PROJECTION_FIELDS = (
    "facility_id",
    "registration_number",
    "nik",
    "full_name",
    "birth_date",
    "marital_status",
    "citizenship",
    "domicile_region_id",
    "custody_type",
    "admission_date",
    "expected_release_date",
    "is_tni_polri",
    "voting_right_revoked",
    "duplicate_of_id",
)


def _projections(
    *, election: Election, facilities: list[Facility], today: datetime.date, planned: Collection[int] = ()
) -> tuple[dict[int, projection.Projection], dict[int, list[stations.ProjectedVoter]]]:
    """``facility_projection`` of every facility, reading the register in two queries.

    The inmates and their custody events are streamed in facility order and
    each facility is projected exactly as ``tps.projection.facility_projections``
    does (same histories, same ``_project``), one facility in memory at a time.
    The projections' ``overdue`` lists are left empty (the dashboard does not
    show them). For the facilities in ``planned`` (those with TPS) it also
    returns the voters planning would place (``_projected_voters``).
    """
    by_id = {facility.pk: facility for facility in facilities}
    ids = list(by_id)
    inmates = (
        Inmate.objects.filter(facility_id__in=ids)
        .only(*_PROJECTION_FIELDS)
        .order_by("facility_id", "full_name", "registration_number")
        .iterator(chunk_size=5000)
    )
    events = (
        CustodyEvent.objects.filter(inmate__facility_id__in=ids)
        .order_by("inmate__facility_id", "inmate_id", "pk")
        .values_list("inmate__facility_id", "inmate_id", "kind", "date")
        .iterator(chunk_size=20000)
    )
    pending_events = next(events, None)
    results: dict[int, projection.Projection] = {}
    voters: dict[int, list[stations.ProjectedVoter]] = {}
    for facility_id, group in groupby(inmates, key=attrgetter("facility_id")):
        facility = by_id[facility_id]
        members = list(group)
        by_inmate: dict[int, selectors.Events] = defaultdict(list)
        while pending_events is not None and pending_events[0] <= facility_id:
            if pending_events[0] == facility_id:
                by_inmate[pending_events[1]].append((pending_events[2], pending_events[3]))
            pending_events = next(events, None)
        histories = _histories(facility, members, by_inmate, today)
        results[facility_id] = _project_loaded(election, facility, histories, today)
        if facility_id in planned:
            voters[facility_id] = _projected_voters(election, histories, today)
    for facility in facilities:
        if facility.pk not in results:
            results[facility.pk] = _project_loaded(election, facility, [], today)
    return results, voters


Histories = list[tuple[Inmate, selectors.Events, eligibility.VoterFacts]]


def _histories(
    facility: Facility, inmates: list[Inmate], events: dict[int, selectors.Events], today: datetime.date
) -> Histories:
    """Each inmate with their custody events and their facts of ``today``, custody left open."""
    histories = []
    for inmate in inmates:
        inmate.facility = facility
        history = selectors.events_of(inmate, events)
        facts = selectors.facts_for(inmate, history, today, today=today)
        histories.append((inmate, history, dataclasses.replace(facts, in_custody_on_day=None)))
    return histories


def _projected_voters(
    election: Election, histories: Histories, today: datetime.date
) -> list[stations.ProjectedVoter]:
    """``tps.selectors.projected_voters`` on records already loaded: the voters planning would place.

    The same population (inside on ``min(today, voting day)`` or arriving by
    voting day), judged for voting day on the facts of ``selectors.facts_for``
    for that day: those facts differ from today's only in what the custody
    history says about that day (``selectors.custody_facts``), so today's are
    reused (building them again would double the cost of the page).
    tests/test_dashboard.py checks the result against the service.
    """
    day = election.voting_day
    start = min(today, day)
    voters = []
    for inmate, history, open_facts in histories:
        if not selectors.present_between(history, start, day):
            continue
        custody_then = selectors.custody_facts(history, day)
        facts = open_facts
        if any(getattr(facts, name) != value for name, value in custody_then.items()):
            facts = dataclasses.replace(facts, **custody_then)
        if judge(facts, day).is_eligible:
            voters.append(
                stations.ProjectedVoter(inmate_id=inmate.pk, domicile_code=inmate.domicile_region_id)
            )
    return voters


def _project_loaded(
    election: Election, facility: Facility, histories: Histories, today: datetime.date
) -> projection.Projection:
    # The body of tps.projection.facility_projections, on records already loaded.
    inside_today = {
        inmate.pk: projection._inside(facts, history, today) for inmate, history, facts in histories
    }
    # The dashboard shows no overdue list: leave it empty rather than keep
    # thousands of records alive for the whole page.
    overdue: list[Inmate] = []
    return projection._project(election, facility, today, histories, inside_today, overdue)


# TPS judged per call of tps_ballots: its per-voter problem list is the big
# part of its memory, so the country's 1,000 TPS go in a few batches.
BALLOT_BATCH_TPS = 250


@dataclass(frozen=True)
class _BallotFigures:
    voters: int
    undecided: int
    ballots: Counter
    shortages: int
    unplanned: int = 0
    no_longer_projected: int = 0


def _ballots(
    *,
    election: Election,
    facilities: list[Facility],
    all_tps: list[Tps],
    projected: dict[int, list[stations.ProjectedVoter]],
) -> dict[int, _BallotFigures]:
    """The ballot figures of every facility with TPS: ``tps_ballots`` over batches of whole facilities.

    ``all_tps`` are the TPS of ``facilities`` in facility order; ``projected``
    the voters projected for voting day of each facility with TPS. One
    query per batch of about ``BALLOT_BATCH_TPS`` TPS (``tps_ballots``
    judges each TPS on its own: its voters, its village; the facility only
    groups them), one for the dapils and one for every fixed ballot
    allocation in scope: the plan's drift and the shortages are then
    worked out from what is loaded, with no query per facility.
    """
    by_id = {facility.pk: facility for facility in facilities}
    batches: list[list[Tps]] = [[]]
    for _facility_id, group in groupby(all_tps, key=attrgetter("facility_id")):
        stations_of_facility = list(group)
        if batches[-1] and len(batches[-1]) + len(stations_of_facility) > BALLOT_BATCH_TPS:
            batches.append([])
        batches[-1].extend(stations_of_facility)
    fixed: dict[tuple[int, str], int] = {}
    with_fixed = {tps.facility_id for tps in all_tps if tps.logistics_fixed_at}
    if with_fixed:
        fixed = stations.fixed_allocations(election=election, facility_ids=with_fixed)
    dapils = stations.dapil_map(election) if all_tps else {}
    figures: dict[int, _BallotFigures] = {}
    for batch in batches:
        if not batch:
            continue
        projected_ids = {
            voter.inmate_id
            for facility_id in {tps.facility_id for tps in batch}
            for voter in projected.get(facility_id, ())
        }
        together = stations.tps_ballots(
            election=election,
            facility=by_id[batch[0].facility_id],
            tps_list=batch,
            projected_ids=projected_ids,
            dapils=dapils,
        )
        by_facility: dict[int, list[stations.TpsBallots]] = defaultdict(list)
        for item in together.tps:
            by_facility[item.tps.facility_id].append(item)
        for facility_id, items in by_facility.items():
            facility = by_id[facility_id]
            ballots = stations.FacilityBallots(
                election=election, facility=facility, tps=tuple(items), ballot_types=together.ballot_types
            )
            drift = stations.plan_drift(
                ballots=ballots, projected=projected.get(facility_id, ()), dapils=dapils
            )
            shortages = 0
            # Shortages exist only where logistics were fixed.
            if facility_id in with_fixed:
                shortages = len(
                    stations.logistics_shortages(
                        election=election, facility=facility, ballots=ballots, drift=drift, fixed=fixed
                    )
                )
            figures[facility_id] = _BallotFigures(
                voters=ballots.voters,
                undecided=ballots.undecided_voters,
                ballots=Counter({code: line.total for code, line in ballots.totals().items()}),
                shortages=shortages,
                unplanned=len(drift.unplanned),
                no_longer_projected=drift.no_longer_projected,
            )
    return figures


def _facility_figures(
    *, facilities: list[Facility], election: Election | None, today: datetime.date, open_pairs
) -> dict[int, FacilityFigures]:
    """The figures of each facility (by id); ``open_pairs`` are the open duplicate pairs in scope.

    No query per facility: the register is streamed once (two queries), the
    counts are grouped by facility, and the ballots are judged in batches of
    about ``BALLOT_BATCH_TPS`` TPS (one query each), with one query each for
    the TPS, the dapils and the fixed ballot allocations.
    """
    ids = [facility.pk for facility in facilities]
    register = {
        row["facility_id"]: row
        for row in Inmate.objects.filter(facility_id__in=ids)
        .active()
        .in_custody()
        .order_by()
        .values("facility_id")
        .annotate(in_custody=Count("pk"), needs_data=Count("pk", filter=Q(nik__isnull=True)))
    }
    duplicates = _count_by_facility(open_pairs.filter(inmate_a__facility_id__in=ids), "inmate_a__facility_id")
    tps_counts: dict[int, int] = {}
    ballot_types = tuple(election.ballot_types or ()) if election is not None else ()
    projections: dict[int, projection.Projection] = {}
    ballots_by_facility: dict[int, _BallotFigures] = {}
    if election is not None and facilities:
        all_tps = list(
            Tps.objects.filter(election=election, facility_id__in=ids)
            .select_related("village")
            .order_by("facility_id", "pk")
        )
        tps_counts = dict(Counter(tps.facility_id for tps in all_tps))
        projections, projected = _projections(
            election=election,
            facilities=facilities,
            today=today,
            planned={tps.facility_id for tps in all_tps},
        )
        ballots_by_facility = _ballots(
            election=election, facilities=facilities, all_tps=all_tps, projected=projected
        )

    result: dict[int, FacilityFigures] = {}
    for facility in facilities:
        counts = register.get(facility.pk, {})
        figures = FacilityFigures(
            facility=facility,
            ballot_types=ballot_types,
            in_custody=counts.get("in_custody", 0),
            needs_data=counts.get("needs_data", 0),
            open_duplicates=duplicates.get(facility.pk, 0),
            tps_count=tps_counts.get(facility.pk, 0),
        )
        if election is not None:
            facility_projection = projections[facility.pk]
            figures.eligible = facility_projection.voting_day.eligible
            figures.projection = [
                (point.key, point.day, point.in_custody, point.eligible)
                for point in facility_projection.checkpoints
            ]
            if figures.tps_count:
                ballots = ballots_by_facility[facility.pk]
                figures.voters_on_tps = ballots.voters
                figures.undecided = ballots.undecided
                figures.ballots = ballots.ballots
                figures.shortages = ballots.shortages
                figures.unplanned = ballots.unplanned
                figures.no_longer_projected = ballots.no_longer_projected
        result[facility.pk] = figures
    return result


def _dashboard(
    *,
    user: User,
    election: Election | None,
    today: datetime.date,
    facilities: list[Facility],
    figures: dict[int, FacilityFigures],
    snapshot: DashboardSnapshot | None = None,
) -> Dashboard:
    """Group the facilities' figures by regency, in the order of ``facilities``."""
    regencies: dict[str, RegencyFigures] = {}
    ballot_types = tuple(election.ballot_types or ()) if election is not None else ()
    for facility in facilities:
        item = figures.get(facility.pk)
        if item is None:
            continue
        regency = regencies.setdefault(
            facility.regency_id,
            RegencyFigures(
                code=facility.regency_id, name=facility.regency.name, facilities=[], ballot_types=ballot_types
            ),
        )
        regency.facilities.append(item)
    return Dashboard(
        user=user, election=election, today=today, regencies=list(regencies.values()), snapshot=snapshot
    )


def dashboard_data(*, user: User, election: Election | None, today: datetime.date) -> Dashboard:
    """The figures of every facility the user may see (none for an outsider).

    A Rutan or KPU officer's figures are computed on every view (8 queries; 9 once
    some ballot logistics are fixed).
    The admin's national page, once the country has ``snapshot_min_facilities()``
    facilities or more, reads the snapshot the task worker keeps (see
    :func:`snapshot_for`): judging every inmate of the country takes tens of
    seconds, too long for a page.
    """
    facilities = list(
        Facility.objects.for_user(user).select_related("regency").order_by("regency_id", "name")
    )
    if election is not None and user.is_admin_role and len(facilities) >= snapshot_min_facilities():
        snapshot = snapshot_for(election, today)
        return _dashboard(
            user=user,
            election=election,
            today=snapshot.day,
            facilities=facilities,
            figures=_load_figures(snapshot, facilities, election),
            snapshot=snapshot,
        )
    figures = _facility_figures(
        facilities=facilities,
        election=election,
        today=today,
        open_pairs=DuplicateCandidate.objects.for_user(user).open(),
    )
    return _dashboard(user=user, election=election, today=today, facilities=facilities, figures=figures)


# ---------------------------------------------------------------------------
# The national page: a snapshot kept by the task worker


def snapshot_min_facilities() -> int:
    """From this many facilities on, the admin's page reads the snapshot (setting ``DASHBOARD_SNAPSHOT_MIN_FACILITIES``)."""
    return int(getattr(settings, "DASHBOARD_SNAPSHOT_MIN_FACILITIES", 50))


def snapshot_max_age() -> datetime.timedelta:
    """A snapshot older than this is recomputed in the background (setting ``DASHBOARD_SNAPSHOT_MAX_AGE``, seconds)."""
    return datetime.timedelta(seconds=int(getattr(settings, "DASHBOARD_SNAPSHOT_MAX_AGE", 300)))


def compute_snapshot(election: Election, today: datetime.date) -> DashboardSnapshot:
    """Judge every facility of the country now and store the figures (the task's body)."""
    started = time.perf_counter()
    facilities = list(Facility.objects.select_related("regency").order_by("regency_id", "name"))
    figures = _facility_figures(
        facilities=facilities, election=election, today=today, open_pairs=DuplicateCandidate.objects.open()
    )
    snapshot, _created = DashboardSnapshot.objects.update_or_create(
        election=election,
        defaults={
            "day": today,
            "computed_at": timezone.now(),
            "seconds": round(time.perf_counter() - started, 3),
            "figures": {str(pk): _dump(item) for pk, item in figures.items()},
            "refresh_requested_at": None,
        },
    )
    return snapshot


def snapshot_for(election: Election, today: datetime.date) -> DashboardSnapshot:
    """The election's snapshot; a stale one is served while the worker recomputes it.

    Without any snapshot yet the figures are computed now (the first view of
    an election waits once). A snapshot is stale when it is older than
    ``snapshot_max_age()`` or was computed for an earlier day; the first view
    that finds it stale asks the worker for a new one (once: the request is
    recorded on the row), and every view until then shows the stale figures
    with the time they were computed.
    """
    snapshot = DashboardSnapshot.objects.filter(election=election).first()
    if snapshot is None:
        return compute_snapshot(election, today)
    now = timezone.now()
    if snapshot.day != today or now - snapshot.computed_at > snapshot_max_age():
        ask_before = now - snapshot_max_age()
        claimed = (
            DashboardSnapshot.objects.filter(pk=snapshot.pk)
            .filter(Q(refresh_requested_at__isnull=True) | Q(refresh_requested_at__lt=ask_before))
            .update(refresh_requested_at=now)
        )
        if claimed:
            from tps.tasks import refresh_dashboard

            refresh_dashboard.enqueue(election.pk)
    return snapshot


def _dump(item: FacilityFigures) -> dict[str, Any]:
    return {
        "in_custody": item.in_custody,
        "eligible": item.eligible,
        "needs_data": item.needs_data,
        "open_duplicates": item.open_duplicates,
        "tps_count": item.tps_count,
        "voters_on_tps": item.voters_on_tps,
        "undecided": item.undecided,
        "shortages": item.shortages,
        "unplanned": item.unplanned,
        "no_longer_projected": item.no_longer_projected,
        "ballots": dict(item.ballots),
        "projection": [
            [key, day.isoformat(), inside, eligible] for key, day, inside, eligible in item.projection
        ],
    }


def _load_figures(
    snapshot: DashboardSnapshot, facilities: list[Facility], election: Election
) -> dict[int, FacilityFigures]:
    """The stored figures of ``facilities`` (a facility added since the snapshot shows zeros)."""
    ballot_types = tuple(election.ballot_types or ())
    result = {}
    for facility in facilities:
        data = snapshot.figures.get(str(facility.pk), {})
        result[facility.pk] = FacilityFigures(
            facility=facility,
            ballot_types=ballot_types,
            in_custody=data.get("in_custody", 0),
            eligible=data.get("eligible", 0),
            needs_data=data.get("needs_data", 0),
            open_duplicates=data.get("open_duplicates", 0),
            tps_count=data.get("tps_count", 0),
            voters_on_tps=data.get("voters_on_tps", 0),
            undecided=data.get("undecided", 0),
            shortages=data.get("shortages", 0),
            unplanned=data.get("unplanned", 0),
            no_longer_projected=data.get("no_longer_projected", 0),
            ballots=Counter(data.get("ballots", {})),
            projection=[
                (key, datetime.date.fromisoformat(day), inside, eligible)
                for key, day, inside, eligible in data.get("projection", [])
            ],
        )
    return result


def chart_data(dashboard: Dashboard) -> dict[str, Any]:
    """Plain numbers and labels for the charts (rendered with ``json_script``)."""
    items = dashboard.facilities
    labels = [item.facility.name for item in items]
    ballot_types = dashboard.ballot_types
    projection_labels = (
        [str(projection.CHECKPOINT_LABELS[key]) for key, _day, _c, _e in items[0].projection]
        if items and items[0].projection
        else []
    )
    return {
        "labels": labels,
        "titles": {
            "register": gettext("Register per facility"),
            "ballots": gettext("Ballots to deliver per type"),
            "projection": gettext("Eligible voters at H-30, H-7 and on voting day"),
        },
        "register": [
            {"label": gettext("In custody"), "data": [item.in_custody for item in items]},
            {"label": gettext("Eligible on voting day"), "data": [item.eligible for item in items]},
            {"label": gettext("Needs data (no NIK)"), "data": [item.needs_data for item in items]},
            {"label": gettext("Open duplicate pairs"), "data": [item.open_duplicates for item in items]},
        ],
        "ballots": [
            {"label": str(BallotType(code).label), "data": [item.ballots.get(code, 0) for item in items]}
            for code in ballot_types
        ],
        "projection": {
            "labels": projection_labels,
            "datasets": [
                {"label": item.facility.name, "data": [eligible for _l, _d, _c, eligible in item.projection]}
                for item in items
            ],
        },
    }
