"""Today's custody status for the whole register: set-based, audited, run by the task worker."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_tasks import default_task_backend

from inmates import services
from inmates.models import CustodyEvent, CustodyStatus, Inmate
from inmates.models.register import CustodyStatusRefresh
from inmates.tasks import refresh_custody_statuses
from tests.conftest import inmate_data

D = datetime.date
JAKARTA = datetime.timezone(datetime.timedelta(hours=7))

pytestmark = pytest.mark.django_db


def register(facility, count: int, *, prefix: str = "WBP") -> list[Inmate]:
    """``count`` inmates admitted on 1 March 2023, with their admission events (in bulk)."""
    inmates = Inmate.objects.bulk_create(
        Inmate(
            facility=facility, **inmate_data(full_name=f"{prefix} {n}", registration_number=f"{prefix}.{n}")
        )
        for n in range(count)
    )
    CustodyEvent.objects.bulk_create(
        CustodyEvent(inmate=inmate, kind=CustodyEvent.Kind.ADMISSION, date=inmate.admission_date)
        for inmate in inmates
    )
    return inmates


def release_ahead(inmates: list[Inmate], day: datetime.date) -> None:
    """Releases recorded ahead of their date: the stored status stays "in custody" until ``day``."""
    CustodyEvent.objects.bulk_create(
        CustodyEvent(inmate=inmate, kind=CustodyEvent.Kind.RELEASE, date=day) for inmate in inmates
    )


def statuses(inmates: list[Inmate]) -> list[str]:
    by_pk = dict(Inmate.objects.filter(pk__in=[i.pk for i in inmates]).values_list("pk", "custody_status"))
    return [by_pk[inmate.pk] for inmate in inmates]


def test_an_event_whose_day_has_come_changes_the_stored_status(blora):
    inmates = register(blora, 3)
    release_ahead(inmates[:1], D(2024, 1, 15))

    assert services.custody_statuses_refresh(today=D(2024, 1, 14)) == 0
    assert services.custody_statuses_refresh(today=D(2024, 1, 15)) == 1

    assert statuses(inmates) == [CustodyStatus.RELEASED, CustodyStatus.IN_CUSTODY, CustodyStatus.IN_CUSTODY]


def test_a_record_without_events_keeps_its_stored_status(blora):
    (old_record,) = Inmate.objects.bulk_create(
        [Inmate(facility=blora, **inmate_data(custody_status=CustodyStatus.RELEASED))]
    )
    assert services.custody_statuses_refresh(today=D(2024, 3, 1)) == 0
    old_record.refresh_from_db()
    assert old_record.custody_status == CustodyStatus.RELEASED


def test_each_refreshed_status_leaves_a_history_row(blora):
    released, stays = register(blora, 2)
    release_ahead([released], D(2024, 1, 15))

    services.custody_statuses_refresh(today=D(2024, 1, 15))

    latest = released.history.latest()
    assert (latest.history_type, latest.custody_status) == ("~", CustodyStatus.RELEASED)
    assert latest.history_change_reason.endswith("15-01-2024")
    assert latest.history_user is None
    assert not stays.history.exists()


def test_a_corrected_event_no_longer_decides_the_status(blora_inmate, rutan_blora_officer):
    # A release recorded for the wrong day is corrected to a later one.
    release = services.custody_event_record(
        inmate=blora_inmate, kind="release", date=D(2024, 1, 10), user=None
    )
    services.custody_event_correct(event=release, date=D(2024, 2, 1), user=rutan_blora_officer)

    services.custody_statuses_refresh(today=D(2024, 1, 20))

    blora_inmate.refresh_from_db()
    assert blora_inmate.custody_status == CustodyStatus.IN_CUSTODY


def refresh_queries(today: datetime.date) -> int:
    with CaptureQueriesContext(connection) as captured:
        services.custody_statuses_refresh(today=today)
    return len(captured.captured_queries)


def test_the_size_of_the_register_does_not_add_queries(blora):
    services.custody_statuses_refresh(today=D(2024, 1, 1))  # its bookkeeping row exists from now on
    small = register(blora, 4, prefix="A")
    release_ahead(small[:2], D(2024, 1, 15))
    with_four = refresh_queries(D(2024, 1, 15))

    large = register(blora, 80, prefix="B")
    release_ahead(large[:2], D(2024, 1, 16))
    with_eighty_more = refresh_queries(D(2024, 1, 16))

    assert with_eighty_more == with_four


def test_many_changed_statuses_are_written_together(blora):
    services.custody_statuses_refresh(today=D(2024, 1, 1))
    inmates = register(blora, 60)
    release_ahead(inmates[:50], D(2024, 1, 15))

    queries = refresh_queries(D(2024, 1, 15))

    assert statuses(inmates).count(CustodyStatus.RELEASED) == 50
    # Find, lock, one UPDATE, history INSERTs (SQLite splits them by its
    # parameter limit), bookkeeping: far fewer than one query per change.
    assert queries <= 10


def test_the_command_reports_how_many_statuses_changed(blora, time_machine):
    time_machine.move_to(datetime.datetime(2024, 1, 15, 1, 0, tzinfo=JAKARTA), tick=False)
    release_ahead(register(blora, 2), D(2024, 1, 15))
    out = io.StringIO()

    call_command("refresh_custody_status", stdout=out)

    assert out.getvalue().strip() == "2 custody statuses updated."


@pytest.fixture
def deferring_backend(settings):
    """A task backend that keeps what is queued (and can defer), like the database backend."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    default_task_backend.clear()
    return default_task_backend


def test_the_worker_queues_the_next_nightly_run_itself(blora, deferring_backend, time_machine):
    time_machine.move_to(datetime.datetime(2024, 1, 15, 0, 5, tzinfo=JAKARTA), tick=False)

    refresh_custody_statuses.call()

    [queued] = deferring_backend.results
    assert queued.task.name == "refresh_custody_statuses"
    assert queued.task.run_after == datetime.datetime(2024, 1, 16, 0, 5, tzinfo=JAKARTA)
    assert CustodyStatusRefresh.current().day == D(2024, 1, 15)


def test_two_runs_on_one_day_queue_one_nightly_run(blora, deferring_backend, time_machine):
    time_machine.move_to(datetime.datetime(2024, 1, 15, 0, 5, tzinfo=JAKARTA), tick=False)

    refresh_custody_statuses.call()
    refresh_custody_statuses.call()

    assert len(deferring_backend.results) == 1


def test_the_register_list_asks_for_a_missed_refresh_once(
    client, rutan_blora_officer, blora, deferring_backend, time_machine
):
    time_machine.move_to(datetime.datetime(2024, 1, 15, 9, 0, tzinfo=JAKARTA), tick=False)
    client.force_login(rutan_blora_officer)

    client.get(reverse("admin:inmates_inmate_changelist"))
    client.get(reverse("admin:inmates_inmate_changelist"))

    assert [result.task.run_after for result in deferring_backend.results] == [None]


def test_a_missed_refresh_runs_when_the_register_list_is_opened(
    client, rutan_blora_officer, blora, time_machine
):
    # Tests run tasks at once (ImmediateBackend), as the worker would shortly after.
    time_machine.move_to(datetime.datetime(2024, 1, 15, 9, 0, tzinfo=JAKARTA), tick=False)
    [inmate] = register(blora, 1)
    release_ahead([inmate], D(2024, 1, 15))
    client.force_login(rutan_blora_officer)

    client.get(reverse("admin:inmates_inmate_changelist"))

    assert statuses([inmate]) == [CustodyStatus.RELEASED]


def test_the_register_list_asks_nothing_once_today_is_refreshed(
    client, rutan_blora_officer, blora, deferring_backend, time_machine
):
    time_machine.move_to(datetime.datetime(2024, 1, 15, 9, 0, tzinfo=JAKARTA), tick=False)
    services.custody_statuses_refresh()
    client.force_login(rutan_blora_officer)

    client.get(reverse("admin:inmates_inmate_changelist"))

    assert deferring_backend.results == []
