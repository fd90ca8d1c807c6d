"""National-scale benchmark (issue 8): ``make bench-scale``.

    .venv/bin/python bench/scale.py                      # 300,000 inmates, 500 facilities, 2,000,000 DPT rows
    options: [--inmates N --facilities N --dpt N] [--database-url URL] [--reseed] [--requests N]
             [--skip-pages] [--skip-jobs] [--skip-load] [--users 50] [--duration 2m] [--workers N]
             [--json FILE] [--strict]

What it does, on a dedicated PostgreSQL database (default
``postgres://postgres@127.0.0.1:5432/voterreg_scale``; its name must contain
"scale", it is created when missing and never dropped):

1. migrates it and, unless it already holds data of the asked size, fills it
   with ``manage.py seed_scale`` (timed);
2. **pages**, in a child process with production settings (``DEBUG=0``),
   through Django's test client (the whole middleware stack, sessions and
   templates; no network): the admin changelists of inmates, duplicate pairs,
   DPT records and TPS voters, and the dashboard, as the admin and as a KPU
   officer, unfiltered and filtered, plus searches by NIK and by name. Each
   page is requested ``--requests`` times after two warm-up requests; the table
   shows the median and the 95th percentile, and the number of SQL queries of
   one request, which must not change with the page size (10 vs 100 rows per
   page; the dashboard: the admin's 500 facilities vs one KPU regency);
3. **jobs**, through the task worker (``manage.py db_worker`` started here):
   eligibility of every facility (the product's ``EligibilityRun``), TPS
   planning for the busiest regency and for its whole province, and DPT exports
   of 100,000 rows (XLSX and CSV): each timed from enqueueing to the end, with
   its progress sampled while it runs;
4. **load**: gunicorn on 127.0.0.1 with production settings and locust
   (``bench/locustfile.py``) with ``--users`` officers browsing and editing for
   ``--duration``: requests, failures, median and 95th percentile.

Targets (issue 8): pages median < 300 ms and p95 < 800 ms, constant query
count; search < 200 ms; jobs < 60 s; load test without errors and p95 < 1 s.
The results go to the table printed at the end and to ``--json``
(default ``test-output/bench-scale.json``).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import PYTHON, ROOT, emit, table  # noqa: E402

SCRIPT = Path(__file__).resolve()
PG_URL = "postgres://postgres@127.0.0.1:5432/voterreg_scale"
PASSWORD = "scale-bench-2024"  # benchmark accounts of a throw-away database
PREFIX = "scale"
ELECTION = "pilkada-2024"  # seed_scale plans TPS for it
OFFICERS = 10
VENV_BIN = Path(PYTHON).parent

PAGE_MEDIAN, PAGE_P95, SEARCH_MEDIAN, JOB_SECONDS, LOAD_P95 = 0.300, 0.800, 0.200, 60.0, 1.0
SLOW_PAGE_SECONDS = 5.0


# =============================================================================
# Environment and databases
# =============================================================================


def bench_env(database_url: str) -> dict[str, str]:
    """Production settings on the scale database (DEBUG off: no SQL kept in memory)."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        DEBUG="0",
        SECRET_KEY=env.get("SECRET_KEY") or "bench-only-secret-key-not-for-production-0123456789",
        ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        # TLS ends at the proxy in production; here the client says so with X-Forwarded-Proto.
        SECURE_SSL_REDIRECT="0",
        LOG_LEVEL="WARNING",
        # Production serves hashed static files (collectstatic); the benchmark keeps its own copy.
        STATIC_ROOT=str(Path(tempfile.gettempdir()) / "voterreg-bench-scale-static"),
        DJANGO_SETTINGS_MODULE="bench.scale_settings",
    )
    return env


def child(name: str, *args: str, database_url: str, timeout: int = 3600) -> dict:
    """Run ``bench/scale.py --measure NAME`` in a fresh process; its last RESULT line is the answer."""
    completed = subprocess.run(  # noqa: S603 - our own script
        [PYTHON, str(SCRIPT), "--measure", name, *args],
        cwd=ROOT,
        env=bench_env(database_url),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    for line in reversed(completed.stdout.splitlines()):
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    raise RuntimeError(
        f"{name} failed (exit {completed.returncode}):\n{completed.stdout[-3000:]}\n{completed.stderr[-5000:]}"
    )


def ensure_database(url: str) -> None:
    import dj_database_url
    import psycopg2

    config = dj_database_url.parse(url)
    name = config["NAME"]
    if "scale" not in name:
        raise SystemExit(f"Refusing to use {name!r}: the scale database's name must contain 'scale'.")
    connection = psycopg2.connect(
        dbname="postgres",
        user=config["USER"],
        password=config["PASSWORD"],
        host=config["HOST"],
        port=config["PORT"] or 5432,
        connect_timeout=5,
    )
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
            print(f"created database {name}")
    connection.close()


def manage(*args: str, database_url: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603
        [PYTHON, "manage.py", *args], cwd=ROOT, env=bench_env(database_url), check=True, text=True
    )


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "voterreg.settings")
    import django

    django.setup()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


# =============================================================================
# Child: what the database holds
# =============================================================================


def child_status(args: argparse.Namespace) -> None:
    setup_django()
    from inmates.models import DptRecord, DuplicateCandidate, Facility, Inmate, User
    from tps.models import Tps

    facilities = Facility.objects.filter(code__startswith=f"{PREFIX}-")
    emit(
        {
            "facilities": facilities.count(),
            "inmates": Inmate.objects.filter(facility__in=facilities).count(),
            "dpt": DptRecord.objects.filter(dpt_file__name__startswith=f"{PREFIX}_DPT_").count(),
            "candidates": DuplicateCandidate.objects.count(),
            "tps": Tps.objects.filter(facility__in=facilities, election__code=ELECTION).count(),
            "users": User.objects.filter(username__startswith=f"{PREFIX}_").count(),
        }
    )


# =============================================================================
# Child: pages
# =============================================================================


def _scene() -> dict:
    """Users and sample values (a NIK, a name, a DPT file) for the page list."""
    from inmates.models import DptFile, DptRecord, Facility, Inmate, User

    admin = User.objects.get(username=f"{PREFIX}_admin")
    kpu = User.objects.get(username=f"{PREFIX}_kpu")
    rutan = User.objects.get(username=f"{PREFIX}_rutan")
    sample = Inmate.objects.for_user(kpu).exclude(nik=None).order_by("pk").first()
    dpt_sample = DptRecord.objects.for_user(kpu).order_by("pk").first()
    facility = Facility.objects.filter(regency_id=kpu.regency_id, code__startswith=f"{PREFIX}-").first()
    dpt_file = DptFile.objects.filter(regency_id=kpu.regency_id).order_by("pk").first()
    name_words = sample.full_name.split()
    return {
        "users": {"admin": admin, "kpu": kpu, "rutan": rutan},
        "nik": sample.nik,
        "name": " ".join(name_words[:2]).lower(),
        "surname": name_words[-1].lower(),
        "dpt_nik": dpt_sample.nik,
        "dpt_name": dpt_sample.name.split()[0],
        "facility": facility.pk,
        "dpt_file": dpt_file.pk,
    }


def _pages(scene: dict) -> list[dict]:
    """(group, label, user, url, kind): kind "list" (changelist), "search" or "dashboard"."""
    inmates = "/admin/inmates/inmate/"
    pairs = "/admin/inmates/duplicatecandidate/"
    dpt = "/admin/inmates/dptrecord/"
    voters = "/admin/tps/tpsassignment/"
    dashboard = "/elections/dashboard/"
    pages = []
    for who in ("admin", "kpu"):
        pages += [
            ("inmates", "unfiltered", who, inmates, "list"),
            (
                "inmates",
                "filtered (in custody, sentenced)",
                who,
                inmates + "?custody_status__exact=in_custody&custody_type__exact=narapidana",
                "list",
            ),
            (
                "inmates",
                "filtered (one facility)",
                who,
                inmates + f"?facility__id__exact={scene['facility']}",
                "list",
            ),
            ("inmates", "sorted by birth date", who, inmates + "?o=-4", "list"),
            ("duplicate pairs", "unfiltered", who, pairs, "list"),
            (
                "duplicate pairs",
                "filtered (open, DPT)",
                who,
                pairs + "?status__exact=open&kind__exact=dpt",
                "list",
            ),
            ("DPT records", "unfiltered", who, dpt, "list"),
            ("DPT records", "filtered (one file)", who, dpt + f"?dpt_file={scene['dpt_file']}", "list"),
            ("TPS voters", "unfiltered", who, voters, "list"),
            ("dashboard", "default election", who, dashboard, "dashboard"),
            ("dashboard", "pemilu-2024", who, dashboard + "?election=pemilu-2024", "dashboard"),
            ("search", "inmates by NIK", who, inmates + f"?q={scene['nik']}", "search"),
            (
                "search",
                "inmates by name (2 words)",
                who,
                inmates + f"?q={scene['name'].replace(' ', '+')}",
                "search",
            ),
            ("search", "inmates by surname", who, inmates + f"?q={scene['surname']}", "search"),
            ("search", "DPT by NIK", who, dpt + f"?q={scene['dpt_nik']}", "search"),
            ("search", "DPT by name", who, dpt + f"?q={scene['dpt_name']}", "search"),
            ("search", "duplicate pairs by NIK", who, pairs + f"?q={scene['nik']}", "search"),
            ("search", "duplicate pairs by name", who, pairs + f"?q={scene['surname']}", "search"),
        ]
    pages.append(("inmates", "unfiltered", "rutan", inmates, "list"))
    pages.append(("dashboard", "default election", "rutan", dashboard, "dashboard"))
    return [dict(zip(("group", "label", "who", "url", "kind"), page, strict=True)) for page in pages]


def _request(client, url: str) -> tuple[float, int, int]:
    """One timed request (without query capture, which would slow it)."""
    start = time.perf_counter()
    response = client.get(url, secure=True)
    seconds = time.perf_counter() - start
    return seconds, response.status_code, len(response.content)


def _queries(client, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, secure=True)
    assert response.status_code == 200, (url, response.status_code)
    return len(captured.captured_queries)


def _model_admin_for(url: str):
    from django.contrib import admin

    for model, model_admin in admin.site._registry.items():
        if url.startswith(f"/admin/{model._meta.app_label}/{model._meta.model_name}/"):
            return model_admin
    return None


def child_pages(args: argparse.Namespace) -> None:
    setup_django()
    from django.test import Client

    scene = _scene()
    clients = {}
    for who, user in scene["users"].items():
        clients[who] = Client()
        clients[who].force_login(user)
    results = []
    wanted = re.compile(args.pages or ".")
    for page in _pages(scene):
        if not wanted.search(f"{page['group']} {page['label']} {page['who']}"):
            continue
        client = clients[page["who"]]
        warm = [_request(client, page["url"])[0] for _warm in range(2)]
        # A page that takes many seconds is measured 3 times, not N (its figure is clear enough).
        samples = args.requests if min(warm) < SLOW_PAGE_SECONDS else 3
        timings, statuses = [], set()
        for _number in range(samples):
            seconds, status, size = _request(client, page["url"])
            timings.append(seconds)
            statuses.add(status)
        page.update(
            samples=samples,
            median=statistics.median(timings),
            p95=percentile(timings, 0.95),
            statuses=sorted(statuses),
            bytes=size,
            queries=_queries(client, page["url"]),
        )
        # The same page with 10 and with 100 rows: the query count must not change.
        model_admin = _model_admin_for(page["url"])
        if page["kind"] == "list" and model_admin is not None:
            original = model_admin.list_per_page
            counts = []
            for per_page in (10, 100):
                model_admin.list_per_page = per_page
                counts.append(_queries(client, page["url"]))
            model_admin.list_per_page = original
            page["queries_by_size"] = counts
        print(
            f"{page['group']:16} {page['label']:34} {page['who']:6} "
            f"median {page['median'] * 1000:6.0f} ms  p95 {page['p95'] * 1000:6.0f} ms  "
            f"{page['queries']} queries {page.get('queries_by_size', '')}",
            file=sys.stderr,
            flush=True,
        )
        page.pop("url")
        results.append(page)
    # The dashboard: the admin's whole country against one KPU regency and one facility.
    dashboard_queries = {
        page["who"]: page["queries"]
        for page in results
        if page["group"] == "dashboard" and page["label"] == "default election"
    }
    emit({"pages": results, "dashboard_queries": dashboard_queries, "requests": args.requests})


# =============================================================================
# Child: background jobs
# =============================================================================


class Worker:
    """``manage.py db_worker`` for the duration of the jobs."""

    def __init__(self, log: Path) -> None:
        self.log = log.open("w")
        self.process = subprocess.Popen(  # noqa: S603
            [PYTHON, "manage.py", "db_worker", "--interval", "0.2", "--no-startup-delay", "--no-reload"],
            cwd=ROOT,
            env=dict(os.environ),
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def _follow(poll, *, timeout: float = 900.0) -> dict:
    """Poll a job until it ends; returns its seconds, final state and progress samples."""
    start = time.perf_counter()
    samples: list[tuple[float, int]] = []
    while True:
        state = poll()
        elapsed = time.perf_counter() - start
        percent = state.get("percent")
        if percent is not None and (not samples or samples[-1][1] != percent):
            samples.append((round(elapsed, 1), percent))
        if state["finished"]:
            state.update(seconds=elapsed, progress=samples)
            return state
        if elapsed > timeout:
            state.update(seconds=elapsed, progress=samples, error="timed out")
            return state
        time.sleep(0.25)


def child_jobs(args: argparse.Namespace) -> None:
    setup_django()
    from django.db import close_old_connections

    from bench.scale_jobs import export_facility_codes, station_run_state
    from inmates.models import Facility, User
    from tps.models import Election, StationRun
    from tps.models.voterlists import EligibilityRun
    from tps.services.elections import eligibility_run_start
    from tps.services.runs import station_run_start

    admin = User.objects.get(username=f"{PREFIX}_admin")
    kpu = User.objects.get(username=f"{PREFIX}_kpu")
    election = Election.objects.get(code=ELECTION)
    regency_codes = list(
        Facility.objects.filter(regency_id=kpu.regency_id, code__startswith=f"{PREFIX}-").values_list(
            "code", flat=True
        )
    )
    # The province with the most facilities (at national scale: several dozen).
    by_province: dict[str, list[str]] = {}
    for code, regency_id in Facility.objects.filter(code__startswith=f"{PREFIX}-").values_list(
        "code", "regency_id"
    ):
        by_province.setdefault(regency_id.split(".")[0], []).append(code)
    province, province_codes = max(by_province.items(), key=lambda item: (len(item[1]), item[0]))
    workdir = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    worker = Worker(workdir / "worker.log")
    jobs = []
    try:
        # 1. Eligibility of every facility: the product's own background job.
        run = eligibility_run_start(election=election, user=admin)

        def poll_eligibility() -> dict:
            close_old_connections()
            row = EligibilityRun.objects.get(pk=run.pk)
            state = {
                "finished": row.status in (EligibilityRun.Status.DONE, EligibilityRun.Status.FAILED),
                "status": row.status,
                "percent": row.progress_percent,
            }
            if row.status == EligibilityRun.Status.DONE:
                totals: dict[str, int] = {}
                for figures in row.result.values():
                    for key in ("eligible", "not_eligible", "needs_data"):
                        totals[key] = totals.get(key, 0) + figures.get(key, 0)
                state["result"] = {"facilities": len(row.result), **totals}
            if row.status == EligibilityRun.Status.FAILED:
                state["error"] = row.error[:500]
            return state

        state = _follow(poll_eligibility)
        jobs.append({"job": "eligibility, every facility (EligibilityRun)", **state})
        print(f"eligibility: {state['seconds']:.1f} s {state.get('result')}", file=sys.stderr, flush=True)

        # 2. TPS planning (StationRun): the busiest regency as its KPU officer, then its whole
        #    province as the admin (the admin's scope narrowed to the province's facilities).
        for label, kwargs in (
            (
                f"TPS planning, regency {kpu.regency_id} (facilities: {len(regency_codes)})",
                {"user": kpu, "regency": kpu.regency_id},
            ),
            (
                f"TPS planning, province {province} (facilities: {len(province_codes)})",
                {"user": admin, "facilities": province_codes},
            ),
        ):
            station_run = station_run_start(kind="plan", election=election, **kwargs)
            state = _follow(lambda run_id=station_run.pk: station_run_state(run_id))
            jobs.append({"job": label, **state})
            print(f"{label}: {state['seconds']:.1f} s {state.get('result')}", file=sys.stderr, flush=True)

        # 3. DPT exports of 100,000 rows (StationRun, ZIP of the per-facility files): the admin
        #    exports the facilities, in code order, whose voters on TPS make up that many rows.
        export_codes = export_facility_codes(election=election, target_rows=args.export_rows, prefix=PREFIX)
        for fmt in ("xlsx", "csv"):
            station_run = station_run_start(
                kind="export", election=election, user=admin, facilities=export_codes, fmt=fmt
            )
            state = _follow(lambda run_id=station_run.pk: station_run_state(run_id))
            # Measured (its size is in the result): the ZIP need not stay in MEDIA_ROOT after each run.
            StationRun.objects.get(pk=station_run.pk).output.delete(save=True)
            label = (
                f"DPT export {args.export_rows:,} rows, {fmt.upper()} (masked, "
                f"facilities: {len(export_codes)})"
            )
            jobs.append({"job": label, **state})
            print(f"{label}: {state['seconds']:.1f} s {state.get('result')}", file=sys.stderr, flush=True)
    finally:
        worker.stop()
    emit({"jobs": jobs})


# =============================================================================
# Load test: gunicorn + locust
# =============================================================================


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    request = urllib.request.Request(url, headers={"X-Forwarded-Proto": "https"})  # noqa: S310 - 127.0.0.1
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"gunicorn did not answer on {url}")


def run_load(args: argparse.Namespace, database_url: str) -> dict:
    port = args.port or _free_port()
    host = f"http://127.0.0.1:{port}"
    workdir = Path(tempfile.mkdtemp(prefix="bench-scale-load-"))
    env = bench_env(database_url)
    env.update(SCALE_PASSWORD=PASSWORD, SCALE_PREFIX=PREFIX, SCALE_OFFICERS=str(OFFICERS))
    server_log = (workdir / "gunicorn.log").open("w")
    server = subprocess.Popen(  # noqa: S603
        [
            str(VENV_BIN / "gunicorn"),
            "voterreg.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(args.workers),
            "--timeout",
            "120",
        ],
        cwd=ROOT,
        env=env,
        stdout=server_log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_for(f"{host}/admin/login/")
        started = time.perf_counter()
        subprocess.run(  # noqa: S603
            [
                str(VENV_BIN / "locust"),
                "-f",
                str(ROOT / "bench" / "locustfile.py"),
                "--headless",
                "--users",
                str(args.users),
                "--spawn-rate",
                str(args.spawn_rate),
                "--run-time",
                args.duration,
                "--host",
                host,
                "--csv",
                str(workdir / "load"),
                "--only-summary",
                "--stop-timeout",
                "10",
                "--exit-code-on-error",
                "0",
                "--loglevel",
                "WARNING",
            ],
            cwd=ROOT,
            env=env,
            check=True,
            timeout=3600,
        )
        seconds = time.perf_counter() - started
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        server_log.close()
    rows = list(csv.DictReader((workdir / "load_stats.csv").open(encoding="utf-8")))
    endpoints = []
    total = {}
    for row in rows:
        item = {
            "name": row["Name"],
            "method": row["Type"],
            "requests": int(row["Request Count"]),
            "failures": int(row["Failure Count"]),
            "median_ms": float(row["Median Response Time"] or 0),
            "p95_ms": float(row["95%"] or 0) if row["95%"] != "N/A" else 0.0,
            "rps": float(row["Requests/s"] or 0),
        }
        if row["Name"] == "Aggregated":
            total = item
        else:
            endpoints.append(item)
    failures = []
    failures_path = workdir / "load_failures.csv"
    if failures_path.exists():
        failures = list(csv.DictReader(failures_path.open(encoding="utf-8")))
    return {
        "users": args.users,
        "duration": args.duration,
        "workers": args.workers,
        "seconds": round(seconds, 1),
        "total": total,
        "endpoints": endpoints,
        "failures": failures[:20],
        "logs": str(workdir),
    }


# =============================================================================
# Report
# =============================================================================


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def report(results: dict) -> tuple[str, list[str]]:
    lines, missed = [], []
    seed = results.get("seed")
    if seed:
        lines.append(f"Seed: {seed['seconds']:.0f} s ({json.dumps(seed.get('steps', {}))})")
    status = results.get("status", {})
    lines.append(
        "Data: {inmates:,} inmates, {facilities:,} facilities, {dpt:,} DPT rows, {candidates:,} duplicate "
        "pairs, {tps:,} TPS".format(**status)
    )
    pages = results.get("pages")
    if pages:
        rows = []
        for page in pages["pages"]:
            search = page["kind"] == "search"
            ok = (
                page["median"] < SEARCH_MEDIAN
                if search
                else page["median"] < PAGE_MEDIAN and page["p95"] < PAGE_P95
            )
            sizes = page.get("queries_by_size")
            constant = sizes is None or sizes[0] == sizes[1]
            ok = ok and constant and page["statuses"] == [200]
            if not ok:
                missed.append(f"{page['group']} {page['label']} ({page['who']})")
            rows.append(
                [
                    page["group"],
                    page["label"],
                    page["who"],
                    f"{page['median'] * 1000:.0f}",
                    f"{page['p95'] * 1000:.0f}" + ("" if page.get("samples", 30) > 3 else " (3 runs)"),
                    page["queries"],
                    f"{sizes[0]} / {sizes[1]}" if sizes else "-",
                    verdict(ok),
                ]
            )
        lines.append("")
        lines.append(
            f"Pages ({pages['requests']} requests each after 2 warm-up; targets: median < 300 ms, "
            "p95 < 800 ms, search median < 200 ms, queries constant)"
        )
        lines.append(
            table(
                rows,
                [
                    "page",
                    "variant",
                    "user",
                    "median ms",
                    "p95 ms",
                    "queries",
                    "queries 10 / 100 rows",
                    "target",
                ],
            )
        )
        counts = pages["dashboard_queries"]
        if counts:
            lines.append(
                "Dashboard queries by scope (admin: every facility, KPU: one regency, Rutan: one facility; "
                "the ballots are read in batches of 250 TPS, two queries each): "
                + ", ".join(f"{who} {count}" for who, count in counts.items())
            )
    jobs = results.get("jobs")
    if jobs:
        rows = []
        for job in jobs["jobs"]:
            ok = job["seconds"] < JOB_SECONDS and not job.get("error")
            if not ok:
                missed.append(job["job"])
            steps = ", ".join(
                f"{percent}%@{at:.0f}s"
                for at, percent in job["progress"][:: max(1, len(job["progress"]) // 5)]
            )
            rows.append(
                [job["job"], f"{job['seconds']:.1f}", json.dumps(job.get("result")), steps, verdict(ok)]
            )
        lines.append("")
        lines.append("Background jobs (task worker; enqueue to finish; target < 60 s)")
        lines.append(table(rows, ["job", "seconds", "result", "progress seen", "target"]))
    load = results.get("load")
    if load:
        total = load["total"]
        ok = total.get("failures", 1) == 0 and total.get("p95_ms", 1e9) < LOAD_P95 * 1000
        if not ok:
            missed.append("load test")
        lines.append("")
        lines.append(
            f"Load test: {load['users']} users for {load['duration']} against gunicorn ({load['workers']} workers) "
            f"on 127.0.0.1; targets: no errors, p95 < 1 s"
        )
        rows = [
            [
                item["method"],
                item["name"],
                item["requests"],
                item["failures"],
                f"{item['median_ms']:.0f}",
                f"{item['p95_ms']:.0f}",
            ]
            for item in [*load["endpoints"], total]
        ]
        lines.append(table(rows, ["method", "request", "count", "failures", "median ms", "p95 ms"]))
        lines.append(f"load test {verdict(ok)}: {total.get('rps', 0):.1f} requests/s")
        for failure in load["failures"]:
            lines.append(f"  failure: {failure}")
    return "\n".join(lines), missed


# =============================================================================
# Main
# =============================================================================


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--inmates", type=int, default=300_000)
    parser.add_argument("--facilities", type=int, default=500)
    parser.add_argument("--dpt", type=int, default=2_000_000)
    parser.add_argument("--database-url", default=os.environ.get("SCALE_DATABASE_URL", PG_URL))
    parser.add_argument("--reseed", action="store_true", help="Seed again even if the data is there.")
    parser.add_argument("--requests", type=int, default=30, help="Timed requests per page (default 30).")
    parser.add_argument("--export-rows", type=int, default=100_000)
    parser.add_argument("--pages", help="Only the pages whose 'group variant user' matches this regex.")
    parser.add_argument("--skip-pages", action="store_true")
    parser.add_argument("--skip-jobs", action="store_true")
    parser.add_argument("--skip-load", action="store_true")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--spawn-rate", type=float, default=5)
    parser.add_argument("--duration", default="2m")
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 2) * 2 + 1)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--json", default=str(ROOT / "test-output" / "bench-scale.json"))
    parser.add_argument("--strict", action="store_true", help="Exit 1 when a target is missed.")
    args = parser.parse_args()

    if args.measure == "status":
        return child_status(args) or 0
    if args.measure == "pages":
        return child_pages(args) or 0
    if args.measure == "jobs":
        return child_jobs(args) or 0

    url = args.database_url
    ensure_database(url)
    manage("migrate", "--noinput", "-v", "0", database_url=url)
    manage("collectstatic", "--noinput", "-v", "0", database_url=url)
    results: dict = {
        "sizes": {"inmates": args.inmates, "facilities": args.facilities, "dpt": args.dpt},
        "machine": {"cpus": os.cpu_count(), "load_before": os.getloadavg()},
    }
    status = child("status", database_url=url)
    wanted = {"inmates": args.inmates, "facilities": args.facilities, "dpt": args.dpt}
    if args.reseed or any(status[key] != value for key, value in wanted.items()) or not status["tps"]:
        print(f"seeding {wanted} into {url} ...", flush=True)
        started = time.perf_counter()
        completed = subprocess.run(  # noqa: S603
            [
                PYTHON,
                "manage.py",
                "seed_scale",
                f"--inmates={args.inmates}",
                f"--facilities={args.facilities}",
                f"--dpt={args.dpt}",
                f"--password={PASSWORD}",
                f"--officers={OFFICERS}",
                "--json",
            ],
            cwd=ROOT,
            env=bench_env(url),
            stdout=subprocess.PIPE,
            text=True,
            check=True,
        )
        seeded = json.loads(completed.stdout.strip().splitlines()[-1])
        results["seed"] = {"seconds": time.perf_counter() - started, "steps": seeded["seconds"]}
        status = child("status", database_url=url)
    results["status"] = status
    print(f"data: {status}", flush=True)

    if not args.skip_pages:
        print("measuring pages ...", flush=True)
        page_args = [f"--requests={args.requests}"] + ([f"--pages={args.pages}"] if args.pages else [])
        results["pages"] = child("pages", *page_args, database_url=url)
    if not args.skip_jobs:
        print("running background jobs ...", flush=True)
        results["jobs"] = child("jobs", f"--export-rows={args.export_rows}", database_url=url)
    if not args.skip_load:
        print(f"load test: {args.users} users for {args.duration} ...", flush=True)
        results["load"] = run_load(args, url)
    results["machine"]["load_after"] = os.getloadavg()

    text, missed = report(results)
    print()
    print(text)
    print()
    print(
        "machine: {cpus} CPUs, load average before {before}, after {after}".format(
            cpus=os.cpu_count(),
            before=", ".join(f"{x:.1f}" for x in results["machine"]["load_before"]),
            after=", ".join(f"{x:.1f}" for x in results["machine"]["load_after"]),
        )
    )
    print("all targets met" if not missed else "targets missed: " + "; ".join(missed))
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(results, indent=1, default=str), encoding="utf-8")
    print(f"results: {args.json}")
    return 1 if (missed and args.strict) else 0


if __name__ == "__main__":
    sys.exit(main())
