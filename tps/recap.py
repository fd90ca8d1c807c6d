"""Rekapitulasi: the voters and ballots of an election per TPS, facility and regency.

Voters are counted from the TPS assignments (the lists that will be posted),
by sex, disability and category (DPT/DPTb/DPK); ballots are the totals to
deliver per type, reserve included, as ``tps.services.stations.tps_ballots``
computes them now. Facility rows are the sums of their TPS rows and regency
rows the sums of their facilities, so the levels always agree.

Only the facilities the user may see are counted.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from inmates.models import Facility, Inmate, User
from tps.models import Election, Tps, TpsAssignment
from tps.services import stations

SEXES = tuple(Inmate.Sex.values)
# "" is "no disability"; the six official codes follow.
DISABILITIES = tuple(Inmate.Disability.values)
CATEGORIES = stations.CATEGORIES


@dataclass
class RecapRow:
    """One line of the recap: a TPS, a facility, a regency or the grand total."""

    level: str
    label: str
    key: str
    voters: int = 0
    by_sex: Counter = field(default_factory=Counter)
    by_disability: Counter = field(default_factory=Counter)
    by_category: Counter = field(default_factory=Counter)
    ballots: Counter = field(default_factory=Counter)
    tps_count: int = 0

    def add(self, other: RecapRow) -> None:
        self.voters += other.voters
        self.by_sex.update(other.by_sex)
        self.by_disability.update(other.by_disability)
        self.by_category.update(other.by_category)
        self.ballots.update(other.ballots)
        self.tps_count += other.tps_count

    @property
    def with_disability(self) -> int:
        return sum(count for code, count in self.by_disability.items() if code)

    def sex_counts(self) -> list[int]:
        return [self.by_sex.get(sex, 0) for sex in SEXES]

    def disability_counts(self) -> list[int]:
        return [self.by_disability.get(code, 0) for code in DISABILITIES if code]

    def category_counts(self) -> list[int]:
        return [self.by_category.get(category, 0) for category in CATEGORIES]

    def ballot_counts(self, ballot_types: tuple[str, ...]) -> list[int]:
        return [self.ballots.get(ballot_type, 0) for ballot_type in ballot_types]


@dataclass
class FacilityRecap:
    row: RecapRow
    tps: list[RecapRow]


@dataclass
class RegencyRecap:
    row: RecapRow
    facilities: list[FacilityRecap]


@dataclass
class Recap:
    election: Election
    ballot_types: tuple[str, ...]
    regencies: list[RegencyRecap]
    total: RecapRow

    @property
    def facilities(self) -> list[FacilityRecap]:
        return [facility for regency in self.regencies for facility in regency.facilities]

    @property
    def tps_rows(self) -> list[RecapRow]:
        return [row for facility in self.facilities for row in facility.tps]


def _tps_row(tps: Tps, voters: list[tuple[str, str]], categories: dict[int, str], ballots: dict) -> RecapRow:
    row = RecapRow(level="tps", label=f"TPS {tps.number}", key=str(tps.pk), tps_count=1)
    for inmate_id, sex, disability in voters:
        row.voters += 1
        row.by_sex[sex] += 1
        row.by_disability[disability or ""] += 1
        row.by_category[categories.get(inmate_id, stations.DEFAULT_CATEGORY)] += 1
    for ballot_type, line in ballots.items():
        row.ballots[ballot_type] += line.total
    return row


def facility_recap(*, election: Election, facility: Facility) -> FacilityRecap:
    """The recap of one facility (the caller has checked the user may see it)."""
    ballots = stations.tps_ballots(election=election, facility=facility)
    categories = stations.voter_categories(election=election, facility=facility)
    voters: dict[int, list[tuple]] = defaultdict(list)
    for tps_id, inmate_id, sex, disability in TpsAssignment.objects.filter(
        tps__election=election, tps__facility=facility
    ).values_list("tps_id", "inmate_id", "inmate__sex", "inmate__disability"):
        voters[tps_id].append((inmate_id, sex, disability))
    facility_row = RecapRow(level="facility", label=facility.name, key=facility.code)
    tps_rows = []
    for item in ballots.tps:
        row = _tps_row(item.tps, voters[item.tps.pk], categories, item.lines)
        facility_row.add(row)
        tps_rows.append(row)
    return FacilityRecap(row=facility_row, tps=tps_rows)


def recap(*, election: Election, user: User, facilities=None) -> Recap:
    """The recap of every facility the user may see (or of ``facilities``, scoped again)."""
    queryset = Facility.objects.for_user(user).select_related("regency").order_by("regency_id", "name")
    if facilities is not None:
        queryset = queryset.filter(pk__in=[facility.pk for facility in facilities])
    regencies: dict[str, RegencyRecap] = {}
    total = RecapRow(level="total", label="", key="total")
    for facility in queryset:
        item = facility_recap(election=election, facility=facility)
        regency = regencies.get(facility.regency_id)
        if regency is None:
            regency = RegencyRecap(
                row=RecapRow(level="regency", label=facility.regency.name, key=facility.regency_id),
                facilities=[],
            )
            regencies[facility.regency_id] = regency
        regency.facilities.append(item)
        regency.row.add(item.row)
        total.add(item.row)
    return Recap(
        election=election,
        ballot_types=tuple(election.ballot_types or ()),
        regencies=list(regencies.values()),
        total=total,
    )
