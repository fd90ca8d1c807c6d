"""Reads that several features share: who is judged how, on which day.

The bridge between the register (models) and the pure eligibility rules:
load inmates with their custody events in a constant number of queries, turn
each into ``VoterFacts`` and judge it.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from inmates import custody
from inmates.models import CustodyEvent, Facility, Inmate
from tps.eligibility import Judgement, VoterFacts, judge
from tps.models import Election


@dataclass(frozen=True)
class InmateJudgement:
    inmate: Inmate
    judgement: Judgement

    @property
    def status(self) -> str:
        return self.judgement.status

    @property
    def reasons(self) -> list[str]:
        return self.judgement.reasons


def facts_for(inmate: Inmate, events: list[tuple[str, datetime.date]], day: datetime.date) -> VoterFacts:
    """What the eligibility rules need to know about ``inmate`` on ``day``."""
    status = custody.status_on(events, day)
    # The history decides only when it says the person is gone by that day (or
    # not yet admitted); while it says "inside", the expected release date
    # still decides a future voting day.
    in_custody = None if status == "in_custody" else False
    return VoterFacts(
        citizenship=inmate.citizenship,
        nik=inmate.nik,
        birth_date=inmate.birth_date,
        marital_status=inmate.marital_status or None,
        is_tni_polri=inmate.is_tni_polri,
        voting_right_revoked=inmate.voting_right_revoked,
        custody_type=inmate.custody_type,
        expected_release_date=inmate.expected_release_date,
        in_custody_on_day=in_custody,
        is_confirmed_duplicate=inmate.duplicate_of_id is not None,
        domicile_code=inmate.domicile_region_id,
        died=status == "deceased",
        transferred=status == "transferred",
    )


def events_by_inmate(inmate_ids: Iterable[int]) -> dict[int, list[tuple[str, datetime.date]]]:
    events: dict[int, list[tuple[str, datetime.date]]] = defaultdict(list)
    ids = list(inmate_ids)
    for start in range(0, len(ids), 5000):
        rows = (
            CustodyEvent.objects.filter(inmate_id__in=ids[start : start + 5000])
            .order_by("inmate_id", "pk")
            .values_list("inmate_id", "kind", "date")
        )
        for inmate_id, kind, date in rows:
            events[inmate_id].append((kind, date))
    return events


def judge_inmates(inmates: Iterable[Inmate], day: datetime.date) -> list[InmateJudgement]:
    inmates = list(inmates)
    events = events_by_inmate(inmate.pk for inmate in inmates)
    return [InmateJudgement(inmate, judge(facts_for(inmate, events[inmate.pk], day), day)) for inmate in inmates]


def facility_inmates(facility: Facility) -> list[Inmate]:
    """Every record of the facility that could be on its list (duplicates included, to report them)."""
    return list(
        Inmate.objects.filter(facility=facility).select_related("facility").order_by("full_name", "registration_number")
    )


def judge_facility(
    *, election: Election, facility: Facility, on: datetime.date | None = None
) -> list[InmateJudgement]:
    """Every inmate of the facility judged for ``on`` (the election's voting day by default)."""
    return judge_inmates(facility_inmates(facility), on or election.voting_day)


def projected_voters(*, election: Election, facility: Facility, on: datetime.date | None = None) -> list[Inmate]:
    """The inmates expected to vote at the facility's TPS on ``on`` (voting day by default)."""
    return [item.inmate for item in judge_facility(election=election, facility=facility, on=on) if item.judgement.is_eligible]
