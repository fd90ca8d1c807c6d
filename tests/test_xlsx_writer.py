"""Exports (.xlsx, .csv) and import templates, read back as a user's spreadsheet program would."""

from __future__ import annotations

import csv
import datetime
import io
import tracemalloc
import zoneinfo

import openpyxl
import pytest
from django.http import StreamingHttpResponse

from voterreg.spreadsheets import ColumnSpec, parse_nik, read_rows
from voterreg.xlsx_writer import (
    Sheet,
    StreamingCsvBuffer,
    csv_cell,
    neutralise,
    stream_csv,
    write_csv,
    write_template,
    write_xlsx,
)

HEADERS = ["NIK", "NKK", "Nama", "Tanggal Lahir", "Jumlah", "Keterangan"]
BUDI = ["3316010101900001", "3316012005150003", "BUDI SANTOSO", datetime.date(1990, 1, 1), 2, None]
JAKARTA = zoneinfo.ZoneInfo("Asia/Jakarta")


def export(tmp_path, rows, **kwargs) -> openpyxl.Workbook:
    path = tmp_path / "export.xlsx"
    write_xlsx(path, HEADERS, rows, text_columns={"NIK", "NKK"}, **kwargs)
    return openpyxl.load_workbook(path)


# --- neutralise ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        '=HYPERLINK("http://x","klik")',
        "+6281234",
        "-2+3",
        "@SUM(A1)",
        "\t=1+1",
        "\r=1+1",
        "=cmd|' /C calc'!A0",
    ],
)
def test_formula_starts_are_neutralised(value):
    assert neutralise(value) == "'" + value


@pytest.mark.parametrize("value", ["BUDI", "3316010101900001", "-", "", " =1", "a=b"])
def test_harmless_strings_are_unchanged(value):
    assert neutralise(value) == value


@pytest.mark.parametrize("value", [None, -5, 1.5, datetime.date(2024, 2, 14)])
def test_non_strings_are_unchanged(value):
    assert neutralise(value) == value


# --- write_xlsx -----------------------------------------------------------------------


def test_xlsx_header_is_bold(tmp_path):
    sheet = export(tmp_path, [BUDI]).active

    assert all(cell.font.b for cell in sheet[1])


def test_xlsx_header_row_is_frozen(tmp_path):
    assert export(tmp_path, [BUDI]).active.freeze_panes == "A2"


def test_xlsx_nik_cells_are_text_formatted_text(tmp_path):
    cell = export(tmp_path, [BUDI]).active["A2"]

    assert (cell.value, cell.data_type, cell.number_format) == ("3316010101900001", "s", "@")


def test_xlsx_nik_given_as_a_number_is_still_written_as_text(tmp_path):
    cell = export(tmp_path, [[3316010101900001, 3316012005150003.0, "BUDI"]]).active["B2"]

    assert (cell.value, cell.data_type) == ("3316012005150003", "s")


def test_xlsx_text_columns_are_formatted_as_text_for_new_entries(tmp_path):
    sheet = export(tmp_path, [BUDI]).active

    assert sheet.column_dimensions["A"].number_format == "@"


def test_xlsx_dates_are_date_cells(tmp_path):
    cell = export(tmp_path, [BUDI]).active["D2"]

    assert (cell.value, cell.number_format) == (datetime.datetime(1990, 1, 1), "dd-mm-yyyy")


def test_xlsx_aware_datetime_is_written_in_local_time(tmp_path):
    moment = datetime.datetime(2024, 2, 14, 1, 30, tzinfo=datetime.UTC)

    cell = export(tmp_path, [[None, None, None, moment]]).active["D2"]

    assert cell.value == datetime.datetime(2024, 2, 14, 8, 30)


def test_xlsx_numbers_stay_numbers(tmp_path):
    assert export(tmp_path, [BUDI]).active["E2"].value == 2


def test_xlsx_none_is_a_blank_cell(tmp_path):
    assert export(tmp_path, [BUDI]).active["F2"].value is None


def test_xlsx_formula_text_is_neutralised(tmp_path):
    cell = export(tmp_path, [[None, None, '=HYPERLINK("http://x")']]).active["C2"]

    assert (cell.value, cell.data_type) == ('\'=HYPERLINK("http://x")', "s")


def test_xlsx_returns_the_row_count(tmp_path):
    assert write_xlsx(tmp_path / "x.xlsx", HEADERS, (BUDI for _ in range(3))) == 3


def test_xlsx_consumes_a_generator_once(tmp_path):
    produced = []

    def rows():
        for index in range(5):
            produced.append(index)
            yield [str(index)]

    write_xlsx(tmp_path / "x.xlsx", ["N"], rows())

    assert produced == [0, 1, 2, 3, 4]


def test_xlsx_memory_stays_flat_as_rows_grow(tmp_path):
    def peak_for(count: int) -> int:
        rows = (
            [f"33160101019{i:05d}", f"NAMA {i}", datetime.date(1990, 1, 1), i, "x" * 20] for i in range(count)
        )
        tracemalloc.start()
        try:
            write_xlsx(tmp_path / f"{count}.xlsx", HEADERS[:5], rows, text_columns={"NIK"})
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    small, large = peak_for(500), peak_for(5_000)

    assert large < small * 2, f"peak {small} B for 500 rows, {large} B for 5,000"


def test_xlsx_writes_to_a_file_object():
    buffer = io.BytesIO()

    write_xlsx(buffer, HEADERS, [BUDI])

    assert openpyxl.load_workbook(buffer).active["C2"].value == "BUDI SANTOSO"


def test_xlsx_sheet_name_is_made_valid(tmp_path):
    path = tmp_path / "x.xlsx"

    write_xlsx(path, HEADERS, [], sheet_name="DPT: TPS 901/Rutan Blora [final]")

    assert openpyxl.load_workbook(path).sheetnames[0] == "DPT TPS 901 Rutan Blora final"


def test_xlsx_extra_sheets_follow_the_main_sheet(tmp_path):
    workbook = export(
        tmp_path,
        [BUDI],
        extra_sheets=[Sheet("Rekap", ["TPS", "Jumlah"], [["901", 155]]), ("Lain", ["A"], [])],
    )

    assert (workbook.sheetnames[1:], workbook["Rekap"]["B2"].value) == (["Rekap", "Lain"], 155)


def test_xlsx_note_goes_on_its_own_sheet(tmp_path):
    workbook = export(tmp_path, [BUDI], note="NIK disamarkan")

    assert workbook.worksheets[-1]["A1"].value == "NIK disamarkan"


def test_xlsx_note_is_printed_in_the_page_header(tmp_path):
    sheet = export(tmp_path, [BUDI], note="Salinan & pengumuman").active

    assert sheet.oddHeader.left.text == "Salinan && pengumuman"  # "&&" is how a header escapes "&"


def test_xlsx_unknown_text_column_is_a_programming_error(tmp_path):
    with pytest.raises(ValueError):
        write_xlsx(tmp_path / "x.xlsx", HEADERS, [], text_columns={"NIK Ibu"})


def test_xlsx_export_reimports_with_identical_niks(tmp_path):
    path = tmp_path / "x.xlsx"
    write_xlsx(path, HEADERS, [BUDI, ["3316014202950002", None, "SITI"]], text_columns={"NIK", "NKK"})

    niks = [parse_nik(row.values[0]) for row in read_rows(path, "x.xlsx")]

    assert niks == ["3316010101900001", "3316014202950002"]


# --- CSV --------------------------------------------------------------------------------


def test_csv_starts_with_a_utf8_bom(tmp_path):
    write_csv(tmp_path / "x.csv", HEADERS, [BUDI])

    assert (tmp_path / "x.csv").read_bytes().startswith(b"\xef\xbb\xbfNIK,")


def test_csv_bom_can_be_left_out():
    buffer = io.BytesIO()

    write_csv(buffer, HEADERS, [], bom=False)

    assert buffer.getvalue().startswith(b"NIK,")


def test_csv_lines_end_in_crlf():
    buffer = io.BytesIO()

    write_csv(buffer, ["A"], [["x"]])

    assert buffer.getvalue().endswith(b"A\r\nx\r\n")


def test_csv_formula_text_is_neutralised():
    buffer = io.StringIO(newline="")

    write_csv(buffer, ["Nama"], [["=1+1"]])

    assert list(csv.reader(io.StringIO(buffer.getvalue().lstrip("\ufeff"))))[1] == ["'=1+1"]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        (datetime.date(1985, 8, 17), "17-08-1985"),
        (datetime.datetime(2024, 2, 14, 7, 5), "14-02-2024 07:05"),
        (True, "Ya"),
        (False, "Tidak"),
        (2.0, "2"),
        (2.5, "2.5"),
        (12, "12"),
        ("-", "-"),
        ("+62812", "'+62812"),
    ],
)
def test_csv_cell_text(value, text):
    assert csv_cell(value) == text


def test_csv_aware_datetime_is_written_in_local_time():
    moment = datetime.datetime(2024, 2, 14, 1, 30, tzinfo=datetime.UTC)

    assert csv_cell(moment) == "14-02-2024 08:30"


def test_csv_semicolon_delimiter_for_indonesian_excel():
    buffer = io.BytesIO()

    write_csv(buffer, ["NIK", "Nama"], [["1", "BUDI"]], delimiter=";")

    assert buffer.getvalue().decode("utf-8-sig").splitlines()[1] == "1;BUDI"


def test_csv_returns_the_row_count():
    assert write_csv(io.BytesIO(), HEADERS, [BUDI] * 4) == 4


def test_csv_export_reimports(tmp_path):
    write_csv(tmp_path / "x.csv", HEADERS, [BUDI, ["=2", None, "SITI; AMINAH"]], delimiter=";")

    rows = [row.values for row in read_rows(tmp_path / "x.csv", "x.csv")]

    assert rows == [
        ["3316010101900001", "3316012005150003", "BUDI SANTOSO", "01-01-1990", "2", ""],
        ["'=2", "", "SITI; AMINAH", "", "", ""],
    ]


# --- streaming -----------------------------------------------------------------------------


def test_streaming_buffer_returns_what_it_is_given():
    assert csv.writer(StreamingCsvBuffer()).writerow(["a", "b"]) == "a,b\r\n"


def test_stream_csv_yields_several_chunks_for_many_rows():
    chunks = list(stream_csv(["N"], ([str(i)] for i in range(10_000)), chunk_size=1024))

    assert len(chunks) > 10


def test_stream_csv_chunks_join_to_the_file_write_csv_makes():
    rows = [BUDI, ["=1", None, "SITI"]] * 50
    buffer = io.BytesIO()
    write_csv(buffer, HEADERS, rows)

    assert "".join(stream_csv(HEADERS, rows, chunk_size=100)).encode() == buffer.getvalue()


def test_stream_csv_feeds_a_streaming_http_response():
    response = StreamingHttpResponse(stream_csv(HEADERS, [BUDI]), content_type="text/csv; charset=utf-8")

    body = b"".join(response.streaming_content)

    assert body.startswith(b"\xef\xbb\xbfNIK,NKK,") and b"3316010101900001" in body


def test_stream_csv_is_lazy():
    def rows():
        yield ["1"]
        raise AssertionError("read too far")

    assert next(stream_csv(["N"], rows(), chunk_size=1)).endswith("N\r\n1\r\n")


# --- templates --------------------------------------------------------------------------------

COLUMNS = [
    ColumnSpec("nik", "NIK", required=True, help_text="16 digit, tanpa spasi"),
    ColumnSpec("name", "Nama", required=True),
    ColumnSpec("sex", "L/P", required=True),
    ColumnSpec("birth_date", "Tanggal Lahir"),
    ColumnSpec("custody", "Status Penahanan"),
    ColumnSpec("village", "Desa/Kelurahan"),
]
VILLAGES = [f"Desa {i}, Kec. Blora" for i in range(40)]


@pytest.fixture
def template(tmp_path) -> openpyxl.Workbook:
    path = tmp_path / "templat.xlsx"
    write_template(
        path,
        COLUMNS,
        {"sex": ["L", "P"], "custody": ["Tahanan", "Narapidana"], "village": VILLAGES},
        ["Satu baris untuk satu WBP.", "Ketik NIK sebagai teks."],
        {"nik"},
        date_columns={"birth_date"},
        exact_lengths={"nik": 16},
    )
    return openpyxl.load_workbook(path)


def _validations(sheet) -> dict[str, object]:
    return {
        str(validation.sqref).split(":")[0]: validation
        for validation in sheet.data_validations.dataValidation
    }


def test_template_data_sheet_comes_first(template):
    assert template.worksheets[0].title == "Data"


def test_template_headers_are_the_labels(template):
    assert [cell.value for cell in template["Data"][1]] == [str(spec.label) for spec in COLUMNS]


def test_template_has_an_instructions_sheet(template):
    lines = [row[0] for row in template.worksheets[1].iter_rows(values_only=True)]

    assert "1. Satu baris untuk satu WBP." in lines


def test_template_instructions_list_required_columns(template):
    rows = list(template.worksheets[1].iter_rows(values_only=True))

    assert ("NIK", "16 digit, tanpa spasi") in [(row[0], row[2]) for row in rows]


def test_template_short_choice_list_is_inline(template):
    validation = _validations(template["Data"])["C2"]

    assert (validation.type, validation.formula1) == ("list", '"L,P"')


def test_template_long_choice_list_lives_on_a_hidden_sheet(template):
    validation = _validations(template["Data"])["F2"]
    lists = template.worksheets[2]

    assert (lists.sheet_state, lists["F2"].value, validation.formula1.endswith("$F$2:$F$41")) == (
        "hidden",
        VILLAGES[0],
        True,
    )


def test_template_choice_validation_stops_other_values(template):
    assert _validations(template["Data"])["E2"].errorStyle in (None, "stop")


def test_template_nik_column_is_text_formatted(template):
    assert template["Data"].column_dimensions["A"].number_format == "@"


def test_template_date_column_is_date_formatted(template):
    assert template["Data"].column_dimensions["D"].number_format == "dd-mm-yyyy"


def test_template_nik_column_checks_the_length(template):
    validation = _validations(template["Data"])["A2"]

    assert (validation.type, validation.operator, validation.formula1) == ("textLength", "equal", "16")


def test_template_required_header_has_its_help_as_a_comment(template):
    assert template["Data"]["A1"].comment.text == "16 digit, tanpa spasi"


def test_template_reads_back_with_matching_headers(tmp_path):
    path = tmp_path / "templat.xlsx"
    write_template(path, COLUMNS, {"sex": ["L", "P"]}, [], {"nik"})

    reader = read_rows(path, "templat.xlsx")

    assert (reader.sheet_name, len(reader.match_headers(COLUMNS).indexes), list(reader)) == ("Data", 6, [])


def test_template_unknown_choice_key_is_a_programming_error(tmp_path):
    with pytest.raises(ValueError):
        write_template(tmp_path / "t.xlsx", COLUMNS, {"religion": ["Islam"]}, [], set())
