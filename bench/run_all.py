"""`make bench`: every feature benchmark in turn, each printing its own figures.

Benchmarks generate their own data at the sizes the issues name; nothing here
is a test and nothing asserts a time. `make bench-scale` (bench/scale.py) is
the national-scale run and is kept separate: it seeds millions of rows.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = [
    (
        "import/export of inmate files (10,000 and 100,000 rows, SQLite and PostgreSQL)",
        ["bench/import_inmates.py"],
    ),
    ("duplicate detection quality and speed", ["bench/dedup.py"]),
    ("TPS planning, ballots and DPT exports", ["bench/stations.py"]),
]


def main() -> int:
    failed = []
    for title, command in BENCHMARKS:
        print(f"\n===== {title}: {' '.join(command)}", flush=True)
        result = subprocess.run([sys.executable, *command], cwd=ROOT, check=False)  # noqa: S603
        if result.returncode:
            failed.append(command[0])
    if failed:
        print(f"\nbenchmarks that failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
