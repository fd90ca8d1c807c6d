"""Property-based fuzzing of the importer with malformed workbooks and CSVs.

Every input either imports correctly or yields a clear error report; never an
unhandled exception, never a partial write.
"""

from __future__ import annotations

import datetime
import io
import itertools

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inmates.importing import inmates_import
from inmates.imports_columns import SPECS
from inmates.models import CustodyEvent, Inmate

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

LABELS = [spec.label for spec in SPECS]
REQUIRED = [spec.label for spec in SPECS if spec.required]

# Cells a spreadsheet really holds: text (with stray spaces, apostrophes, formulas,
# odd unicode), numbers (a NIK typed as a number), dates, booleans, blanks.
cells = st.one_of(
    st.none(),
    st.text(max_size=25),
    st.sampled_from(
        [
            "'3316011708900001",
            " 3316 0117 0890 0001 ",
            "3.31601E+15",
            "17-08-1985",
            "17 Agustus 1985",
            "31/02/2020",
            "L",
            "P",
            "Perempuan",
            "Tahanan",
            "Narapidana",
            "33.16.01.2001",
            "3316012001",
            "99.99",
            '=HYPERLINK("x")',
            "Ya",
            "Tidak",
            "kawin",
            "",
        ]
    ),
    st.integers(min_value=-(10**17), max_value=10**17),
    st.floats(allow_nan=True, allow_infinity=True),
    st.dates(min_value=datetime.date(1800, 1, 1), max_value=datetime.date(2200, 1, 1)),
    st.booleans(),
)
headers = st.lists(st.sampled_from([*LABELS, "Kolom Lain", "", "NAMA", "l/p"]), min_size=0, max_size=26)
rows = st.lists(st.lists(cells, max_size=26), max_size=8)


def _state() -> tuple:
    return (
        Inmate.objects.count(),
        Inmate.history.count(),
        CustodyEvent.objects.count(),
        tuple(Inmate.objects.order_by("pk").values_list("pk", "full_name", "nik", "updated_at")),
    )


def _xlsx(header: list, body: list[list]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in body:
        safe = []
        for value in row:
            if isinstance(value, float) and value != value:  # NaN is not storable in xlsx
                value = None
            if isinstance(value, str):
                value = "".join(ch for ch in value if ch.isprintable())
            safe.append(value)
        sheet.append(safe)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _csv(header: list, body: list[list], delimiter: str) -> bytes:
    def cell(value) -> str:
        text = "" if value is None else str(value)
        return (
            '"' + text.replace('"', '""') + '"'
            if (delimiter in text or '"' in text or "\n" in text)
            else text
        )

    lines = [delimiter.join(cell(v) for v in header)] + [delimiter.join(cell(v) for v in row) for row in body]
    return ("\n".join(lines)).encode("utf-8")


def _check(source: bytes, filename: str, facility, user) -> None:
    before = _state()
    report = inmates_import(source=io.BytesIO(source), filename=filename, facility=facility, user=user)
    after = _state()
    if report.has_errors:
        assert not report.written
        assert after == before, "a refused file changed the register"
        for problem in report.problems:
            if problem.level == "error":
                assert str(problem.message).strip(), "an error without a message"
    else:
        assert report.written
        assert after[0] >= before[0]


@FUZZ
@given(header=headers, body=rows)
def test_any_workbook_imports_or_is_refused_whole(header, body, blora, rutan_blora_officer):
    _check(_xlsx(header, body), "wbp.xlsx", blora, rutan_blora_officer)


@FUZZ
@given(header=headers, body=rows, delimiter=st.sampled_from([",", ";"]))
def test_any_csv_imports_or_is_refused_whole(header, body, delimiter, blora, rutan_blora_officer):
    _check(_csv(header, body, delimiter), "wbp.csv", blora, rutan_blora_officer)


@FUZZ
@given(data=st.binary(max_size=2048), name=st.sampled_from(["wbp.xlsx", "wbp.csv"]))
def test_any_bytes_are_refused_with_a_message_or_read(data, name, blora, rutan_blora_officer):
    _check(data, name, blora, rutan_blora_officer)


@FUZZ
@given(body=st.lists(st.lists(cells, min_size=len(REQUIRED), max_size=len(REQUIRED)), min_size=1, max_size=5))
def test_rows_under_the_required_headers_import_or_are_refused_whole(body, blora, rutan_blora_officer):
    _check(_xlsx(REQUIRED, body), "wajib.xlsx", blora, rutan_blora_officer)


# Well-formed rows written in the many ways people type them: these must import,
# and importing the same file again must change nothing.
names = st.lists(
    st.sampled_from(
        ["Budi", "Siti", "Agus", "Muhammad", "Sri", "Joko", "Nur", "Hj.", "bin", "Santoso", "Rahayu"]
    ),
    min_size=1,
    max_size=4,
).map(" ".join)
birth_dates = st.dates(min_value=datetime.date(1950, 1, 1), max_value=datetime.date(2006, 12, 31))
date_forms = st.sampled_from(["%d-%m-%Y", "%d/%m/%Y", "%Y-%m-%d", "date"])
sexes = st.sampled_from(["L", "P", "Laki-laki", "Perempuan", " l ", "p"])
custody = st.sampled_from(["Tahanan", "tahanan", "TAHANAN"])


_batches = itertools.count()


def _date_cell(day: datetime.date, form: str):
    return day if form == "date" else day.strftime(form)


@FUZZ
@given(
    people=st.lists(st.tuples(names, birth_dates, date_forms, sexes, custody), min_size=1, max_size=6),
)
def test_well_formed_rows_import_and_reimport_unchanged(people, blora, rutan_blora_officer):
    header = [
        "No. Registrasi",
        "Nama Lengkap",
        "Tanggal Lahir",
        "Jenis Kelamin",
        "Status Penahanan",
        "Tanggal Masuk",
    ]
    batch = next(_batches)
    body = [
        [
            f"FZ{batch}.{index:03d}/2024",
            name,
            _date_cell(born, form),
            sex,
            kind,
            _date_cell(datetime.date(2024, 1, 2), form),
        ]
        for index, (name, born, form, sex, kind) in enumerate(people)
    ]
    data = _xlsx(header, body)
    first = inmates_import(
        source=io.BytesIO(data), filename="wbp.xlsx", facility=blora, user=rutan_blora_officer
    )
    assert not first.has_errors, [p.as_dict() for p in first.problems]
    assert first.written and first.created == len(people)
    before = _state()
    again = inmates_import(
        source=io.BytesIO(data), filename="wbp.xlsx", facility=blora, user=rutan_blora_officer
    )
    assert (again.created, again.updated, again.unchanged) == (0, 0, len(people))
    assert _state() == before
