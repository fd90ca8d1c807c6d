"""Background tasks of the tps app (django-tasks; the database backend needs no extra server)."""

from __future__ import annotations

from django_tasks import task


@task()
def run_eligibility(run_id: int) -> dict:
    """Judge every facility of an EligibilityRun; progress goes to the run row."""
    from tps.services.elections import eligibility_run_execute

    return eligibility_run_execute(run_id)


@task()
def refresh_dashboard(election_id: int) -> dict:
    """Recompute the national dashboard's snapshot of one election (``tps.dashboard``)."""
    from django.utils import timezone

    from tps.dashboard import compute_snapshot
    from tps.models import Election

    election = Election.objects.filter(pk=election_id).first()
    if election is None:
        return {"election": None}
    snapshot = compute_snapshot(election, timezone.localdate())
    return {"election": election.code, "facilities": len(snapshot.figures), "seconds": snapshot.seconds}


@task()
def run_station_job(run_id: int) -> dict:
    """Plan or export every facility of a StationRun; progress goes to the run row."""
    from tps.services.runs import station_run_execute

    return station_run_execute(run_id)
