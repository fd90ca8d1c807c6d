"""Background tasks of the inmates app (django-tasks; the database backend needs no extra server)."""

from __future__ import annotations

from django_tasks import task


@task()
def run_import_job(job_id: int) -> dict:
    """Check or write one uploaded inmate file; progress goes to the ImportJob row."""
    from inmates.imports_jobs import import_job_run

    job = import_job_run(job_id=job_id)
    if job is None:
        return {"job": job_id, "status": None}
    return {"job": job_id, "status": job.status, "rows": job.total_rows}


@task()
def refresh_custody_statuses() -> dict:
    """Bring every stored custody status up to today, then queue tomorrow's run.

    Tomorrow's run is queued first, so one failing run does not end the cycle.
    """
    from inmates.services import custody_refresh_schedule_next, custody_statuses_refresh

    next_run = custody_refresh_schedule_next()
    changed = custody_statuses_refresh()
    return {"changed": changed, "next_run": next_run.isoformat() if next_run else None}
