"""An uploaded inmate file from preview to result: the ImportJob's life.

upload -> *checking* (preview: counts and every problem, nothing written)
-> the user confirms -> *checking and writing* -> done. Each run calls
:func:`inmates.importing.inmates_import`. Small files run at once, in the
request; larger ones go to the background worker (django-tasks), which
updates ``processed_rows`` so the progress page moves.

The uploaded file holds personal data (NIK, NKK): it is deleted as soon as it
is no longer needed (after the import, after a failed check, on cancel).
"""

from __future__ import annotations

import datetime
import logging
import os
import uuid
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from inmates.importing import ImportRefused, ImportReport, check_import_scope, inmates_import
from inmates.models import Facility, ImportJob, User
from voterreg.spreadsheets import MAX_FILE_BYTES, SUPPORTED_EXTENSIONS

logger = logging.getLogger(__name__)

# Files up to this size (about 3,000 rows) are checked and written within the
# request; larger ones by the background worker.
DEFAULT_INLINE_MAX_BYTES = 300 * 1024
# A preview nobody confirmed or cancelled: its file (personal data) is deleted after this.
PREVIEW_MAX_AGE = datetime.timedelta(days=7)


class ImportJobError(Exception):
    """The job is not in a state that allows this step (e.g. confirmed twice)."""

    def __init__(self, message: Any) -> None:
        super().__init__(str(message))
        self.message = str(message)


def inline_max_bytes() -> int:
    return int(getattr(settings, "IMPORT_INLINE_MAX_BYTES", DEFAULT_INLINE_MAX_BYTES))


@transaction.atomic
def import_job_create(
    *, user: User, facility: Facility, upload: UploadedFile, language: str = ""
) -> ImportJob:
    """Store an uploaded file as a job waiting for its preview check."""
    check_import_scope(user=user, facility=facility)
    original_name = os.path.basename(upload.name or "")[:255]
    extension = os.path.splitext(original_name)[1].lower()
    if extension not in SUPPORTED_EXTENSIONS:
        raise ImportJobError(
            _("Upload an Excel workbook (.xlsx) or a CSV file (.csv); %(name)s is neither.")
            % {"name": original_name or "-"}
        )
    if upload.size is not None and upload.size > MAX_FILE_BYTES:
        # Refused before it is stored: nothing of it stays on disk.
        raise ImportJobError(
            _("The file is too large to import (more than %(limit)d MB). Split it into several files.")
            % {"limit": MAX_FILE_BYTES // (1024 * 1024)}
        )
    job = ImportJob(
        kind=ImportJob.Kind.INMATES,
        facility=facility,
        original_name=original_name,
        status=ImportJob.Status.PENDING,
        dry_run=True,
        created_by=user,
        language=language or translation.get_language() or settings.LANGUAGE_CODE,
    )
    # A random stored name: the user's file name may carry personal data.
    job.file.save(f"{uuid.uuid4().hex}{extension}", upload, save=False)
    job.save()
    import_jobs_expire()
    return job


def import_jobs_expire(*, max_age: datetime.timedelta = PREVIEW_MAX_AGE) -> int:
    """Cancel previews left unconfirmed for ``max_age`` and delete their files; returns how many.

    Runs on every upload, so abandoned uploads do not keep NIKs on disk.
    """
    stale = list(
        ImportJob.objects.filter(status=ImportJob.Status.PREVIEW, created_at__lt=timezone.now() - max_age)
    )
    for job in stale:
        _delete_file(job)
    ImportJob.objects.filter(pk__in=[job.pk for job in stale]).update(
        status=ImportJob.Status.CANCELLED, finished_at=timezone.now()
    )
    return len(stale)


def import_job_dispatch(*, job: ImportJob) -> None:
    """Run a pending job now (small file) or hand it to the background worker."""
    try:
        size = job.file.size
    except OSError:
        size = 0
    if size <= inline_max_bytes():
        import_job_run(job_id=job.pk)
        return

    def enqueue() -> None:
        from inmates.tasks import run_import_job

        result = run_import_job.enqueue(job.pk)
        ImportJob.objects.filter(pk=job.pk).update(task_id=str(result.id)[:64])

    transaction.on_commit(enqueue)


def import_job_confirm(*, job: ImportJob, user: User) -> ImportJob:
    """The user accepts the preview: import for real."""
    if job.kind != ImportJob.Kind.INMATES or job.status != ImportJob.Status.PREVIEW:
        raise ImportJobError(
            _("This import cannot be confirmed: it is %(status)s.") % {"status": job.get_status_display()}
        )
    check_import_scope(user=user, facility=job.facility)
    moved = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.PREVIEW).update(
        status=ImportJob.Status.PENDING, dry_run=False, processed_rows=0, phase=""
    )
    if not moved:
        raise ImportJobError(_("This import was already confirmed."))
    job.refresh_from_db()
    import_job_dispatch(job=job)
    job.refresh_from_db()
    return job


def import_job_cancel(*, job: ImportJob, user: User) -> ImportJob:
    """Drop a job that has not been written (its file is deleted)."""
    if job.status not in (ImportJob.Status.PREVIEW, ImportJob.Status.PENDING, ImportJob.Status.FAILED):
        raise ImportJobError(
            _("This import cannot be cancelled: it is %(status)s.") % {"status": job.get_status_display()}
        )
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.CANCELLED, finished_at=timezone.now())
    job.refresh_from_db()
    _delete_file(job)
    return job


def import_job_run(*, job_id: int) -> ImportJob | None:
    """Check (and, once confirmed, write) one pending job; the worker and small uploads call this."""
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.PENDING).update(
        status=ImportJob.Status.RUNNING, phase="checking", processed_rows=0
    )
    job = ImportJob.objects.select_related("facility", "created_by").filter(pk=job_id).first()
    if not claimed or job is None:
        return job  # gone, or already taken by another worker
    progress = JobProgress(job.pk)
    try:
        with translation.override(job.language or settings.LANGUAGE_CODE):
            report = _run(job, progress)
            report_data = report.as_dict()
    finally:
        progress.close()
    if report.has_errors:
        status = ImportJob.Status.FAILED
    else:
        status = ImportJob.Status.PREVIEW if job.dry_run else ImportJob.Status.DONE
    job.status = status
    job.report = report_data
    job.phase = ""
    job.total_rows = job.processed_rows = report.rows
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "report", "phase", "total_rows", "processed_rows", "finished_at"])
    if status != ImportJob.Status.PREVIEW:
        _delete_file(job)
    return job


def _run(job: ImportJob, progress: JobProgress) -> ImportReport:
    reason = gettext("Import %(file)s (job %(id)d)") % {"file": job.original_name, "id": job.pk}
    try:
        source: Any
        try:
            source = job.file.path
        except NotImplementedError:  # a storage without local paths
            source = None
        if source is not None:
            return _import(job, source, progress, reason)
        with job.file.open("rb") as handle:
            return _import(job, handle, progress, reason)
    except ImportRefused as exc:
        return _failure(job, exc.message, "refused")
    except FileNotFoundError:
        return _failure(
            job, gettext("The uploaded file is no longer available. Upload it again."), "file_gone"
        )
    except Exception:
        logger.exception("Import job %s failed", job.pk)
        return _failure(
            job,
            gettext(
                "The import stopped on an unexpected problem and nothing was written. Try again; "
                "if it happens again, tell the administrator (job %(id)d)."
            )
            % {"id": job.pk},
            "crashed",
        )


def _import(job: ImportJob, source: Any, progress: JobProgress, reason: str) -> ImportReport:
    return inmates_import(
        source=source,
        filename=job.original_name,
        facility=job.facility,
        user=job.created_by,
        dry_run=job.dry_run,
        progress=progress,
        change_reason=reason,
    )


def _failure(job: ImportJob, message: str, code: str) -> ImportReport:
    report = ImportReport(filename=job.original_name, facility=job.facility.code, dry_run=job.dry_run)
    report.file_error(message, code)
    return report


def _delete_file(job: ImportJob) -> None:
    if job.file and job.file.name:
        try:
            job.file.storage.delete(job.file.name)
        except OSError:
            logger.warning("Could not delete the upload of import job %s", job.pk)
            return
        ImportJob.objects.filter(pk=job.pk).update(file="")


class JobProgress:
    """Writes a running job's progress where the progress page can read it.

    While checking, an ordinary UPDATE (autocommit) is visible at once. While
    writing, the import holds a transaction: on PostgreSQL the progress goes
    through a second connection so pollers see it move; on SQLite a second
    writer would wait for the import's lock, so the count is updated inside
    the transaction and shows when it commits.
    """

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        self._side = None

    def __call__(self, phase: str, done: int, total: int) -> None:
        connection = transaction.get_connection()
        if phase == "writing" and connection.vendor == "postgresql" and connection.in_atomic_block:
            self._side_update(phase, done, total)
            return
        ImportJob.objects.filter(pk=self.job_id).update(phase=phase, processed_rows=done, total_rows=total)

    def _side_update(self, phase: str, done: int, total: int) -> None:
        try:
            if self._side is None:
                self._side = connections.create_connection(DEFAULT_DB_ALIAS)
            with self._side.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {ImportJob._meta.db_table} SET phase = %s, processed_rows = %s, total_rows = %s "  # noqa: S608
                    "WHERE id = %s",
                    [phase, done, total, self.job_id],
                )
        except Exception:  # progress is best effort: never let it stop an import
            logger.warning("Could not report the progress of import job %s", self.job_id, exc_info=True)

    def close(self) -> None:
        if self._side is not None:
            self._side.close()
            self._side = None
