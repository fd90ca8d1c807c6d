"""Writes to the inmate register. The admin, views, importers, commands and
tests all call these, so the rules (validation, warnings, custody status,
audit user) hold however a record changes.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Case, F, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from inmates import custody
from inmates.models import CustodyEvent, CustodyStatus, Facility, Inmate, User
from inmates.models.register import CustodyStatusRefresh


def _as_history_user(instance, user: User | None) -> None:
    # simple-history takes the user from the request in views; services also
    # run from commands and background jobs, so say it explicitly.
    if user is not None:
        instance._history_user = user


@transaction.atomic
def inmate_register(*, facility: Facility, user: User | None, **fields) -> Inmate:
    """Add an inmate to a facility's register with an admission event."""
    return _register_new(Inmate(facility=facility, **fields), user)


def _register_new(inmate: Inmate, user: User | None) -> Inmate:
    inmate.full_clean()
    inmate.refresh_warnings()
    _as_history_user(inmate, user)
    inmate.save()
    CustodyEvent.objects.create(
        inmate=inmate, kind=CustodyEvent.Kind.ADMISSION, date=inmate.admission_date, created_by=user
    )
    inmate_refresh_custody_status(inmate=inmate, user=user)
    return inmate


@transaction.atomic
def inmate_update(*, inmate: Inmate, user: User | None, **fields) -> Inmate:
    """Change an inmate's data; history records the user and the fields.

    A changed admission date moves the admission in the custody history with
    it (see :func:`inmate_admission_event_to_correct`).
    """
    stored_admission = _locked_admission_date(inmate)
    for name, value in fields.items():
        setattr(inmate, name, value)
    return _save_changed(inmate=inmate, user=user, stored_admission=stored_admission)


@transaction.atomic
def inmate_save(*, inmate: Inmate, user: User | None) -> Inmate:
    """Save a form-built instance (new or changed) through the register's rules."""
    if inmate.pk is None:
        return _register_new(inmate, user)
    return _save_changed(inmate=inmate, user=user, stored_admission=_locked_admission_date(inmate))


def _locked_admission_date(inmate: Inmate) -> datetime.date | None:
    # The lock also keeps custody_event_record (which takes the same lock)
    # from adding an event between the check and the correction.
    return (
        Inmate.objects.select_for_update(of=("self",))
        .filter(pk=inmate.pk)
        .values_list("admission_date", flat=True)
        .first()
    )


def _save_changed(*, inmate: Inmate, user: User | None, stored_admission: datetime.date | None) -> Inmate:
    inmate.full_clean()
    to_correct = None
    if stored_admission is not None and inmate.admission_date != stored_admission:
        to_correct = inmate_admission_event_to_correct(
            inmate=inmate, old=stored_admission, new=inmate.admission_date
        )
    inmate.refresh_warnings()
    _as_history_user(inmate, user)
    inmate.save()
    if to_correct is not None:
        _record_correction(event=to_correct, date=inmate.admission_date, user=user)
        inmate_refresh_custody_status(inmate=inmate, user=user)
    return inmate


def inmate_admission_event_to_correct(
    *, inmate: Inmate, old: datetime.date, new: datetime.date
) -> CustodyEvent | None:
    """The admission event that must follow the record's admission date from ``old`` to ``new``.

    A registrar who corrects the admission date expects the custody history to
    say the same, so the admission recorded on the old date is corrected (a new
    event replaces it; the old one stays on record). ``None`` when there is
    nothing to correct: no history at all (an old bulk load, judged from the
    admission date), or an admission already recorded on the new date. Raises
    ``ValidationError`` (on ``admission_date``) when the history cannot follow:
    no admission on the old date, or a new date out of order with the
    neighbouring events.
    """
    events = list(inmate.custody_events.order_by("date", "pk")) if inmate.pk else []
    if not events or old == new:
        return None
    admissions = [e for e in events if e.kind == CustodyEvent.Kind.ADMISSION]
    on_old = [e for e in admissions if e.date == old]
    if not on_old:
        if any(e.date == new for e in admissions):
            return None
        raise ValidationError(
            {
                "admission_date": ValidationError(
                    _(
                        "The custody history has no admission on %(date)s to move to the new date. "
                        "Record an admission on the new date in the custody history first, "
                        "then change the admission date."
                    ),
                    code="no_admission_to_correct",
                    params={"date": f"{old:%d-%m-%Y}"},
                )
            }
        )
    event = on_old[-1]
    problem = _out_of_order(events, event, new)
    if problem is not None:
        raise ValidationError({"admission_date": problem})
    return event


def _out_of_order(
    events: list[CustodyEvent], event: CustodyEvent, date: datetime.date
) -> ValidationError | None:
    """Why ``event`` cannot move to ``date`` (``events``: the effective history by date and pk)."""
    index = events.index(event)
    before = events[index - 1] if index > 0 else None
    after = events[index + 1] if index + 1 < len(events) else None
    # The correction is recorded last: on the day of the event before it, it
    # still comes after that event; on the day of the event after it, it
    # would come after that one too, so that day is refused.
    if before is not None and date < before.date:
        return ValidationError(
            _("The date cannot be before the previous custody event (%(event)s)."),
            code="before_previous_event",
            params={"event": str(before)},
        )
    if after is not None and date >= after.date:
        return ValidationError(
            _("The date must be before the next custody event (%(event)s)."),
            code="after_next_event",
            params={"event": str(after)},
        )
    return None


@transaction.atomic
def custody_event_correct(
    *, event: CustodyEvent, date: datetime.date, user: User | None, note: str = ""
) -> CustodyEvent:
    """Correct the date of a recorded event: a new event replaces it, both stay on record."""
    Inmate.objects.select_for_update(of=("self",)).filter(pk=event.inmate_id).first()
    if CustodyEvent.recorded.filter(corrects=event).exists():
        raise ValidationError(_("This custody event has already been corrected."), code="already_corrected")
    events = list(CustodyEvent.objects.filter(inmate_id=event.inmate_id).order_by("date", "pk"))
    problem = _out_of_order(events, event, date)
    if problem is not None:
        raise problem
    correction = _record_correction(event=event, date=date, user=user, note=note)
    inmate_refresh_custody_status(inmate=event.inmate, user=user)
    return correction


def _record_correction(
    *, event: CustodyEvent, date: datetime.date, user: User | None, note: str = ""
) -> CustodyEvent:
    # Stored text, read by everyone: written in the site's language.
    with translation.override(settings.LANGUAGE_CODE):
        text = gettext("Date corrected: %(old)s → %(new)s") % {
            "old": f"{event.date:%d-%m-%Y}",
            "new": f"{date:%d-%m-%Y}",
        }
    correction = CustodyEvent(
        inmate_id=event.inmate_id,
        kind=event.kind,
        date=date,
        from_facility_id=event.from_facility_id,
        to_facility_id=event.to_facility_id,
        note=f"{text}. {note}".strip()[:255] if note else text,
        corrects=event,
        created_by=user,
    )
    correction.full_clean()
    correction.save()
    return correction


@transaction.atomic
def custody_event_record(
    *,
    inmate: Inmate,
    kind: str,
    date: datetime.date,
    user: User | None,
    from_facility: Facility | None = None,
    to_facility: Facility | None = None,
    note: str = "",
) -> CustodyEvent:
    """Append a custody event and bring the inmate's current status up to date."""
    # Lock the inmate so two officers recording events at once cannot leave a
    # stale status behind.
    Inmate.objects.select_for_update(of=("self",)).filter(pk=inmate.pk).first()
    event = CustodyEvent(
        inmate=inmate,
        kind=kind,
        date=date,
        from_facility=from_facility,
        to_facility=to_facility,
        note=note,
        created_by=user,
    )
    event.full_clean()
    event.save()
    inmate_refresh_custody_status(inmate=inmate, user=user)
    return event


def inmate_refresh_custody_status(
    *, inmate: Inmate, user: User | None, today: datetime.date | None = None
) -> None:
    """Store today's status derived from the events (kept for fast lists and filters)."""
    today = today or timezone.localdate()
    events = list(inmate.custody_events.order_by("pk").values_list("kind", "date"))
    status = custody.current_status(events, today)
    if status != inmate.custody_status:
        inmate.custody_status = status
        _as_history_user(inmate, user)
        inmate.save(update_fields=["custody_status", "updated_at"])


# --- today's custody status for the whole register --------------------------------------------

#: When the task worker runs the daily refresh (local time, ``TIME_ZONE``).
DAILY_REFRESH_AT = datetime.time(0, 5)
#: A page asks for a missed refresh at most this often.
REFRESH_REQUEST_RETRY = datetime.timedelta(minutes=30)


def _status_on(day: datetime.date) -> Coalesce:
    """SQL for the status the events give on ``day`` (a record without events up to then: in custody)."""
    status_of_kind = Case(
        *[When(kind=kind, then=Value(status)) for kind, status in custody.STATUS_BY_KIND.items()],
        output_field=models.CharField(),
    )
    latest = (
        CustodyEvent.objects.filter(inmate=OuterRef("pk"), date__lte=day)
        .order_by("-date", "-pk")
        .annotate(_status=status_of_kind)
        .values("_status")[:1]
    )
    return Coalesce(Subquery(latest), Value(CustodyStatus.IN_CUSTODY), output_field=models.CharField())


def custody_statuses_refresh(
    *, today: datetime.date | None = None, user: User | None = None, batch_size: int = 1000
) -> int:
    """Bring every stored custody status up to ``today``; returns how many changed.

    Set-based: one query finds the records whose events say otherwise, then
    each batch of ``batch_size`` is locked, checked again (an officer may have
    recorded an event meanwhile) and written with one UPDATE per status and one
    INSERT of history rows (simple-history, the reason names the day). The
    number of queries grows with the changes (per batch), not with the register.
    """
    today = today or timezone.localdate()
    status_today = _status_on(today)
    # Records without events up to today keep their status: only the events decide here.
    has_events = models.Exists(CustodyEvent.objects.filter(inmate=OuterRef("pk"), date__lte=today))
    stale = list(
        Inmate.objects.filter(has_events)
        .annotate(_status_today=status_today)
        .filter(~Q(custody_status=F("_status_today")))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    with translation.override(settings.LANGUAGE_CODE):
        reason = gettext("Custody status refresh for %(day)s") % {"day": f"{today:%d-%m-%Y}"}
    changed = 0
    for start in range(0, len(stale), batch_size):
        with transaction.atomic():
            rows = list(
                Inmate.objects.select_for_update(of=("self",))
                .filter(pk__in=stale[start : start + batch_size])
                .annotate(_status_today=status_today)
                .order_by("pk")
            )
            now = timezone.now()
            moved = [row for row in rows if row.custody_status != row._status_today]
            by_status: dict[str, list[int]] = {}
            for row in moved:
                row.custody_status, row.updated_at = row._status_today, now
                by_status.setdefault(row.custody_status, []).append(row.pk)
            # One plain UPDATE per status (four at most) instead of a CASE per row.
            for status, pks in by_status.items():
                Inmate.objects.filter(pk__in=pks).update(custody_status=status, updated_at=now)
            if moved:
                Inmate.history.bulk_history_create(
                    moved,
                    batch_size=batch_size,
                    update=True,
                    default_user=user,
                    default_change_reason=reason[:100],
                    default_date=now,
                )
            changed += len(moved)
    CustodyStatusRefresh.current()
    CustodyStatusRefresh.objects.filter(pk=1).update(day=today, finished_at=timezone.now(), changed=changed)
    return changed


def custody_refresh_request(*, now: datetime.datetime | None = None) -> bool:
    """Ask the task worker for today's refresh when it has not run today (cheap; pages call it).

    The worker normally runs it each night by itself
    (:func:`custody_refresh_schedule_next`); this starts that cycle after a
    deployment and catches up when the worker was down at night. Asked at
    most once per :data:`REFRESH_REQUEST_RETRY` (recorded on the row).
    """
    now = now or timezone.now()
    state = CustodyStatusRefresh.current()
    if state.day is not None and state.day >= timezone.localdate(now):
        return False
    retry_before = now - REFRESH_REQUEST_RETRY
    claimed = (
        CustodyStatusRefresh.objects.filter(pk=state.pk)
        .filter(Q(requested_at__isnull=True) | Q(requested_at__lt=retry_before))
        .update(requested_at=now)
    )
    if not claimed:
        return False
    from inmates.tasks import refresh_custody_statuses

    refresh_custody_statuses.enqueue()
    return True


def custody_refresh_schedule_next(*, now: datetime.datetime | None = None) -> datetime.datetime | None:
    """Queue tomorrow's refresh (at :data:`DAILY_REFRESH_AT`) unless it is queued already.

    Only on a task backend that can defer (the database backend of
    production); the row records the queued run, so two runs never queue two.
    """
    from inmates.tasks import refresh_custody_statuses

    if not refresh_custody_statuses.get_backend().supports_defer:
        return None
    now = now or timezone.now()
    tomorrow = timezone.localdate(now) + datetime.timedelta(days=1)
    run_at = datetime.datetime.combine(tomorrow, DAILY_REFRESH_AT, tzinfo=timezone.get_current_timezone())
    CustodyStatusRefresh.current()
    claimed = (
        CustodyStatusRefresh.objects.filter(pk=1)
        .filter(Q(next_run_at__isnull=True) | Q(next_run_at__lt=run_at))
        .update(next_run_at=run_at)
    )
    if not claimed:
        return None
    refresh_custody_statuses.using(run_after=run_at).enqueue()
    return run_at
