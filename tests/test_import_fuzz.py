"""Property-based fuzzing of the importer with malformed workbooks and CSVs.

Every input either imports correctly or yields a clear error report; never an
unhandled exception, never a partial write. The last tests fuzz files of
several chunks (the chunk shrunk to 4 rows): on PostgreSQL those take the
streaming path, where each chunk is sent to the database before the next is
checked, so an error in a late chunk must undo the chunks already sent.
"""

from __future__ import annotations

import datetime
import io
import itertools
from dataclasses import dataclass

import openpyxl
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from inmates import importing
from inmates.importing import inmates_import
from inmates.imports_columns import SPECS
from inmates.models import CustodyEvent, Inmate

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

LABELS = [spec.label for spec in SPECS]
REQUIRED = [spec.label for spec in SPECS if spec.required]

# Cells a spreadsheet really holds: text (with stray spaces, apostrophes, formulas,
# odd unicode), numbers (a NIK typed as a number), dates, booleans, blanks.
typed_texts = st.sampled_from(
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
)
numbers_dates_booleans = st.one_of(
    st.integers(min_value=-(10**17), max_value=10**17),
    st.floats(allow_nan=True, allow_infinity=True),
    st.dates(min_value=datetime.date(1800, 1, 1), max_value=datetime.date(2200, 1, 1)),
    st.booleans(),
)
cells = st.one_of(st.none(), st.text(max_size=25), typed_texts, numbers_dates_booleans)
headers = st.lists(st.sampled_from([*LABELS, "Kolom Lain", "", "NAMA", "l/p"]), min_size=0, max_size=26)
rows = st.lists(st.lists(cells, max_size=26), max_size=8)


def _state() -> tuple:
    """The counts of the register, its history and custody events, then every record's content."""
    return (
        Inmate.objects.count(),
        Inmate.history.count(),
        CustodyEvent._base_manager.count(),
        tuple(
            Inmate.objects.order_by("pk").values_list(
                "pk", "registration_number", "full_name", "nik", "cell_block", "updated_at"
            )
        ),
    )


def _assert_counts_match(report, before: tuple, after: tuple) -> None:
    """What the report says was written is what the database gained, no more, no less."""
    assert report.created + report.updated + report.unchanged == report.rows
    assert after[0] - before[0] == report.created, "records"
    assert after[1] - before[1] == report.created + report.updated, "history rows"
    assert after[2] - before[2] == report.created, "admission events"


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
        _assert_counts_match(report, before, after)


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


# --- files of several chunks -------------------------------------------------------------
#
# A file is a list of planned rows: new people, updates of people already registered,
# rows with one known mistake (which must be refused) and rows with junk in a cell or
# two (which may be refused or imported). The oracle: every mistake is refused on its
# row, no clean row is refused, every error names its row, and then nothing at all is
# written; or the file has no error and the register gained exactly the report's
# counts (records, history rows, admission events) and holds each row's values.

SMALL_CHUNK = 4
MULTI_CHUNK = settings(FUZZ, max_examples=100)

CHUNKED_HEADER = [
    "No. Registrasi",
    "Nama Lengkap",
    "NIK",
    "Tanggal Lahir",
    "Jenis Kelamin",
    "Kode Wilayah",
    "Status Penahanan",
    "Tanggal Masuk",
    "Perkiraan Tanggal Bebas",
    "Blok/Kamar",
]
REGISTERED = [f"RG.{n:03d}/2023" for n in range(6)]
BLOCKS = ["A", "B", "C"]

# One mistake each; every one of them must be refused on its own row.
MISTAKES = {
    "admission_date_invalid": ("Tanggal Masuk", "31-02-2023"),
    "admission_date_empty": ("Tanggal Masuk", ""),
    "name_empty": ("Nama Lengkap", ""),
    "sex_unknown": ("Jenis Kelamin", "X"),
    "custody_type_unknown": ("Status Penahanan", "Bebas"),
    "birth_in_the_future": ("Tanggal Lahir", "01-01-2999"),
    "region_unknown": ("Kode Wilayah", "99.99.99.9999"),
    "region_too_coarse": ("Kode Wilayah", "33.16"),
    "release_before_admission": ("Perkiraan Tanggal Bebas", "01-01-2020"),
    "registration_number_twice": ("No. Registrasi", None),  # repeats the file's first row
}

# Junk without line breaks or control characters: the rows keep their numbers.
junk_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")),
    max_size=25,
)
junk_cells = st.one_of(st.none(), junk_text, typed_texts, numbers_dates_booleans)


def _clean_row(number: str, block: str) -> dict:
    return {
        "No. Registrasi": number,
        "Nama Lengkap": f"Warga {number}",
        "NIK": "",
        "Tanggal Lahir": "17-08-1990",
        "Jenis Kelamin": "L",
        "Kode Wilayah": "33.16.01.2001",
        "Status Penahanan": "Narapidana",
        "Tanggal Masuk": "01-03-2023",
        "Perkiraan Tanggal Bebas": "01-03-2025",
        "Blok/Kamar": block,
    }


@dataclass(frozen=True)
class NewPerson:
    block: str


@dataclass(frozen=True)
class Update:
    registered: int  # index in REGISTERED
    block: str


@dataclass(frozen=True)
class Mistake:
    kind: str
    registered: int | None  # a mistake in an update, or (None) in a new person's row


@dataclass(frozen=True)
class Junk:
    cells: tuple  # (column, junk) pairs put into a new person's otherwise clean row


mistakes = st.builds(
    Mistake,
    kind=st.sampled_from(sorted(MISTAKES)),
    registered=st.none() | st.integers(0, len(REGISTERED) - 1),
)
junk_rows = st.builds(
    Junk,
    cells=st.dictionaries(st.sampled_from(CHUNKED_HEADER[1:]), junk_cells, min_size=1, max_size=2).map(
        lambda cells: tuple(cells.items())
    ),
)


@st.composite
def chunked_files(draw) -> list:
    """More than one chunk of clean rows (new people, updates), now and then a mistake or junk slipped in."""
    updates = draw(
        st.lists(
            st.builds(Update, registered=st.integers(0, len(REGISTERED) - 1), block=st.sampled_from(BLOCKS)),
            unique_by=lambda update: update.registered,
            max_size=len(REGISTERED),
        )
    )
    new = draw(
        st.lists(
            st.builds(NewPerson, block=st.sampled_from(BLOCKS)),
            min_size=max(0, SMALL_CHUNK + 1 - len(updates)),
            max_size=5 * SMALL_CHUNK,
        )
    )
    rows = list(draw(st.permutations(updates + new)))
    for odd in draw(st.lists(mistakes | junk_rows, max_size=3)):
        rows.insert(draw(st.integers(0, len(rows))), odd)
    return rows


@dataclass
class PlannedFile:
    header: list[str]
    body: list[list]
    must_fail: set[int]  # row numbers that must be refused
    may_fail: set[int]  # junk rows
    expected: dict[str, dict]  # registration number -> the clean row, for rows that must import
    new: set[str]
    updated: set[str]


def _plan(rows: list, batch: int, blocks_now: dict[str, str]) -> PlannedFile:
    """The file's cells and what must come of each row, given the register's blocks now."""
    planned = PlannedFile(list(CHUNKED_HEADER), [], set(), set(), {}, set(), set())
    seen: set[str] = set()
    first = None  # the registration number on the file's first row
    for index, row in enumerate(rows):
        line = index + 2  # the header is row 1
        if isinstance(row, Junk):
            number = f"JK{batch}.{index:03d}"
            values = {**_clean_row(number, "A"), **dict(row.cells)}
            planned.body.append([values[column] for column in CHUNKED_HEADER])
            planned.may_fail.add(line)
            seen.add(number)
            first = first or number
            continue
        registered = getattr(row, "registered", None)
        number = REGISTERED[registered] if registered is not None else f"MC{batch}.{index:03d}"
        values = _clean_row(number, getattr(row, "block", "A"))
        mistaken = isinstance(row, Mistake)
        if mistaken and row.kind == "registration_number_twice":
            if first is None:
                mistaken = False  # the first row has no earlier number to repeat: a clean row
            else:
                number = values["No. Registrasi"] = first
        elif mistaken:
            column, bad = MISTAKES[row.kind]
            values[column] = bad
        planned.body.append([values[column] for column in CHUNKED_HEADER])
        first = first or number
        if mistaken or number in seen:  # each registration number once per file
            planned.must_fail.add(line)
        seen.add(number)
        if line in planned.must_fail:
            continue
        planned.expected[number] = values
        if number not in blocks_now:
            planned.new.add(number)
        elif blocks_now[number] != values["Blok/Kamar"]:
            planned.updated.add(number)
    return planned


def _check_chunked(planned: PlannedFile, data: bytes, filename: str, facility, user) -> None:
    before = _state()
    report = inmates_import(source=io.BytesIO(data), filename=filename, facility=facility, user=user)
    after = _state()
    errors = [problem for problem in report.problems if problem.level == "error"]
    assert report.rows == len(planned.body)
    for problem in errors:
        assert problem.row is not None, f"not a row-level error: {problem.as_dict()}"
        assert str(problem.message).strip(), "an error without a message"
    refused = {problem.row for problem in errors}
    assert planned.must_fail <= refused, "a mistake was let through"
    assert refused <= planned.must_fail | planned.may_fail, "a clean row was refused"
    if report.has_errors:
        event("refused")
        assert not report.written
        assert after == before, "a refused file changed the register"
        return
    event("imported")
    assert report.written
    _assert_counts_match(report, before, after)
    assert report.updated == len(planned.updated)
    assert report.created == len(planned.new) + len(planned.may_fail)
    stored = dict(
        Inmate.objects.filter(facility=facility, registration_number__in=planned.expected).values_list(
            "registration_number", "cell_block"
        )
    )
    assert stored == {number: row["Blok/Kamar"] for number, row in planned.expected.items()}


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(importing, "CHUNK", SMALL_CHUNK)


@pytest.fixture
def registered(blora, rutan_blora_officer):
    """Six people already in the register (block A), for the files to update."""
    rows = [_clean_row(number, "A") for number in REGISTERED]
    data = _xlsx(CHUNKED_HEADER, [[row[column] for column in CHUNKED_HEADER] for row in rows])
    report = inmates_import(
        source=io.BytesIO(data), filename="awal.xlsx", facility=blora, user=rutan_blora_officer
    )
    assert report.created == len(REGISTERED), [problem.as_dict() for problem in report.problems]


def _blocks_now(facility) -> dict[str, str]:
    return dict(Inmate.objects.filter(facility=facility).values_list("registration_number", "cell_block"))


@MULTI_CHUNK
@given(rows=chunked_files())
def test_a_workbook_of_several_chunks_imports_whole_or_is_refused_whole(
    rows, blora, rutan_blora_officer, registered, small_chunks
):
    planned = _plan(rows, next(_batches), _blocks_now(blora))
    data = _xlsx(planned.header, planned.body)
    _check_chunked(planned, data, "wbp.xlsx", blora, rutan_blora_officer)


@MULTI_CHUNK
@given(rows=chunked_files(), delimiter=st.sampled_from([",", ";"]))
def test_a_csv_of_several_chunks_imports_whole_or_is_refused_whole(
    rows, delimiter, blora, rutan_blora_officer, registered, small_chunks
):
    planned = _plan(rows, next(_batches), _blocks_now(blora))
    data = _csv(planned.header, planned.body, delimiter)
    _check_chunked(planned, data, "wbp.csv", blora, rutan_blora_officer)
