"""Loading KPU's DPT: every row checked first, bad rows reported with their
line numbers, nothing half-written, file name and line kept per record."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest
import xlsxwriter
from django.core.management import CommandError, call_command

from inmates import dedup, dpt_import
from inmates.dpt_import import DptImportError
from inmates.models import DptFile, DptRecord, DuplicateCandidate, Region

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fixed_day(time_machine):
    """Every test happens on 1 February 2024 (Jakarta), two weeks before Pemilu 2024."""
    time_machine.move_to(datetime.datetime(2024, 2, 1, 9, 0, tzinfo=ZoneInfo("Asia/Jakarta")))


HEADER = [
    "NKK",
    "NIK",
    "Nama",
    "Tempat Lahir",
    "Tanggal Lahir",
    "Jenis Kelamin",
    "Status Kawin",
    "Alamat",
    "RT",
    "RW",
    "Kode Wilayah",
    "TPS",
]
GOOD = [
    [
        "3316012005150003",
        "3316011708900001",
        "SLAMET RIYADI",
        "BLORA",
        "17-08-1990",
        "L",
        "S",
        "Dk. Bangkleyan",
        "1",
        "2",
        "33.16.01.2001",
        "TPS 004",
    ],
    [
        "",
        "3316015505920003",
        "Sri Lestari",
        "Blora",
        "1992-05-15",
        "Perempuan",
        "Belum Kawin",
        "Dk. Jati",
        "003",
        "001",
        "3316012001",
        "5",
    ],
    [
        "3316011111110001",
        "3316010101800004",
        "H. AHMAD DJUNAEDI",
        "CEPU",
        "1 Januari 1980",
        "LAKI-LAKI",
        "P",
        "",
        "",
        "",
        "",
        "012",
    ],
]


def write_csv(path, rows, header=HEADER, delimiter=",", encoding="utf-8"):
    lines = [delimiter.join(header)] + [delimiter.join(row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding=encoding)
    return path


@pytest.fixture
def blora_regency(regions) -> Region:
    return Region.objects.get(code="33.16")


def load(path, regency, **kwargs):
    return dpt_import.dpt_import(path=path, regency=regency, user=None, **kwargs)


def test_rows_are_loaded_with_file_name_and_line(tmp_path, blora_regency, kpu_blora_officer):
    path = write_csv(tmp_path / "DPT_Kec_Jati.csv", GOOD)

    result = dpt_import.dpt_import(path=path, regency=blora_regency, user=kpu_blora_officer)

    assert result.rows == 3
    assert (result.dpt_file.name, result.dpt_file.regency_id, result.dpt_file.loaded_by) == (
        "DPT_Kec_Jati.csv",
        "33.16",
        kpu_blora_officer,
    )
    records = list(DptRecord.objects.order_by("line"))
    assert [r.line for r in records] == [2, 3, 4]
    slamet, sri, ahmad = records
    assert (slamet.nik, slamet.nkk, slamet.birth_date, slamet.sex, slamet.tps, slamet.rt, slamet.rw) == (
        "3316011708900001",
        "3316012005150003",
        datetime.date(1990, 8, 17),
        "L",
        "004",
        "001",
        "002",
    )
    assert (sri.birth_date, sri.sex, sri.marital_status, sri.region_code, sri.tps) == (
        datetime.date(1992, 5, 15),
        "P",
        "B",
        "33.16.01.2001",
        "005",
    )
    assert (ahmad.birth_date, ahmad.marital_status, ahmad.region_code, ahmad.name) == (
        datetime.date(1980, 1, 1),
        "P",
        "",
        "H. AHMAD DJUNAEDI",
    )
    assert {r.regency_code for r in records} == {"33.16"}


def test_bad_rows_are_reported_with_line_numbers_and_nothing_is_written(tmp_path, blora_regency):
    rows = [
        GOOD[0],
        [
            "",
            "3.31601E+15",
            "BUDI",
            "",
            "17-08-1990",
            "L",
            "",
            "",
            "",
            "",
            "",
            "001",
        ],  # line 3: NIK as a number
        [
            "",
            "3316011708900002",
            "",
            "",
            "31-02-1990",
            "X",
            "",
            "",
            "1a",
            "",
            "",
            "",
        ],  # line 4: name, date, sex, RT, TPS
        GOOD[1],
        [
            "",
            "3318012005880002",
            "JOKO",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "33.18.01.2001",
            "001",
        ],  # line 6: other regency
    ]
    path = write_csv(tmp_path / "DPT.csv", rows)

    with pytest.raises(DptImportError) as caught:
        load(path, blora_regency)

    error = caught.value
    assert (error.error_count, error.rows) == (3, 5)
    found = {(e.line, e.column) for e in error.errors}
    assert found == {
        (3, "NIK"),
        (4, "Nama"),
        (4, "Tanggal Lahir"),
        (4, "Jenis Kelamin"),
        (4, "RT"),
        (4, "TPS"),
        (6, "Kode Wilayah"),
    }
    nik_error = next(e for e in error.errors if e.line == 3)
    assert "Text" in nik_error.message or "Teks" in nik_error.message
    assert not DptFile.objects.exists()
    assert not DptRecord.objects.exists()


def test_unknown_region_code_inside_the_regency_is_an_error(tmp_path, blora_regency):
    row = GOOD[0][:10] + ["33.16.99.9999", "001"]
    with pytest.raises(DptImportError) as caught:
        load(write_csv(tmp_path / "DPT.csv", [row]), blora_regency)
    assert [(e.line, e.column) for e in caught.value.errors] == [(2, "Kode Wilayah")]


def test_missing_required_columns_are_one_file_error(tmp_path, blora_regency):
    path = write_csv(tmp_path / "DPT.csv", [["SLAMET", "BLORA"]], header=["Nama", "Tempat Lahir"])
    with pytest.raises(DptImportError) as caught:
        load(path, blora_regency)
    assert "NIK" in caught.value.file_error and "TPS" in caught.value.file_error
    assert not DptFile.objects.exists()


def test_failure_while_writing_leaves_nothing_behind(tmp_path, blora_regency, monkeypatch):
    path = write_csv(tmp_path / "DPT.csv", GOOD)
    original = (
        dpt_import._load_batched
        if dpt_import.connection.vendor != "postgresql"
        else dpt_import._load_postgresql
    )

    def crash(dpt_file, spool):
        original(dpt_file, spool)
        assert DptRecord.objects.count() == 3  # written inside the transaction …
        raise RuntimeError("disk full")

    monkeypatch.setattr(dpt_import, "_load_batched", crash)
    monkeypatch.setattr(dpt_import, "_load_postgresql", crash)
    with pytest.raises(RuntimeError):
        load(path, blora_regency)
    assert not DptRecord.objects.exists()  # … and rolled back
    assert not DptFile.objects.exists()


def test_semicolons_bom_and_windows_encoding_are_read(tmp_path, blora_regency):
    rows = [
        GOOD[0][:2] + ["SOEDJONO WIDJAJA"] + GOOD[0][3:],
        GOOD[1][:2] + ["Siti Ma\u2019rifah"] + GOOD[1][3:],
    ]
    bom = write_csv(tmp_path / "bom.csv", rows, delimiter=";", encoding="utf-8-sig")
    cp1252 = write_csv(tmp_path / "ansi.csv", rows, delimiter=";", encoding="cp1252")
    assert load(bom, blora_regency).rows == 2
    assert load(cp1252, blora_regency).rows == 2
    assert set(DptRecord.objects.values_list("name", flat=True)) == {"SOEDJONO WIDJAJA", "Siti Ma\u2019rifah"}


def test_a_title_row_above_the_header_keeps_line_numbers_true(tmp_path, blora_regency):
    path = tmp_path / "DPT.csv"
    path.write_text(
        "DAFTAR PEMILIH TETAP KAB. BLORA\n" + ",".join(HEADER) + "\n" + ",".join(GOOD[0]) + "\n",
        encoding="utf-8",
    )
    load(path, blora_regency)
    assert DptRecord.objects.get().line == 3


def test_xlsx_is_read_and_a_numeric_nik_cell_is_refused(tmp_path, blora_regency):
    path = tmp_path / "DPT_Blora.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("DPT")
    sheet.write_row(0, 0, HEADER)
    sheet.write_row(1, 0, GOOD[0])
    sheet.write_row(
        2, 0, ["", 3316015505920003, "SRI", "", datetime.date(1992, 5, 15), "P", "", "", "", "", "", "005"]
    )
    workbook.close()

    with pytest.raises(DptImportError) as caught:
        load(path, blora_regency)
    assert [(e.line, e.column) for e in caught.value.errors] == [(3, "NIK")]

    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("DPT")
    sheet.write_row(0, 0, HEADER)
    sheet.write_row(1, 0, GOOD[0])
    sheet.write_row(
        2, 0, ["", "3316015505920003", "SRI", "", datetime.date(1992, 5, 15), "P", "", "", "", "", "", 5]
    )
    workbook.close()
    assert load(path, blora_regency).rows == 2
    assert DptRecord.objects.get(line=3).birth_date == datetime.date(1992, 5, 15)
    assert DptRecord.objects.get(line=3).tps == "005"


def test_loading_the_same_file_again_replaces_it_and_keeps_decisions(
    tmp_path, blora_regency, make_inmate, blora
):
    slamet = make_inmate(
        blora, registration_number="AI.001/2023", full_name="Slamet Riyadi", nik="3316011708900001"
    )
    path = write_csv(tmp_path / "DPT_Jati.csv", GOOD)
    load(path, blora_regency)
    dedup.duplicates_detect(against_dpt=True)
    match = DuplicateCandidate.objects.get(kind="dpt", inmate_a=slamet)
    dedup.dpt_match_confirm(candidate=match, user=None)

    write_csv(path, [GOOD[1], GOOD[0]])  # the newer export: one voter fewer, another order
    result = load(path, blora_regency)

    assert (result.rows, result.replaced, result.decisions_kept) == (2, 3, 1)
    assert DptFile.objects.count() == 1
    assert DptRecord.objects.count() == 2
    match.refresh_from_db()
    assert match.status == "confirmed"
    assert (match.dpt_record.dpt_file, match.dpt_record.line) == (result.dpt_file, 3)


def test_another_file_name_is_an_additional_load(tmp_path, blora_regency):
    load(write_csv(tmp_path / "DPT_Jati.csv", GOOD[:1]), blora_regency)
    load(write_csv(tmp_path / "DPT_Cepu.csv", GOOD[1:]), blora_regency)
    assert DptFile.objects.count() == 2
    assert DptRecord.objects.count() == 3


@pytest.mark.parametrize("name", ["DPT.xls", "DPT.txt"])
def test_other_file_types_are_refused(tmp_path, blora_regency, name):
    path = tmp_path / name
    path.write_bytes(b"x")
    with pytest.raises(DptImportError):
        load(path, blora_regency)


def test_empty_file_is_refused(tmp_path, blora_regency):
    path = tmp_path / "DPT.csv"
    path.write_text(",".join(HEADER) + "\n", encoding="utf-8")
    with pytest.raises(DptImportError) as caught:
        load(path, blora_regency)
    assert caught.value.file_error


def test_command_loads_a_file(tmp_path, blora_regency, capsys):
    path = write_csv(tmp_path / "DPT_Jati.csv", GOOD)
    call_command("import_dpt", str(path), "--regency", "3316")
    assert "Loaded 3 DPT rows" in capsys.readouterr().out
    assert DptFile.objects.get().regency_id == "33.16"


def test_command_reports_bad_rows_and_fails(tmp_path, blora_regency, capsys):
    path = write_csv(
        tmp_path / "DPT.csv", [GOOD[0], ["", "12345", "X", "", "", "", "", "", "", "", "", "001"]]
    )
    with pytest.raises(CommandError):
        call_command("import_dpt", str(path), "--regency", "33.16")
    err = capsys.readouterr().err
    assert "3" in err and "NIK" in err
    assert not DptRecord.objects.exists()


def test_command_refuses_an_unknown_regency(tmp_path, regions):
    path = write_csv(tmp_path / "DPT.csv", GOOD)
    with pytest.raises(CommandError):
        call_command("import_dpt", str(path), "--regency", "33.99")
    with pytest.raises(CommandError):
        call_command("import_dpt", str(path), "--regency", "33.16.01")


def test_copy_format_round_trips_awkward_text():
    values = (
        2,
        "33.16",
        "",
        "3316011708900001",
        "A\\B\tC",
        None,
        datetime.date(1990, 8, 17),
        "L",
        "",
        "x\ny",
        "",
        "",
        "",
        "001",
    )
    line = dpt_import._copy_line(values)
    assert line.count("\n") == 1
    assert dpt_import._parse_copy_line(line) == [
        "2",
        "33.16",
        "",
        "3316011708900001",
        "A\\B\tC",
        None,
        "1990-08-17",
        "L",
        "",
        "x\ny",
        "",
        "",
        "",
        "001",
    ]
