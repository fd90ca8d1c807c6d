"""Background jobs the scale benchmark runs through the task worker (django-tasks, database backend).

Eligibility of every facility is the product's own job (``EligibilityRun``,
``tps.tasks.run_eligibility``, with its progress row). TPS planning for a
regency and a DPT export over many facilities have no background job in the
product yet: these two tasks run the product's services
(``tps.services.stations.tps_plan``, ``tps.dpt_export.export_dpt``) facility by
facility in the worker, the way such a job would, and report their progress to
a small JSON file the benchmark polls (the product would keep it in a run row,
as ``EligibilityRun`` does).

The worker imports this module as ``bench.scale_jobs`` (run it from the
repository root).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from django_tasks import task


def write_progress(path: str, **values) -> None:
    """Replace the progress file atomically (the poller never reads half a file)."""
    target = Path(path)
    temporary = target.with_suffix(".tmp")
    temporary.write_text(json.dumps({**values, "at": time.time()}), encoding="utf-8")
    os.replace(temporary, target)


@task()
def plan_facilities(*, election_code: str, facility_codes: list[str], progress_path: str) -> dict:
    """Plan the TPS of these facilities (a regency's, a province's) one after another."""
    from inmates.models import Facility
    from tps.models import Election
    from tps.services import stations

    election = Election.objects.get(code=election_code)
    facilities = list(Facility.objects.filter(code__in=facility_codes).order_by("code"))
    voters = tps_count = 0
    write_progress(progress_path, done=0, total=len(facilities), voters=0, status="running")
    for done, facility in enumerate(facilities, start=1):
        result = stations.tps_plan(election=election, facility=facility, user=None)
        voters += len(result.plan.assignments)
        tps_count += len(result.plan.tps)
        write_progress(progress_path, done=done, total=len(facilities), voters=voters, status="running")
    summary = {"facilities": len(facilities), "voters": voters, "tps": tps_count}
    write_progress(progress_path, done=len(facilities), total=len(facilities), status="done", **summary)
    return summary


@task()
def export_dpt_rows(
    *, election_code: str, target_rows: int, fmt: str, directory: str, progress_path: str
) -> dict:
    """Export the DPT (voters per TPS) of facility after facility until ``target_rows`` rows are written."""
    from inmates.models import Facility
    from tps import dpt_export
    from tps.models import Election, Tps

    election = Election.objects.get(code=election_code)
    with_tps = Tps.objects.filter(election=election).values("facility_id")
    facilities = Facility.objects.filter(pk__in=with_tps).order_by("code")
    rows = files = 0
    write_progress(progress_path, done=0, total=target_rows, status="running")
    for facility in facilities.iterator():
        if rows >= target_rows:
            break
        # XLSX and PDF hold every TPS of the facility; a CSV holds one TPS.
        numbers = (
            list(Tps.objects.filter(election=election, facility=facility).values_list("number", flat=True))
            if fmt == "csv"
            else [None]
        )
        for number in numbers:
            target = Path(directory) / dpt_export.filename_for(
                election=election, facility=facility, fmt=fmt, tps_number=number, full_nik=False
            )
            rows += dpt_export.export_dpt(
                election=election, facility=facility, fmt=fmt, target=target, tps_number=number
            )
            files += 1
        write_progress(progress_path, done=min(rows, target_rows), total=target_rows, status="running")
    size = sum(path.stat().st_size for path in Path(directory).iterdir() if path.is_file())
    summary = {"rows": rows, "files": files, "bytes": size}
    write_progress(progress_path, done=target_rows, total=target_rows, status="done", **summary)
    return summary
