"""Benchmark of the inmate import and export (issue #3, "Performance").

    .venv/bin/python bench/import_inmates.py [--rows 10000,100000] [--databases sqlite,postgres]
                                             [--workdir DIR] [--skip-library]

Generates realistic inmate workbooks of 10,000 and 100,000 rows (the template's
23 data columns, real Excel habits mixed in: NIKs with spaces, dates as text
in several forms, missing NIKs) and measures on SQLite and PostgreSQL, each
in its own process (time and peak memory):

* import via the command, new rows          (``import_inmates FILE --facility CODE``)
* re-import of the same file, all unchanged
* export via the command                    (``export_inmates OUT.xlsx``, NIK masked)
* xlsxwriter (constant_memory) writing the same rows from a plain list
* django-import-export's default ``import_data`` (row by row) on the 10,000-row file
* openpyxl ``read_only`` merely reading the largest file (and python-calamine, for reference)

and prints the ratios the issue sets as targets. PostgreSQL: a throw-away
database (BENCH_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/voterreg_bench_imports)
is dropped and created. Results also go to DIR/results.json.
"""

from __future__ import annotations

import argparse
import datetime
import io
import json
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import (  # noqa: E402
    PG_DEFAULT,
    Database,
    emit,
    fresh_postgres,
    fresh_sqlite,
    measure,
    rate,
    run_manage,
    setup_django,
    stopwatch,
    table,
)

SCRIPT = Path(__file__).resolve()
HOME_REGENCIES = ("33.16", "33.18", "35.22")  # Blora, Pati, Bojonegoro
MONTHS_ID = [
    "Januari", "Februari", "Maret", "April", "Mei", "Juni",
    "Juli", "Agustus", "September", "Oktober", "November", "Desember",
]  # fmt: skip


# =============================================================================
# Measurements (each runs in its own child process)
# =============================================================================


def m_generate(args) -> dict:
    """A realistic workbook of ``--rows`` inmates, written with xlsxwriter."""
    setup_django()
    import xlsxwriter

    from inmates.fake import CELL_BLOCKS, PersonGenerator
    from inmates.imports_columns import COLUMNS, DISABILITY_LABELS, MARITAL_LABELS
    from inmates.regions import read_regions

    villages = [
        (code, name) for code, name in read_regions() if code.count(".") == 3 and code[:5] in HOME_REGENCIES
    ]
    columns = [column for column in COLUMNS if column.key != "facility"]
    rnd = random.Random(args.rows)
    people = PersonGenerator(villages, seed=args.rows)
    result: dict = {"rows": args.rows, "columns": len(columns)}
    with stopwatch(result):
        workbook = xlsxwriter.Workbook(args.file, {"constant_memory": True, "strings_to_numbers": False})
        sheet = workbook.add_worksheet("Data")
        text = workbook.add_format({"num_format": "@"})
        date = workbook.add_format({"num_format": "dd-mm-yyyy"})
        for col, column in enumerate(columns):
            sheet.set_column(col, col, 16, text if column.is_text else None)
            sheet.write_string(0, col, column.label)
        for number in range(1, args.rows + 1):
            person = people.person()
            narapidana = rnd.random() < 0.7
            admission = datetime.date(2021, 1, 1) + datetime.timedelta(days=rnd.randint(0, 1090))
            release = admission + datetime.timedelta(days=rnd.randint(120, 2500)) if narapidana else None
            nik, nkk, birth = person.nik, person.nkk, person.birth_date
            roll = rnd.random()
            if roll < 0.12:
                nik = nkk = ""  # no NIK / KTP-el yet
            elif roll < 0.17:
                nik = f"{nik[:4]} {nik[4:8]} {nik[8:12]} {nik[12:]}"  # typed in groups
            elif roll < 0.20:
                birth = birth + datetime.timedelta(days=rnd.randint(1, 60))  # corrected birth date
            values = {
                "registration_number": f"{'B' if narapidana else 'A'}I.{number:06d}/2023",
                "nik": nik,
                "nkk": nkk,
                "full_name": person.full_name,
                "birth_place": person.birth_place,
                "birth_date": _date_cell(birth, rnd),
                "sex": person.sex,
                "marital_status": MARITAL_LABELS[
                    rnd.choice(["belum_kawin", "kawin", "kawin", "cerai_hidup"])
                ],
                "citizenship": "WNA" if rnd.random() < 0.01 else "WNI",
                "address": person.address,
                "rt": person.rt,
                "rw": person.rw,
                "domicile_region_id": person.village_code,
                "custody_type": "Narapidana" if narapidana else "Tahanan",
                "admission_date": _date_cell(admission, rnd),
                "expected_release_date": release,
                "cell_block": rnd.choice(CELL_BLOCKS),
                "disability": DISABILITY_LABELS[rnd.choice("16")] if rnd.random() < 0.02 else "",
                "ktp_el_status": "S" if nik else "B",
                "is_tni_polri": "Tidak",
                "voting_right_revoked": "Tidak",
                "revocation_decision": "",
                "notes": "",
            }
            for col, column in enumerate(columns):
                value = values[column.key]
                if value is None or value == "":
                    continue
                if isinstance(value, datetime.date):
                    sheet.write_datetime(number, col, value, date)
                else:
                    sheet.write_string(number, col, value)
        workbook.close()
    result["bytes"] = Path(args.file).stat().st_size
    return result


def _date_cell(value: datetime.date, rnd: random.Random) -> datetime.date | str:
    """Mostly real date cells; some dates typed as text the ways people type them."""
    roll = rnd.random()
    if roll < 0.80:
        return value
    if roll < 0.92:
        return value.strftime("%d-%m-%Y")
    if roll < 0.97:
        return f"{value.day} {MONTHS_ID[value.month - 1]} {value.year}"
    return value.isoformat()


def m_setup(args) -> dict:
    """Regions of Central and East Java and the bench facilities (idempotent)."""
    setup_django(args.db)
    from inmates.models import Facility, Region
    from inmates.regions import load_regions

    if not Region.objects.filter(code="35.22").exists():
        load_regions(provinces=("33", "35"))
    for code in args.facility.split(","):
        Facility.objects.get_or_create(code=code, defaults={"name": f"Lapas {code}", "regency_id": "33.16"})
    return {"seconds": 0}


def m_baseline(args) -> dict:
    """An idle Django process: the memory every other figure includes."""
    setup_django(args.db)
    from inmates.models import Inmate

    Inmate.objects.exists()
    return {"seconds": 0}


def m_import(args) -> dict:
    """``manage.py import_inmates FILE --facility CODE`` (the command's own code path)."""
    setup_django(args.db)
    from django.core.management import call_command

    if args.reset:
        _reset_facility(args.facility)
    out = io.StringIO()
    result: dict = {}
    with stopwatch(result):
        call_command("import_inmates", args.file, facility=args.facility, json=True, stdout=out)
    report = json.loads(out.getvalue())
    result.update(
        {key: report[key] for key in ("rows", "created", "updated", "unchanged", "errors", "warnings")}
    )
    return result


def _reset_facility(code: str) -> None:
    """Empty a bench facility (not timed), so a repeated "new rows" import starts from the same state."""
    from django.db import transaction

    from inmates.models import CustodyEvent, Inmate

    with transaction.atomic():
        CustodyEvent._unchecked.filter(inmate__facility__code=code).delete()
        Inmate.history.filter(facility__code=code).delete()
        Inmate.objects.filter(facility__code=code).delete()


def m_check(args) -> dict:
    """The checking phase alone (a dry run), with or without the duplicate-detection hook."""
    setup_django(args.db)
    from inmates import importing
    from inmates.models import Facility

    if args.reset:
        _reset_facility(args.facility)
    if args.no_hook:
        importing._Checker.check_similar_people = lambda self: None
    facility = Facility.objects.get(code=args.facility)
    result: dict = {}
    with stopwatch(result):
        report = importing.inmates_import(
            source=args.file, filename=Path(args.file).name, facility=facility, user=None, dry_run=True
        )
    result.update(rows=report.rows, created=report.created, hook=not args.no_hook)
    return result


def m_export(args) -> dict:
    """``manage.py export_inmates OUT.xlsx --facility CODE`` (NIK masked)."""
    setup_django(args.db)
    from django.core.management import call_command

    from inmates.models import Inmate

    result: dict = {"rows": Inmate.objects.filter(facility__code=args.facility).count()}
    with stopwatch(result):
        call_command("export_inmates", args.out, facility=[args.facility], stdout=io.StringIO())
    result["bytes"] = Path(args.out).stat().st_size
    return result


def m_xlsxwriter(args) -> dict:
    """xlsxwriter in constant_memory mode writing the export's rows from a plain list."""
    setup_django(args.db)
    import xlsxwriter

    from inmates.exporting import export_rows
    from inmates.imports_columns import HEADERS
    from inmates.models import Inmate

    queryset = Inmate.objects.filter(facility__code=args.facility).order_by(
        "facility__code", "registration_number"
    )
    rows = [HEADERS, *export_rows(queryset, full_nik=False)]  # fetched before the clock starts
    result: dict = {"rows": len(rows) - 1}
    with stopwatch(result):
        workbook = xlsxwriter.Workbook(
            args.out, {"constant_memory": True, "default_date_format": "dd-mm-yyyy"}
        )
        sheet = workbook.add_worksheet("Data")
        for number, row in enumerate(rows):
            sheet.write_row(number, 0, row)
        workbook.close()
    return result


def m_library(args) -> dict:
    """django-import-export's default ``import_data`` (row by row) on the same file."""
    setup_django(args.db)
    import tablib
    from import_export import fields, resources, widgets

    from inmates import imports_columns as spec
    from inmates.models import Facility, Inmate, Region

    class CellWidget(widgets.Widget):
        """Reads a cell with the importer's parser, so the library understands the same file."""

        def __init__(self, parse, default=None):
            super().__init__()
            self.parse, self.default = parse, default

        def clean(self, value, row=None, **kwargs):
            parsed = self.parse(value)
            return self.default if parsed is None or parsed is spec.MISSING else parsed

    def field(key: str, widget=None) -> fields.Field:
        column = spec.BY_KEY[key]
        return fields.Field(attribute=column.field, column_name=column.label, widget=widget)

    class BenchInmateResource(resources.ModelResource):
        """A plain ModelResource for Inmate: the library's own row-by-row import."""

        facility = fields.Field(
            attribute="facility",
            column_name="Kode Rutan/Lapas",
            widget=widgets.ForeignKeyWidget(Facility, "code"),
        )
        registration_number = field("registration_number")
        nik = field("nik", CellWidget(spec.BY_KEY["nik"].parse))
        nkk = field("nkk", CellWidget(spec.BY_KEY["nkk"].parse, ""))
        full_name = field("full_name")
        birth_place = field("birth_place")
        birth_date = field("birth_date", CellWidget(spec.BY_KEY["birth_date"].parse))
        sex = field("sex", CellWidget(spec.BY_KEY["sex"].parse))
        marital_status = field(
            "marital_status", CellWidget(spec.BY_KEY["marital_status"].parse, "belum_kawin")
        )
        citizenship = field("citizenship", CellWidget(spec.BY_KEY["citizenship"].parse, "WNI"))
        address = field("address")
        rt = field("rt")
        rw = field("rw")
        domicile_region = fields.Field(
            attribute="domicile_region",
            column_name=spec.BY_KEY["domicile_region_id"].label,
            widget=widgets.ForeignKeyWidget(Region, "code"),
        )
        custody_type = field("custody_type", CellWidget(spec.BY_KEY["custody_type"].parse))
        admission_date = field("admission_date", CellWidget(spec.BY_KEY["admission_date"].parse))
        expected_release_date = field(
            "expected_release_date", CellWidget(spec.BY_KEY["expected_release_date"].parse)
        )
        cell_block = field("cell_block")
        disability = field("disability", CellWidget(spec.BY_KEY["disability"].parse, ""))
        ktp_el_status = field("ktp_el_status", CellWidget(spec.BY_KEY["ktp_el_status"].parse, "B"))
        is_tni_polri = field("is_tni_polri", CellWidget(spec.BY_KEY["is_tni_polri"].parse, False))
        voting_right_revoked = field(
            "voting_right_revoked", CellWidget(spec.BY_KEY["voting_right_revoked"].parse, False)
        )
        revocation_decision = field("revocation_decision")
        notes = field("notes")

        class Meta:
            model = Inmate
            import_id_fields = ("facility", "registration_number")
            fields = (
                "facility", "registration_number", "nik", "nkk", "full_name", "birth_place", "birth_date",
                "sex", "marital_status", "citizenship", "address", "rt", "rw", "domicile_region",
                "custody_type", "admission_date", "expected_release_date", "cell_block", "disability",
                "ktp_el_status", "is_tni_polri", "voting_right_revoked", "revocation_decision", "notes",
            )  # fmt: skip

    if args.reset:
        _reset_facility(args.facility)
    result: dict = {}
    with stopwatch(result):
        with open(args.file, "rb") as handle:
            dataset = tablib.Dataset().load(handle.read(), format="xlsx")
        dataset.append_col([args.facility] * dataset.height, header="Kode Rutan/Lapas")
        outcome = BenchInmateResource().import_data(dataset, dry_run=False, use_transactions=True)
    result.update(
        rows=dataset.height,
        created=outcome.totals.get("new", 0),
        errors=len(outcome.base_errors) + sum(len(row.errors) for row in outcome.rows),
        invalid=len(outcome.invalid_rows),
    )
    return result


def m_openpyxl(args) -> dict:
    """openpyxl read_only merely reading every cell of the file."""
    from openpyxl import load_workbook

    result: dict = {}
    cells = rows = 0
    with stopwatch(result):
        workbook = load_workbook(args.file, read_only=True, data_only=True)
        for row in workbook.worksheets[0].iter_rows(values_only=True):
            rows += 1
            cells += len(row)
        workbook.close()
    result.update(rows=rows - 1, cells=cells)
    return result


def m_calamine(args) -> dict:
    """python-calamine (through voterreg.spreadsheets.read_rows) reading every row, for reference."""
    setup_django()
    from voterreg.spreadsheets import read_rows

    result: dict = {}
    with stopwatch(result):
        rows = sum(1 for _row in read_rows(args.file, Path(args.file).name))
    result["rows"] = rows
    return result


MEASUREMENTS = {
    "generate": m_generate,
    "setup": m_setup,
    "baseline": m_baseline,
    "import": m_import,
    "check": m_check,
    "export": m_export,
    "xlsxwriter": m_xlsxwriter,
    "library": m_library,
    "openpyxl": m_openpyxl,
    "calamine": m_calamine,
}


# =============================================================================
# The run
# =============================================================================


def run(options) -> dict:
    workdir = Path(options.workdir or tempfile.mkdtemp(prefix="voterreg-bench-imports-"))
    workdir.mkdir(parents=True, exist_ok=True)
    sizes = sorted(int(size) for size in options.rows.split(","))
    largest, library_size = sizes[-1], min(sizes, key=lambda size: abs(size - 10_000))
    results: dict = {"sizes": sizes, "files": {}, "readers": {}, "databases": {}}
    print(f"Work directory: {workdir}")

    for size in sizes:
        path = workdir / f"wbp_{size}.xlsx"
        if not path.exists():
            results["files"][size] = measure(SCRIPT, "generate", "--rows", str(size), "--file", str(path))
            print(f"generated {path.name}: {results['files'][size]['bytes'] / 1e6:.1f} MB")
    big = str(workdir / f"wbp_{largest}.xlsx")
    results["readers"]["calamine"] = measure(SCRIPT, "calamine", "--file", big)

    databases: list[Database] = []
    if "sqlite" in options.databases:
        databases.append(fresh_sqlite(workdir))
    if "postgres" in options.databases:
        pg = fresh_postgres(options.postgres_url)
        if pg is not None:
            databases.append(pg)
    for database in databases:
        results["databases"][database.label] = _run_database(database, workdir, sizes, library_size, options)
        database.cleanup()
    (workdir / "results.json").write_text(json.dumps(results, indent=2, default=str))
    return results


def _best(runs: list[dict]) -> dict:
    """The fastest of repeated runs (the others were slowed by something else on the machine)."""
    best = dict(min(runs, key=lambda run: run["seconds"]))
    best["runs"] = [round(run["seconds"], 2) for run in runs]
    best["peak_mb"] = max(run["peak_mb"] for run in runs)
    return best


def _run_database(database: Database, workdir: Path, sizes: list[int], library_size: int, options) -> dict:
    url = database.url
    print(f"\n== {database.label}: migrating")
    run_manage("migrate", "--noinput", "-v", "0", database_url=url)
    facilities = [f"bench-{size}" for size in sizes] + ["bench-library"]
    measure(SCRIPT, "setup", "--facility", ",".join(facilities), database_url=url)
    found: dict = {"baseline": measure(SCRIPT, "baseline", database_url=url)}
    for size in sizes:
        file = str(workdir / f"wbp_{size}.xlsx")
        code = f"bench-{size}"
        repeat = options.repeat if size <= 20_000 else 1
        step = found.setdefault(size, {})
        if size == sizes[-1] and database.label == "SQLite":
            # What duplicate detection (inmates/dedup_hooks.py) adds to the check of new rows.
            for flag in ((), ("--no-hook",)):
                key = "check_without_hook" if flag else "check_with_hook"
                step[key] = measure(
                    SCRIPT, "check", "--file", file, "--facility", code, "--reset", *flag, database_url=url
                )
            print(
                f"{size:>7,} rows, checking only: {step['check_with_hook']['seconds']:.1f} s with duplicate "
                f"detection, {step['check_without_hook']['seconds']:.1f} s without"
            )
        if size == sizes[-1]:
            # Measured next to the import it is compared with: both see the same machine load.
            step["openpyxl"] = measure(SCRIPT, "openpyxl", "--file", file)
            print(f"openpyxl read_only read {size:,} rows in {step['openpyxl']['seconds']:.1f} s")
        step["import_new"] = _best(
            [
                measure(SCRIPT, "import", "--file", file, "--facility", code, "--reset", database_url=url)
                for _run in range(repeat)
            ]
        )
        if size == library_size and not options.skip_library:
            # As many runs as ours, the fastest counts: the same treatment for both.
            found["library"] = _best(
                [
                    measure(
                        SCRIPT,
                        "library",
                        "--file",
                        file,
                        "--facility",
                        "bench-library",
                        "--reset",
                        database_url=url,
                    )
                    for _run in range(repeat)
                ]
            )
            print(f"django-import-export import_data, {size:,} rows: {found['library']['runs']} s")
        step["import_unchanged"] = _best(
            [
                measure(SCRIPT, "import", "--file", file, "--facility", code, database_url=url)
                for _run in range(repeat)
            ]
        )
        exports, plains = [], []
        for run in range(max(repeat, 2)):  # interleaved, so both see the same machine
            out = str(workdir / f"export_{size}_{run}.xlsx")
            exports.append(measure(SCRIPT, "export", "--facility", code, "--out", out, database_url=url))
            plain = str(workdir / f"xlsxwriter_{size}_{run}.xlsx")
            plains.append(measure(SCRIPT, "xlsxwriter", "--facility", code, "--out", plain, database_url=url))
        step["export"], step["xlsxwriter"] = _best(exports), _best(plains)
        print(
            f"{size:>7,} rows: import {step['import_new']['runs']} s, re-import "
            f"{step['import_unchanged']['runs']} s, export {step['export']['runs']} s, "
            f"xlsxwriter {step['xlsxwriter']['runs']} s"
        )
    return found


def _line(label: str, rows: int | str, title: str, m: dict | None, count: int | None = None) -> list[str]:
    if m is None:
        return [label, "-", title, "-", "-", "-", "-", "-"]
    runs = m.get("runs", [m["seconds"]])
    return [
        label,
        f"{rows:,}" if isinstance(rows, int) else rows,
        title,
        f"{m['seconds']:.1f}",
        f"{m['cpu_seconds']:.1f}" if "cpu_seconds" in m else "-",
        rate(count or rows, m["seconds"]) if isinstance(count or rows, int) else "-",
        f"{m['peak_mb']:.0f}",
        " / ".join(f"{run:.1f}" for run in runs) if len(runs) > 1 else "1 run",
    ]


def report(results: dict) -> str:
    """Two Markdown tables: every measurement, then the ratios the issue sets as targets."""
    sizes = results["sizes"]
    largest = sizes[-1]
    rows = []
    for label, found in results["databases"].items():
        for size in sizes:
            step = found[size]
            for name, title in (
                ("openpyxl", "openpyxl read_only, reading only"),
                ("import_new", "import (new rows)"),
                ("import_unchanged", "re-import (unchanged)"),
                ("export", "export XLSX (masked)"),
                ("xlsxwriter", "xlsxwriter, plain list"),
                ("check_with_hook", "checking only, with duplicate detection"),
                ("check_without_hook", "checking only, without duplicate detection"),
            ):
                if name in step:
                    rows.append(_line(label, size, title, step[name]))
        if "library" in found:
            rows.append(
                _line(label, found["library"]["rows"], "django-import-export import_data", found["library"])
            )
        rows.append(
            [label, "-", "idle Django process", "-", "-", "-", f"{found['baseline']['peak_mb']:.0f}", "-"]
        )
    rows.append(_line("-", largest, "python-calamine, reading only", results["readers"]["calamine"]))
    headers = ["database", "rows", "operation", "seconds", "CPU s", "rows/s", "peak MB", "runs (s)"]
    ratio_rows = []
    for label, found in results["databases"].items():
        big = found[largest]
        ratio = big["import_new"]["seconds"] / big["openpyxl"]["seconds"]
        ratio_rows.append(
            [label, f"import {largest:,} / openpyxl reading {largest:,}", f"{ratio:.2f}", "< 1"]
        )
        if "library" in found:
            lib = found["library"]
            ours = found[min(sizes, key=lambda size: abs(size - lib["rows"]))]["import_new"]
            speedup = (ours["rows"] / ours["seconds"]) / (lib["rows"] / lib["seconds"])
            title = f"import rows/s, ours / django-import-export ({lib['rows']:,} rows)"
            ratio_rows.append([label, title, f"{speedup:.0f}x", ">= 20x"])
        ratio = big["export"]["seconds"] / big["xlsxwriter"]["seconds"]
        ratio_rows.append([label, f"export {largest:,} / xlsxwriter {largest:,}", f"{ratio:.2f}", "<= 1.25"])
        memory = f"{big['import_new']['peak_mb']:.0f} MB"
        ratio_rows.append([label, f"peak memory, import {largest:,}", memory, "< 500 MB"])
        export_mb = " / ".join(f"{found[size]['export']['peak_mb']:.0f}" for size in sizes)
        title = "peak memory, export " + " / ".join(f"{size:,}" for size in sizes)
        ratio_rows.append([label, title, f"{export_mb} MB", "flat"])
    return "\n".join(
        [table(rows, headers), "", table(ratio_rows, ["database", "ratio", "measured", "target"])]
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--measure", choices=sorted(MEASUREMENTS), help=argparse.SUPPRESS)
    parser.add_argument(
        "--rows", default="10000,100000", help="comma-separated file sizes (default 10000,100000)"
    )
    parser.add_argument("--databases", default="sqlite,postgres", help="sqlite, postgres or both")
    parser.add_argument("--postgres-url", default=None)
    parser.add_argument("--workdir", help="keep generated files here (reused when present)")
    parser.add_argument("--skip-library", action="store_true", help="skip the slow django-import-export run")
    parser.add_argument("--file")
    parser.add_argument("--out")
    parser.add_argument("--facility")
    parser.add_argument("--db")
    parser.add_argument("--reset", action="store_true")
    parser.add_argument("--no-hook", action="store_true")
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of each measurement up to 20,000 rows; the fastest counts"
    )
    options = parser.parse_args()
    if options.measure:
        if options.measure == "generate":
            options.rows = int(options.rows)
        options.db = options.db or None
        emit(MEASUREMENTS[options.measure](options))
        return
    import os

    options.postgres_url = options.postgres_url or os.environ.get("BENCH_POSTGRES_URL", PG_DEFAULT)
    results = run(options)
    print()
    print(report(results))


if __name__ == "__main__":
    main()
