"""The inmate import service and the import_inmates command, on real .xlsx and .csv files."""

from __future__ import annotations

import ast
import datetime
import json
import re
import shutil
import subprocess
import types
import zoneinfo
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import translation

from inmates import importing
from inmates.importing import ImportRefused, inmates_import
from inmates.models import CustodyEvent, Inmate
from tests.imports_helpers import HEADERS, people, person, write_csv, write_xlsx

pytestmark = pytest.mark.django_db

TODAY = datetime.datetime(2024, 1, 10, 9, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Jakarta"))


@pytest.fixture(autouse=True)
def _fixed_day_in_english():
    # Messages are asserted in English; the Indonesian ones are tested at the end.
    with time_machine.travel(TODAY, tick=False), translation.override("en"):
        yield


def run(path: Path, facility, user, **kwargs):
    return inmates_import(source=path, filename=path.name, facility=facility, user=user, **kwargs)


def problems(report, level=None):
    return [p for p in report.problems if level is None or p.level == level]


def codes(report, level=None) -> list[str]:
    return [p.code for p in problems(report, level)]


# --- a clean file -------------------------------------------------------------------


def test_xlsx_creates_the_records(tmp_path, blora, rutan_blora_officer):
    report = run(write_xlsx(tmp_path / "wbp.xlsx", people(3)), blora, rutan_blora_officer)

    assert (report.created, report.updated, report.unchanged, report.errors) == (3, 0, 0, 0)
    assert report.written is True
    inmate = Inmate.objects.get(facility=blora, registration_number="AI.002/2023")
    assert inmate.nik == person(2)["NIK"]
    assert inmate.birth_date == datetime.date(1990, 3, 16)
    assert (inmate.sex, inmate.marital_status, inmate.custody_type) == ("L", "kawin", "narapidana")
    assert inmate.domicile_region_id == "33.16.01.2001"
    assert inmate.expected_release_date == datetime.date(2025, 3, 1)
    assert inmate.custody_status == "in_custody"
    assert inmate.nik_warnings == []


def test_each_new_record_gets_an_admission_event_by_the_importer(tmp_path, blora, rutan_blora_officer):
    run(write_xlsx(tmp_path / "wbp.xlsx", people(2)), blora, rutan_blora_officer)

    events = CustodyEvent.objects.filter(inmate__facility=blora)
    assert [(e.kind, e.date, e.created_by) for e in events] == [
        ("admission", datetime.date(2023, 3, 1), rutan_blora_officer)
    ] * 2


def test_history_of_a_new_record_names_the_user_and_the_import(tmp_path, blora, rutan_blora_officer):
    run(write_xlsx(tmp_path / "wbp.xlsx", people(1)), blora, rutan_blora_officer)

    (version,) = Inmate.objects.get().history.all()
    assert version.history_type == "+"
    assert version.history_user == rutan_blora_officer
    assert version.history_change_reason == "Import wbp.xlsx"


def test_csv_with_bom_and_semicolons_is_imported(tmp_path, blora, rutan_blora_officer):
    path = write_csv(
        tmp_path / "wbp.csv", people(2, **{"Alamat": "Jl. Pemuda, No. 5"}), delimiter=";", bom=True
    )

    report = run(path, blora, rutan_blora_officer)

    assert (report.created, report.errors, report.file_format) == (2, 0, "csv")
    assert Inmate.objects.get(registration_number="AI.001/2023").address == "Jl. Pemuda, No. 5"


def test_csv_with_commas_and_no_bom_is_imported(tmp_path, blora, rutan_blora_officer):
    report = run(write_csv(tmp_path / "wbp.csv", people(2)), blora, rutan_blora_officer)

    assert (report.created, report.errors) == (2, 0)


def test_dry_run_counts_and_writes_nothing(tmp_path, blora, rutan_blora_officer):
    report = run(write_xlsx(tmp_path / "wbp.xlsx", people(4)), blora, rutan_blora_officer, dry_run=True)

    assert (report.created, report.written) == (4, False)
    assert not Inmate.objects.exists()


# --- real Excel habits ----------------------------------------------------------------


def test_nik_stored_as_a_number_in_xlsx_is_refused_with_the_text_format_advice(
    tmp_path, blora, rutan_blora_officer
):
    row = person(1, NIK=3316011708900001)  # a number cell: Excel keeps 15 digits

    report = run(write_xlsx(tmp_path / "wbp.xlsx", [row]), blora, rutan_blora_officer)

    (problem,) = problems(report, "error")
    assert (problem.row, problem.column, problem.cell, problem.code) == (2, "NIK", "B2", "nik_numeric")
    assert "Format the NIK column as Text" in problem.message
    assert not Inmate.objects.exists()


def test_nik_in_scientific_notation_in_csv_is_refused(tmp_path, blora, rutan_blora_officer):
    path = write_csv(tmp_path / "wbp.csv", [person(1, NIK="3.31601E+15")], delimiter=";")

    report = run(path, blora, rutan_blora_officer)

    (problem,) = problems(report, "error")
    assert (problem.row, problem.column, problem.value, problem.code) == (
        2,
        "NIK",
        "3.31601E+15",
        "nik_numeric",
    )
    assert not Inmate.objects.exists()


@pytest.mark.parametrize("typed", ["'3316011708900001", "3316 0117 0890 0001", " 3316011708900001 "])
def test_nik_with_apostrophe_or_spaces_is_accepted(tmp_path, blora, rutan_blora_officer, typed):
    row = person(1, NIK=typed, **{"Tanggal Lahir": "17-08-1990"})

    report = run(write_xlsx(tmp_path / "wbp.xlsx", [row]), blora, rutan_blora_officer)

    assert report.errors == 0
    assert Inmate.objects.get().nik == "3316011708900001"


def test_nik_of_the_wrong_length_is_an_error(tmp_path, blora, rutan_blora_officer):
    report = run(
        write_xlsx(tmp_path / "wbp.xlsx", [person(1, NIK="331601170890001")]), blora, rutan_blora_officer
    )

    assert codes(report, "error") == ["nik_length"]
    assert "this one has 15" in problems(report)[0].message


@pytest.mark.parametrize(
    "written",
    [
        datetime.date(1985, 8, 17),  # a real Excel date cell
        "17-08-1985",
        "17/08/1985",
        "1985-08-17",
        "17 Agustus 1985",
        "17 Agt 1985",
        "17-Agu-1985",
    ],
)
def test_each_date_format_is_read(tmp_path, blora, rutan_blora_officer, written):
    row = person(1, NIK="3316011708850001", **{"Tanggal Lahir": written})

    report = run(write_xlsx(tmp_path / "wbp.xlsx", [row]), blora, rutan_blora_officer)

    assert report.errors == 0
    assert Inmate.objects.get().birth_date == datetime.date(1985, 8, 17)


def test_an_unparseable_date_is_an_error_with_the_accepted_forms(tmp_path, blora, rutan_blora_officer):
    report = run(
        write_xlsx(tmp_path / "wbp.xlsx", [person(1, **{"Tanggal Masuk": "awal Maret"})]),
        blora,
        rutan_blora_officer,
    )

    (problem,) = problems(report, "error")
    assert (problem.column, problem.cell, problem.value, problem.code) == (
        "Tanggal Masuk",
        "O2",
        "awal Maret",
        "date_format",
    )
    assert "DD-MM-YYYY" in problem.message


def test_a_birth_date_in_the_future_is_an_error(tmp_path, blora, rutan_blora_officer):
    report = run(
        write_xlsx(tmp_path / "wbp.xlsx", [person(1, **{"Tanggal Lahir": "01-02-2030"})]),
        blora,
        rutan_blora_officer,
    )

    assert codes(report, "error") == ["birth_date_future"]


@pytest.mark.parametrize(
    ("written", "sex"), [("Laki-laki", "L"), ("Perempuan", "P"), ("p", "P"), ("LK", "L")]
)
def test_sex_spellings(tmp_path, blora, rutan_blora_officer, written, sex):
    report = run(
        write_xlsx(tmp_path / "wbp.xlsx", [person(1, **{"Jenis Kelamin": written})]),
        blora,
        rutan_blora_officer,
    )

    assert report.errors == 0
    assert Inmate.objects.get().sex == sex


@pytest.mark.parametrize(
    ("written", "stored"),
    [("3316012001", "33.16.01.2001"), ("33.16.01", "33.16.01"), ("331601", "33.16.01"), (331601, "33.16.01")],
)
def test_region_code_with_or_without_dots_at_village_or_district_level(
    tmp_path, blora, rutan_blora_officer, written, stored
):
    report = run(
        write_xlsx(tmp_path / "wbp.xlsx", [person(1, **{"Kode Wilayah": written})]),
        blora,
        rutan_blora_officer,
    )

    assert report.errors == 0
    assert Inmate.objects.get().domicile_region_id == stored


def test_an_unknown_region_code_is_an_error(tmp_path, blora, rutan_blora_officer):
    report = run(
        write_xlsx(tmp_path / "wbp.xlsx", [person(1, **{"Kode Wilayah": "33.16.99.9999"})]),
        blora,
        rutan_blora_officer,
    )

    (problem,) = problems(report, "error")
    assert (problem.code, problem.column, problem.value) == (
        "region_unknown",
        "Kode Wilayah",
        "33.16.99.9999",
    )


def test_a_regency_code_is_too_coarse_for_a_home_address(tmp_path, blora, rutan_blora_officer):
    report = run(
        write_xlsx(tmp_path / "wbp.xlsx", [person(1, **{"Kode Wilayah": "33.16"})]),
        blora,
        rutan_blora_officer,
    )

    assert codes(report, "error") == ["region_too_coarse"]


def test_a_missing_required_value_is_an_error(tmp_path, blora, rutan_blora_officer):
    report = run(
        write_xlsx(tmp_path / "wbp.xlsx", [person(1, **{"Nama Lengkap": "  "})]), blora, rutan_blora_officer
    )

    (problem,) = problems(report, "error")
    assert (problem.row, problem.column, problem.code) == (2, "Nama Lengkap", "required")


def test_a_registration_number_twice_in_the_file_is_an_error_naming_the_first_row(
    tmp_path, blora, rutan_blora_officer
):
    rows = [person(1), person(2), person(3, **{"No. Registrasi": "AI.001/2023"})]

    report = run(write_xlsx(tmp_path / "wbp.xlsx", rows), blora, rutan_blora_officer)

    (problem,) = problems(report, "error")
    assert (problem.row, problem.code) == (4, "duplicate_registration_number")
    assert "also on row 2" in problem.message
    assert not Inmate.objects.exists()


def test_the_registers_own_rules_apply(tmp_path, blora, rutan_blora_officer):
    rows = [
        person(1, **{"Status Penahanan": "Tahanan"}),  # a detainee has no release date yet
        person(2, RT="1a"),
    ]

    report = run(write_xlsx(tmp_path / "wbp.xlsx", rows), blora, rutan_blora_officer)

    assert [(p.row, p.column, p.code) for p in problems(report, "error")] == [
        (2, "Perkiraan Tanggal Bebas", "invalid"),
        (3, "RT", "invalid"),
    ]


def test_every_error_of_the_file_is_reported_not_only_the_first(tmp_path, blora, rutan_blora_officer):
    rows = [person(1, NIK="123"), person(2), person(3, **{"Tanggal Masuk": "kemarin", "Jenis Kelamin": "X"})]

    report = run(write_xlsx(tmp_path / "wbp.xlsx", rows), blora, rutan_blora_officer)

    assert [(p.row, p.code) for p in problems(report, "error")] == [
        (2, "nik_length"),
        (4, "sex_invalid"),
        (4, "date_format"),
    ]
    assert (report.error_rows, report.created) == (2, 1)


@pytest.mark.parametrize(
    ("column", "written", "code"),
    [
        ("Status Penahanan", "Bebas", "choice_invalid"),
        ("Status Perkawinan", "Tunangan", "choice_invalid"),
        ("Kewarganegaraan", "Malaysia", "choice_invalid"),
        ("KTP-el", "Mungkin", "choice_invalid"),
        ("TNI/Polri Aktif", "Kadang", "bool_invalid"),
        ("Tanggal Lahir", "17-08-85", "date_two_digit_year"),
        ("Tanggal Masuk", 2023, "date_year_only"),
        ("Tanggal Masuk", "01-03-1850", "date_range"),
        ("NIK", "3316-0117-0890-000X", "nik_characters"),
        ("NKK", "33160120", "nik_length"),
        ("Kode Wilayah", "Blora", "region_format"),
        ("Kode Wilayah", 33.1, "region_numeric"),
        ("Nama Lengkap", "Budi " * 40, "text_too_long"),
        ("Jenis Disabilitas", "7", "choice_invalid"),
    ],
)
def test_each_unusable_cell_is_an_error_naming_its_column(
    tmp_path, blora, rutan_blora_officer, column, written, code
):
    headers = HEADERS if column in HEADERS else [*HEADERS, column]
    row = person(1, **{column: written})

    report = run(write_xlsx(tmp_path / "wbp.xlsx", [row], headers), blora, rutan_blora_officer)

    (problem,) = problems(report, "error")
    assert (problem.row, problem.column, problem.code) == (2, column, code)
    assert problem.message  # a sentence saying how to fix it
    assert not Inmate.objects.exists()


def test_a_column_twice_is_one_clear_error(tmp_path, blora, rutan_blora_officer):
    headers = [*HEADERS, "Nama"]  # a synonym of Nama Lengkap

    report = run(
        write_xlsx(tmp_path / "wbp.xlsx", [dict(person(1), Nama="x")], headers), blora, rutan_blora_officer
    )

    assert codes(report) == ["duplicate_column"]


@pytest.mark.parametrize(
    ("column", "written", "code"),
    [("NIK", "3333333333333333", "nik_junk"), ("NKK", "3316010000000000", "nkk_junk")],
)
def test_filler_nik_or_nkk_is_a_warning(tmp_path, blora, rutan_blora_officer, column, written, code):
    report = run(
        write_xlsx(tmp_path / "wbp.xlsx", [person(1, **{column: written})]), blora, rutan_blora_officer
    )

    assert (report.errors, codes(report, "warning")) == (0, [code])
    assert Inmate.objects.get().nik_warnings == [code]


# --- headers ------------------------------------------------------------------------


def test_missing_required_columns_are_one_clear_error(tmp_path, blora, rutan_blora_officer):
    headers = [h for h in HEADERS if h not in ("Nama Lengkap", "Tanggal Masuk")]

    report = run(write_xlsx(tmp_path / "wbp.xlsx", people(2), headers), blora, rutan_blora_officer)

    (problem,) = report.problems
    assert (problem.row, problem.code) == (None, "missing_columns")
    assert "Nama Lengkap" in problem.message and "Tanggal Masuk" in problem.message
    assert not Inmate.objects.exists()


def test_header_synonyms_case_and_spacing_are_accepted(tmp_path, blora, rutan_blora_officer):
    synonyms = {
        "No. Registrasi": "no reg",
        "Nama Lengkap": "NAMA",
        "Jenis Kelamin": "L/P",
        "Tanggal Lahir": "Tgl. Lahir",
        "Status Penahanan": "Tahanan/Narapidana",
        "Tanggal Masuk": "  tgl   masuk ",
        "Kode Wilayah": "Kode Desa",
        "Perkiraan Tanggal Bebas": "Tanggal Ekspirasi",
    }
    rows = [{synonyms.get(k, k): v for k, v in person(1).items()}]

    report = run(write_xlsx(tmp_path / "wbp.xlsx", rows, [synonyms.get(h, h) for h in HEADERS]), blora, None)

    assert (report.created, report.errors) == (1, 0)
    assert Inmate.objects.get().full_name == person(1)["Nama Lengkap"]


def test_extra_columns_are_ignored_and_listed(tmp_path, blora, rutan_blora_officer):
    rows = [dict(person(1), **{"Nomor HP": "0812"})]

    report = run(write_xlsx(tmp_path / "wbp.xlsx", rows, [*HEADERS, "Nomor HP"]), blora, rutan_blora_officer)

    assert (report.created, report.ignored_columns) == (1, ["Nomor HP"])


@pytest.mark.parametrize(
    ("name", "content"), [("wbp.xls", b"\xd0\xcf\x11\xe0"), ("wbp.csv", b""), ("wbp.pdf", b"%PDF")]
)
def test_an_unreadable_file_is_one_error_and_nothing_is_written(
    tmp_path, blora, rutan_blora_officer, name, content
):
    path = tmp_path / name
    path.write_bytes(content)

    report = run(path, blora, rutan_blora_officer)

    assert len(report.problems) == 1 and report.problems[0].row is None
    assert report.has_errors and not Inmate.objects.exists()


def test_headers_without_rows_is_an_error(tmp_path, blora, rutan_blora_officer):
    report = run(write_xlsx(tmp_path / "wbp.xlsx", []), blora, rutan_blora_officer)

    assert codes(report) == ["no_rows"]


# --- warnings: saved, but said ---------------------------------------------------------


def test_warnings_do_not_block_and_are_stored_on_the_record(tmp_path, blora, rutan_blora_officer):
    rows = [
        person(1, **{"Tanggal Lahir": "02-02-1991"}),  # the NIK says another birth date
        person(2, **{"Jenis Kelamin": "P"}),  # the NIK says a man
        person(3, NIK=""),
        person(4, Kewarganegaraan="WNA"),
        person(5, NIK="", **{"Tanggal Lahir": "01-06-2008", "Status Perkawinan": "Belum Kawin"}),
    ]

    report = run(write_xlsx(tmp_path / "wbp.xlsx", rows), blora, rutan_blora_officer)

    assert (report.created, report.errors) == (5, 0)
    assert [(p.row, p.column, p.code) for p in problems(report, "warning")] == [
        (2, "NIK", "nik_birth_date_mismatch"),
        (3, "NIK", "nik_sex_mismatch"),
        (4, "NIK", "nik_missing"),
        (5, "Kewarganegaraan", "wna"),
        (6, "NIK", "nik_missing"),
        (6, "Tanggal Lahir", "under_17"),
    ]
    stored = dict(Inmate.objects.values_list("registration_number", "nik_warnings"))
    assert stored["AI.001/2023"] == ["nik_birth_date_mismatch"]
    assert stored["AI.003/2023"] == ["nik_missing"]
    assert Inmate.objects.get(registration_number="AI.003/2023").nik is None


def test_the_same_nik_twice_in_the_file_is_a_warning(tmp_path, blora, rutan_blora_officer):
    rows = [person(1), person(2, NIK=person(1)["NIK"], **{"Tanggal Lahir": person(1)["Tanggal Lahir"]})]

    report = run(write_xlsx(tmp_path / "wbp.xlsx", rows), blora, rutan_blora_officer)

    assert [(p.row, p.code) for p in problems(report, "warning")] == [(3, "nik_twice_in_file")]


def _fake_hooks(monkeypatch, found):
    """Duplicate detection (inmates.dedup_hooks.SimilarSearch) answering ``found``; returns its calls."""
    calls = []

    class FakeSearch:
        @classmethod
        def prepare(cls, facility, records, **_options):
            calls.append((facility, [record["registration_number"] for record in records]))
            return cls()

        def match(self):
            return None

        def result(self):
            return found

    monkeypatch.setattr(importing, "SimilarSearch", FakeSearch)
    return calls


def _match(facility_code, **fields):
    return types.SimpleNamespace(
        facility_code=facility_code,
        full_name=fields.get("full_name", "Slamet Riyadi"),
        registration_number=fields.get("registration_number", "AI.001/2023"),
        reason_labels=fields.get("reason_labels", ["same NIK", "same birth date"]),
    )


def test_duplicate_detection_is_asked_once_about_the_new_rows(
    tmp_path, blora, rutan_blora_officer, monkeypatch
):
    calls = _fake_hooks(monkeypatch, {1: [_match("rutan-blora")]})

    report = run(write_xlsx(tmp_path / "wbp.xlsx", people(3)), blora, rutan_blora_officer)

    assert calls == [(blora, ["AI.001/2023", "AI.002/2023", "AI.003/2023"])]
    (problem,) = problems(report, "warning")
    assert (problem.row, problem.column, problem.code) == (3, "Nama Lengkap", "similar_person")
    assert problem.message == (
        "Looks like Slamet Riyadi (registration number AI.001/2023, rutan-blora): same NIK, same birth date. "
        "Check it is not the same person."
    )
    assert report.created == 3  # a warning: the rows are still imported


def test_a_similar_person_in_another_facility_is_announced_without_their_name(
    tmp_path, blora, rutan_blora_officer, monkeypatch
):
    _fake_hooks(monkeypatch, {0: [_match("rutan-pati", full_name="Joko Susilo")]})

    report = run(write_xlsx(tmp_path / "wbp.xlsx", people(1)), blora, rutan_blora_officer)

    (problem,) = problems(report, "warning")
    assert "Joko Susilo" not in problem.message
    assert "another facility" in problem.message


def test_rows_already_in_the_register_are_not_sent_to_duplicate_detection(
    tmp_path, blora, rutan_blora_officer, monkeypatch
):
    path = write_xlsx(tmp_path / "wbp.xlsx", people(2))
    run(path, blora, rutan_blora_officer)
    calls = _fake_hooks(monkeypatch, {})

    run(path, blora, rutan_blora_officer)

    assert calls == []


def test_the_real_duplicate_detection_flags_a_known_person_under_a_new_number(
    tmp_path, blora, rutan_blora_officer, blora_inmate
):
    pytest.importorskip("inmates.dedup_hooks")
    row = person(
        7,
        NIK=blora_inmate.nik,
        NKK=blora_inmate.nkk,
        **{"Nama Lengkap": "Slamet Riyadi", "Tanggal Lahir": "17-08-1990", "Kode Wilayah": "33.16.01.2001"},
    )

    report = run(write_xlsx(tmp_path / "wbp.xlsx", [row]), blora, rutan_blora_officer)

    assert "similar_person" in codes(report, "warning")
    assert "Slamet Riyadi" in next(p.message for p in report.problems if p.code == "similar_person")


# --- atomicity and idempotence -------------------------------------------------------------


def test_an_error_on_the_last_row_leaves_the_database_untouched(
    tmp_path, blora, rutan_blora_officer, blora_inmate
):
    rows = people(30)
    rows[-1]["Tanggal Masuk"] = "31-02-2023"
    before = (Inmate.objects.count(), Inmate.history.count(), CustodyEvent.objects.count())

    report = run(write_xlsx(tmp_path / "wbp.xlsx", rows), blora, rutan_blora_officer)

    assert [(p.row, p.code) for p in problems(report, "error")] == [(31, "date_invalid")]
    assert report.written is False
    assert (Inmate.objects.count(), Inmate.history.count(), CustodyEvent.objects.count()) == before


# Files of several chunks: on PostgreSQL each chunk is written as soon as it is
# checked (importing._check_and_write), inside the one transaction.


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(importing, "CHUNK", 4)


def test_a_file_of_several_chunks_creates_every_record_with_its_history_and_event(
    tmp_path, blora, rutan_blora_officer, small_chunks
):
    report = run(write_xlsx(tmp_path / "wbp.xlsx", people(10)), blora, rutan_blora_officer)

    assert (report.created, report.errors, report.written) == (10, 0, True)
    inmates = Inmate.objects.filter(facility=blora)
    assert sorted(inmates.values_list("registration_number", flat=True)) == [
        f"AI.{n:03d}/2023" for n in range(1, 11)
    ]
    versions = Inmate.history.filter(id__in=inmates.values("pk"))
    assert sorted(
        versions.values_list("id", "history_type", "history_user", "history_change_reason")
    ) == sorted(
        (pk, "+", rutan_blora_officer.pk, "Import wbp.xlsx") for pk in inmates.values_list("pk", flat=True)
    )
    assert sorted(
        CustodyEvent.objects.filter(inmate__facility=blora).values_list("inmate_id", "kind")
    ) == sorted((pk, "admission") for pk in inmates.values_list("pk", flat=True))


def test_an_error_in_the_last_chunk_leaves_the_database_untouched(
    tmp_path, blora, rutan_blora_officer, blora_inmate, small_chunks
):
    rows = people(10)
    rows[0]["Blok/Kamar"] = "Z"  # an update of blora_inmate, written after the last chunk
    rows[-1]["Tanggal Masuk"] = "31-02-2023"
    before = (Inmate.objects.count(), Inmate.history.count(), CustodyEvent.objects.count())

    report = run(write_xlsx(tmp_path / "wbp.xlsx", rows), blora, rutan_blora_officer)

    assert [(p.row, p.code) for p in problems(report, "error")] == [(11, "date_invalid")]
    assert report.written is False
    assert (Inmate.objects.count(), Inmate.history.count(), CustodyEvent.objects.count()) == before
    blora_inmate.refresh_from_db()
    assert blora_inmate.cell_block != "Z"


def test_a_file_of_several_chunks_creates_and_updates(tmp_path, blora, rutan_blora_officer, small_chunks):
    rows = people(6)
    run(write_xlsx(tmp_path / "v1.xlsx", rows), blora, rutan_blora_officer)
    rows[5]["Blok/Kamar"] = "Z"

    report = run(
        write_xlsx(tmp_path / "v2.xlsx", rows + [person(n) for n in range(7, 12)]), blora, rutan_blora_officer
    )

    assert (report.created, report.updated, report.unchanged) == (5, 1, 5)
    assert Inmate.objects.get(registration_number="AI.006/2023").cell_block == "Z"
    assert Inmate.objects.filter(facility=blora).count() == 11


def test_in_a_file_of_several_chunks_only_the_known_person_is_flagged_as_similar(
    tmp_path, blora, rutan_blora_officer, blora_inmate, small_chunks
):
    # The register is read before the first chunk is written: the file's own
    # rows are not "similar people" of themselves.
    rows = [person(n) for n in range(2, 11)]
    rows[5] = person(
        7,
        NIK=blora_inmate.nik,
        NKK=blora_inmate.nkk,
        **{"Nama Lengkap": "Slamet Riyadi", "Tanggal Lahir": "17-08-1990", "Kode Wilayah": "33.16.01.2001"},
    )

    report = run(write_xlsx(tmp_path / "wbp.xlsx", rows), blora, rutan_blora_officer)

    assert report.created == 9
    assert [p.row for p in report.problems if p.code == "similar_person"] == [7]


def test_a_new_record_never_takes_the_id_of_a_deleted_one(tmp_path, blora, rutan_blora_officer):
    run(write_xlsx(tmp_path / "v1.xlsx", people(2)), blora, rutan_blora_officer)
    last = Inmate.objects.order_by("pk").last()
    deleted_pk = last.pk
    CustodyEvent._unchecked.filter(inmate=last).delete()  # erasure: the documented way out
    last.delete()

    run(write_xlsx(tmp_path / "v2.xlsx", [person(3)]), blora, rutan_blora_officer)

    new = Inmate.objects.get(registration_number="AI.003/2023")
    assert new.pk > deleted_pk
    assert [version.history_type for version in new.history.all()] == ["+"]


def test_re_importing_the_same_file_changes_nothing(tmp_path, blora, rutan_blora_officer):
    path = write_xlsx(tmp_path / "wbp.xlsx", people(12))
    run(path, blora, rutan_blora_officer)
    before = (
        Inmate.history.count(),
        CustodyEvent.objects.count(),
        list(Inmate.objects.values_list("updated_at")),
    )

    report = run(path, blora, rutan_blora_officer)

    assert (report.created, report.updated, report.unchanged) == (0, 0, 12)
    assert (
        Inmate.history.count(),
        CustodyEvent.objects.count(),
        list(Inmate.objects.values_list("updated_at")),
    ) == before


def test_a_changed_row_updates_only_that_record_and_its_history_names_the_user(
    tmp_path, blora, rutan_blora_officer, admin_user
):
    rows = people(3)
    run(write_xlsx(tmp_path / "v1.xlsx", rows), blora, rutan_blora_officer)
    rows[1]["Blok/Kamar"] = "C"
    rows[1]["Alamat"] = "Dk. Ngawen"

    report = run(write_xlsx(tmp_path / "v2.xlsx", rows), blora, admin_user)

    assert (report.created, report.updated, report.unchanged) == (0, 1, 2)
    changed = Inmate.objects.get(registration_number="AI.002/2023")
    assert (changed.cell_block, changed.address) == ("C", "Dk. Ngawen")
    latest = changed.history.first()
    assert (latest.history_type, latest.history_user, latest.history_change_reason) == (
        "~",
        admin_user,
        "Import v2.xlsx",
    )
    assert latest.cell_block == "C"
    assert Inmate.objects.get(registration_number="AI.001/2023").history.count() == 1


def test_an_update_recomputes_the_nik_warnings(tmp_path, blora, rutan_blora_officer):
    rows = people(1)
    run(write_xlsx(tmp_path / "v1.xlsx", rows), blora, rutan_blora_officer)
    rows[0]["Tanggal Lahir"] = "05-05-1995"

    run(write_xlsx(tmp_path / "v2.xlsx", rows), blora, rutan_blora_officer)

    assert Inmate.objects.get().nik_warnings == ["nik_birth_date_mismatch"]


def test_a_column_left_out_or_an_empty_choice_keeps_what_the_record_has(
    tmp_path, blora, rutan_blora_officer, make_inmate
):
    make_inmate(
        blora, registration_number="AI.001/2023", notes="Pindahan Lapas Pati", marital_status="cerai_mati"
    )
    row = person(1, **{"Status Perkawinan": ""})
    headers = [h for h in HEADERS if h != "Keterangan"]

    run(write_xlsx(tmp_path / "wbp.xlsx", [row], headers), blora, rutan_blora_officer)

    inmate = Inmate.objects.get()
    assert (inmate.notes, inmate.marital_status) == ("Pindahan Lapas Pati", "cerai_mati")


def test_records_of_other_facilities_are_never_matched(
    tmp_path, blora, pati, rutan_blora_officer, pati_inmate
):
    report = run(write_xlsx(tmp_path / "wbp.xlsx", [person(1)]), blora, rutan_blora_officer)

    assert report.created == 1  # same registration number as pati_inmate, other facility
    pati_inmate.refresh_from_db()
    assert pati_inmate.full_name == "Joko Susilo"


# --- a corrected admission date moves the custody history ---------------------------------


def test_a_corrected_admission_date_moves_the_admission_in_the_custody_history(
    tmp_path, blora, rutan_blora_officer
):
    run(write_xlsx(tmp_path / "v1.xlsx", [person(1)]), blora, rutan_blora_officer)

    report = run(
        write_xlsx(tmp_path / "v2.xlsx", [person(1, **{"Tanggal Masuk": "15-03-2023"})]),
        blora,
        rutan_blora_officer,
    )

    assert (report.updated, report.errors) == (1, 0)
    inmate = Inmate.objects.get()
    assert inmate.admission_date == datetime.date(2023, 3, 15)
    assert list(inmate.custody_events.values_list("kind", "date")) == [
        ("admission", datetime.date(2023, 3, 15))
    ]
    assert not Inmate.objects.in_custody_on(datetime.date(2023, 3, 10)).exists()
    assert Inmate.objects.in_custody_on(datetime.date(2023, 3, 15)).exists()
    assert CustodyEvent.recorded.filter(inmate=inmate).count() == 2  # the old admission stays on record


def test_an_admission_date_the_history_cannot_follow_is_a_row_error_and_nothing_is_written(
    tmp_path, blora, rutan_blora_officer
):
    from inmates import services

    run(write_xlsx(tmp_path / "v1.xlsx", [person(1), person(2)]), blora, rutan_blora_officer)
    released = Inmate.objects.get(registration_number="AI.001/2023")
    services.custody_event_record(
        inmate=released,
        kind=CustodyEvent.Kind.RELEASE,
        date=datetime.date(2023, 6, 1),
        user=rutan_blora_officer,
    )
    rows = [person(1, **{"Tanggal Masuk": "01-07-2023"}), person(2, **{"Blok/Kamar": "B"})]

    report = run(write_xlsx(tmp_path / "v2.xlsx", rows), blora, rutan_blora_officer)

    [problem] = problems(report, "error")
    assert (problem.row, problem.column, problem.code) == (2, "Tanggal Masuk", "admission_history")
    assert report.written is False
    assert Inmate.objects.get(registration_number="AI.002/2023").cell_block == "A"
    released.refresh_from_db()
    assert released.admission_date == datetime.date(2023, 3, 1)


# --- scope -------------------------------------------------------------------------------


def test_a_rutan_officer_cannot_import_into_another_facility(tmp_path, pati, rutan_blora_officer):
    with pytest.raises(ImportRefused):
        run(write_xlsx(tmp_path / "wbp.xlsx", people(1)), pati, rutan_blora_officer)
    assert not Inmate.objects.exists()


def test_a_kpu_officer_cannot_import_inmates(tmp_path, blora, kpu_blora_officer):
    with pytest.raises(ImportRefused):
        run(write_xlsx(tmp_path / "wbp.xlsx", people(1)), blora, kpu_blora_officer)


def test_a_row_naming_another_facility_is_an_error(tmp_path, blora, pati, rutan_blora_officer):
    rows = [person(1, **{"Kode Rutan/Lapas": "rutan-blora"}), person(2, **{"Kode Rutan/Lapas": "rutan-pati"})]

    report = run(
        write_xlsx(tmp_path / "wbp.xlsx", rows, ["Kode Rutan/Lapas", *HEADERS]), blora, rutan_blora_officer
    )

    (problem,) = problems(report, "error")
    assert (problem.row, problem.column, problem.code, problem.value) == (
        3,
        "Kode Rutan/Lapas",
        "other_facility",
        "rutan-pati",
    )
    assert not Inmate.objects.exists()


# --- the command ----------------------------------------------------------------------------


def test_command_prints_the_summary_and_writes(tmp_path, blora, capsys):
    path = write_xlsx(tmp_path / "wbp.xlsx", people(3, NIK=""))

    call_command("import_inmates", str(path), "--facility", "rutan-blora")

    out = capsys.readouterr().out
    assert "Created: 3, updated: 0, unchanged: 0, warnings: 3." in out
    assert Inmate.objects.count() == 3


def test_command_dry_run_writes_nothing(tmp_path, blora, capsys):
    call_command(
        "import_inmates",
        str(write_xlsx(tmp_path / "wbp.xlsx", people(2))),
        "--facility",
        "rutan-blora",
        "--dry-run",
    )

    assert "Would create: 2" in capsys.readouterr().out
    assert not Inmate.objects.exists()


def test_command_on_errors_prints_each_row_and_exits_non_zero(tmp_path, blora, capsys):
    rows = [person(1), person(2, NIK="3.31601E+15"), person(3, **{"Tanggal Lahir": "tidak tahu"})]
    path = write_csv(tmp_path / "wbp.csv", rows)

    with pytest.raises(CommandError) as caught:
        call_command("import_inmates", str(path), "--facility", "rutan-blora")

    assert caught.value.returncode == 1
    out = capsys.readouterr().out
    assert 'ERROR: row 3, NIK (B3) "3.31601E+15"' in out
    assert 'ERROR: row 4, Tanggal Lahir (F4) "tidak tahu"' in out
    assert not Inmate.objects.exists()


def test_command_json_report(tmp_path, blora, capsys):
    call_command(
        "import_inmates",
        str(write_xlsx(tmp_path / "wbp.xlsx", people(2))),
        "--facility",
        "rutan-blora",
        "--json",
    )

    data = json.loads(capsys.readouterr().out)
    assert {
        k: data[k] for k in ("rows", "created", "updated", "unchanged", "errors", "warnings", "written")
    } == {
        "rows": 2,
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "errors": 0,
        "warnings": 0,
        "written": True,
    }


def test_command_with_user_enforces_the_scope(tmp_path, pati, rutan_blora_officer):
    with pytest.raises(CommandError) as caught:
        call_command(
            "import_inmates",
            str(write_xlsx(tmp_path / "wbp.xlsx", people(1))),
            "--facility",
            "rutan-pati",
            "--user",
            "rutan_blora",
        )
    assert caught.value.returncode == 2
    assert not Inmate.objects.exists()


def test_command_with_an_unknown_facility_is_a_usage_error(tmp_path, blora):
    with pytest.raises(CommandError) as caught:
        call_command(
            "import_inmates", str(write_xlsx(tmp_path / "wbp.xlsx", people(1))), "--facility", "rutan-x"
        )
    assert caught.value.returncode == 2


# --- Indonesian ----------------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="msgfmt (gettext) is not installed")
def test_problems_are_reported_in_indonesian(tmp_path, blora, rutan_blora_officer):
    messages = tmp_path / "locale" / "id" / "LC_MESSAGES"
    messages.mkdir(parents=True)
    fragment = settings.BASE_DIR / "locale" / "fragments" / "imports.po"
    subprocess.run(["msgfmt", "--check", "-o", messages / "django.mo", fragment], check=True)  # noqa: S603, S607
    rows = [person(1, Kewarganegaraan="WNA"), person(2, **{"No. Registrasi": "AI.001/2023"})]
    path = write_xlsx(tmp_path / "wbp.xlsx", rows)

    with (
        override_settings(LOCALE_PATHS=[tmp_path / "locale", *settings.LOCALE_PATHS]),
        translation.override("id"),
    ):
        report = run(path, blora, rutan_blora_officer, dry_run=True)

    assert [p.message for p in report.problems] == [
        "Warga negara asing (WNA): tetap tercatat di register, tetapi bukan pemilih.",
        "Nomor registrasi AI.001/2023 juga ada di baris 2. Setiap WBP hanya boleh muncul sekali "
        "dalam file: hapus atau perbaiki salah satu baris.",
    ]


_GETTEXT = {"_", "gettext", "gettext_lazy", "ngettext", "ngettext_lazy", "pgettext", "pgettext_lazy"}
_TRANSLATED_MODULES = [
    "inmates/importing.py",
    "inmates/imports_columns.py",
    "inmates/imports_jobs.py",
    "inmates/exporting.py",
    "inmates/views/imports.py",
    "inmates/views/imports_export.py",
    "inmates/admin/imports.py",
    "inmates/management/commands/import_inmates.py",
    "inmates/management/commands/export_inmates.py",
]


def _fragment_msgids() -> dict[str, str]:
    entries, msgid, field = {}, None, None
    text = (settings.BASE_DIR / "locale" / "fragments" / "imports.po").read_text(encoding="utf-8")
    for line in [*text.splitlines(), ""]:
        if line.startswith("msgid "):
            msgid, field = ast.literal_eval(line[6:]), "id"
        elif line.startswith("msgstr"):
            entries[msgid] = ast.literal_eval(line[line.index('"') :])
            field = "str"
        elif line.startswith('"') and field == "id":
            msgid += ast.literal_eval(line)
    return entries


def test_every_message_of_the_feature_has_an_indonesian_translation():
    found = set()
    for module in _TRANSLATED_MODULES:
        tree = ast.parse((settings.BASE_DIR / module).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _GETTEXT:
                literals = [
                    a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)
                ]
                if literals:
                    found.add(literals[1] if node.func.id.startswith("pgettext") else literals[0])
    templates = settings.BASE_DIR / "templates"
    for template in [
        *templates.glob("inmates/imports/*.html"),
        templates / "admin/inmates/inmate/change_list.html",
    ]:
        found.update(re.findall(r'{% translate "([^"]+)"', template.read_text(encoding="utf-8")))
    entries = _fragment_msgids()

    assert sorted(message for message in found if not entries.get(message)) == []
