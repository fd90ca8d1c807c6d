"""Retention: uploaded and exported files are deleted, jobs whose worker died are closed.

Uploaded spreadsheets (``ImportJob.file``) and the ZIPs of DPT export runs
(``StationRun.output``) hold personal data (NIK, NKK, names and addresses of
people in custody; UU 27/2022). The job rows stay (they are the audit trail);
only their stored files go, and the file field is emptied.

* the file of an import job that is done, failed or cancelled, and the ZIP of a
  TPS run that is done or failed, is deleted once the job finished more than
  ``days`` ago (``finished_at``, or ``created_at`` when it has none). A job that
  is waiting, running, or whose preview waits for its confirmation is never
  touched: the confirmation reads the same file.
* an unconfirmed preview is cancelled (and its file deleted) after
  :data:`inmates.imports_jobs.PREVIEW_MAX_AGE`, as every upload already does.
* a job (import, eligibility run, TPS run, duplicate detection run) still
  waiting or running ``stale_hours`` after it started is marked failed with a
  message asking the user to start again: its worker stopped. A failed import
  keeps no file, as with any failed check, so its upload is deleted at once.

``python manage.py purge_uploads`` runs :func:`uploads_purge`; run it daily.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.fields.files import FieldFile
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from inmates.importing import ImportReport
from inmates.imports_jobs import PREVIEW_MAX_AGE, import_jobs_expire
from inmates.models import ImportJob
from inmates.models.dedup import DedupRun
from tps.models import EligibilityRun, StationRun

logger = logging.getLogger(__name__)

DEFAULT_DAYS = 7
DEFAULT_STALE_HOURS = 6

STALE_JOB_MESSAGE = _(
    "The background worker stopped before this job finished, so it will not finish. Start it again."
)

# The kinds of background job, in the order they are reported: (key, model, label).
JOB_KINDS: tuple[tuple[str, type[models.Model], str], ...] = (
    ("import", ImportJob, "Import jobs"),
    ("eligibility", EligibilityRun, "Eligibility runs"),
    ("station", StationRun, "TPS runs"),
    ("dedup", DedupRun, "Duplicate detection runs"),
)

_IMPORT_FINISHED = (ImportJob.Status.DONE, ImportJob.Status.FAILED, ImportJob.Status.CANCELLED)
_RUN_FINISHED = (StationRun.Status.DONE, StationRun.Status.FAILED)


@dataclass
class PurgeResult:
    """What :func:`uploads_purge` did (or, in a dry run, would do)."""

    days: int
    stale_hours: int
    dry_run: bool
    import_files: int = 0
    export_files: int = 0
    previews_cancelled: int = 0
    # Files the storage refused to delete (logged; their rows keep the name, tried again next time).
    not_deleted: int = 0
    # Jobs marked failed, per key of JOB_KINDS.
    failed: dict[str, int] = field(default_factory=lambda: {key: 0 for key, _model, _label in JOB_KINDS})

    @property
    def failed_total(self) -> int:
        return sum(self.failed.values())


def uploads_purge(
    *,
    days: int = DEFAULT_DAYS,
    stale_hours: int = DEFAULT_STALE_HOURS,
    dry_run: bool = False,
    now: datetime.datetime | None = None,
) -> PurgeResult:
    """Close stale jobs, expire old previews, then delete the files of old finished jobs."""
    if days < 0 or stale_hours < 0:
        raise ValueError("days and stale_hours must not be negative")
    now = now or timezone.now()
    result = PurgeResult(days=days, stale_hours=stale_hours, dry_run=dry_run)
    stale_before = now - datetime.timedelta(hours=stale_hours)
    _fail_stale_imports(result, stale_before, now)
    for key, model, _label in JOB_KINDS[1:]:
        result.failed[key] = _fail_stale_runs(model, stale_before, now, dry_run=dry_run)
    _expire_previews(result, now)
    _purge_finished_files(result, now - datetime.timedelta(days=days))
    return result


# --- stale jobs ----------------------------------------------------------------------------------


def _active(model: type[models.Model]) -> list[str]:
    return [model.Status.PENDING, model.Status.RUNNING]


def _fail_stale_runs(
    model: type[models.Model], before: datetime.datetime, now: datetime.datetime, *, dry_run: bool
) -> int:
    stale = model.objects.filter(status__in=_active(model), created_at__lt=before)
    if dry_run:
        return stale.count()
    with translation.override(settings.LANGUAGE_CODE):
        message = str(STALE_JOB_MESSAGE)
    # One conditional UPDATE: a run that finishes meanwhile is left as it is.
    return stale.update(status=model.Status.FAILED, error=message, finished_at=now)


def _fail_stale_imports(result: PurgeResult, before: datetime.datetime, now: datetime.datetime) -> None:
    active = _active(ImportJob)
    # A confirmed preview goes back to "pending" long after its upload (created_at):
    # its clock starts when the preview finished, or when the worker got it.
    candidates = (
        ImportJob.objects.filter(status__in=active, created_at__lt=before)
        .filter(Q(finished_at__isnull=True) | Q(finished_at__lt=before))
        .select_related("facility")
    )
    for job in candidates:
        if _task_activity(job.task_id, before):
            continue
        result.failed["import"] += 1
        if result.dry_run:
            continue
        with translation.override(job.language or settings.LANGUAGE_CODE):
            report = ImportReport(
                filename=job.original_name,
                facility=job.facility.code if job.facility else "",
                dry_run=job.dry_run,
            )
            report.file_error(STALE_JOB_MESSAGE, "worker_stopped")
        updated = ImportJob.objects.filter(pk=job.pk, status__in=active).update(
            status=ImportJob.Status.FAILED, phase="", report=report.as_dict(), finished_at=now
        )
        if not updated:  # finished meanwhile
            result.failed["import"] -= 1
            continue
        if job.file.name and not _delete_file(job, "file"):
            result.not_deleted += 1


def _task_activity(task_id: str, before: datetime.datetime) -> bool:
    """Whether the job's background task was enqueued or started at ``before`` or later."""
    if not task_id:
        return False
    from django_tasks import default_task_backend

    try:
        task_result = default_task_backend.get_result(task_id)
    except Exception:  # no such result, or a backend that keeps none: judge by the job row alone
        return False
    moments = (task_result.enqueued_at, task_result.started_at, task_result.last_attempted_at)
    return any(moment is not None and moment >= before for moment in moments)


# --- files ---------------------------------------------------------------------------------------


def _expire_previews(result: PurgeResult, now: datetime.datetime) -> None:
    if result.dry_run:
        result.previews_cancelled = ImportJob.objects.filter(
            status=ImportJob.Status.PREVIEW, created_at__lt=now - PREVIEW_MAX_AGE
        ).count()
        return
    result.previews_cancelled = import_jobs_expire(max_age=PREVIEW_MAX_AGE)


def _purge_finished_files(result: PurgeResult, before: datetime.datetime) -> None:
    old = Q(finished_at__lt=before) | Q(finished_at__isnull=True, created_at__lt=before)
    imports = ImportJob.objects.filter(old, status__in=_IMPORT_FINISHED).exclude(file="").only("pk", "file")
    exports = StationRun.objects.filter(old, status__in=_RUN_FINISHED).exclude(output="").only("pk", "output")
    if result.dry_run:
        result.import_files = imports.count()
        result.export_files = exports.count()
        return
    for job in imports:
        if _delete_file(job, "file"):
            result.import_files += 1
        else:
            result.not_deleted += 1
    for run in exports:
        if _delete_file(run, "output"):
            result.export_files += 1
        else:
            result.not_deleted += 1


def _delete_file(obj: models.Model, field_name: str) -> bool:
    """Delete a row's stored file and empty its field; a file already gone counts as deleted."""
    stored: FieldFile = getattr(obj, field_name)
    try:
        stored.storage.delete(stored.name)
    except FileNotFoundError:
        pass
    except OSError:
        logger.warning("Could not delete %s of %s %s", stored.name, obj._meta.label, obj.pk, exc_info=True)
        return False
    type(obj).objects.filter(pk=obj.pk).update(**{field_name: ""})
    return True
