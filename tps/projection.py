"""How many voters a facility will have: at H-30, at H-7 and on voting day.

Read from the register as it stands on ``today``: who is inside, the
expected release dates, and every custody event already recorded (a transfer
or release entered ahead of its date counts on its date). A person counts at
a checkpoint when they are still inside on that day *and* will be a voter on
voting day (age, citizenship, TNI/Polri, revocation, duplicates and complete
data judged for voting day). Checkpoints already past are read from the
history instead, so the same function shows what happened.

A narapidana still held by the register past an expected release date that
is before ``today`` (no release recorded) is stale data: counted as inside,
with "needs data", at the checkpoints the date would otherwise have emptied,
exactly as the lists judge them (``eligibility.release_overdue``); and listed
as ``overdue`` for correction.

The voting-day figure is what TPS planning needs (see
``tps.selectors.projected_voters``, which returns the same people).
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from inmates import custody
from inmates.models import Facility, Inmate
from tps import eligibility, selectors
from tps.eligibility import Status, judge
from tps.models import Election

# The checkpoints of a projection, by key.
CHECKPOINT_LABELS = {"h30": _("H-30"), "h7": _("H-7"), "voting_day": _("Voting day")}

# Why someone inside today will be gone by a checkpoint.
LEAVING_CAUSES = {
    "release_date": _("expected release date"),
    "released": _("release recorded"),
    "transferred": _("transfer recorded"),
    "died": _("death recorded"),
}


@dataclass(frozen=True)
class Checkpoint:
    key: str
    label: str
    day: datetime.date
    is_past: bool
    in_custody: int = 0
    eligible: int = 0
    needs_data: int = 0
    not_eligible: int = 0
    # Of those inside today, how many will have left by this day, by cause.
    leaving: dict[str, int] = field(default_factory=dict)

    @property
    def leaving_total(self) -> int:
        return sum(self.leaving.values())

    @property
    def leaving_rows(self) -> list[tuple[str, int]]:
        return [(str(LEAVING_CAUSES[key]), count) for key, count in self.leaving.items() if count]


@dataclass(frozen=True)
class Projection:
    election: Election
    facility: Facility
    today: datetime.date
    in_custody_today: int
    checkpoints: list[Checkpoint]
    # Inside today by the events, although the expected release date has
    # passed: the register needs a release event or a corrected date. Counted
    # as inside and "needs data" (eligibility.Reason.RELEASE_NOT_RECORDED).
    overdue: list[Inmate]

    @property
    def voting_day(self) -> Checkpoint:
        return self.checkpoints[-1]

    def checkpoint(self, key: str) -> Checkpoint:
        return next(point for point in self.checkpoints if point.key == key)


def _inside(open_facts: eligibility.VoterFacts, history: selectors.Events, day: datetime.date) -> bool:
    """Inside on ``day``: the events say so, and the eligibility rule on release dates agrees.

    ``open_facts`` are the person's facts with the custody answer left open
    (``in_custody_on_day=None``), so ``eligibility.in_custody_on`` decides by
    custody type and expected release date, as it does for the lists. A
    release date that has passed unrecorded (``eligibility.release_overdue``)
    does not empty the cell: the register still holds the person.
    """
    if custody.status_on(history, day) != "in_custody":
        return False
    return eligibility.in_custody_on(open_facts, day) or eligibility.release_overdue(open_facts, day)


def _leaving_cause(events: selectors.Events, day: datetime.date) -> str:
    status = custody.status_on(events, day)
    return {"deceased": "died", "transferred": "transferred", "released": "released"}.get(
        status, "release_date"
    )


def facility_projection(*, election: Election, facility: Facility, today: datetime.date) -> Projection:
    """The projection of ``facility`` for ``election`` as the register stands on ``today``."""
    return facility_projections(elections=[election], facility=facility, today=today)[0]


def facility_projections(
    *, elections: Sequence[Election], facility: Facility, today: datetime.date
) -> list[Projection]:
    """Projections for several elections, reading the register once."""
    inmates = selectors.facility_inmates(facility)
    events = selectors.events_by_inmate(inmate.pk for inmate in inmates)
    histories = []
    for inmate in inmates:
        history = selectors.events_of(inmate, events)
        facts = selectors.facts_for(inmate, history, today, today=today)
        histories.append((inmate, history, dataclasses.replace(facts, in_custody_on_day=None)))
    inside_today = {inmate.pk: _inside(facts, history, today) for inmate, history, facts in histories}
    overdue = sorted(
        (
            inmate
            for inmate, history, facts in histories
            if eligibility.release_overdue(facts, today) and custody.status_on(history, today) == "in_custody"
        ),
        key=lambda inmate: (inmate.expected_release_date, inmate.full_name),
    )
    return [_project(election, facility, today, histories, inside_today, overdue) for election in elections]


def _project(
    election: Election,
    facility: Facility,
    today: datetime.date,
    histories: list[tuple[Inmate, selectors.Events, eligibility.VoterFacts]],
    inside_today: dict[int, bool],
    overdue: list[Inmate],
) -> Projection:
    voting_day = election.voting_day
    days = [
        ("h30", CHECKPOINT_LABELS["h30"], election.h30),
        ("h7", CHECKPOINT_LABELS["h7"], election.h7),
        ("voting_day", CHECKPOINT_LABELS["voting_day"], voting_day),
    ]
    counters = {key: dict.fromkeys(Status.values, 0) for key, _l, _d in days}
    present = dict.fromkeys((key for key, _l, _d in days), 0)
    leaving = {key: dict.fromkeys(LEAVING_CAUSES, 0) for key, _l, _d in days}
    for inmate, history, open_facts in histories:
        status = None
        for key, _label, day in days:
            if not _inside(open_facts, history, day):
                if inside_today[inmate.pk] and day >= today:
                    leaving[key][_leaving_cause(history, day)] += 1
                continue
            if status is None:
                # Inside on the checkpoint day: the other rules, judged for
                # voting day, give the same answer at every checkpoint.
                facts = dataclasses.replace(open_facts, in_custody_on_day=True, died=False, transferred=False)
                status = judge(facts, voting_day).status
            point_status = status
            if eligibility.release_overdue(open_facts, day):
                # Held past a release date that passed unrecorded: judged as the lists do.
                facts = dataclasses.replace(open_facts, died=False, transferred=False, custody_day=day)
                point_status = judge(facts, voting_day).status
            present[key] += 1
            counters[key][point_status] += 1
    checkpoints = [
        Checkpoint(
            key=key,
            label=str(label),
            day=day,
            is_past=day < today,
            in_custody=present[key],
            eligible=counters[key][Status.ELIGIBLE],
            needs_data=counters[key][Status.NEEDS_DATA],
            not_eligible=counters[key][Status.NOT_ELIGIBLE],
            leaving={cause: count for cause, count in leaving[key].items() if count},
        )
        for key, label, day in days
    ]
    return Projection(
        election=election,
        facility=facility,
        today=today,
        in_custody_today=sum(inside_today.values()),
        checkpoints=checkpoints,
        overdue=overdue,
    )
