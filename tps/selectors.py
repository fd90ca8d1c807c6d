"""Reads that several features share: who is judged how, on which day.

The bridge between the register (models) and the pure eligibility rules:
load inmates with their custody events in a constant number of queries, turn
each into ``VoterFacts`` and judge it.

Which records are judged for a facility ("the population") matters as much
as the rules: a record that is silently left out is a voter who silently
disappears. The population for a judged day ``on`` read from the register of
``today`` is every record of the facility that is inside on
``min(today, on)``, plus every record with an admission or transfer-in dated
between ``today`` and ``on``. People released before that window are history,
not voters of this facility; people with missing data are always in it.

``today`` is also the reference for stale data: a narapidana whose expected
release date is before ``today`` while no release is recorded is judged
``needs_data`` (``eligibility.release_overdue``), whichever day is judged.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.utils import timezone

from inmates import custody
from inmates.models import CustodyEvent, DuplicateCandidate, Facility, Inmate, Region
from tps import eligibility
from tps.eligibility import Judgement, VoterFacts, judge
from tps.models import Election

Events = list[tuple[str, datetime.date]]
ENTERING_KINDS = frozenset({custody.ADMISSION, custody.TRANSFER_IN})


@dataclass(frozen=True)
class InmateJudgement:
    inmate: Inmate
    judgement: Judgement
    # When the person arrived (inside on the judged day) or left (released,
    # transferred, died, or past the expected release date).
    event_date: datetime.date | None = None

    @property
    def status(self) -> str:
        return self.judgement.status

    @property
    def reasons(self) -> list[str]:
        return self.judgement.reasons


def facts_for(
    inmate: Inmate, events: Events, day: datetime.date, *, today: datetime.date | None = None
) -> VoterFacts:
    """What the eligibility rules need to know about ``inmate`` on ``day``, read from the register of ``today``.

    ``inmate`` may also be a historical record (simple-history) of an inmate:
    only plain attributes are read. ``today`` defaults to the local date.
    """
    return VoterFacts(
        citizenship=inmate.citizenship,
        nik=inmate.nik,
        birth_date=inmate.birth_date,
        marital_status=inmate.marital_status or None,
        is_tni_polri=inmate.is_tni_polri,
        voting_right_revoked=inmate.voting_right_revoked,
        custody_type=inmate.custody_type,
        expected_release_date=inmate.expected_release_date,
        is_confirmed_duplicate=inmate.duplicate_of_id is not None,
        domicile_code=inmate.domicile_region_id,
        register_date=today or timezone.localdate(),
        **custody_facts(events, day),
    )


def custody_facts(events: Events, day: datetime.date) -> dict[str, bool | None]:
    """The ``VoterFacts`` fields the custody history decides for ``day``.

    The history decides only when it says the person is gone by that day (or
    not yet admitted); while it says "inside", the expected release date
    still decides a future voting day.
    """
    status = custody.status_on(events, day)
    return {
        "in_custody_on_day": None if status == "in_custody" else False,
        "died": status == "deceased",
        "transferred": status == "transferred",
    }


def facts_present_on(
    inmate: Inmate,
    events: Events,
    *,
    present_on: datetime.date,
    voting_day: datetime.date,
    today: datetime.date | None = None,
) -> VoterFacts:
    """Facts for "inside on ``present_on``, and a voter on ``voting_day``".

    Used by the change report. Custody is judged for ``present_on``
    (``custody_day``); age and the other rules for ``voting_day``.
    """
    facts = facts_for(inmate, events, present_on, today=today)
    if present_on == voting_day:
        return facts
    return dataclasses.replace(facts, custody_day=present_on)


def last_event_date(events: Events, day: datetime.date) -> datetime.date | None:
    dates = [date for _kind, date in events if date <= day]
    return max(dates) if dates else None


def events_by_inmate(inmate_ids: Iterable[int]) -> dict[int, Events]:
    events: dict[int, Events] = defaultdict(list)
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


def events_of(inmate: Inmate, events: dict[int, Events]) -> Events:
    """The inmate's events; a record without any (an old bulk load) counts from its admission date."""
    return events.get(inmate.pk) or [(custody.ADMISSION, inmate.admission_date)]


def present_between(events: Events, start: datetime.date, end: datetime.date) -> bool:
    """Inside on ``start``, or arriving (admission, transfer in) after it and up to ``end``."""
    if custody.status_on(events, start) == "in_custody":
        return True
    return any(kind in ENTERING_KINDS and start < date <= end for kind, date in events)


def event_date_for(
    inmate: Inmate, history: Events, day: datetime.date, judgement: Judgement
) -> datetime.date | None:
    """When the person arrived (still inside on ``day``) or left (gone by ``day``).

    A person gone only because the expected release date has passed left on
    that date, and one held past it with no release recorded is dated by it
    too (the date to check); otherwise the last custody event up to ``day``
    says it.
    """
    by_date = {eligibility.Reason.RELEASED, eligibility.Reason.RELEASE_NOT_RECORDED}
    if by_date.intersection(judgement.reasons) and custody.status_on(history, day) == "in_custody":
        return inmate.expected_release_date
    return last_event_date(history, day)


def _judge_loaded(
    inmates: Sequence[Inmate], events: dict[int, Events], day: datetime.date, today: datetime.date
) -> list[InmateJudgement]:
    judged = []
    for inmate in inmates:
        history = events_of(inmate, events)
        judgement = judge(facts_for(inmate, history, day, today=today), day)
        judged.append(InmateJudgement(inmate, judgement, event_date_for(inmate, history, day, judgement)))
    return judged


def judge_inmates(
    inmates: Iterable[Inmate], day: datetime.date, *, today: datetime.date | None = None
) -> list[InmateJudgement]:
    inmates = list(inmates)
    events = events_by_inmate(inmate.pk for inmate in inmates)
    return _judge_loaded(inmates, events, day, today or timezone.localdate())


def facility_inmates(facility: Facility) -> list[Inmate]:
    """Every record of the facility (duplicates included, to report them)."""
    inmates = list(Inmate.objects.filter(facility=facility).order_by("full_name", "registration_number"))
    for inmate in inmates:
        # One facility object for all, instead of a join that builds one per row.
        inmate.facility = facility
    return inmates


def facility_population(
    facility: Facility,
    *,
    on: datetime.date,
    today: datetime.date | None = None,
    include_ids: Iterable[int] = (),
) -> tuple[list[Inmate], dict[int, Events]]:
    """The records to judge for ``on`` from the register of ``today`` (see the module docstring).

    ``include_ids`` are always kept (the people on the last accepted list, so
    that their removal shows with its reason).
    """
    today = today or timezone.localdate()
    start = min(today, on)
    inmates = facility_inmates(facility)
    events = events_by_inmate(inmate.pk for inmate in inmates)
    keep = set(include_ids)
    population = [
        inmate
        for inmate in inmates
        if inmate.pk in keep or present_between(events_of(inmate, events), start, on)
    ]
    return population, events


def judge_facility(
    *,
    election: Election,
    facility: Facility,
    on: datetime.date | None = None,
    today: datetime.date | None = None,
    include_ids: Iterable[int] = (),
) -> list[InmateJudgement]:
    """The facility's inmates judged for ``on`` (the election's voting day by default).

    Ordered by name; records with missing data are judged ``needs_data`` and
    kept, never left out.
    """
    day = on or election.voting_day
    today = today or timezone.localdate()
    population, events = facility_population(facility, on=day, today=today, include_ids=include_ids)
    return _judge_loaded(population, events, day, today)


def projected_voters(
    *,
    election: Election,
    facility: Facility,
    on: datetime.date | None = None,
    today: datetime.date | None = None,
) -> list[Inmate]:
    """The inmates expected to vote at the facility's TPS on ``on`` (voting day by default)."""
    judged = judge_facility(election=election, facility=facility, on=on, today=today)
    return [item.inmate for item in judged if item.judgement.is_eligible]


# --- DPT cross-check -----------------------------------------------------------


@dataclass(frozen=True)
class HomeDpt:
    """Where an inmate is already registered, as found by the DPT cross-check."""

    tps: str
    region_code: str
    region_name: str
    confirmed: bool

    @property
    def label(self) -> str:
        parts = [f"TPS {self.tps}".strip()]
        if self.region_name:
            parts.append(self.region_name)
        if self.region_code:
            parts.append(f"({self.region_code})")
        return " ".join(parts)[:100]


def home_dpt_by_inmate(inmate_ids: Iterable[int]) -> dict[int, HomeDpt]:
    """Open or confirmed DPT matches per inmate: confirmed first, then the best score.

    Dismissed matches are ignored. Empty when the dedup feature has found
    nothing (or has not run).
    """
    ids = list(inmate_ids)
    found: dict[int, HomeDpt] = {}
    candidates = []
    for start in range(0, len(ids), 5000):
        candidates.extend(
            DuplicateCandidate.objects.filter(
                kind=DuplicateCandidate.Kind.DPT,
                status__in=[DuplicateCandidate.Status.OPEN, DuplicateCandidate.Status.CONFIRMED],
                inmate_a_id__in=ids[start : start + 5000],
                dpt_record__isnull=False,
            )
            .select_related("dpt_record")
            .order_by("inmate_a_id", "pk")
        )
    if not candidates:
        return found
    region_names = dict(
        Region.objects.filter(code__in={c.dpt_record.region_code for c in candidates}).values_list(
            "code", "name"
        )
    )

    def rank(candidate: DuplicateCandidate) -> tuple[bool, float]:
        return (candidate.status == DuplicateCandidate.Status.CONFIRMED, candidate.score)

    best: dict[int, DuplicateCandidate] = {}
    for candidate in candidates:
        current = best.get(candidate.inmate_a_id)
        if current is None or rank(candidate) > rank(current):
            best[candidate.inmate_a_id] = candidate
    for inmate_id, candidate in best.items():
        record = candidate.dpt_record
        found[inmate_id] = HomeDpt(
            tps=record.tps,
            region_code=record.region_code,
            region_name=region_names.get(record.region_code, ""),
            confirmed=candidate.status == DuplicateCandidate.Status.CONFIRMED,
        )
    return found
