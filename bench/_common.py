"""Shared plumbing of the benchmarks: throw-away databases, one subprocess per
measurement (so each peak-memory figure belongs to one operation), result tables.

A measurement is a child process ``python <script> --measure NAME ...`` that
sets up Django, does its work, and prints one JSON line with ``seconds`` (the
work only, not the interpreter start-up) and ``peak_mb`` (the process's
maximum resident set size from ``resource.getrusage``, Django included).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
PG_DEFAULT = "postgres://postgres@127.0.0.1:5432/voterreg_bench_imports"


def setup_django(database_url: str | None = None) -> None:
    """Configure Django in this (child) process for the given database."""
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "voterreg.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def peak_mb() -> float:
    """Maximum resident set size of this process so far, in MB (Linux reports KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextmanager
def stopwatch(result: dict[str, Any]):
    """Wall-clock seconds of the block, and this process's CPU seconds (user + system).

    The CPU figure is less disturbed by other work on the machine; it does not
    include the database server's own work (PostgreSQL runs in its own process).
    """
    start, cpu = time.perf_counter(), time.process_time()
    yield
    result["seconds"] = time.perf_counter() - start
    result["cpu_seconds"] = time.process_time() - cpu


def emit(result: dict[str, Any]) -> None:
    """The child's answer: one JSON line on stdout, peak memory added."""
    result["peak_mb"] = round(peak_mb(), 1)
    print("RESULT " + json.dumps(result), flush=True)


def bench_env(database_url: str | None = None) -> dict[str, str]:
    """The children's environment: production settings (DEBUG off keeps Django from
    recording every SQL statement), the given database."""
    env = dict(os.environ)
    env.setdefault("DEBUG", "0")
    env.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production-0123456789")
    env.setdefault("ALLOWED_HOSTS", "localhost")
    env.setdefault("LOG_LEVEL", "WARNING")
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def measure(
    script: Path, name: str, *args: str, database_url: str | None = None, timeout: int = 3600
) -> dict:
    """Run one measurement in a fresh child process and return its JSON result."""
    env = bench_env(database_url)
    command = [PYTHON, str(script), "--measure", name, *args]
    completed = subprocess.run(  # noqa: S603 - our own script
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    for line in completed.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    raise RuntimeError(
        f"measurement {name} failed (exit {completed.returncode}):\n{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}"
    )


def run_manage(*args: str, database_url: str) -> None:
    env = bench_env(database_url)
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True)  # noqa: S603


# --- databases --------------------------------------------------------------------------


@dataclass
class Database:
    label: str
    url: str
    cleanup: Callable[[], None] = field(default=lambda: None)


def fresh_sqlite(workdir: Path) -> Database:
    path = workdir / "bench_imports.sqlite3"
    for suffix in ("", "-journal", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return Database("SQLite", f"sqlite:///{path}")


def fresh_postgres(url: str = PG_DEFAULT) -> Database | None:
    """Drop and create the bench database; None when no server answers."""
    import dj_database_url
    import psycopg2

    config = dj_database_url.parse(url)
    name = config["NAME"]
    if "bench" not in name:
        raise SystemExit(f"Refusing to drop {name!r}: the bench database's name must contain 'bench'.")
    try:
        admin = psycopg2.connect(
            dbname="postgres",
            user=config["USER"],
            password=config["PASSWORD"],
            host=config["HOST"],
            port=config["PORT"] or 5432,
            connect_timeout=3,
        )
    except psycopg2.OperationalError as exc:
        print(f"PostgreSQL not reachable ({exc.__class__.__name__}): skipped")
        return None
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.close()

    return Database("PostgreSQL", url, drop)


# --- output -------------------------------------------------------------------------------


def table(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> str:
    """A Markdown table (pastes straight into docs)."""
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |" for row in cells]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def rate(rows: int, seconds: float) -> str:
    return f"{rows / seconds:,.0f}" if seconds else "-"
