"""Helpers of the scale benchmark's background jobs (``bench/scale.py``, ``child_jobs``).

Every job the benchmark times is the product's own: eligibility of every
facility (``EligibilityRun``), TPS planning and the DPT export over many
facilities (``StationRun``, ``tps.services.runs``, task
``tps.tasks.run_station_job``). The benchmark starts them as a user would and
polls their progress from the run row while the task worker (``db_worker``)
does them. These helpers only choose the facilities and read the row.
"""

from __future__ import annotations

from django.db import close_old_connections
from django.db.models import Sum


def export_facility_codes(*, election, target_rows: int, prefix: str) -> list[str]:
    """Facilities with TPS, in code order, until their voters on TPS reach ``target_rows``.

    The DPT export of these facilities is then (about) ``target_rows`` rows:
    the benchmark's "export of 100,000 DPT rows" without a row limit in the product.
    """
    from tps.models import Tps

    codes: list[str] = []
    rows = 0
    per_facility = (
        Tps.objects.filter(election=election, facility__code__startswith=f"{prefix}-")
        .values("facility__code")
        .annotate(voters=Sum("voter_count"))
        .order_by("facility__code")
    )
    for item in per_facility:
        if rows >= target_rows:
            break
        if item["voters"]:
            codes.append(item["facility__code"])
            rows += item["voters"]
    return codes


def station_run_state(run_id: int) -> dict:
    """The state of a ``StationRun`` for the benchmark's poller: finished?, percent, result or error."""
    from tps.models import StationRun

    close_old_connections()
    row = StationRun.objects.get(pk=run_id)
    state: dict = {
        "finished": row.status in (StationRun.Status.DONE, StationRun.Status.FAILED),
        "status": row.status,
        "percent": row.progress_percent,
    }
    if row.status == StationRun.Status.DONE:
        figures = list(row.result.values())
        errors = sum(1 for item in figures if item.get("error"))
        if row.kind == StationRun.Kind.PLAN:
            state["result"] = {
                "facilities": row.total,
                "voters": row.rows,
                "tps": sum(item.get("tps", 0) for item in figures),
            }
        else:
            state["result"] = {
                "facilities": row.total,
                "rows": row.rows,
                "files": sum(len(item.get("files", [])) for item in figures),
                "bytes": row.output.size if row.output else 0,
            }
        if errors:
            state["result"]["facilities_with_errors"] = errors
    if row.status == StationRun.Status.FAILED:
        state["error"] = row.error[:500]
    return state
