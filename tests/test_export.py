"""Inmate exports (XLSX, CSV): headers of the template, masking, formula neutralisation,
scope and filters, and the round trip export -> import that changes nothing."""

from __future__ import annotations

import datetime
import io
import re
import types
import zoneinfo

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from inmates.exporting import full_nik_for, inmates_export
from inmates.importing import inmates_import
from inmates.imports_columns import HEADERS
from inmates.models import AccessLog, CustodyEvent, Inmate
from tests.imports_helpers import read_xlsx, xlsx_bytes_text

pytestmark = pytest.mark.django_db

TODAY = datetime.datetime(2024, 1, 10, 9, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Jakarta"))
FULL_NIK = re.compile(r"\d{16}")


@pytest.fixture(autouse=True)
def _fixed_day_in_english():
    with time_machine.travel(TODAY, tick=False), translation.override("en"):
        yield


@pytest.fixture
def blora_register(make_inmate, blora, rutan_blora_officer):
    """Three Blora inmates, one with a NIK-less record, one detainee, one with a formula-like note."""
    return [
        make_inmate(blora, rutan_blora_officer, registration_number="AI.001/2023", full_name="Slamet Riyadi"),
        make_inmate(
            blora,
            rutan_blora_officer,
            registration_number="AI.002/2023",
            full_name="Joko Widodo",
            nik=None,
            nkk="",
            custody_type="tahanan",
            expected_release_date=None,
            notes='=HYPERLINK("http://evil.example","klik")',
        ),
        make_inmate(
            blora,
            rutan_blora_officer,
            registration_number="BI.003/2023",
            full_name="+62 Siti Aminah",
            nik="3316015203950004",
            sex="P",
            birth_date=datetime.date(1995, 3, 12),
            marital_status="cerai_mati",
            disability="6",
            ktp_el_status="S",
            cell_block="-B",
            address="@rumah",
        ),
    ]


def export_file(tmp_path, file_format, *, full_nik, queryset=None, name="wbp"):
    path = tmp_path / f"{name}.{file_format}"
    inmates_export(
        queryset=queryset if queryset is not None else Inmate.objects.order_by("registration_number"),
        target=path,
        file_format=file_format,
        full_nik=full_nik,
    )
    return path


def csv_lines(path) -> list[str]:
    return path.read_text(encoding="utf-8-sig").splitlines()


# --- headers and values --------------------------------------------------------------------


def test_xlsx_has_the_template_headers_and_one_row_per_inmate(tmp_path, blora_register):
    rows = read_xlsx(export_file(tmp_path, "xlsx", full_nik=True))

    assert rows[0] == HEADERS
    assert [row[1] for row in rows[1:]] == ["AI.001/2023", "AI.002/2023", "BI.003/2023"]
    first = dict(zip(HEADERS, rows[1], strict=True))
    assert first["Kode Rutan/Lapas"] == "rutan-blora"
    assert first["Tanggal Lahir"] == datetime.date(1990, 8, 17)
    assert (first["Status Perkawinan"], first["Status Penahanan"], first["Hak Pilih Dicabut"]) == (
        "Kawin",
        "Narapidana",
        "Tidak",
    )


def test_csv_has_a_note_line_then_the_template_headers(tmp_path, blora_register):
    lines = csv_lines(export_file(tmp_path, "csv", full_nik=True))

    assert lines[0].startswith("NIK and NKK are shown in full.")
    assert lines[1].split(",") == HEADERS
    assert len(lines) == 2 + 3


# --- masking --------------------------------------------------------------------------


def test_masked_xlsx_never_contains_a_full_nik_or_nkk(tmp_path, blora_register):
    path = export_file(tmp_path, "xlsx", full_nik=False)

    assert FULL_NIK.search(xlsx_bytes_text(path)) is None
    first = dict(zip(HEADERS, read_xlsx(path)[1], strict=True))
    assert (first["NIK"], first["NKK"]) == ("331601**********", "331601**********")


def test_masked_csv_never_contains_a_full_nik_or_nkk(tmp_path, blora_register):
    path = export_file(tmp_path, "csv", full_nik=False)

    text = path.read_text(encoding="utf-8-sig")
    assert FULL_NIK.search(text) is None
    assert "331601**********" in text


def test_the_masked_file_says_it_is_masked(tmp_path, blora_register):
    path = export_file(tmp_path, "xlsx", full_nik=False)

    (note,) = read_xlsx(path, "Note")[0]
    assert note.startswith("NIK and NKK are masked: only the first 6 digits are shown")
    assert csv_lines(export_file(tmp_path, "csv", full_nik=False))[0].startswith("NIK and NKK are masked")


def test_the_full_file_says_it_holds_full_values(tmp_path, blora_register):
    path = export_file(tmp_path, "xlsx", full_nik=True)

    (note,) = read_xlsx(path, "Note")[0]
    assert note.startswith("NIK and NKK are shown in full")
    assert "3316011708900001" in xlsx_bytes_text(path)


def test_nik_columns_are_text_cells_in_xlsx(tmp_path, blora_register):
    rows = read_xlsx(export_file(tmp_path, "xlsx", full_nik=True))

    assert rows[1][2] == "3316011708900001"  # a string, not 3.31601E+15


def test_full_values_only_when_asked_for_and_allowed():
    allowed = types.SimpleNamespace(can_see_full_nik=True)
    refused = types.SimpleNamespace(can_see_full_nik=False)

    assert full_nik_for(allowed, requested=True) is True
    assert full_nik_for(allowed, requested=False) is False
    assert full_nik_for(refused, requested=True) is False


# --- formula neutralisation ---------------------------------------------------------------


def test_formula_like_cells_are_neutralised_in_xlsx(tmp_path, blora_register):
    rows = {
        row[1]: dict(zip(HEADERS, row, strict=True))
        for row in read_xlsx(export_file(tmp_path, "xlsx", full_nik=True))[1:]
    }

    assert rows["AI.002/2023"]["Keterangan"] == '\'=HYPERLINK("http://evil.example","klik")'
    assert rows["BI.003/2023"]["Nama Lengkap"] == "'+62 Siti Aminah"
    assert rows["BI.003/2023"]["Blok/Kamar"] == "'-B"
    assert rows["BI.003/2023"]["Alamat"] == "'@rumah"
    assert "<f>" not in xlsx_bytes_text(export_file(tmp_path, "xlsx", full_nik=True, name="again"))


def test_formula_like_cells_are_neutralised_in_csv(tmp_path, blora_register):
    text = export_file(tmp_path, "csv", full_nik=True).read_text(encoding="utf-8-sig")

    assert "'=HYPERLINK" in text and ",=" not in text
    assert ",'+62 Siti Aminah," in text


# --- round trip ----------------------------------------------------------------------------


@pytest.mark.parametrize("file_format", ["xlsx", "csv"])
def test_export_then_import_changes_nothing(
    tmp_path, blora, rutan_blora_officer, blora_register, file_format
):
    path = export_file(tmp_path, file_format, full_nik=True)
    history_before = Inmate.history.count()

    report = inmates_import(source=path, filename=path.name, facility=blora, user=rutan_blora_officer)

    assert (report.errors, report.created, report.updated, report.unchanged) == (0, 0, 0, 3)
    assert Inmate.history.count() == history_before


def test_an_exported_file_imports_into_an_empty_register_identically(
    tmp_path, blora, rutan_blora_officer, blora_register
):
    fields = [
        "registration_number",
        "nik",
        "nkk",
        "full_name",
        "birth_date",
        "sex",
        "marital_status",
        "disability",
        "ktp_el_status",
        "notes",
        "cell_block",
        "address",
        "custody_type",
        "expected_release_date",
    ]
    before = list(Inmate.objects.order_by("registration_number").values_list(*fields))
    path = export_file(tmp_path, "xlsx", full_nik=True)
    Inmate.history.all().delete()
    for inmate in Inmate.objects.all():
        CustodyEvent._unchecked.filter(inmate=inmate).delete()
    Inmate.objects.all().delete()

    inmates_import(source=path, filename=path.name, facility=blora, user=rutan_blora_officer)

    assert list(Inmate.objects.order_by("registration_number").values_list(*fields)) == before


def test_a_masked_export_cannot_overwrite_niks(tmp_path, blora, rutan_blora_officer, blora_register):
    path = export_file(tmp_path, "xlsx", full_nik=False)

    report = inmates_import(source=path, filename=path.name, facility=blora, user=rutan_blora_officer)

    assert report.errors > 0 and not report.written
    assert Inmate.objects.get(registration_number="AI.001/2023").nik == "3316011708900001"


# --- through the admin: scope, filters, selection --------------------------------------------


def test_admin_export_contains_only_the_users_scope(client, kpu_pati_officer, blora_register, pati_inmate):
    client.force_login(kpu_pati_officer)

    response = client.get(reverse("admin:inmates_inmate_export", args=["csv"]))

    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "Joko Susilo" in text
    assert "Slamet Riyadi" not in text
    assert FULL_NIK.search(text) is None


def test_admin_export_honours_the_list_filters(client, rutan_blora_officer, blora_register):
    client.force_login(rutan_blora_officer)

    response = client.get(
        reverse("admin:inmates_inmate_export", args=["xlsx"]), {"custody_type__exact": "tahanan"}
    )

    assert response["Content-Disposition"].startswith(
        'attachment; filename="wbp_rutan-blora_20240110_nik-disamarkan'
    )
    rows = read_xlsx(b"".join(response.streaming_content))
    assert [row[1] for row in rows[1:]] == ["AI.002/2023"]


def test_admin_export_honours_the_search(client, rutan_blora_officer, blora_register):
    client.force_login(rutan_blora_officer)

    response = client.get(reverse("admin:inmates_inmate_export", args=["csv"]), {"q": "Slamet"})

    lines = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    assert len(lines) == 3 and "Slamet Riyadi" in lines[2]


def test_admin_full_export_is_logged(client, rutan_blora_officer, blora_register):
    client.force_login(rutan_blora_officer)

    response = client.get(reverse("admin:inmates_inmate_export_full", args=["xlsx"]))

    assert "3316011708900001" in xlsx_bytes_text(b"".join(response.streaming_content))
    entry = AccessLog.objects.get()
    assert (entry.action, entry.user) == (AccessLog.Action.EXPORT_FULL_NIK, rutan_blora_officer)


def test_admin_export_of_an_unknown_format_is_404(client, rutan_blora_officer):
    client.force_login(rutan_blora_officer)

    assert client.get(reverse("admin:inmates_inmate_export", args=["pdf"])).status_code == 404


def test_admin_export_needs_a_login(client, blora_register):
    response = client.get(reverse("admin:inmates_inmate_export", args=["csv"]))

    assert response.status_code == 302 and "/login/" in response["Location"]


def test_admin_action_exports_the_selected_rows_masked(client, rutan_blora_officer, blora_register):
    client.force_login(rutan_blora_officer)
    selected = blora_register[2]

    response = client.post(
        reverse("admin:inmates_inmate_changelist"),
        {"action": "export_selected_xlsx", "_selected_action": [selected.pk]},
    )

    rows = read_xlsx(b"".join(response.streaming_content))
    assert [row[1] for row in rows[1:]] == ["BI.003/2023"]
    assert rows[1][2] == "331601**********"


def test_admin_action_cannot_reach_another_facility(client, rutan_blora_officer, blora_register, pati_inmate):
    client.force_login(rutan_blora_officer)

    response = client.post(
        reverse("admin:inmates_inmate_changelist"),
        {"action": "export_selected_csv", "_selected_action": [pati_inmate.pk]},
    )

    lines = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    assert len(lines) == 2  # the note and the header: the foreign row is not in the admin's queryset
    assert "Joko Susilo" not in "".join(lines)


# --- the command --------------------------------------------------------------------------------


def test_export_command_writes_a_masked_file_by_default(tmp_path, blora_register, capsys):
    path = tmp_path / "out.csv"

    call_command("export_inmates", str(path), "--facility", "rutan-blora")

    assert "Exported 3 inmates" in capsys.readouterr().out
    assert FULL_NIK.search(path.read_text(encoding="utf-8-sig")) is None


def test_export_command_as_a_user_exports_their_scope(
    tmp_path, blora_register, pati_inmate, rutan_pati_officer
):
    path = tmp_path / "out.xlsx"

    call_command("export_inmates", str(path), "--user", "rutan_pati", "--full-nik")

    rows = read_xlsx(path)
    assert [row[4] for row in rows[1:]] == ["Joko Susilo"]
    assert rows[1][2] == "3318012005880002"


def test_export_command_with_full_nik_is_in_the_access_log(
    tmp_path, blora_register, pati_inmate, rutan_pati_officer
):
    call_command("export_inmates", str(tmp_path / "out.xlsx"), "--user", "rutan_pati", "--full-nik")

    entry = AccessLog.objects.get()
    assert (entry.action, entry.user, entry.target) == ("export_full_nik", rutan_pati_officer, "out.xlsx")
    assert entry.details["via"] == "command"


def test_export_command_masked_is_logged_as_a_plain_export(tmp_path, blora_register):
    call_command("export_inmates", str(tmp_path / "out.csv"), "--facility", "rutan-blora")

    assert list(AccessLog.objects.values_list("action", "user", "details__inmates")) == [("export", None, 3)]


def test_export_streams_rows_without_loading_the_queryset(
    tmp_path, blora_register, django_assert_max_num_queries
):
    out = io.BytesIO()
    with django_assert_max_num_queries(2):
        count = inmates_export(queryset=Inmate.objects.all(), target=out, file_format="xlsx", full_nik=False)
    assert count == 3
