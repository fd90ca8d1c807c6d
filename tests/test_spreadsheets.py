"""Reading uploaded .xlsx/.csv files: rows, headers, and every way a file can be refused.

Files are built for real in tmp_path (openpyxl for workbooks as an office
clerk would type them, raw zips for damaged or hostile ones). No database.
"""

from __future__ import annotations

import ast
import datetime
import io
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from voterreg import spreadsheets
from voterreg.spreadsheets import (
    ColumnSpec,
    SpreadsheetError,
    column_letter,
    match_headers,
    normalize_header,
    parse_nik,
    read_rows,
)

REPO = Path(__file__).resolve().parent.parent
PO_FILE = REPO / "locale" / "fragments" / "spreadsheets.po"

COLUMNS = [
    ColumnSpec("nik", "NIK", ("No NIK", "Nomor Induk Kependudukan"), required=True),
    ColumnSpec("name", "Nama", ("Nama Lengkap", "Nama WBP"), required=True),
    ColumnSpec("sex", "L/P", ("Jenis Kelamin", "JK", "Kelamin"), required=True),
    ColumnSpec("birth_date", "Tanggal Lahir", ("Tgl Lahir",)),
    ColumnSpec("notes", "Keterangan", ("Ket",)),
]
HEADER = ["NIK", "Nama", "L/P", "Tanggal Lahir", "Keterangan"]
BUDI = ["3316010101900001", "BUDI SANTOSO", "L", "01-01-1990", ""]
SITI = ["3316014202950002", "SITI AMINAH", "P", "02-02-1995", "pindahan"]


def make_xlsx(path: Path, rows: list[list], *, title: str = "Data", origin: tuple[int, int] = (1, 1)) -> Path:
    """A workbook with ``rows`` starting at the 1-based (row, column) ``origin``."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = title
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is not None:
                sheet.cell(row=origin[0] + r, column=origin[1] + c, value=value)
    workbook.save(path)
    return path


def make_zip(members: dict[str, bytes | str], *, level: int = 9) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
)


def raw_xlsx(sheet_rows_xml: str, *, workbook_xml: str = _WORKBOOK, level: int = 6) -> bytes:
    """A minimal hand-made .xlsx whose first sheet's <sheetData> holds ``sheet_rows_xml``."""
    sheet = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<sheetData>{sheet_rows_xml}</sheetData></worksheet>"
    )
    return make_zip(
        {
            "[Content_Types].xml": _CONTENT_TYPES,
            "_rels/.rels": _RELS,
            "xl/workbook.xml": workbook_xml,
            "xl/_rels/workbook.xml.rels": _WORKBOOK_RELS,
            "xl/worksheets/sheet1.xml": sheet,
        },
        level=level,
    )


def error_of(source, filename: str, **kwargs) -> SpreadsheetError:
    with pytest.raises(SpreadsheetError) as caught:
        reader = read_rows(source, filename, **kwargs)
        list(reader)
    return caught.value


def csv_file(text: str, *, encoding: str = "utf-8-sig") -> io.BytesIO:
    return io.BytesIO(text.encode(encoding))


# --- xlsx: rows -------------------------------------------------------------------


def test_xlsx_rows_carry_their_spreadsheet_row_number(tmp_path):
    path = make_xlsx(tmp_path / "wbp.xlsx", [HEADER, BUDI, SITI])

    rows = list(read_rows(path, "wbp.xlsx"))

    assert [row.number for row in rows] == [2, 3]


def test_xlsx_header_is_read_as_text(tmp_path):
    path = make_xlsx(tmp_path / "wbp.xlsx", [HEADER, BUDI])

    assert read_rows(path, "wbp.xlsx").header == HEADER


def test_xlsx_nik_typed_as_number_arrives_as_a_number(tmp_path):
    path = make_xlsx(tmp_path / "wbp.xlsx", [HEADER, [3316010101900001, "BUDI", "L"]])

    (row,) = read_rows(path, "wbp.xlsx")

    assert isinstance(row.values[0], float)


def test_xlsx_real_date_arrives_as_a_date(tmp_path):
    path = make_xlsx(
        tmp_path / "wbp.xlsx", [HEADER, ["3316010101900001", "BUDI", "L", datetime.date(1990, 1, 1)]]
    )

    (row,) = read_rows(path, "wbp.xlsx")

    assert row.values[3] in (datetime.date(1990, 1, 1), datetime.datetime(1990, 1, 1))


def test_xlsx_date_typed_as_text_arrives_as_text(tmp_path):
    path = make_xlsx(tmp_path / "wbp.xlsx", [HEADER, BUDI])

    (row,) = read_rows(path, "wbp.xlsx")

    assert row.values[3] == "01-01-1990"


def test_xlsx_blank_rows_are_skipped_and_numbers_keep_counting(tmp_path):
    path = make_xlsx(tmp_path / "wbp.xlsx", [HEADER, BUDI, [None], ["  "], SITI])

    rows = list(read_rows(path, "wbp.xlsx"))

    assert [row.number for row in rows] == [2, 5]


def test_header_below_title_keeps_row_numbers(tmp_path):
    # Title in B1, blank row, header in B3: a typical Rutan worksheet.
    rows = [["DAFTAR WBP RUTAN KELAS IIB BLORA"], [None], HEADER, BUDI]
    path = make_xlsx(tmp_path / "wbp.xlsx", rows, origin=(1, 2))

    reader = read_rows(path, "wbp.xlsx", columns=COLUMNS)

    assert (reader.header_row, [row.number for row in reader]) == (3, [4])


def test_header_below_title_reports_real_column_letters(tmp_path):
    rows = [["DAFTAR WBP"], HEADER, BUDI]
    path = make_xlsx(tmp_path / "wbp.xlsx", rows, origin=(1, 2))

    header_map = read_rows(path, "wbp.xlsx", columns=COLUMNS).match_headers(COLUMNS)

    assert header_map.column_letter("nik") == "B"


def test_without_columns_the_first_non_blank_row_is_the_header(tmp_path):
    path = make_xlsx(tmp_path / "wbp.xlsx", [["DAFTAR WBP"], HEADER, BUDI])

    assert read_rows(path, "wbp.xlsx").header == ["DAFTAR WBP", "", "", "", ""]


def test_row_of_column_numbers_under_the_header_is_skipped(tmp_path):
    path = make_xlsx(tmp_path / "wbp.xlsx", [HEADER, [1, 2, 3, 4, 5], BUDI])

    rows = list(read_rows(path, "wbp.xlsx"))

    assert [row.number for row in rows] == [3]


def test_header_only_workbook_has_no_rows(tmp_path):
    path = make_xlsx(tmp_path / "wbp.xlsx", [HEADER])

    assert list(read_rows(path, "wbp.xlsx")) == []


def test_total_rows_is_an_upper_bound_for_progress(tmp_path):
    path = make_xlsx(tmp_path / "wbp.xlsx", [HEADER, BUDI, SITI])

    assert read_rows(path, "wbp.xlsx").total_rows == 2


def test_sheet_named_data_is_preferred_over_the_first(tmp_path):
    workbook = openpyxl.Workbook()
    workbook.active.title = "Petunjuk"
    workbook.active.append(["Isi sheet Data"])
    workbook.create_sheet("DATA").append(HEADER)
    workbook.save(tmp_path / "wbp.xlsx")

    assert read_rows(tmp_path / "wbp.xlsx", "wbp.xlsx").sheet_name == "DATA"


def test_sheet_named_wbp_is_preferred_over_the_first(tmp_path):
    workbook = openpyxl.Workbook()
    workbook.active.title = "Rekap"
    workbook.active.append(["Jumlah"])
    workbook.create_sheet("WBP").append(HEADER)
    workbook.save(tmp_path / "wbp.xlsx")

    assert read_rows(tmp_path / "wbp.xlsx", "wbp.xlsx").sheet_name == "WBP"


def test_hidden_first_sheet_is_passed_over(tmp_path):
    workbook = openpyxl.Workbook()
    workbook.active.title = "Lookup"
    workbook.active.sheet_state = "hidden"
    workbook.create_sheet("Sheet2").append(HEADER)
    workbook.save(tmp_path / "wbp.xlsx")

    assert read_rows(tmp_path / "wbp.xlsx", "wbp.xlsx").sheet_name == "Sheet2"


def test_requested_sheet_is_read(tmp_path):
    workbook = openpyxl.Workbook()
    workbook.active.append(["other"])
    workbook.create_sheet("Januari").append(HEADER)
    workbook.save(tmp_path / "wbp.xlsx")

    assert read_rows(tmp_path / "wbp.xlsx", "wbp.xlsx", sheet_name="januari").header == HEADER


def test_missing_requested_sheet_is_an_error(tmp_path):
    path = make_xlsx(tmp_path / "wbp.xlsx", [HEADER])

    assert error_of(path, "wbp.xlsx", sheet_name="Februari").code == "sheet_not_found"


def test_uploaded_file_object_is_read_from_its_start(tmp_path):
    data = make_xlsx(tmp_path / "wbp.xlsx", [HEADER, BUDI]).read_bytes()
    upload = SimpleUploadedFile("wbp.xlsx", data)
    upload.read(10)  # a validator already peeked at it

    assert len(list(read_rows(upload, upload.name))) == 1


def test_non_seekable_stream_is_read(tmp_path):
    data = make_xlsx(tmp_path / "wbp.xlsx", [HEADER, BUDI]).read_bytes()

    class Pipe(io.RawIOBase):
        def __init__(self):
            self._inner = io.BytesIO(data)

        def readable(self):
            return True

        def readinto(self, buffer):
            chunk = self._inner.read(len(buffer))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    assert len(list(read_rows(io.BufferedReader(Pipe()), "wbp.xlsx"))) == 1


def test_reader_can_be_iterated_only_once(tmp_path):
    reader = read_rows(make_xlsx(tmp_path / "wbp.xlsx", [HEADER, BUDI]), "wbp.xlsx")
    list(reader)

    with pytest.raises(RuntimeError):
        list(reader)


# --- xlsx: refused files -----------------------------------------------------------


def test_empty_xlsx_file_is_refused(tmp_path):
    (tmp_path / "wbp.xlsx").write_bytes(b"")

    assert error_of(tmp_path / "wbp.xlsx", "wbp.xlsx").code == "empty"


def test_worksheet_without_cells_is_refused(tmp_path):
    openpyxl.Workbook().save(tmp_path / "wbp.xlsx")

    assert error_of(tmp_path / "wbp.xlsx", "wbp.xlsx").code == "no_data"


def test_random_bytes_named_xlsx_are_not_a_workbook():
    junk = io.BytesIO(bytes(range(256)) * 8)

    assert error_of(junk, "wbp.xlsx").code == "not_a_workbook"


def test_csv_renamed_to_xlsx_is_not_a_workbook():
    assert error_of(csv_file("NIK,Nama\n1,2\n"), "wbp.xlsx").code == "not_a_workbook"


def test_truncated_xlsx_is_not_a_workbook(tmp_path):
    data = make_xlsx(tmp_path / "wbp.xlsx", [HEADER, BUDI]).read_bytes()

    assert error_of(io.BytesIO(data[: len(data) // 2]), "wbp.xlsx").code == "not_a_workbook"


def test_zip_that_is_not_a_workbook_is_refused():
    docx_like = make_zip({"[Content_Types].xml": _CONTENT_TYPES, "word/document.xml": "<w:document/>"})

    assert error_of(io.BytesIO(docx_like), "surat.xlsx").code == "not_xlsx"


def test_password_protected_or_xls_content_is_explained():
    ole = io.BytesIO(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)

    assert error_of(ole, "wbp.xlsx").code == "encrypted_or_xls"


def test_zip_bomb_is_refused_before_parsing():
    bomb = make_zip({"xl/workbook.xml": _WORKBOOK, "xl/worksheets/sheet1.xml": b" " * (16 * 1024 * 1024)})
    assert len(bomb) < 100_000  # small on disk, 16 MB unpacked

    assert error_of(io.BytesIO(bomb), "wbp.xlsx").code == "zip_bomb"


def test_workbook_unpacking_beyond_the_cap_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(spreadsheets, "MAX_UNCOMPRESSED_BYTES", 2_000)
    path = make_xlsx(tmp_path / "wbp.xlsx", [HEADER, BUDI])

    assert error_of(path, "wbp.xlsx").code == "too_large_unpacked"


def _declare_size(data: bytes, member: str, size: int) -> bytes:
    """Rewrite the uncompressed size that the central directory declares for ``member``."""
    patched = bytearray(data)
    position = patched.find(b"PK\x01\x02")
    while position != -1:
        name_length = int.from_bytes(patched[position + 28 : position + 30], "little")
        if patched[position + 46 : position + 46 + name_length] == member.encode():
            patched[position + 24 : position + 28] = size.to_bytes(4, "little")
            return bytes(patched)
        position = patched.find(b"PK\x01\x02", position + 4)
    raise AssertionError(f"{member} not in the zip")


def test_zip_lying_about_its_unpacked_size_is_refused():
    # The declared size passes the cheap checks; only inflating the member catches the lie.
    sheet = "".join(
        f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>x{r}</t></is></c></row>' for r in range(1, 30_000)
    )
    liar = _declare_size(raw_xlsx(sheet), "xl/worksheets/sheet1.xml", 1000)

    assert error_of(io.BytesIO(liar), "wbp.xlsx").code == "not_a_workbook"


def test_zip_with_too_many_members_is_refused(monkeypatch):
    monkeypatch.setattr(spreadsheets, "MAX_ZIP_MEMBERS", 5)
    members = {f"xl/media/{i}.xml": "x" for i in range(6)} | {"xl/workbook.xml": _WORKBOOK}

    assert error_of(io.BytesIO(make_zip(members)), "wbp.xlsx").code == "zip_bomb"


def test_broken_workbook_xml_becomes_a_spreadsheet_error():
    broken = raw_xlsx(
        '<row r="1"><c r="A1" t="inlineStr"><is><t>NIK</t></is></c></row>', workbook_xml="<workbook"
    )

    assert error_of(io.BytesIO(broken), "wbp.xlsx").code == "unreadable"


def test_minimal_hand_made_workbook_is_read():
    data = raw_xlsx('<row r="1"><c r="A1" t="inlineStr"><is><t>NIK</t></is></c></row>')

    assert read_rows(io.BytesIO(data), "wbp.xlsx").header == ["NIK"]


# --- file types ------------------------------------------------------------------


def test_unsupported_extension_is_refused():
    assert error_of(io.BytesIO(b"%PDF-1.4"), "daftar.pdf").code == "unsupported_extension"


def test_missing_extension_is_refused():
    assert error_of(io.BytesIO(b"NIK"), "daftar").code == "unsupported_extension"


def test_old_xls_extension_explains_save_as():
    error = error_of(io.BytesIO(b"\xd0\xcf\x11\xe0"), "daftar.XLS")

    assert (error.code, ".xlsx" in error.message) == ("xls_unsupported", True)


# --- csv -----------------------------------------------------------------------------


def test_csv_with_bom_and_commas_is_read():
    reader = read_rows(csv_file("NIK,Nama,L/P\n3316010101900001,BUDI,L\n"), "wbp.csv")

    assert (reader.header, [row.values for row in reader]) == (
        ["NIK", "Nama", "L/P"],
        [["3316010101900001", "BUDI", "L"]],
    )


def test_csv_semicolons_are_detected():
    reader = read_rows(csv_file("NIK;Nama;Alamat\n3316010101900001;BUDI;Jl. Merdeka, No. 5\n"), "wbp.csv")

    assert (reader.delimiter, next(iter(reader)).values[2]) == (";", "Jl. Merdeka, No. 5")


def test_csv_commas_win_when_semicolons_only_appear_in_some_cells():
    text = "NIK,Nama,Keterangan\n3316010101900001,BUDI,a;b\n3316014202950002,SITI,\n"

    assert read_rows(csv_file(text), "wbp.csv").delimiter == ","


def test_csv_tabs_are_detected():
    assert read_rows(csv_file("NIK\tNama\n1\tBUDI\n"), "wbp.csv").delimiter == "\t"


def test_csv_without_bom_is_read_as_utf8():
    reader = read_rows(csv_file("NIK,Nama\n1,JOSÉ\n", encoding="utf-8"), "wbp.csv")

    assert (reader.encoding, next(iter(reader)).values[1]) == ("utf-8", "JOSÉ")


def test_csv_in_windows_1252_falls_back():
    reader = read_rows(csv_file("NIK;Nama\n1;JOSÉ “ABU”\n", encoding="cp1252"), "wbp.csv")

    assert (reader.encoding, next(iter(reader)).values[1]) == ("cp1252", "JOSÉ “ABU”")


def test_csv_in_utf16_unicode_text_is_read():
    reader = read_rows(csv_file("NIK\tNama\n1\tBUDI\n", encoding="utf-16"), "wbp.txt.csv")

    assert [row.values for row in reader] == [["1", "BUDI"]]


def test_csv_rows_are_numbered_like_excel_rows():
    text = 'NIK,Nama\n1,"BUDI\nSANTOSO"\n\n2,SITI\n'

    assert [row.number for row in read_rows(csv_file(text), "wbp.csv")] == [2, 4]


def test_csv_short_rows_are_padded_to_the_header():
    (row,) = read_rows(csv_file("NIK,Nama,L/P\n1\n"), "wbp.csv")

    assert row.values == ["1", "", ""]


def test_csv_excel_separator_hint_is_honoured():
    reader = read_rows(csv_file("sep=;\nNIK;Nama\n1;BUDI\n"), "wbp.csv")

    assert (reader.header, reader.header_row) == (["NIK", "Nama"], 1)


def test_empty_csv_is_refused():
    assert error_of(io.BytesIO(b""), "wbp.csv").code == "empty"


def test_csv_of_only_blank_lines_is_refused():
    assert error_of(csv_file("\n  \n\n"), "wbp.csv").code == "empty"


def test_csv_of_only_separators_has_no_data():
    assert error_of(csv_file(";;;\n;;\n"), "wbp.csv").code == "no_data"


def test_binary_file_named_csv_is_refused():
    junk = bytes(range(256)) * 4

    assert error_of(io.BytesIO(junk), "wbp.csv").code == "not_text"


def test_workbook_named_csv_is_refused(tmp_path):
    data = make_xlsx(tmp_path / "wbp.xlsx", [HEADER]).read_bytes()

    assert error_of(io.BytesIO(data), "wbp.csv").code == "workbook_named_csv"


def test_csv_unclosed_quote_names_its_row():
    error = error_of(csv_file('NIK,Nama\n1,BUDI\n2,"SITI\n3,AGUS\n'), "wbp.csv")

    assert (error.code, error.params["row"]) == ("csv_malformed", 3)


def test_csv_path_is_read(tmp_path):
    (tmp_path / "wbp.csv").write_bytes(b"NIK,Nama\n1,BUDI\n")

    assert len(list(read_rows(tmp_path / "wbp.csv", "wbp.csv"))) == 1


# --- headers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header", ["Nama", "NAMA LENGKAP", "nama_lengkap", " Nama  Lengkap ", "Nama WBP", "name"]
)
def test_name_header_variants_match(header):
    header_map = match_headers(["NIK", header, "L/P"], COLUMNS)

    assert header_map.indexes["name"] == 1


@pytest.mark.parametrize("header", ["L/P", "l / p", "Jenis Kelamin", "JENIS_KELAMIN", "JK", "J.K."])
def test_sex_header_variants_match(header):
    header_map = match_headers(["NIK", "Nama", header], COLUMNS)

    assert header_map.indexes["sex"] == 2


def test_bracketed_hint_in_header_is_ignored():
    header_map = match_headers(["NIK", "Nama", "L/P", "Tanggal Lahir (dd-mm-yyyy)"], COLUMNS)

    assert header_map.indexes["birth_date"] == 3


def test_extra_columns_are_ignored_and_listed():
    header_map = match_headers(["No", "NIK", "Nama", "L/P", "Blok"], COLUMNS)

    assert (header_map.unmatched, header_map.indexes["nik"]) == (("No", "Blok"), 1)


def test_optional_columns_may_be_absent():
    header_map = match_headers(["NIK", "Nama", "L/P"], COLUMNS)

    assert "birth_date" not in header_map


def test_all_missing_required_columns_are_reported_together():
    error = error_of_headers(["Nomor", "Alamat"])

    assert (error.code, error.params["columns"]) == ("missing_columns", "NIK, Nama, L/P")


def test_missing_columns_message_lists_the_columns_found():
    error = error_of_headers(["Nomor", "Alamat"])

    assert "Nomor, Alamat" in error.message


def test_column_appearing_twice_is_refused():
    error = error_of_headers(["NIK", "Nama", "L/P", "Nama Lengkap"])

    assert (error.code, error.params["letters"]) == ("duplicate_column", "B, D")


def test_two_specs_claiming_one_header_is_a_programming_error():
    specs = [ColumnSpec("a", "Nama"), ColumnSpec("b", "Nama Lengkap", ("nama",))]

    with pytest.raises(ValueError):
        match_headers(["Nama"], specs)


def test_header_map_gives_none_past_the_end_of_a_short_row():
    header_map = match_headers(HEADER, COLUMNS)

    assert header_map.extract(["3316010101900001"])["name"] is None


def test_header_map_extracts_cells_by_key():
    header_map = match_headers(HEADER, COLUMNS)

    assert header_map.extract(BUDI)["sex"] == "L"


@pytest.mark.parametrize(("index", "letter"), [(0, "A"), (25, "Z"), (26, "AA"), (701, "ZZ"), (702, "AAA")])
def test_column_letter(index, letter):
    assert column_letter(index) == letter


def test_normalize_header_keeps_a_fully_bracketed_header():
    assert normalize_header("(NIK)") == "nik"


def error_of_headers(header: list[str]) -> SpreadsheetError:
    with pytest.raises(SpreadsheetError) as caught:
        match_headers(header, COLUMNS)
    return caught.value


# --- never another exception ----------------------------------------------------------


def _read_all(data: bytes, filename: str) -> None:
    try:
        for _row in read_rows(io.BytesIO(data), filename):
            pass
    except SpreadsheetError:
        pass


@settings(max_examples=150, deadline=None, database=None)
@given(data=st.binary(max_size=4096), filename=st.sampled_from(["a.xlsx", "a.csv"]))
def test_random_bytes_parse_or_raise_spreadsheet_error(data, filename):
    _read_all(data, filename)


@settings(max_examples=150, deadline=None, database=None)
@given(text=st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from(',;"\t\r\n'), max_size=2000))
def test_random_csv_text_parses_or_raises_spreadsheet_error(text):
    _read_all(text.encode("utf-8"), "a.csv")


_VALID_XLSX = raw_xlsx(
    '<row r="1"><c r="A1" t="inlineStr"><is><t>NIK</t></is></c><c r="B1"><v>1</v></c></row>'
    '<row r="2"><c r="A2" t="inlineStr"><is><t>3316010101900001</t></is></c><c r="B2"><v>2</v></c></row>',
    level=0,  # stored, so that mutations reach the XML itself
)


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    edits=st.lists(
        st.tuples(st.integers(min_value=0, max_value=len(_VALID_XLSX) - 1), st.integers(0, 255)),
        min_size=1,
        max_size=8,
    ),
    cut=st.integers(min_value=1, max_value=len(_VALID_XLSX)),
)
def test_damaged_workbooks_parse_or_raise_spreadsheet_error(edits, cut):
    data = bytearray(_VALID_XLSX)
    for position, byte in edits:
        data[position] = byte
    _read_all(bytes(data[:cut]), "a.xlsx")


_PARTS = {
    "[Content_Types].xml": _CONTENT_TYPES,
    "_rels/.rels": _RELS,
    "xl/workbook.xml": _WORKBOOK,
    "xl/_rels/workbook.xml.rels": _WORKBOOK_RELS,
    "xl/worksheets/sheet1.xml": (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        '<row r="1"><c r="A1" t="inlineStr"><is><t>NIK</t></is></c><c r="B1" t="s"><v>0</v></c></row>'
        '<row r="2"><c r="A2" s="1"><v>31276</v></c><c r="B2" t="b"><v>1</v></c></row>'
        "</sheetData></worksheet>"
    ),
}


@settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    part=st.sampled_from(sorted(_PARTS)),
    edits=st.lists(
        st.tuples(st.integers(min_value=0, max_value=400), st.sampled_from('<>"/=r0A1 x&;')), max_size=6
    ),
    cut=st.integers(min_value=0, max_value=600),
)
def test_workbooks_with_broken_xml_parse_or_raise_spreadsheet_error(part, edits, cut):
    # A valid zip around damaged XML reaches the calamine parser itself.
    text = list(_PARTS[part])
    for position, char in edits:
        text[position % len(text)] = char
    members = dict(_PARTS)
    members[part] = "".join(text)[: max(cut, 1) if cut < len(text) else len(text)]
    _read_all(make_zip(members, level=1), "a.xlsx")


# --- translations -------------------------------------------------------------------------

_GETTEXT_FUNCTIONS = {"_", "gettext", "gettext_lazy", "ngettext_lazy", "pgettext", "pgettext_lazy"}


def _source_messages() -> set[tuple[str | None, str]]:
    """(context, msgid) of every gettext call with literal arguments in the modules the fragment covers."""
    found = set()
    for module in ("spreadsheets.py", "xlsx_writer.py", "masking.py"):
        tree = ast.parse((REPO / "voterreg" / module).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in _GETTEXT_FUNCTIONS
            ):
                literals = [
                    arg.value
                    for arg in node.args
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str)
                ]
                if node.func.id.startswith("pgettext"):
                    found.add((literals[0], literals[1]))
                else:
                    found.add((None, literals[0]))
    return found


def _po_entries(path: Path) -> dict[tuple[str | None, str], list[str]]:
    """A small .po reader: {(msgctxt, msgid): [msgstr, ...]}."""
    entries: dict[tuple[str | None, str], list[str]] = {}

    def unquote(line: str) -> str:
        return ast.literal_eval(line[line.index('"') :])

    context = msgid = None
    strings: list[str] = []
    field = None
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if not line.strip() or line.startswith("#"):
            if msgid is not None and not line.startswith("#"):
                entries[(context, msgid)] = strings
                context = msgid = None
                strings, field = [], None
            continue
        if line.startswith("msgctxt "):
            context, field = unquote(line), "ctxt"
        elif line.startswith("msgid "):
            msgid, field = unquote(line), "id"
        elif line.startswith("msgid_plural "):
            field = "plural"
        elif re.match(r"msgstr(\[\d+\])? ", line):
            strings.append(unquote(line))
            field = "str"
        elif line.startswith('"'):
            if field == "id":
                msgid += unquote(line)
            elif field == "ctxt":
                context += unquote(line)
            elif field == "str":
                strings[-1] += unquote(line)
    return entries


def test_every_message_has_an_indonesian_translation():
    entries = _po_entries(PO_FILE)

    untranslated = [key for key in _source_messages() if not all(entries.get(key) or [""])]

    assert untranslated == []


def test_translation_fragment_has_no_stale_messages():
    entries = _po_entries(PO_FILE)
    entries.pop((None, ""), None)  # the header

    assert set(entries) - _source_messages() == set()


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="msgfmt (gettext) is not installed")
def test_messages_are_shown_in_indonesian(tmp_path):
    messages = tmp_path / "id" / "LC_MESSAGES"
    messages.mkdir(parents=True)
    subprocess.run(["msgfmt", "--check", "-o", messages / "django.mo", PO_FILE], check=True)  # noqa: S603, S607

    with override_settings(LOCALE_PATHS=[tmp_path]), translation.override("id"):
        with pytest.raises(spreadsheets.CellError) as caught:
            parse_nik("331601")
        message = caught.value.message

    assert message == "NIK harus 16 digit; yang ini 6 digit. Periksa kembali dengan KTP atau KK."


def test_error_message_is_rendered_in_the_language_active_when_read():
    with pytest.raises(spreadsheets.CellError) as caught:
        parse_nik("331601")

    with translation.override("en"):
        assert caught.value.message.startswith("NIK must have 16 digits; this one has 6.")
