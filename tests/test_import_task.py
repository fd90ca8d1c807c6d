"""Import jobs: small files run in the request, large ones in the background worker
(django-tasks, the ImmediateBackend in tests) with progress on the ImportJob row."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections, transaction
from django.utils import translation

from inmates import importing
from inmates.imports_jobs import (
    ImportJobError,
    JobProgress,
    import_job_cancel,
    import_job_confirm,
    import_job_create,
    import_job_dispatch,
    import_job_run,
)
from inmates.models import Facility, ImportJob, Inmate, Region, User
from inmates.tasks import run_import_job
from tests.imports_helpers import people, person, write_xlsx

pytestmark = pytest.mark.django_db

TODAY = datetime.datetime(2024, 1, 10, 9, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Jakarta"))


@pytest.fixture(autouse=True)
def _setup(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.IMPORT_INLINE_MAX_BYTES = 0  # every file goes to the background worker
    with time_machine.travel(TODAY, tick=False), translation.override("en"):
        yield


def upload(path) -> SimpleUploadedFile:
    return SimpleUploadedFile(path.name, path.read_bytes())


def new_job(tmp_path, facility, user, rows) -> ImportJob:
    return import_job_create(
        user=user, facility=facility, upload=upload(write_xlsx(tmp_path / "wbp.xlsx", rows))
    )


def dispatch(job, capture):
    with capture(execute=True) as callbacks:
        import_job_dispatch(job=job)
    job.refresh_from_db()
    return callbacks


def test_a_large_upload_runs_in_the_worker_and_stops_at_the_preview(
    tmp_path, blora, rutan_blora_officer, django_capture_on_commit_callbacks
):
    job = new_job(tmp_path, blora, rutan_blora_officer, people(25))

    callbacks = dispatch(job, django_capture_on_commit_callbacks)

    assert len(callbacks) == 1  # enqueued once the upload is committed
    assert job.status == ImportJob.Status.PREVIEW
    assert job.task_id
    assert (job.processed_rows, job.total_rows, job.progress_percent) == (25, 25, 100)
    assert (job.report["created"], job.report["errors"]) == (25, 0)
    assert not Inmate.objects.exists()
    assert job.file.storage.exists(job.file.name)  # kept for the confirmation


def test_the_confirmed_job_reaches_completion_and_writes(
    tmp_path, blora, rutan_blora_officer, django_capture_on_commit_callbacks
):
    job = new_job(tmp_path, blora, rutan_blora_officer, people(25))
    stored = job.file.name
    dispatch(job, django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=True):
        job = import_job_confirm(job=job, user=rutan_blora_officer)
    job.refresh_from_db()

    assert job.status == ImportJob.Status.DONE
    assert job.report["written"] is True and job.report["created"] == 25
    assert job.finished_at is not None
    assert Inmate.objects.filter(facility=blora).count() == 25
    version = Inmate.objects.first().history.get()
    assert version.history_user == rutan_blora_officer
    assert version.history_change_reason == f"Import wbp.xlsx (job {job.pk})"
    assert not job.file.storage.exists(stored)  # personal data not kept after the import
    assert job.file.name == ""


def test_the_job_reports_progress_while_checking_and_writing(
    tmp_path, blora, rutan_blora_officer, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(importing, "CHUNK", 10)
    seen = []
    report_progress = JobProgress.__call__

    def spy(self, phase, done, total):
        report_progress(self, phase, done, total)
        # While writing, the import's connection is busy with a COPY in the
        # background on PostgreSQL (inmates.imports_bulk.BackgroundCopy): only
        # the checking phase is read back here.
        stored = (
            ImportJob.objects.values_list("phase", "processed_rows", "total_rows").get(pk=self.job_id)
            if phase == "checking"
            else None
        )
        seen.append((phase, done, total, stored))

    monkeypatch.setattr(JobProgress, "__call__", spy)
    job = new_job(tmp_path, blora, rutan_blora_officer, people(25))
    dispatch(job, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        import_job_confirm(job=job, user=rutan_blora_officer)

    checking = [(done, total) for phase, done, total, _stored in seen if phase == "checking"]
    if connection.vendor == "postgresql":
        # A confirmed file of several chunks is written while it is checked: its run is all "writing".
        assert checking == [(0, 25), (10, 25), (20, 25), (25, 25)]  # the preview
    else:
        assert checking == [(0, 25), (10, 25), (20, 25), (25, 25)] * 2  # preview, then the confirmed run
    assert all(stored == (phase, done, total) for phase, done, total, stored in seen if phase == "checking")
    writing = [(done, total) for phase, done, total, _stored in seen if phase == "writing"]
    assert writing == [(0, 25), (10, 25), (20, 25), (25, 25)]


def test_a_file_with_errors_ends_failed_and_its_upload_is_deleted(
    tmp_path, blora, rutan_blora_officer, django_capture_on_commit_callbacks
):
    job = new_job(tmp_path, blora, rutan_blora_officer, [person(1), person(2, NIK="123")])
    stored = job.file.name

    dispatch(job, django_capture_on_commit_callbacks)

    assert job.status == ImportJob.Status.FAILED
    assert [(p["row"], p["code"]) for p in job.report["problems"]] == [(3, "nik_length")]
    assert not job.file.storage.exists(stored)
    with pytest.raises(ImportJobError):
        import_job_confirm(job=job, user=rutan_blora_officer)


def test_a_small_upload_is_checked_at_once(settings, tmp_path, blora, rutan_blora_officer):
    settings.IMPORT_INLINE_MAX_BYTES = 10 * 1024 * 1024
    job = new_job(tmp_path, blora, rutan_blora_officer, people(3))

    import_job_dispatch(job=job)  # no commit needed: it runs in the request
    job.refresh_from_db()

    assert (job.status, job.task_id, job.report["created"]) == (ImportJob.Status.PREVIEW, "", 3)


def test_a_job_is_confirmed_only_once(tmp_path, blora, rutan_blora_officer, settings):
    settings.IMPORT_INLINE_MAX_BYTES = 10 * 1024 * 1024
    job = new_job(tmp_path, blora, rutan_blora_officer, people(2))
    import_job_dispatch(job=job)
    job.refresh_from_db()
    stale = ImportJob.objects.get(pk=job.pk)
    import_job_confirm(job=job, user=rutan_blora_officer)

    with pytest.raises(ImportJobError):
        import_job_confirm(job=stale, user=rutan_blora_officer)
    assert Inmate.objects.count() == 2


def test_running_a_job_twice_does_nothing_the_second_time(tmp_path, blora, rutan_blora_officer):
    job = new_job(tmp_path, blora, rutan_blora_officer, people(2))
    import_job_run(job_id=job.pk)

    again = run_import_job.call(job.pk)

    assert again == {"job": job.pk, "status": "preview", "rows": 2}
    assert ImportJob.objects.get(pk=job.pk).status == ImportJob.Status.PREVIEW


def test_an_unexpected_failure_ends_the_job_with_a_message(tmp_path, blora, rutan_blora_officer, monkeypatch):
    def boom(**kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("inmates.imports_jobs.inmates_import", boom)
    job = new_job(tmp_path, blora, rutan_blora_officer, people(2))

    import_job_run(job_id=job.pk)
    job.refresh_from_db()

    assert job.status == ImportJob.Status.FAILED
    (problem,) = job.report["problems"]
    assert problem["code"] == "crashed" and f"job {job.pk}" in problem["message"]


def test_a_user_moved_to_another_facility_cannot_confirm(tmp_path, blora, pati, rutan_blora_officer):
    job = new_job(tmp_path, blora, rutan_blora_officer, people(2))
    import_job_run(job_id=job.pk)
    job.refresh_from_db()
    User.objects.filter(pk=rutan_blora_officer.pk).update(facility=pati)
    rutan_blora_officer.refresh_from_db()

    with pytest.raises(importing.ImportRefused):
        import_job_confirm(job=job, user=rutan_blora_officer)
    assert not Inmate.objects.exists()


def test_cancel_deletes_the_upload(tmp_path, blora, rutan_blora_officer):
    job = new_job(tmp_path, blora, rutan_blora_officer, people(2))
    stored = job.file.name
    import_job_run(job_id=job.pk)
    job.refresh_from_db()

    import_job_cancel(job=job, user=rutan_blora_officer)

    assert ImportJob.objects.get(pk=job.pk).status == ImportJob.Status.CANCELLED
    assert not job.file.storage.exists(stored)


def test_a_preview_left_for_a_week_is_cancelled_and_its_file_deleted(tmp_path, blora, rutan_blora_officer):
    old = new_job(tmp_path, blora, rutan_blora_officer, people(2))
    stored = old.file.name
    import_job_run(job_id=old.pk)

    with time_machine.travel(TODAY + datetime.timedelta(days=8), tick=False):
        fresh = new_job(tmp_path, blora, rutan_blora_officer, people(3))  # any upload tidies up

    old.refresh_from_db()
    assert (old.status, old.file.name) == (ImportJob.Status.CANCELLED, "")
    assert not old.file.storage.exists(stored)
    assert fresh.file.storage.exists(fresh.file.name)


def test_a_recent_preview_is_kept(tmp_path, blora, rutan_blora_officer):
    job = new_job(tmp_path, blora, rutan_blora_officer, people(2))
    import_job_run(job_id=job.pk)

    with time_machine.travel(TODAY + datetime.timedelta(days=6), tick=False):
        new_job(tmp_path, blora, rutan_blora_officer, people(3))

    job.refresh_from_db()
    assert job.status == ImportJob.Status.PREVIEW and job.file.storage.exists(job.file.name)


def test_only_xlsx_and_csv_are_accepted(blora, rutan_blora_officer):
    with pytest.raises(ImportJobError):
        import_job_create(
            user=rutan_blora_officer, facility=blora, upload=SimpleUploadedFile("wbp.pdf", b"%PDF")
        )
    assert not ImportJob.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_progress_while_writing_is_visible_to_other_connections_on_postgresql():
    Region.objects.get_or_create(code="33", defaults={"name": "JAWA TENGAH", "level": 1})
    Region.objects.get_or_create(code="33.16", defaults={"name": "KAB. BLORA", "level": 2, "parent_id": "33"})
    facility = Facility.objects.create(code="rutan-blora", name="Rutan Blora", regency_id="33.16")
    job = ImportJob.objects.create(facility=facility, original_name="wbp.xlsx", file="imports/x.xlsx")
    progress = JobProgress(job.pk)
    other = connections.create_connection("default")
    try:
        with transaction.atomic():  # the import's write transaction
            progress("writing", 2000, 5000)
            with other.cursor() as cursor:
                cursor.execute("SELECT phase, processed_rows FROM inmates_importjob WHERE id = %s", [job.pk])
                seen = cursor.fetchone()
    finally:
        progress.close()
        other.close()

    assert seen == ("writing", 2000)
