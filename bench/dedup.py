"""Benchmark of duplicate detection (issue #4, "Quality and speed").

    .venv/bin/python bench/dedup.py                       # 20,000 inmates / 50 facilities / 200,000 DPT rows
    .venv/bin/python bench/dedup.py --inmates 300000 --facilities 500 --dpt 2000000
    options: [--seed N] [--database-url URL] [--sqlite] [--reuse] [--workdir DIR]

Generates a register and a DPT with planted duplicates (``bench/dedup_generator.py``),
then runs the detection service exactly as ``find_duplicates --against-dpt`` does
(every inmate pair, every inmate in custody against every DPT row, the review
queue written) in a child process of its own, and reports:

* precision, recall and F1 for inmate pairs and for inmate↔DPT matches, at
  the match threshold (a pair counts as found when it scores at least
  ``MATCH_THRESHOLD``; pairs in the review band below it, such as possible
  twins, count as not found), and recall at the review threshold;
* the time of the whole run and of its steps, and the peak memory (maximum
  resident set size of the detection process, Django included).

Database: PostgreSQL ``postgres://postgres@127.0.0.1:5432/voterreg_bench_dedup_<inmates>_<dpt>``
(created if missing, one per size) when a server answers, else a SQLite file in the work
directory; ``--database-url`` picks another (its name must contain "bench").
``--reuse`` keeps the generated data of an earlier run with the same
parameters (generation of the national size takes a few minutes).
Targets: precision ≥ 0.98 and recall ≥ 0.95 on both; 300,000 × 2,000,000 in
under 2 minutes and 2 GB on PostgreSQL.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import PYTHON, ROOT, emit, measure, setup_django, table  # noqa: E402

SCRIPT = Path(__file__).resolve()
# One database per size, so that --reuse keeps each size's data.
PG_URL = "postgres://postgres@127.0.0.1:5432/voterreg_bench_dedup_{inmates}_{dpt}"


# =============================================================================
# Child processes
# =============================================================================


def child_generate(args: argparse.Namespace) -> None:
    setup_django()
    from bench.dedup_generator import generate

    started = time.perf_counter()
    truth = generate(
        inmates=args.inmates,
        facilities=args.facilities,
        dpt=args.dpt,
        seed=args.seed,
        log=lambda message: print(message, file=sys.stderr, flush=True),
    )
    seconds = time.perf_counter() - started
    truth.save(Path(args.truth))
    emit({"seconds": round(seconds, 1), "counts": truth.counts})


class TreeMemory(threading.Thread):
    """Samples the memory of this process and its workers: peak of the summed PSS and RSS.

    PSS (proportional set size) shares each page among the processes mapping
    it, so forked workers sharing the inmate index are not counted twice;
    the RSS sum counts shared pages once per process (an upper bound).
    """

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak_pss_mb = 0.0
        self.peak_rss_sum_mb = 0.0
        self.stopped = threading.Event()

    @staticmethod
    def _tree(pid: int) -> list[int]:
        pids = [pid]
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                children = Path(f"/proc/{pid}/task/{tid}/children").read_text().split()
            except OSError:
                continue
            for child in children:
                pids += TreeMemory._tree(int(child))
        return pids

    def sample(self) -> None:
        pss = rss = 0
        for pid in self._tree(os.getpid()):
            try:
                text = Path(f"/proc/{pid}/smaps_rollup").read_text()
            except OSError:
                continue
            for line in text.splitlines():
                if line.startswith("Pss:"):
                    pss += int(line.split()[1])
                elif line.startswith("Rss:"):
                    rss += int(line.split()[1])
        self.peak_pss_mb = max(self.peak_pss_mb, pss / 1024)
        self.peak_rss_sum_mb = max(self.peak_rss_sum_mb, rss / 1024)

    def run(self) -> None:
        while not self.stopped.wait(0.25):
            try:
                self.sample()
            except OSError:
                continue


def child_import(args: argparse.Namespace) -> None:
    """Load a generated DPT CSV with the import service (as ``import_dpt``), then remove it again."""
    setup_django()
    from inmates.dpt_import import dpt_file_delete, dpt_import, resolve_regency

    regency = resolve_regency("33.16")
    started = time.perf_counter()
    result = dpt_import(path=args.csv, regency=regency, user=None, filename="bench_import_DPT.csv")
    seconds = time.perf_counter() - started
    dpt_file_delete(dpt_file=result.dpt_file, user=None)
    emit({"seconds": round(seconds, 1), "rows": result.rows})


def write_dpt_csv(path: Path, rows: int, seed: int, database_url: str) -> None:
    """A KPU-style DPT export of Kab. Blora (semicolons, dates as DD-MM-YYYY) with ``rows`` voters."""
    import csv
    import random

    setup_django(database_url)
    from bench.dedup_generator import People, _villages

    villages = {code: codes for code, codes in _villages().items() if code == "33.16"}
    people = People(random.Random(seed), villages)
    from inmates.dpt_import import COLUMNS

    header = [spec.label for spec in COLUMNS]  # the headers of KPU's export
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(header)
        for _number in range(rows):
            p = people.person("33.16")
            writer.writerow(
                [
                    p.nkk,
                    p.nik,
                    p.name.upper(),
                    p.birth_place.upper(),
                    p.birth_date.strftime("%d-%m-%Y"),
                    p.sex,
                    "S",
                    "Dk. Krajan",
                    "001",
                    "002",
                    p.village,
                    "007",
                ]
            )


def child_detect(args: argparse.Namespace) -> None:
    setup_django()
    from django.db import connection

    from inmates import dedup
    from inmates.models import DuplicateCandidate

    with connection.cursor() as cursor:
        # A run from scratch: every pair is new.
        cursor.execute(f"DELETE FROM {DuplicateCandidate._meta.db_table}")
        cursor.execute(f"DELETE FROM {DuplicateCandidate.history.model._meta.db_table}")
    phases: dict[str, float] = {}
    memory = TreeMemory()
    memory.start()
    cpu_before = os.times()
    started = time.perf_counter()

    def progress(phase: str, done: int, total: int) -> None:
        phases.setdefault(phase, time.perf_counter() - started)

    result = dedup.duplicates_detect(against_dpt=True, progress=progress)
    seconds = time.perf_counter() - started
    cpu_after = os.times()
    memory.stopped.set()
    memory.sample()
    # CPU seconds of this process and its (joined) workers: unlike the wall
    # time, hardly affected by other work on the machine.
    cpu = sum(
        getattr(cpu_after, f) - getattr(cpu_before, f)
        for f in ("user", "system", "children_user", "children_system")
    )
    document = dedup.pairs_as_json(result.pairs)
    Path(args.pairs).write_text(json.dumps(document), encoding="utf-8")
    marks = sorted(phases.items(), key=lambda item: item[1]) + [("end", seconds)]
    steps = {name: round(marks[i + 1][1] - at, 1) for i, (name, at) in enumerate(marks[:-1])}
    emit(
        {
            "seconds": round(seconds, 1),
            "cpu_seconds": round(cpu, 1),
            "steps": steps,
            "counts": result.counts(),
            "tree_pss_mb": round(memory.peak_pss_mb, 1),
            "tree_rss_sum_mb": round(memory.peak_rss_sum_mb, 1),
            "load_average": os.getloadavg(),
        }
    )


# =============================================================================
# Evaluation
# =============================================================================


def _key(a: list | tuple, b: list | tuple) -> tuple:
    a, b = tuple(a), tuple(b)
    return (a, b) if a <= b else (b, a)


def evaluate(truth_path: Path, pairs_path: Path) -> dict:
    from inmates.matching import MATCH_THRESHOLD

    truth = json.loads(truth_path.read_text(encoding="utf-8"))
    found = json.loads(pairs_path.read_text(encoding="utf-8"))["pairs"]
    true_inmate = {_key(p[:2], p[2:]) for p in truth["inmate_pairs"]}
    true_dpt = {((p[0], p[1]), (p[2], str(p[3]))) for p in truth["dpt_pairs"]}
    predicted = {"inmate": {}, "dpt": {}}
    twins_flagged = 0
    for pair in found:
        a = (pair["a"]["facility"], pair["a"]["registration_number"])
        if "dpt_file" in pair["b"]:
            key = (a, (pair["b"]["dpt_file"], str(pair["b"]["line"])))
            predicted["dpt"][key] = pair
        else:
            key = _key(a, (pair["b"]["facility"], pair["b"]["registration_number"]))
            predicted["inmate"][key] = pair
        twins_flagged += "possible_twins" in pair["reasons"]
    report = {"threshold": MATCH_THRESHOLD, "twins_flagged_for_review": twins_flagged}
    for kind, true in (("inmate", true_inmate), ("dpt", true_dpt)):
        matched = {k for k, p in predicted[kind].items() if p["score"] >= MATCH_THRESHOLD}
        reviewed = set(predicted[kind])
        tp = len(matched & true)
        precision = tp / len(matched) if matched else 1.0
        recall = tp / len(true) if true else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        report[kind] = {
            "true": len(true),
            "predicted": len(matched),
            "true_positives": tp,
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(f1, 4),
            "review_band": len(reviewed) - len(matched),
            "recall_with_review_band": round(len(reviewed & true) / len(true), 4) if true else 1.0,
        }
        missed = sorted(true - matched)[:5]
        wrong = sorted(matched - true)[:5]
        report[kind]["examples_missed"] = [list(map(list, m)) for m in missed]
        report[kind]["examples_false"] = [
            {
                "pair": list(map(list, w)),
                "reasons": predicted[kind][w]["reasons"],
                "score": predicted[kind][w]["score"],
            }
            for w in wrong
        ]
    return report


# =============================================================================
# The run
# =============================================================================


def _database(args: argparse.Namespace, workdir: Path) -> tuple[str, str]:
    if args.database_url:
        url = args.database_url
    elif args.sqlite:
        url = f"sqlite:///{workdir / 'dedup_bench.sqlite3'}"
    else:
        url = PG_URL.format(inmates=args.inmates, dpt=args.dpt)
    if not url.startswith("postgres"):
        return "SQLite", url
    import dj_database_url
    import psycopg2

    config = dj_database_url.parse(url)
    if "bench" not in config["NAME"]:
        raise SystemExit("The benchmark database's name must contain 'bench'.")
    try:
        admin = psycopg2.connect(
            dbname="postgres",
            user=config["USER"],
            password=config["PASSWORD"],
            host=config["HOST"],
            port=config["PORT"] or 5432,
            connect_timeout=3,
        )
    except psycopg2.OperationalError:
        if args.database_url:
            raise
        print("PostgreSQL not reachable: using SQLite")
        return "SQLite", f"sqlite:///{workdir / 'dedup_bench.sqlite3'}"
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{config["NAME"]}"')
    admin.close()
    return "PostgreSQL", url


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--inmates", type=int, default=20_000)
    parser.add_argument("--facilities", type=int, default=50)
    parser.add_argument("--dpt", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database-url")
    parser.add_argument("--sqlite", action="store_true", help="Use a SQLite file instead of PostgreSQL.")
    parser.add_argument(
        "--reuse", action="store_true", help="Keep data generated by an earlier run with these parameters."
    )
    parser.add_argument("--workdir", default=str(ROOT / "test-output" / "bench-dedup"))
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--truth", help=argparse.SUPPRESS)
    parser.add_argument("--pairs", help=argparse.SUPPRESS)
    parser.add_argument("--csv", help=argparse.SUPPRESS)
    parser.add_argument(
        "--import-rows",
        type=int,
        default=0,
        help="Also time import_dpt on a generated CSV of this many rows (e.g. 2000000).",
    )
    args = parser.parse_args()
    if args.measure == "generate":
        return child_generate(args)
    if args.measure == "import":
        return child_import(args)
    if args.measure == "detect":
        return child_detect(args)

    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    label, url = _database(args, workdir)
    subprocess.run(
        [PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        check=True,
        env={**os.environ, "DATABASE_URL": url},
    )
    size = f"{args.inmates}-{args.facilities}-{args.dpt}-{args.seed}-{label.lower()}"
    truth_path = workdir / f"truth-{size}.json"
    pairs_path = workdir / f"pairs-{size}.json"
    options = [
        "--inmates",
        str(args.inmates),
        "--facilities",
        str(args.facilities),
        "--dpt",
        str(args.dpt),
        "--seed",
        str(args.seed),
    ]
    print(
        f"{label}: {args.inmates:,} inmates in {args.facilities} facilities, {args.dpt:,} DPT rows (seed {args.seed})"
    )
    if args.reuse and truth_path.exists():
        generated = {"seconds": "reused", "peak_mb": "-"}
    else:
        generated = measure(
            SCRIPT, "generate", *options, "--truth", str(truth_path), database_url=url, timeout=7200
        )
        print(
            f"generated in {generated['seconds']} s (peak {generated['peak_mb']} MB): {generated['counts']}"
        )
    detected = measure(SCRIPT, "detect", *options, "--pairs", str(pairs_path), database_url=url, timeout=7200)
    quality = evaluate(truth_path, pairs_path)
    rows = []
    for kind, label_kind in (("inmate", "inmate pairs"), ("dpt", "inmate↔DPT")):
        q = quality[kind]
        rows.append(
            [
                label_kind,
                f"{q['true']:,}",
                f"{q['predicted']:,}",
                q["precision"],
                q["recall"],
                q["f1"],
                f"{q['review_band']:,}",
                q["recall_with_review_band"],
            ]
        )
    print()
    print(
        table(
            rows,
            [
                "",
                "true pairs",
                "found ≥ 0.80",
                "precision",
                "recall",
                "F1",
                "review band",
                "recall incl. review",
            ],
        )
    )
    print()
    print(
        table(
            [
                [
                    label,
                    f"{args.inmates:,}",
                    args.facilities,
                    f"{args.dpt:,}",
                    detected["seconds"],
                    detected["cpu_seconds"],
                    detected["tree_pss_mb"],
                    detected["tree_rss_sum_mb"],
                    ", ".join(f"{k} {v}" for k, v in detected["steps"].items()),
                    " ".join(f"{x:.1f}" for x in detected["load_average"]),
                ]
            ],
            [
                "database",
                "inmates",
                "facilities",
                "DPT rows",
                "seconds",
                "CPU s",
                "peak MB (PSS)",
                "peak MB (RSS sum)",
                "steps (s)",
                "load avg",
            ],
        )
    )
    print(f"possible twins sent to review: {quality['twins_flagged_for_review']}")
    results = {"database": label, "generated": generated, "detected": detected, "quality": quality}
    if args.import_rows:
        csv_path = workdir / f"dpt-{args.import_rows}.csv"
        if not csv_path.exists():
            write_dpt_csv(csv_path, args.import_rows, args.seed, url)
        imported = measure(SCRIPT, "import", "--csv", str(csv_path), database_url=url, timeout=7200)
        size_mb = csv_path.stat().st_size / 1024 / 1024
        print()
        print(
            table(
                [
                    [
                        label,
                        f"{imported['rows']:,}",
                        f"{size_mb:.0f}",
                        imported["seconds"],
                        f"{imported['rows'] / imported['seconds']:,.0f}",
                        imported["peak_mb"],
                    ]
                ],
                ["import_dpt", "rows", "MB", "seconds", "rows/s", "peak MB"],
            )
        )
        results["imported"] = imported
    (workdir / f"results-{size}.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    print(f"details: {workdir / f'results-{size}.json'}")


if __name__ == "__main__":
    main()
