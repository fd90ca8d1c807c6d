"""Custody status over time: the pure rule and the database query."""

import datetime

import pytest

from inmates import custody, services
from inmates.models import CustodyEvent, CustodyStatus, Inmate
from inmates.models.register import AppendOnlyError

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


# --- append-only history -------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_recorded_event_cannot_be_deleted(blora_inmate):
    event = blora_inmate.custody_events.get()
    with pytest.raises(AppendOnlyError):
        event.delete()
    assert CustodyEvent.recorded.filter(pk=event.pk).exists()


@pytest.mark.django_db
def test_events_cannot_be_deleted_in_bulk(blora_inmate):
    with pytest.raises(AppendOnlyError):
        CustodyEvent.objects.filter(inmate=blora_inmate).delete()
    with pytest.raises(AppendOnlyError):
        blora_inmate.custody_events.all().delete()
    with pytest.raises(AppendOnlyError):
        CustodyEvent.recorded.all().delete()
    assert blora_inmate.custody_events.count() == 1


@pytest.mark.django_db
def test_events_cannot_be_rewritten_in_bulk(blora_inmate):
    event = blora_inmate.custody_events.get()
    with pytest.raises(AppendOnlyError):
        CustodyEvent.objects.filter(pk=event.pk).update(date=D(2020, 1, 1))
    with pytest.raises(AppendOnlyError):
        blora_inmate.custody_events.update(kind=CustodyEvent.Kind.RELEASE)
    event.date = D(2020, 1, 1)
    with pytest.raises(AppendOnlyError):
        CustodyEvent.objects.bulk_update([event], ["date"])
    assert blora_inmate.custody_events.get().date == blora_inmate.admission_date


@pytest.mark.django_db
def test_an_upsert_cannot_overwrite_an_event(blora_inmate):
    event = blora_inmate.custody_events.get()
    replacement = CustodyEvent(
        pk=event.pk, inmate=blora_inmate, kind=CustodyEvent.Kind.RELEASE, date=D(2024, 1, 1)
    )
    with pytest.raises(AppendOnlyError):
        CustodyEvent.objects.bulk_create(
            [replacement], update_conflicts=True, unique_fields=["id"], update_fields=["kind", "date"]
        )
    assert blora_inmate.custody_events.get().kind == CustodyEvent.Kind.ADMISSION


@pytest.mark.django_db
def test_each_event_says_who_recorded_it_and_when(blora_inmate, rutan_blora_officer, time_machine):
    time_machine.move_to(datetime.datetime(2024, 1, 5, 8, 30, tzinfo=datetime.UTC), tick=False)
    event = services.custody_event_record(
        inmate=blora_inmate, kind="release", date=D(2024, 1, 10), user=rutan_blora_officer
    )
    event.refresh_from_db()
    assert event.created_by == rutan_blora_officer
    assert event.created_at == datetime.datetime(2024, 1, 5, 8, 30, tzinfo=datetime.UTC)


@pytest.mark.django_db
def test_erasing_a_record_removes_its_whole_history_through_the_unchecked_manager(
    blora_inmate, rutan_blora_officer
):
    # The one documented way out (personal data erasure, test fixtures):
    # corrections go with the events they correct.
    services.inmate_update(inmate=blora_inmate, user=rutan_blora_officer, admission_date=D(2023, 2, 1))
    assert CustodyEvent.recorded.filter(inmate=blora_inmate).count() == 2

    CustodyEvent._unchecked.filter(inmate=blora_inmate).delete()
    blora_inmate.delete()

    assert not CustodyEvent.recorded.exists()
    assert not Inmate.objects.exists()


def test_the_custody_messages_have_an_indonesian_translation(tmp_path):
    import gettext
    import shutil
    import subprocess
    from pathlib import Path

    from django.utils import translation

    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        pytest.skip("GNU gettext (msgfmt) is not installed")
    fragment = Path(__file__).resolve().parent.parent / "locale" / "fragments" / "foundation_session11.po"
    compiled = tmp_path / "fragment.mo"
    subprocess.run([msgfmt, "--check-format", "-o", str(compiled), str(fragment)], check=True)  # noqa: S603
    with compiled.open("rb") as handle:
        catalog = gettext.GNUTranslations(handle)._catalog

    with pytest.raises(AppendOnlyError) as raised:
        CustodyEvent.objects.none().delete()
    with translation.override("en"):
        refused = str(raised.value)
    shown = [
        refused,
        "The custody history has no admission on %(date)s to move to the new date. Record an admission "
        "on the new date in the custody history first, then change the admission date.",
        "The date cannot be before the previous custody event (%(event)s).",
        "The date must be before the next custody event (%(event)s).",
        "Date corrected: %(old)s → %(new)s",
        "Custody status refresh for %(day)s",
        "Corrected by %(event)s (no longer counts)",
        "Corrects %(event)s",
    ]
    assert [message for message in shown if not catalog.get(message)] == []
