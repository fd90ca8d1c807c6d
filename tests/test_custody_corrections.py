"""A corrected admission date: the custody history follows the record, and keeps what was recorded."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from inmates import services
from inmates.models import CustodyEvent, CustodyStatus, Inmate
from tests.test_history import admin_form_data

D = datetime.date

pytestmark = pytest.mark.django_db


def inside(day: datetime.date) -> set[int]:
    return set(Inmate.objects.in_custody_on(day).values_list("pk", flat=True))


def test_an_earlier_admission_date_puts_the_inmate_in_custody_from_that_day(
    blora_inmate, rutan_blora_officer
):
    # Registered as admitted on 1 March 2023; really admitted on 1 February.
    services.inmate_update(inmate=blora_inmate, user=rutan_blora_officer, admission_date=D(2023, 2, 1))

    assert blora_inmate.pk in inside(D(2023, 2, 1))
    assert blora_inmate.custody_status_on(D(2023, 2, 15)) == CustodyStatus.IN_CUSTODY


def test_a_later_admission_date_takes_the_inmate_out_of_custody_before_it(blora_inmate, rutan_blora_officer):
    services.inmate_update(inmate=blora_inmate, user=rutan_blora_officer, admission_date=D(2023, 4, 1))

    assert blora_inmate.pk not in inside(D(2023, 3, 15))
    assert blora_inmate.pk in inside(D(2023, 4, 1))
    assert blora_inmate.custody_status_on(D(2023, 3, 15)) is None


def test_the_corrected_admission_stays_on_record_replaced_by_the_correction(
    blora_inmate, rutan_blora_officer
):
    original = blora_inmate.custody_events.get()

    services.inmate_update(inmate=blora_inmate, user=rutan_blora_officer, admission_date=D(2023, 4, 1))

    correction = blora_inmate.custody_events.get()
    assert (correction.kind, correction.date, correction.corrects) == ("admission", D(2023, 4, 1), original)
    assert correction.created_by == rutan_blora_officer
    assert "01-03-2023" in correction.note and "01-04-2023" in correction.note
    assert list(CustodyEvent.recorded.filter(inmate=blora_inmate).order_by("pk")) == [original, correction]


def test_a_changed_admission_date_is_refused_when_it_falls_after_the_next_event(
    blora_inmate, rutan_blora_officer
):
    services.custody_event_record(inmate=blora_inmate, kind="release", date=D(2023, 9, 1), user=None)

    with pytest.raises(ValidationError) as refused:
        services.inmate_update(inmate=blora_inmate, user=rutan_blora_officer, admission_date=D(2023, 10, 1))

    assert refused.value.error_dict["admission_date"][0].code == "after_next_event"
    blora_inmate.refresh_from_db()
    assert blora_inmate.admission_date == D(2023, 3, 1)
    assert CustodyEvent.recorded.filter(inmate=blora_inmate).count() == 2


def test_a_changed_admission_date_without_an_admission_on_the_old_date_is_refused(
    blora_inmate, rutan_blora_officer
):
    # The record's date was changed outside the register's services (an old import).
    Inmate.objects.filter(pk=blora_inmate.pk).update(admission_date=D(2023, 3, 5))
    blora_inmate.refresh_from_db()

    with pytest.raises(ValidationError) as refused:
        services.inmate_update(inmate=blora_inmate, user=rutan_blora_officer, admission_date=D(2023, 3, 10))

    assert refused.value.error_dict["admission_date"][0].code == "no_admission_to_correct"


def test_a_date_already_matching_a_recorded_admission_is_accepted_as_it_is(blora_inmate, rutan_blora_officer):
    Inmate.objects.filter(pk=blora_inmate.pk).update(admission_date=D(2023, 3, 5))
    blora_inmate.refresh_from_db()

    services.inmate_update(inmate=blora_inmate, user=rutan_blora_officer, admission_date=D(2023, 3, 1))

    assert CustodyEvent.recorded.filter(inmate=blora_inmate).count() == 1


def test_a_record_without_custody_history_changes_its_admission_date_freely(
    blora_inmate, rutan_blora_officer
):
    CustodyEvent._unchecked.filter(inmate=blora_inmate).delete()

    services.inmate_update(inmate=blora_inmate, user=rutan_blora_officer, admission_date=D(2023, 2, 1))

    blora_inmate.refresh_from_db()
    assert blora_inmate.admission_date == D(2023, 2, 1)
    assert not CustodyEvent.recorded.filter(inmate=blora_inmate).exists()


def test_the_admin_form_corrects_the_admission_in_the_history(client, rutan_blora_officer, blora_inmate):
    client.force_login(rutan_blora_officer)
    url = reverse("admin:inmates_inmate_change", args=[blora_inmate.pk])

    response = client.post(url, admin_form_data(blora_inmate, admission_date="01/02/2023"))

    assert response.status_code == 302
    assert blora_inmate.pk in inside(D(2023, 2, 1))
    assert blora_inmate.custody_events.get().created_by == rutan_blora_officer


def test_the_admin_form_says_why_an_admission_date_cannot_move(client, rutan_blora_officer, blora_inmate):
    services.custody_event_record(inmate=blora_inmate, kind="release", date=D(2023, 9, 1), user=None)
    client.force_login(rutan_blora_officer)
    url = reverse("admin:inmates_inmate_change", args=[blora_inmate.pk])

    response = client.post(url, admin_form_data(blora_inmate, admission_date="01/10/2023"))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors.as_data()["admission_date"]
    assert [error.code for error in errors] == ["after_next_event"]
    blora_inmate.refresh_from_db()
    assert blora_inmate.admission_date == D(2023, 3, 1)


def test_the_history_shows_the_corrected_event_and_its_correction(client, rutan_blora_officer, blora_inmate):
    services.inmate_update(inmate=blora_inmate, user=rutan_blora_officer, admission_date=D(2023, 2, 1))
    client.force_login(rutan_blora_officer)

    response = client.get(reverse("admin:inmates_inmate_change", args=[blora_inmate.pk]))

    body = response.content.decode()
    assert body.count('class="custody-corrected"') == 1
    assert "01-03-2023" in body and "01-02-2023" in body
