"""Retention (inmates/retention.py, ``purge_uploads``): files of old finished jobs are deleted
and their rows kept; recent, waiting, running and preview jobs keep theirs; a dry run changes
nothing; jobs left waiting or running by a dead worker are marked failed, in the user's language."""

from __future__ import annotations

import datetime
import io
import os

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone, translation

from inmates.models import ImportJob
from inmates.models.dedup import DedupRun
from inmates.retention import STALE_JOB_MESSAGE, uploads_purge
from tests.stations_support import make_election
from tps.models import EligibilityRun, StationRun

pytestmark = pytest.mark.django_db

STALE_ID = "Proses latar belakang berhenti sebelum pekerjaan ini selesai"
STALE_EN = "The background worker stopped before this job finished"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def election(regions):
    return make_election()


def ago(**delta) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(**delta)


def make_job(facility, user, *, status, created=None, finished=None, language="id", **fields) -> ImportJob:
    job = ImportJob(
        facility=facility,
        original_name="wbp.xlsx",
        status=status,
        created_by=user,
        language=language,
        **fields,
    )
    job.file.save("upload.xlsx", ContentFile(b"NIK 3316011708900001"), save=False)
    job.save()
    ImportJob.objects.filter(pk=job.pk).update(created_at=created or timezone.now(), finished_at=finished)
    job.refresh_from_db()
    return job


def make_export(election, user, *, status, created=None, finished=None) -> StationRun:
    run = StationRun(kind="export", fmt="xlsx", election=election, status=status, started_by=user)
    run.output.save("dpt-export.zip", ContentFile(b"PK zip"), save=False)
    run.save()
    StationRun.objects.filter(pk=run.pk).update(created_at=created or timezone.now(), finished_at=finished)
    run.refresh_from_db()
    return run


def purge(*args) -> str:
    out = io.StringIO()
    call_command("purge_uploads", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def stored(obj, field_name="file") -> bool:
    value = getattr(obj, field_name)
    return value.storage.exists(value.name)


# --- files ---------------------------------------------------------------------------------------


def test_old_finished_import_files_are_deleted_and_rows_kept(blora, rutan_blora_officer):
    done = make_job(blora, rutan_blora_officer, status="done", created=ago(days=10), finished=ago(days=9))
    failed = make_job(blora, rutan_blora_officer, status="failed", created=ago(days=8))  # no finished_at
    cancelled = make_job(blora, rutan_blora_officer, status="cancelled", finished=ago(days=8))
    paths = [job.file.path for job in (done, failed, cancelled)]

    output = purge()

    assert "Import files deleted (finished more than 7 days ago): 3" in output
    for job, path in zip((done, failed, cancelled), paths, strict=True):
        refreshed = ImportJob.objects.get(pk=job.pk)
        assert refreshed.file.name == ""
        assert refreshed.status == job.status  # the row stays, as it was
        assert not os.path.exists(path)


def test_recent_waiting_running_and_preview_imports_keep_their_files(blora, rutan_blora_officer):
    recent = make_job(blora, rutan_blora_officer, status="done", created=ago(days=3), finished=ago(days=2))
    # A preview waits for its confirmation, which reads the same file.
    preview = make_job(
        blora, rutan_blora_officer, status="preview", created=ago(days=2), finished=ago(days=2)
    )
    # Waiting and running for less than six hours: their worker may still be busy with them.
    pending = make_job(blora, rutan_blora_officer, status="pending", created=ago(hours=1))
    running = make_job(blora, rutan_blora_officer, status="running", created=ago(hours=2))

    output = purge("--days", "1")

    assert "Import files deleted (finished more than 1 days ago): 1" in output
    assert ImportJob.objects.get(pk=recent.pk).file.name == ""  # finished two days ago, over --days 1
    for job in (preview, pending, running):
        refreshed = ImportJob.objects.get(pk=job.pk)
        assert refreshed.file.name == job.file.name
        assert refreshed.status == job.status
        assert stored(refreshed)


def test_the_default_keeps_files_of_the_last_seven_days(blora, rutan_blora_officer):
    recent = make_job(blora, rutan_blora_officer, status="done", created=ago(days=6), finished=ago(days=6))
    purge()
    assert stored(ImportJob.objects.get(pk=recent.pk))


def test_old_export_zips_are_deleted_recent_and_running_ones_kept(election, admin_user):
    old = make_export(election, admin_user, status="done", created=ago(days=9), finished=ago(days=8))
    recent = make_export(election, admin_user, status="done", created=ago(days=1), finished=ago(days=1))
    running = make_export(election, admin_user, status="running", created=ago(hours=1))

    output = purge()

    assert "TPS export files deleted (finished more than 7 days ago): 1" in output
    old.refresh_from_db()
    assert old.output.name == "" and old.status == "done"
    assert stored(StationRun.objects.get(pk=recent.pk), "output")
    assert stored(StationRun.objects.get(pk=running.pk), "output")


def test_a_file_already_missing_is_not_an_error(blora, rutan_blora_officer, election, admin_user):
    job = make_job(blora, rutan_blora_officer, status="done", finished=ago(days=30))
    run = make_export(election, admin_user, status="done", finished=ago(days=30))
    job.file.storage.delete(job.file.name)
    run.output.storage.delete(run.output.name)

    output = purge()

    assert "Import files deleted (finished more than 7 days ago): 1" in output
    assert ImportJob.objects.get(pk=job.pk).file.name == ""
    assert StationRun.objects.get(pk=run.pk).output.name == ""


def test_old_unconfirmed_previews_are_cancelled_and_their_files_deleted(blora, rutan_blora_officer):
    preview = make_job(
        blora, rutan_blora_officer, status="preview", created=ago(days=8), finished=ago(days=8)
    )
    output = purge()
    assert "Unconfirmed previews cancelled (older than 7 days): 1" in output
    preview.refresh_from_db()
    assert preview.status == "cancelled" and preview.file.name == ""


# --- stale jobs ----------------------------------------------------------------------------------


@pytest.fixture
def stale_jobs(blora, rutan_blora_officer, election, admin_user):
    """One job of each kind left running (or waiting) by a worker that stopped seven hours ago."""
    jobs = {
        "import": make_job(blora, rutan_blora_officer, status="running", created=ago(hours=7), language="en"),
        "eligibility": EligibilityRun.objects.create(
            election=election, judged_on=election.voting_day, status="running", started_by=admin_user
        ),
        "station": StationRun.objects.create(kind="plan", election=election, status="pending"),
        "dedup": DedupRun.objects.create(facility=blora, status="running", started_by=rutan_blora_officer),
    }
    for job in jobs.values():
        type(job).objects.filter(pk=job.pk).update(created_at=ago(hours=7))
    return jobs


def test_stale_jobs_of_every_kind_are_marked_failed(stale_jobs):
    output = purge()

    for label in ("Import jobs", "Eligibility runs", "TPS runs", "Duplicate detection runs"):
        assert f"{label} marked failed (waiting or running for more than 6 hours): 1" in output
    job = ImportJob.objects.get(pk=stale_jobs["import"].pk)
    assert job.status == ImportJob.Status.FAILED
    assert job.finished_at is not None
    # In the uploader's language, as the import page shows it; its file is gone like any failed check's.
    assert job.report["errors"] == 1
    assert job.report["problems"][0]["message"].startswith(STALE_EN)
    assert job.report["problems"][0]["code"] == "worker_stopped"
    assert job.file.name == ""
    for key in ("eligibility", "station", "dedup"):
        run = type(stale_jobs[key]).objects.get(pk=stale_jobs[key].pk)
        assert run.status == "failed"
        assert run.finished_at is not None
        assert run.error.startswith(STALE_ID)  # LANGUAGE_CODE: Bahasa Indonesia


def test_recent_running_jobs_are_left_alone(blora, rutan_blora_officer, election, admin_user):
    job = make_job(blora, rutan_blora_officer, status="running", created=ago(hours=5))
    run = DedupRun.objects.create(facility=blora, status="running", started_by=rutan_blora_officer)
    station = StationRun.objects.create(kind="plan", election=election, status="pending")

    output = purge()

    assert "Import jobs marked failed (waiting or running for more than 6 hours): 0" in output
    assert ImportJob.objects.get(pk=job.pk).status == "running"
    assert stored(ImportJob.objects.get(pk=job.pk))
    assert DedupRun.objects.get(pk=run.pk).status == "running"
    assert StationRun.objects.get(pk=station.pk).status == "pending"


def test_a_preview_confirmed_long_after_its_upload_is_not_stale(blora, rutan_blora_officer):
    """Confirming puts the job back to "pending": its clock starts when the preview finished."""
    job = make_job(
        blora,
        rutan_blora_officer,
        status="pending",
        dry_run=False,
        created=ago(hours=20),
        finished=ago(hours=1),
    )
    purge()
    assert ImportJob.objects.get(pk=job.pk).status == "pending"


def test_stale_hours_option(blora, rutan_blora_officer):
    job = make_job(blora, rutan_blora_officer, status="running", created=ago(hours=3))
    output = purge("--stale-hours", "2")
    assert "Import jobs marked failed (waiting or running for more than 2 hours): 1" in output
    assert ImportJob.objects.get(pk=job.pk).status == "failed"


def test_the_message_is_translated():
    with translation.override("id"):
        assert str(STALE_JOB_MESSAGE).startswith(STALE_ID)
    with translation.override("en"):
        assert str(STALE_JOB_MESSAGE).startswith(STALE_EN)


# --- dry run -------------------------------------------------------------------------------------


def test_dry_run_changes_nothing(stale_jobs, blora, rutan_blora_officer, election, admin_user):
    old = make_job(blora, rutan_blora_officer, status="done", finished=ago(days=10))
    preview = make_job(
        blora, rutan_blora_officer, status="preview", created=ago(days=8), finished=ago(days=8)
    )
    export = make_export(election, admin_user, status="done", finished=ago(days=10))

    output = purge("--dry-run")

    assert output.splitlines() == [
        "Import files would be deleted (finished more than 7 days ago): 1",
        "TPS export files would be deleted (finished more than 7 days ago): 1",
        "Unconfirmed previews would be cancelled (older than 7 days): 1",
        "Import jobs would be marked failed (waiting or running for more than 6 hours): 1",
        "Eligibility runs would be marked failed (waiting or running for more than 6 hours): 1",
        "TPS runs would be marked failed (waiting or running for more than 6 hours): 1",
        "Duplicate detection runs would be marked failed (waiting or running for more than 6 hours): 1",
        "Dry run: nothing was changed.",
    ]
    for job in (old, preview, stale_jobs["import"]):
        refreshed = ImportJob.objects.get(pk=job.pk)
        assert (refreshed.status, refreshed.file.name) == (job.status, job.file.name)
        assert stored(refreshed)
    assert stored(StationRun.objects.get(pk=export.pk), "output")
    for key in ("eligibility", "station", "dedup"):
        run = type(stale_jobs[key]).objects.get(pk=stale_jobs[key].pk)
        assert run.status == stale_jobs[key].status and run.error == ""


def test_negative_values_are_refused():
    with pytest.raises(CommandError):
        call_command("purge_uploads", "--days", "-1", stdout=io.StringIO())


def test_the_service_reports_counts(blora, rutan_blora_officer):
    make_job(blora, rutan_blora_officer, status="done", finished=ago(days=10))
    result = uploads_purge()
    assert (result.import_files, result.export_files, result.failed_total, result.not_deleted) == (1, 0, 0, 0)
