"""The dashboard: per facility in the user's scope, the figures an officer
watches before voting day.

A Rutan officer sees their facility, a KPU officer the facilities of their
regency (and the regency's total), an admin every facility; anyone else
nothing. Per facility: inmates in custody today, voters projected for voting
day (eligible), records that need data (in custody without NIK), open
duplicate pairs, TPS and voters on them, ballots to deliver per type, and
the projection at H-30, H-7 and voting day (``tps.projection``).
"""

from __future__ import annotations

import datetime
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count
from django.utils.translation import gettext

from inmates.models import DuplicateCandidate, Facility, Inmate, User
from tps.models import BallotType, Election, Tps
from tps.projection import facility_projection
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
    ballots: Counter = field(default_factory=Counter)
    # (label, day, in custody, eligible) at H-30, H-7 and voting day.
    projection: list[tuple[str, datetime.date, int, int]] = field(default_factory=list)
    ballot_types: tuple[str, ...] = ()

    @property
    def ballot_list(self) -> list[int]:
        return [self.ballots.get(code, 0) for code in self.ballot_types]

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


def dashboard_data(*, user: User, election: Election | None, today: datetime.date) -> Dashboard:
    """The figures of every facility the user may see (none for an outsider)."""
    facilities = list(
        Facility.objects.for_user(user).select_related("regency").order_by("regency_id", "name")
    )
    ids = [facility.pk for facility in facilities]
    in_custody = _count_by_facility(Inmate.objects.filter(facility_id__in=ids).active().in_custody())
    needs_data = _count_by_facility(
        Inmate.objects.filter(facility_id__in=ids).active().in_custody().missing_nik()
    )
    duplicates = _count_by_facility(
        DuplicateCandidate.objects.for_user(user).open().filter(inmate_a__facility_id__in=ids),
        "inmate_a__facility_id",
    )
    tps_counts: dict[int, int] = {}
    ballot_types = tuple(election.ballot_types or ()) if election is not None else ()
    if election is not None:
        tps_counts = _count_by_facility(Tps.objects.filter(election=election, facility_id__in=ids))

    regencies: dict[str, RegencyFigures] = {}
    for facility in facilities:
        figures = FacilityFigures(
            facility=facility,
            ballot_types=ballot_types,
            in_custody=in_custody.get(facility.pk, 0),
            needs_data=needs_data.get(facility.pk, 0),
            open_duplicates=duplicates.get(facility.pk, 0),
            tps_count=tps_counts.get(facility.pk, 0),
        )
        if election is not None:
            projection = facility_projection(election=election, facility=facility, today=today)
            figures.eligible = projection.voting_day.eligible
            figures.projection = [
                (point.label, point.day, point.in_custody, point.eligible) for point in projection.checkpoints
            ]
            if figures.tps_count:
                ballots = stations.tps_ballots(election=election, facility=facility)
                figures.voters_on_tps = ballots.voters
                figures.undecided = ballots.undecided_voters
                figures.ballots = Counter({code: line.total for code, line in ballots.totals().items()})
                figures.shortages = len(
                    stations.logistics_shortages(election=election, facility=facility, ballots=ballots)
                )
        regency = regencies.setdefault(
            facility.regency_id,
            RegencyFigures(
                code=facility.regency_id, name=facility.regency.name, facilities=[], ballot_types=ballot_types
            ),
        )
        regency.facilities.append(figures)
    return Dashboard(user=user, election=election, today=today, regencies=list(regencies.values()))


def chart_data(dashboard: Dashboard) -> dict[str, Any]:
    """Plain numbers and labels for the charts (rendered with ``json_script``)."""
    items = dashboard.facilities
    labels = [item.facility.name for item in items]
    ballot_types = dashboard.ballot_types
    projection_labels = (
        [label for label, _day, _c, _e in items[0].projection] if items and items[0].projection else []
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
