"""Background tasks of the tps app (django-tasks; the database backend needs no extra server)."""

from __future__ import annotations

from django_tasks import task


@task()
def run_eligibility(run_id: int) -> dict:
    """Judge every facility of an EligibilityRun; progress goes to the run row."""
    from tps.services.elections import eligibility_run_execute

    return eligibility_run_execute(run_id)
