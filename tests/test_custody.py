"""Custody status over time: the pure rule and the database query."""

import datetime

import pytest

from inmates import custody, services
from inmates.models import CustodyEvent, CustodyStatus, Inmate

D = datetime.date


def test_no_event_before_the_day_means_no_status():
    assert custody.status_on([("admission", D(2023, 3, 1))], D(2023, 2, 28)) is None


def test_admission_puts_inmate_in_custody_from_that_day():
    assert custody.status_on([("admission", D(2023, 3, 1))], D(2023, 3, 1)) == "in_custody"


def test_release_ends_custody_on_its_day():
    events = [("admission", D(2023, 3, 1)), ("release", D(2024, 2, 14))]
    assert custody.status_on(events, D(2024, 2, 13)) == "in_custody"
    assert custody.status_on(events, D(2024, 2, 14)) == "released"


def test_same_day_events_keep_their_recorded_order():
    events = [("admission", D(2024, 1, 1)), ("release", D(2024, 1, 1))]
    assert custody.status_on(events, D(2024, 1, 1)) == "released"


def test_readmission_after_release_is_in_custody_again():
    events = [("admission", D(2022, 1, 1)), ("release", D(2022, 6, 1)), ("admission", D(2023, 9, 1))]
    assert custody.status_on(events, D(2023, 1, 1)) == "released"
    assert custody.status_on(events, D(2024, 1, 1)) == "in_custody"


def test_transfer_out_and_death():
    events = [("admission", D(2023, 1, 1)), ("transfer_out", D(2023, 6, 1))]
    assert custody.status_on(events, D(2023, 7, 1)) == "transferred"
    assert (
        custody.status_on([("admission", D(2023, 1, 1)), ("death", D(2023, 8, 1))], D(2024, 1, 1))
        == "deceased"
    )


@pytest.mark.django_db
def test_register_records_an_admission_event(blora_inmate):
    events = list(blora_inmate.custody_events.values_list("kind", "date"))
    assert events == [("admission", blora_inmate.admission_date)]
    assert blora_inmate.custody_status == CustodyStatus.IN_CUSTODY


@pytest.mark.django_db
def test_recording_a_release_updates_the_current_status(blora_inmate, rutan_blora_officer):
    services.custody_event_record(
        inmate=blora_inmate, kind="release", date=D(2024, 1, 10), user=rutan_blora_officer
    )
    blora_inmate.refresh_from_db()
    assert blora_inmate.custody_status == CustodyStatus.RELEASED


@pytest.mark.django_db
def test_in_custody_on_answers_for_any_date(blora_inmate, make_inmate, blora, rutan_blora_officer):
    later = make_inmate(
        blora,
        rutan_blora_officer,
        admission_date=D(2024, 1, 5),
        expected_release_date=None,
        custody_type="tahanan",
    )
    services.custody_event_record(inmate=blora_inmate, kind="release", date=D(2024, 1, 10), user=None)

    def inside(day):
        return set(Inmate.objects.in_custody_on(day).values_list("pk", flat=True))

    assert inside(D(2023, 12, 31)) == {blora_inmate.pk}
    assert inside(D(2024, 1, 5)) == {blora_inmate.pk, later.pk}
    assert inside(D(2024, 1, 10)) == {later.pk}


@pytest.mark.django_db
def test_custody_events_are_append_only(blora_inmate):
    event = blora_inmate.custody_events.get()
    event.note = "changed"
    with pytest.raises(Exception, match="cannot be changed|tidak dapat diubah"):
        event.save()


@pytest.mark.django_db
def test_transfer_out_needs_a_destination(blora_inmate):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.custody_event_record(
            inmate=blora_inmate, kind=CustodyEvent.Kind.TRANSFER_OUT, date=D(2024, 1, 1), user=None
        )


@pytest.mark.django_db
def test_daily_refresh_applies_an_event_recorded_ahead(blora_inmate, time_machine):
    from django.core.management import call_command

    time_machine.move_to(D(2024, 1, 1))
    services.custody_event_record(inmate=blora_inmate, kind="release", date=D(2024, 1, 15), user=None)
    blora_inmate.refresh_from_db()
    assert blora_inmate.custody_status == CustodyStatus.IN_CUSTODY
    time_machine.move_to(D(2024, 1, 15))
    call_command("refresh_custody_status", verbosity=0)
    blora_inmate.refresh_from_db()
    assert blora_inmate.custody_status == CustodyStatus.RELEASED
