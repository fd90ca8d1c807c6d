"""Benchmark of TPS planning, ballots and DPT export for one large facility.

    DATABASE_URL=sqlite:////tmp/bench_stations.sqlite3 .venv/bin/python bench/stations.py [VOTERS]

Creates (once) a facility with VOTERS projected voters (default 3000) in a
throw-away database given by DATABASE_URL, then times: the first plan, a
re-plan with 50 newcomers, the ballots of every TPS, and the XLSX/CSV/PDF
exports of the whole facility. Prints one line per step.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "voterreg.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

from inmates.models import Facility, Region  # noqa: E402
from tps import dpt_export  # noqa: E402
from tps.services import stations  # noqa: E402


def timed(label: str, func):
    start = time.perf_counter()
    result = func()
    print(f"{label}: {time.perf_counter() - start:.2f} s")
    return result


def main() -> None:
    if "bench" not in str(django.conf.settings.DATABASES["default"]["NAME"]):
        sys.exit("Set DATABASE_URL to a throw-away database whose name contains 'bench'.")
    voters = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    call_command("migrate", verbosity=0)
    if not Region.objects.filter(code="33.16.09.1013").exists():
        from inmates.regions import load_regions

        load_regions(provinces=("33", "35"))
    from tests.stations_support import blora_dapils, bulk_inmates, make_election, make_tps
    from tps.models import Election

    election = Election.objects.filter(code="bench").first()
    if election is None:
        election = make_election(code="bench", name="Bench")
        blora_dapils(election)
    facility, created = Facility.objects.get_or_create(
        code="lapas-bench", defaults={"name": "Lapas Bench", "regency_id": "33.16"}
    )
    if created:
        bulk_inmates(facility, voters, prefix="Bench")
        make_tps(election, facility)
    print(f"{facility.inmates.count()} inmates, election {election.code}")
    timed(
        "plan (first or unchanged)",
        lambda: stations.tps_plan(election=election, facility=facility, user=None),
    )
    bulk_inmates(facility, 50, prefix="Newcomer", start=facility.inmates.count() + 1)
    result = timed(
        "re-plan with 50 newcomers",
        lambda: stations.tps_plan(election=election, facility=facility, user=None),
    )
    print(f"  {len(result.plan.tps)} TPS, moved {len(result.moved)}, added {len(result.added)}")
    timed("ballots of every TPS", lambda: stations.tps_ballots(election=election, facility=facility))
    with tempfile.TemporaryDirectory() as folder:
        for fmt in ("xlsx", "pdf"):
            timed(
                f"export {fmt} (all TPS)",
                lambda fmt=fmt: dpt_export.export_dpt(
                    election=election, facility=facility, fmt=fmt, target=os.path.join(folder, f"dpt.{fmt}")
                ),
            )
        timed(
            "export csv (TPS 901)",
            lambda: dpt_export.export_dpt(
                election=election,
                facility=facility,
                fmt="csv",
                target=os.path.join(folder, "dpt.csv"),
                tps_number="901",
            ),
        )


if __name__ == "__main__":
    main()
