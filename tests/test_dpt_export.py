"""DPT per TPS as XLSX, CSV, PDF and the A4 page (tps/dpt_export.py, the
export_dpt command and the export views): the columns exactly as KPU's
worksheet, masking that never lets a full NIK out, full numbers only when
asked for by a role allowed to see them."""

from __future__ import annotations

import csv
import datetime
import io
import zipfile

import openpyxl
import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from inmates.models import AccessLog
from tests.stations_support import (
    FULL_NIK,
    TODAY,
    blora_dapils,
    make_election,
    make_tps,
    pdf_text,
)
from tps import dpt_export
from tps.models import VoterList, VoterListEntry
from tps.services import stations

pytestmark = pytest.mark.django_db

COLUMNS = [
    "No",
    "NKK",
    "NIK",
    "Nama",
    "Tempat Lahir",
    "Tanggal Lahir",
    "Usia",
    "L/P",
    "Status Perkawinan",
    "Alamat",
    "RT",
    "RW",
    "Desa/Kelurahan",
    "Kecamatan",
    "Kab/Kota",
    "Disabilitas",
    "Kategori",
    "Keterangan",
]
NIK = "3316011708900001"
NKK = "3316012005150003"


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def election(regions):
    election = make_election()
    blora_dapils(election)
    return election


@pytest.fixture
def planned(election, blora, make_inmate, rutan_blora_officer):
    """TPS 901 with three voters: Slamet (full data), Ani (woman, disability) and a name like a formula."""
    make_tps(election, blora)
    make_inmate(
        blora, rutan_blora_officer, full_name="Slamet Riyadi", nik=NIK, nkk=NKK, registration_number="A.1"
    )
    make_inmate(
        blora,
        rutan_blora_officer,
        full_name="Ani Lestari",
        sex="P",
        nik="3316015708920002",
        nkk="3316012005150004",
        birth_date=datetime.date(1992, 8, 17),
        marital_status="belum_kawin",
        disability="6",
        ktp_el_status="S",
        registration_number="A.2",
    )
    make_inmate(
        blora,
        rutan_blora_officer,
        full_name="Zainal Abidin",
        nik="3316011708900003",
        address='=HYPERLINK("http://x")',
        registration_number="A.3",
    )
    stations.tps_plan(election=election, facility=blora, user=None)
    return election


def export(election, facility, fmt, tmp_path, **kwargs):
    path = tmp_path / f"dpt.{fmt}"
    dpt_export.export_dpt(election=election, facility=facility, fmt=fmt, target=path, **kwargs)
    return path


def xlsx_rows(path) -> list[list]:
    sheet = openpyxl.load_workbook(path, read_only=True).worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def csv_rows(path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


# --- columns and values -------------------------------------------------------------


def test_xlsx_has_exactly_kpus_columns(planned, blora, tmp_path):
    assert xlsx_rows(export(planned, blora, "xlsx", tmp_path))[0] == COLUMNS


def test_csv_has_exactly_kpus_columns(planned, blora, tmp_path):
    assert csv_rows(export(planned, blora, "csv", tmp_path))[0] == COLUMNS


def test_rows_follow_the_tps_list_with_kpus_codes(planned, blora, tmp_path):
    rows = [
        dict(zip(COLUMNS, row, strict=True)) for row in csv_rows(export(planned, blora, "csv", tmp_path))[1:]
    ]
    assert [row["Nama"] for row in rows] == ["Ani Lestari", "Slamet Riyadi", "Zainal Abidin"]
    assert [row["No"] for row in rows] == ["1", "2", "3"]
    ani, slamet = rows[0], rows[1]
    assert (ani["L/P"], ani["Status Perkawinan"], ani["Disabilitas"], ani["Usia"]) == ("P", "B", "6", "31")
    assert (slamet["Status Perkawinan"], slamet["Tanggal Lahir"], slamet["Usia"]) == ("S", "17-08-1990", "33")
    assert (slamet["Desa/Kelurahan"], slamet["Kecamatan"], slamet["Kab/Kota"]) == (
        "Bangkleyan",
        "Jati",
        "KAB. BLORA",
    )
    assert (slamet["RT"], slamet["RW"], slamet["Kategori"]) == ("001", "002", "DPT")


def test_the_category_comes_from_the_latest_accepted_list(planned, blora, tmp_path):
    inmate = blora.inmates.get(full_name="Slamet Riyadi")
    voter_list = VoterList.objects.create(
        election=planned, facility=blora, version=1, judged_on=planned.voting_day
    )
    VoterListEntry.objects.create(
        voter_list=voter_list,
        inmate=inmate,
        registration_number=inmate.registration_number,
        full_name=inmate.full_name,
        status=VoterListEntry.Status.ELIGIBLE,
        category="DPTb",
        home_tps="TPS 004 Jepangrejo",
    )
    # Accepted by KPU (the voter-list feature's own steps are tested there).
    VoterList.objects.filter(pk=voter_list.pk).update(status=VoterList.Status.ACCEPTED)
    rows = {row[3]: row for row in csv_rows(export(planned, blora, "csv", tmp_path))[1:]}
    assert rows["Slamet Riyadi"][16] == "DPTb"
    assert "TPS 004 Jepangrejo" in rows["Slamet Riyadi"][17]
    assert rows["Ani Lestari"][16] == "DPT"


def test_a_cell_that_looks_like_a_formula_is_neutralised(planned, blora, tmp_path):
    rows = {row[3]: row for row in csv_rows(export(planned, blora, "csv", tmp_path))[1:]}
    assert rows["Zainal Abidin"][9].startswith("'=")


def test_xlsx_has_one_sheet_per_tps(planned, blora, tmp_path):
    make_tps(planned, blora, number="902")
    workbook = openpyxl.load_workbook(export(planned, blora, "xlsx", tmp_path), read_only=True)
    assert workbook.sheetnames[:2] == ["TPS 901", "TPS 902"]


def test_csv_of_a_facility_with_several_tps_needs_a_tps_number(planned, blora, tmp_path):
    make_tps(planned, blora, number="902")
    with pytest.raises(dpt_export.ExportError):
        export(planned, blora, "csv", tmp_path)
    assert len(csv_rows(export(planned, blora, "csv", tmp_path, tps_number="901"))) == 4


def test_an_unknown_tps_number_is_an_error(planned, blora, tmp_path):
    with pytest.raises(dpt_export.ExportError):
        export(planned, blora, "xlsx", tmp_path, tps_number="999")


# --- masking ------------------------------------------------------------------------------


def test_masked_xlsx_never_contains_a_full_nik(planned, blora, tmp_path):
    path = export(planned, blora, "xlsx", tmp_path)
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            assert not FULL_NIK.search(archive.read(name)), name
    rows = xlsx_rows(path)
    slamet = next(row for row in rows if row[3] == "Slamet Riyadi")
    assert (slamet[1], slamet[2]) == ("331601**********", "331601**********")


def test_masked_csv_never_contains_a_full_nik(planned, blora, tmp_path):
    data = export(planned, blora, "csv", tmp_path).read_bytes()
    assert not FULL_NIK.search(data)
    assert b"331601**********" in data


def test_pdf_never_contains_a_full_nik(planned, blora, tmp_path):
    data = export(planned, blora, "pdf", tmp_path).read_bytes()
    assert data.startswith(b"%PDF")
    text = pdf_text(data)
    assert b"Slamet Riyadi" in text, "the check reads the page text"
    assert b"331601**********" in text
    assert not FULL_NIK.search(text)


def test_the_pdf_is_never_unmasked(planned, blora, tmp_path):
    with pytest.raises(dpt_export.ExportError):
        export(planned, blora, "pdf", tmp_path, full_nik=True)


def test_full_nik_only_when_asked(planned, blora, tmp_path, rutan_blora_officer):
    rows = csv_rows(export(planned, blora, "csv", tmp_path, full_nik=True, user=rutan_blora_officer))
    slamet = next(row for row in rows if row[3] == "Slamet Riyadi")
    assert (slamet[1], slamet[2]) == (NKK, NIK)


def test_full_nik_is_refused_without_the_permission(planned, blora, tmp_path, kpu_blora_officer):
    kpu_blora_officer.is_active = False  # can_see_full_nik is False for a disabled account
    with pytest.raises(PermissionDenied):
        export(planned, blora, "xlsx", tmp_path, full_nik=True, user=kpu_blora_officer)
    assert not (tmp_path / "dpt.xlsx").exists()


# --- the command ------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["xlsx", "csv", "pdf"])
def test_export_command_writes_a_masked_file_by_default(planned, blora, tmp_path, fmt):
    output = tmp_path / f"out.{fmt}"
    call_command(
        "export_dpt",
        "--election",
        "pemilu-test",
        "--facility",
        "rutan-blora",
        "--format",
        fmt,
        "--output",
        str(output),
    )
    data = output.read_bytes()
    content = pdf_text(data) if fmt == "pdf" else data
    if fmt == "xlsx":
        with zipfile.ZipFile(output) as archive:
            content = b"".join(archive.read(name) for name in archive.namelist())
    assert not FULL_NIK.search(content)


def test_export_command_full_nik(planned, blora, tmp_path):
    output = tmp_path / "full.csv"
    call_command(
        "export_dpt",
        "--election", "pemilu-test",
        "--facility", "rutan-blora",
        "--tps", "901",
        "--format", "csv",
        "--output", str(output),
        "--full-nik",
    )  # fmt: skip
    assert NIK.encode() in output.read_bytes()


def test_export_command_refuses_full_nik_in_a_pdf(planned, blora, tmp_path):
    with pytest.raises(CommandError):
        call_command(
            "export_dpt", "--election", "pemilu-test", "--facility", "rutan-blora",
            "--format", "pdf", "--output", str(tmp_path / "x.pdf"), "--full-nik",
        )  # fmt: skip


# --- the pages ------------------------------------------------------------------------


def export_url(fmt: str) -> str:
    return reverse("tps:stations_export", args=["pemilu-test", "rutan-blora", fmt])


def test_download_is_masked_by_default(client, planned, rutan_blora_officer):
    client.force_login(rutan_blora_officer)
    response = client.get(export_url("csv"), {"tps": "901"})
    assert response.status_code == 200
    assert "disamarkan" in response["Content-Disposition"]
    assert not FULL_NIK.search(response.content)


def test_download_with_full_nik_for_an_allowed_role(client, planned, kpu_blora_officer):
    client.force_login(kpu_blora_officer)
    response = client.get(export_url("xlsx"), {"full_nik": "1"})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    rows = xlsx_rows(io.BytesIO(response.content))
    assert NIK in [row[2] for row in rows]


def test_every_download_is_in_the_access_log(client, planned, kpu_blora_officer, blora):
    client.force_login(kpu_blora_officer)
    client.get(export_url("csv"), {"tps": "901"})
    client.get(export_url("xlsx"), {"full_nik": "1"})
    entries = list(AccessLog.objects.order_by("pk").values_list("action", "user", "facility", "details"))
    assert [(action, user, facility) for action, user, facility, _details in entries] == [
        ("export", kpu_blora_officer.pk, blora.pk),
        ("export_full_nik", kpu_blora_officer.pk, blora.pk),
    ]
    assert entries[1][3]["format"] == "xlsx" and entries[1][3]["voters"] == 3


def test_download_of_another_regency_is_404(client, planned, kpu_pati_officer, rutan_pati_officer):
    for user in (kpu_pati_officer, rutan_pati_officer):
        client.force_login(user)
        assert client.get(export_url("xlsx")).status_code == 404


def test_download_needs_login(client, planned):
    response = client.get(export_url("xlsx"))
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


def test_print_page_is_always_masked_even_for_an_admin(client, planned, admin_user):
    client.force_login(admin_user)
    response = client.get(
        reverse("tps:stations_print", args=["pemilu-test", "rutan-blora"]), {"full_nik": "1"}
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "331601**********" in body
    assert not FULL_NIK.search(response.content)
    assert all(f"<th>{column}</th>" in body for column in COLUMNS)
    assert "size: A4 landscape" in body
