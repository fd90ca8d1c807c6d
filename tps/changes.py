"""What changed in a facility's voters: between two dates, or two list versions.

KPU maintains the voter lists continuously (PDPB, at least quarterly): it
needs, per facility, who was added (admitted, or became eligible) and who was
removed (released, transferred, died, turned ineligible, found to be a
duplicate), each with the reason and the date. Two sources:

* **two dates**: the register as it stood at the end of each day, read from
  the audit history of the inmate records (so a NIK filled in between the two
  dates shows as "became eligible") and the custody events. A record entered
  after a day (a register typed in or loaded later) is taken as first
  recorded for that day: its custody events decide whether the person was
  inside;
* **two list versions**: the snapshots of the lists (a new version against
  the last accepted one). Category and move-form changes show as "changed";
  a voter of the old version whose record is no longer in the facility's
  register (moved to another facility's register by a correction) is removed
  as "not found", the TMS reason of DOMAIN.md.

The report is plain data; ``write_xlsx`` turns it into the workbook KPU asks
for.
"""

from __future__ import annotations

import datetime
import os
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO, Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from inmates import custody
from inmates.models import Facility, Inmate
from tps import eligibility, selectors
from tps.eligibility import Reason, Status, judge
from tps.models import Election, VoterList, VoterListEntry
from voterreg.xlsx_writer import Sheet, write_xlsx


class Change(models.TextChoices):
    ADDED = "added", _("Added")
    REMOVED = "removed", _("Removed")
    CHANGED = "changed", _("Changed")


class Cause(models.TextChoices):
    ADMITTED = "admitted", _("Admitted or transferred in")
    BECAME_ELIGIBLE = "became_eligible", _("Became eligible")
    RELEASED = "released", _("Released")
    TRANSFERRED = "transferred", _("Transferred out")
    DIED = "died", _("Died")
    DUPLICATE = "duplicate", _("Duplicate")
    INELIGIBLE = "ineligible", _("Turned ineligible")
    NEEDS_DATA = "needs_data", _("Data incomplete")
    NOT_FOUND = "not_found", _("Not found in the register")
    CATEGORY = "category", _("Category or move form changed")


# A person who is gone is gone for the reason that explains the absence best.
_REMOVAL_BY_REASON = [
    (Reason.DEAD, Cause.DIED),
    (Reason.TRANSFERRED, Cause.TRANSFERRED),
    (Reason.RELEASED, Cause.RELEASED),
    (Reason.DUPLICATE, Cause.DUPLICATE),
]
_ABSENCE_REASONS = frozenset({Reason.DEAD.value, Reason.TRANSFERRED.value, Reason.RELEASED.value})


@dataclass(frozen=True)
class ChangeRow:
    change: str
    cause: str
    date: datetime.date | None
    inmate_id: int
    registration_number: str
    full_name: str
    nik: str
    birth_date: datetime.date | None
    sex: str
    # The eligibility reasons behind the change: why the person was not a
    # voter before (added) or is not one now (removed).
    reasons: tuple[str, ...] = ()
    detail: str = ""

    @property
    def change_label(self) -> str:
        return str(Change(self.change).label)

    @property
    def cause_label(self) -> str:
        return str(Cause(self.cause).label)

    @property
    def reason_labels(self) -> list[str]:
        return [str(Reason(code).label) for code in self.reasons]


@dataclass
class ChangeReport:
    facility: Facility
    start: datetime.date
    end: datetime.date
    start_label: str
    end_label: str
    voters_start: int
    voters_end: int
    rows: list[ChangeRow] = field(default_factory=list)
    election: Election | None = None

    def _of(self, change: str) -> list[ChangeRow]:
        return [row for row in self.rows if row.change == change]

    @property
    def added(self) -> list[ChangeRow]:
        return self._of(Change.ADDED)

    @property
    def removed(self) -> list[ChangeRow]:
        return self._of(Change.REMOVED)

    @property
    def changed(self) -> list[ChangeRow]:
        return self._of(Change.CHANGED)

    def counts(self) -> list[tuple[str, str, int]]:
        """(change label, cause label, count), in the order of the choices."""
        counter = Counter((row.change, row.cause) for row in self.rows)
        return [
            (str(change.label), str(cause.label), counter[(change.value, cause.value)])
            for change in Change
            for cause in Cause
            if counter[(change.value, cause.value)]
        ]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (dates as ISO strings, codes not labels)."""
        return {
            "facility": self.facility.code,
            "election": self.election.code if self.election else None,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "voters_start": self.voters_start,
            "voters_end": self.voters_end,
            "changes": [
                {
                    "change": row.change,
                    "cause": row.cause,
                    "date": row.date.isoformat() if row.date else None,
                    "registration_number": row.registration_number,
                    "full_name": row.full_name,
                    "reasons": list(row.reasons),
                    "detail": row.detail,
                }
                for row in self.rows
            ],
        }


def _sort(rows: Iterable[ChangeRow]) -> list[ChangeRow]:
    order = {value: index for index, value in enumerate(Change.values)}
    return sorted(rows, key=lambda row: (order[row.change], row.date or datetime.date.max, row.full_name))


def seventeenth_birthday(birth_date: datetime.date | None) -> datetime.date | None:
    if birth_date is None:
        return None
    try:
        return birth_date.replace(year=birth_date.year + eligibility.VOTING_AGE)
    except ValueError:  # 29 February: a year is completed on 1 March (eligibility.age_on)
        return datetime.date(birth_date.year + eligibility.VOTING_AGE, 3, 1)


def removal_cause(reasons: Iterable[str], status: str) -> str:
    codes = set(reasons)
    for reason, cause in _REMOVAL_BY_REASON:
        if reason.value in codes:
            return cause.value
    if status == Status.NEEDS_DATA:
        return Cause.NEEDS_DATA.value
    return Cause.INELIGIBLE.value


# --- between two dates -------------------------------------------------------------


def _end_of_day(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min))


class _History:
    """The inmate records of a facility as they stood at the end of a given day."""

    def __init__(self, inmates: list[Inmate], until: datetime.date) -> None:
        self.current = {inmate.pk: inmate for inmate in inmates}
        self.rows: dict[int, list[Any]] = defaultdict(list)
        ids = list(self.current)
        for start in range(0, len(ids), 5000):
            for row in (
                Inmate.history.filter(id__in=ids[start : start + 5000], history_date__lt=_end_of_day(until))
                .order_by("id", "history_date", "history_id")
                .iterator(chunk_size=2000)
            ):
                self.rows[row.id].append(row)

    def state(self, inmate_id: int, day: datetime.date) -> Any | None:
        """The record as it stood at the end of ``day``.

        A record entered after ``day`` (a register loaded or typed in later)
        is taken as first recorded: the custody events still decide whether
        the person was inside that day. A record deleted by then is None.
        """
        rows = self.rows.get(inmate_id)
        if not rows:
            # Loaded without history (bulk): only the current record is known.
            return self.current[inmate_id]
        limit = _end_of_day(day)
        state = rows[0]
        for row in rows:
            if row.history_date < limit:
                state = row
        return None if state.history_type == "-" else state

    def last_change(self, inmate_id: int, after: datetime.date, until: datetime.date) -> datetime.date | None:
        dates = [
            timezone.localdate(row.history_date)
            for row in self.rows.get(inmate_id, [])
            if _end_of_day(after) <= row.history_date < _end_of_day(until)
        ]
        return max(dates) if dates else None


def _last_entering(
    events: selectors.Events, after: datetime.date, until: datetime.date
) -> datetime.date | None:
    dates = [date for kind, date in events if kind in selectors.ENTERING_KINDS and after < date <= until]
    return max(dates) if dates else None


def _exit_date(
    cause: str, state: Any, events: selectors.Events, after: datetime.date, until: datetime.date
) -> datetime.date | None:
    kinds = {
        Cause.DIED: {custody.DEATH},
        Cause.TRANSFERRED: {custody.TRANSFER_OUT},
        Cause.RELEASED: {custody.RELEASE},
    }.get(Cause(cause))
    if kinds is None:
        return None
    dates = [date for kind, date in events if kind in kinds and after < date <= until]
    if dates:
        return max(dates)
    if cause == Cause.RELEASED and state is not None and state.expected_release_date:
        return state.expected_release_date
    return None


def changes_between_dates(
    *, facility: Facility, start: datetime.date, end: datetime.date, election: Election | None = None
) -> ChangeReport:
    """Voters of ``facility`` at the end of ``start`` against the end of ``end``.

    A voter on a day is inside the facility that day and eligible; age and
    the other rules are judged for the election's voting day when an
    election is given (people who will be 17 by then count), else for the
    day itself.
    """
    if end < start:
        raise ValueError("end must not be before start")
    inmates = selectors.facility_inmates(facility)
    events = selectors.events_by_inmate(inmate.pk for inmate in inmates)
    history = _History(inmates, end)

    def judged(
        state: Any, inmate_events: selectors.Events, day: datetime.date
    ) -> eligibility.Judgement | None:
        if state is None:
            return None
        voting_day = election.voting_day if election else day
        return judge(
            selectors.facts_present_on(state, inmate_events, present_on=day, voting_day=voting_day),
            voting_day,
        )

    rows = []
    voters_start = voters_end = 0
    for inmate in inmates:
        inmate_events = selectors.events_of(inmate, events)
        state_a, state_b = history.state(inmate.pk, start), history.state(inmate.pk, end)
        before, after = judged(state_a, inmate_events, start), judged(state_b, inmate_events, end)
        was = before is not None and before.is_eligible
        now = after is not None and after.is_eligible
        voters_start += was
        voters_end += now
        if was == now:
            continue
        shown = state_b if state_b is not None else inmate
        common = {
            "inmate_id": inmate.pk,
            "registration_number": shown.registration_number,
            "full_name": shown.full_name,
            "nik": shown.nik or "",
            "birth_date": shown.birth_date,
            "sex": shown.sex,
        }
        if now:
            absent = before is None or bool(_ABSENCE_REASONS & set(before.reasons))
            if absent:
                cause, date = (
                    Cause.ADMITTED,
                    _last_entering(inmate_events, start, end) or inmate.admission_date,
                )
            else:
                cause = Cause.BECAME_ELIGIBLE
                birthday = seventeenth_birthday(shown.birth_date)
                if Reason.UNDERAGE in before.reasons and birthday and start < birthday <= end:
                    date = birthday
                else:
                    date = history.last_change(inmate.pk, start, end)
            reasons = () if absent else tuple(before.reasons)
            rows.append(ChangeRow(change=Change.ADDED, cause=cause, date=date, reasons=reasons, **common))
        else:
            reasons = tuple(after.reasons) if after else ()
            cause = removal_cause(reasons, after.status if after else Status.NOT_ELIGIBLE)
            date = _exit_date(cause, state_b, inmate_events, start, end)
            if date is None and Reason.RELEASE_NOT_RECORDED in reasons:
                # Stale since the expected release date: that is the date to check.
                date = state_b.expected_release_date
            if date is None:
                date = history.last_change(inmate.pk, start, end)
            rows.append(ChangeRow(change=Change.REMOVED, cause=cause, date=date, reasons=reasons, **common))
    return ChangeReport(
        facility=facility,
        election=election,
        start=start,
        end=end,
        start_label=start.strftime("%d-%m-%Y"),
        end_label=end.strftime("%d-%m-%Y"),
        voters_start=voters_start,
        voters_end=voters_end,
        rows=_sort(rows),
    )


# --- between two list versions -------------------------------------------------------


def _entry_row(entry: VoterListEntry, change: str, cause: str, date, reasons=(), detail="") -> ChangeRow:
    return ChangeRow(
        change=change,
        cause=cause,
        date=date,
        inmate_id=entry.inmate_id,
        registration_number=entry.registration_number,
        full_name=entry.full_name,
        nik=entry.nik,
        birth_date=entry.birth_date,
        sex=entry.sex,
        reasons=tuple(reasons),
        detail=detail,
    )


def _decision_text(entry: VoterListEntry) -> str:
    parts = [entry.category or "—"]
    if entry.home_tps:
        parts.append(entry.home_tps)
    if entry.move_form_number:
        date = entry.move_form_date.strftime("%d-%m-%Y") if entry.move_form_date else ""
        parts.append(f"{entry.move_form_number} {date}".strip())
    return ", ".join(parts)


def changes_between_versions(*, old: VoterList | None, new: VoterList) -> ChangeReport:
    """``new`` against ``old`` (usually the last accepted version; None: everything is new)."""
    old_entries = {entry.inmate_id: entry for entry in old.entries.all()} if old else {}
    new_entries = {entry.inmate_id: entry for entry in new.entries.all()}
    new_day = new.register_date or timezone.localdate(new.created_at)
    old_day = (old.register_date or timezone.localdate(old.created_at)) if old else new_day
    rows = []
    for inmate_id in old_entries.keys() | new_entries.keys():
        before, after = old_entries.get(inmate_id), new_entries.get(inmate_id)
        was = before is not None and before.status == Status.ELIGIBLE
        now = after is not None and after.status == Status.ELIGIBLE
        if now and not was:
            absent = before is None or bool(_ABSENCE_REASONS & set(before.reasons))
            if absent:
                rows.append(_entry_row(after, Change.ADDED, Cause.ADMITTED, after.custody_event_date))
            else:
                birthday = seventeenth_birthday(after.birth_date)
                date = birthday if Reason.UNDERAGE in before.reasons else None
                rows.append(
                    _entry_row(after, Change.ADDED, Cause.BECAME_ELIGIBLE, date or new_day, before.reasons)
                )
        elif was and not now:
            if after is None:
                # Not judged again at all: the record is no longer in this
                # facility's register (the population keeps every voter of the
                # accepted version whose record is still there).
                rows.append(
                    _entry_row(before, Change.REMOVED, Cause.NOT_FOUND, new_day, [Reason.NOT_FOUND.value])
                )
                continue
            cause = removal_cause(after.reasons, after.status)
            dated_by_custody = cause in (Cause.DIED, Cause.TRANSFERRED, Cause.RELEASED) or (
                Reason.RELEASE_NOT_RECORDED in after.reasons
            )
            date = after.custody_event_date if dated_by_custody else None
            rows.append(_entry_row(after, Change.REMOVED, cause, date or new_day, after.reasons))
        elif was and now:
            old_text, new_text = _decision_text(before), _decision_text(after)
            if old_text != new_text:
                rows.append(
                    _entry_row(
                        after, Change.CHANGED, Cause.CATEGORY, new_day, detail=f"{old_text} → {new_text}"
                    )
                )
    return ChangeReport(
        facility=new.facility,
        election=new.election,
        start=old_day,
        end=new_day,
        start_label=gettext("version %(version)d") % {"version": old.version} if old else "—",
        end_label=gettext("version %(version)d") % {"version": new.version},
        voters_start=sum(entry.status == Status.ELIGIBLE for entry in old_entries.values()),
        voters_end=sum(entry.status == Status.ELIGIBLE for entry in new_entries.values()),
        rows=_sort(rows),
    )


# --- XLSX ------------------------------------------------------------------------------


def xlsx_headers() -> list[str]:
    return [
        gettext("No."),
        gettext("Change"),
        gettext("Cause"),
        gettext("Date"),
        gettext("Registration number"),
        gettext("Full name"),
        gettext("NIK"),
        gettext("Birth date"),
        gettext("Sex"),
        gettext("Reasons"),
        gettext("Detail"),
    ]


def write_xlsx_report(report: ChangeReport, target: str | os.PathLike[str] | IO[bytes]) -> int:
    """The change report as an .xlsx workbook for KPU's PDPB; returns the number of change rows.

    Sheet 1 lists every change (added, removed, changed) with cause, date and
    reasons; sheet 2 sums them up. NIK is written as text.
    """
    rows = (
        [
            number,
            row.change_label,
            row.cause_label,
            row.date,
            row.registration_number,
            row.full_name,
            row.nik,
            row.birth_date,
            row.sex,
            "; ".join(row.reason_labels),
            row.detail,
        ]
        for number, row in enumerate(report.rows, start=1)
    )
    summary_rows = [
        [gettext("Facility"), "", report.facility.name],
        [gettext("Election"), "", str(report.election) if report.election else "—"],
        [gettext("From"), "", report.start_label],
        [gettext("To"), "", report.end_label],
        [gettext("Voters at the start"), "", report.voters_start],
        [gettext("Voters at the end"), "", report.voters_end],
        *[[change, cause, count] for change, cause, count in report.counts()],
    ]
    note = gettext("PDPB change report: %(facility)s, %(start)s – %(end)s") % {
        "facility": report.facility.name,
        "start": report.start_label,
        "end": report.end_label,
    }
    return write_xlsx(
        target,
        xlsx_headers(),
        rows,
        sheet_name=gettext("Changes"),
        text_columns={gettext("NIK"), gettext("Registration number")},
        extra_sheets=[
            Sheet(gettext("Summary"), [gettext("Change"), gettext("Cause"), gettext("Count")], summary_rows)
        ],
        note=note,
    )
