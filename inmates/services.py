"""Writes to the inmate register. The admin, views, importers, commands and
tests all call these, so the rules (validation, warnings, custody status,
audit user) hold however a record changes.
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from inmates import custody
from inmates.models import CustodyEvent, Facility, Inmate, User


def _as_history_user(instance, user: User | None) -> None:
    # simple-history takes the user from the request in views; services also
    # run from commands and background jobs, so say it explicitly.
    if user is not None:
        instance._history_user = user


@transaction.atomic
def inmate_register(*, facility: Facility, user: User | None, **fields) -> Inmate:
    """Add an inmate to a facility's register with an admission event."""
    inmate = Inmate(facility=facility, **fields)
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
    """Change an inmate's data; history records the user and the fields."""
    for name, value in fields.items():
        setattr(inmate, name, value)
    inmate.full_clean()
    inmate.refresh_warnings()
    _as_history_user(inmate, user)
    inmate.save()
    return inmate


@transaction.atomic
def inmate_save(*, inmate: Inmate, user: User | None) -> Inmate:
    """Save a form-built instance (new or changed) through the register's rules."""
    is_new = inmate.pk is None
    inmate.full_clean()
    inmate.refresh_warnings()
    _as_history_user(inmate, user)
    inmate.save()
    if is_new:
        CustodyEvent.objects.create(
            inmate=inmate, kind=CustodyEvent.Kind.ADMISSION, date=inmate.admission_date, created_by=user
        )
        inmate_refresh_custody_status(inmate=inmate, user=user)
    return inmate


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
    Inmate.objects.select_for_update().filter(pk=inmate.pk).first()
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
