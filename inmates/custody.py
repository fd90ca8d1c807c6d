"""Custody status over time, from the append-only event history.

Pure module: events are ``(kind, date)`` pairs in the order they were recorded.
The status on a day is set by the last event on or before that day; events on
the same day keep their recorded order (an admission and a release on one day
leave the inmate released).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

ADMISSION = "admission"
TRANSFER_IN = "transfer_in"
TRANSFER_OUT = "transfer_out"
RELEASE = "release"
DEATH = "death"

STATUS_BY_KIND = {
    ADMISSION: "in_custody",
    TRANSFER_IN: "in_custody",
    TRANSFER_OUT: "transferred",
    RELEASE: "released",
    DEATH: "deceased",
}


def status_on(events: Iterable[tuple[str, datetime.date]], day: datetime.date) -> str | None:
    """The custody status on ``day``, or ``None`` when no event precedes it."""
    dated = [(date, index, kind) for index, (kind, date) in enumerate(events) if date <= day]
    if not dated:
        return None
    _date, _index, kind = max(dated)
    return STATUS_BY_KIND[kind]


def current_status(events: Iterable[tuple[str, datetime.date]], today: datetime.date) -> str:
    """Today's status; a record whose only events lie ahead is counted in custody."""
    return status_on(events, today) or "in_custody"


def in_custody_on(events: Iterable[tuple[str, datetime.date]], day: datetime.date) -> bool:
    return status_on(events, day) == "in_custody"
