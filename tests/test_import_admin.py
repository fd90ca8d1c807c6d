"""The import screens through the Django test client: upload, preview with every problem,
corrected upload, confirm, result; progress page and status; who may see which job."""

from __future__ import annotations

import datetime
import re
import zoneinfo

import pytest
import time_machine
from django.urls import reverse

from inmates.models import ImportJob, Inmate
from tests.imports_helpers import HEADERS, people, person, read_xlsx, write_csv, write_xlsx, xlsx_bytes_text

pytestmark = pytest.mark.django_db

TODAY = datetime.datetime(2024, 1, 10, 9, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Jakarta"))
UPLOAD = reverse("inmates:import_upload")


@pytest.fixture(autouse=True)
def _setup(settings, tmp_path, client):
    settings.MEDIA_ROOT = tmp_path / "media"
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # the language menu's choice
    with time_machine.travel(TODAY, tick=False):
        yield


def post_file(client, path, facility):
    with open(path, "rb") as handle:
        return client.post(UPLOAD, {"facility": facility.pk, "file": handle}, follow=True)


def problem_rows(page: str) -> list[int]:
    return [int(row) for row in re.findall(r'<td class="problem-row">(\d+)</td>', page)]


def count(page: str, name: str) -> int:
    return int(re.search(rf'data-count="{name}">([\d,.]+)<', page).group(1).replace(",", "").replace(".", ""))


@pytest.fixture
def blora_job(client, settings, tmp_path, blora, rutan_blora_officer) -> ImportJob:
    client.force_login(rutan_blora_officer)
    post_file(client, write_xlsx(tmp_path / "wbp.xlsx", people(2)), blora)
    client.logout()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # logout dropped every cookie
    return ImportJob.objects.get()


# --- the flow -------------------------------------------------------------------------


def test_upload_preview_correct_confirm(client, tmp_path, blora, rutan_blora_officer):
    client.force_login(rutan_blora_officer)
    broken = [person(1), person(2, NIK=3316010207900002), person(3, **{"Tanggal Masuk": "besok"})]

    response = post_file(client, write_xlsx(tmp_path / "wbp.xlsx", broken), blora)

    page = response.content.decode()
    assert response.context["job"].status == ImportJob.Status.FAILED
    assert problem_rows(page) == [3, 4]
    assert "Format the NIK column as Text" in page
    assert not Inmate.objects.exists()

    response = post_file(client, write_xlsx(tmp_path / "wbp-fixed.xlsx", people(3)), blora)

    page = response.content.decode()
    job = response.context["job"]
    assert job.status == ImportJob.Status.PREVIEW
    assert (count(page, "created"), count(page, "updated"), count(page, "errors")) == (3, 0, 0)
    assert 'id="import-confirm"' in page
    assert not Inmate.objects.exists()

    response = client.post(reverse("inmates:import_confirm", args=[job.pk]), follow=True)

    page = response.content.decode()
    assert 'id="import-done"' in page
    assert "Imported: 3 new, 0 updated, 0 unchanged." in page
    assert Inmate.objects.filter(facility=blora).count() == 3
    assert Inmate.objects.first().history.get().history_user == rutan_blora_officer


def test_preview_of_a_re_upload_shows_updated_and_unchanged(client, tmp_path, blora, rutan_blora_officer):
    client.force_login(rutan_blora_officer)
    rows = people(3)
    response = post_file(client, write_csv(tmp_path / "wbp.csv", rows, delimiter=";", bom=True), blora)
    client.post(reverse("inmates:import_confirm", args=[response.context["job"].pk]))
    rows[0]["Blok/Kamar"] = "D"

    response = post_file(client, write_csv(tmp_path / "wbp2.csv", rows, delimiter=";", bom=True), blora)

    page = response.content.decode()
    assert (count(page, "created"), count(page, "updated"), count(page, "unchanged")) == (0, 1, 2)


def test_warnings_are_listed_with_their_rows_and_do_not_block(client, tmp_path, blora, rutan_blora_officer):
    client.force_login(rutan_blora_officer)

    response = post_file(client, write_xlsx(tmp_path / "wbp.xlsx", [person(1), person(2, NIK="")]), blora)

    page = response.content.decode()
    assert response.context["job"].status == ImportJob.Status.PREVIEW
    assert problem_rows(page) == [3]
    assert 'class="problem-warning"' in page
    assert count(page, "warnings") == 1


def test_a_missing_column_is_one_clear_error_on_the_page(client, tmp_path, blora, rutan_blora_officer):
    client.force_login(rutan_blora_officer)
    headers = [h for h in HEADERS if h != "Jenis Kelamin"]

    response = post_file(client, write_xlsx(tmp_path / "wbp.xlsx", people(2), headers), blora)

    assert response.context["job"].status == ImportJob.Status.FAILED
    assert response.context["job"].report["errors"] == 1
    assert "Required column missing: Jenis Kelamin." in response.content.decode()


def test_a_large_upload_shows_the_progress_page(client, settings, tmp_path, blora, rutan_blora_officer):
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}
    }  # the worker is "busy"
    settings.IMPORT_INLINE_MAX_BYTES = 0
    client.force_login(rutan_blora_officer)

    response = post_file(client, write_xlsx(tmp_path / "wbp.xlsx", people(2)), blora)

    job = response.context["job"]
    page = response.content.decode()
    assert job.status == ImportJob.Status.PENDING
    assert 'id="import-progress"' in page
    assert f'data-status-url="{reverse("inmates:import_status", args=[job.pk])}"' in page
    assert "inmates/import_progress.js" in page
    status = client.get(reverse("inmates:import_status", args=[job.pk])).json()
    assert (status["status"], status["finished"], status["percent"]) == ("pending", False, 0)


def test_status_reports_a_finished_job(client, blora_job, rutan_blora_officer):
    client.force_login(rutan_blora_officer)

    status = client.get(reverse("inmates:import_status", args=[blora_job.pk])).json()

    assert status == {
        "id": blora_job.pk,
        "status": "preview",
        "phase": "",
        "processed_rows": 2,
        "total_rows": 2,
        "percent": 100,
        "finished": True,
        "message": "Preview ready",
        "url": reverse("inmates:import_detail", args=[blora_job.pk]),
    }


def test_problems_download_as_csv(client, tmp_path, blora, rutan_blora_officer):
    client.force_login(rutan_blora_officer)
    response = post_file(client, write_xlsx(tmp_path / "wbp.xlsx", [person(1, NIK="12345")]), blora)

    download = client.get(reverse("inmates:import_problems_csv", args=[response.context["job"].pk]))

    lines = b"".join(download.streaming_content).decode("utf-8-sig").splitlines()
    assert lines[0] == "Row,Column,Cell,Value,Level,Message"
    assert lines[1].startswith("2,NIK,B2,12345,Error,")


def test_cancel_drops_the_preview(client, blora_job, rutan_blora_officer):
    client.force_login(rutan_blora_officer)

    client.post(reverse("inmates:import_cancel", args=[blora_job.pk]))

    blora_job.refresh_from_db()
    assert blora_job.status == ImportJob.Status.CANCELLED
    assert client.post(reverse("inmates:import_confirm", args=[blora_job.pk])).status_code == 302
    assert not Inmate.objects.exists()


# --- who may do what ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "url_name", ["inmates:import_detail", "inmates:import_status", "inmates:import_problems_csv"]
)
@pytest.mark.parametrize("outsider", ["rutan_pati_officer", "kpu_blora_officer"])
def test_outsiders_get_404_for_anothers_job(client, request, blora_job, url_name, outsider):
    client.force_login(request.getfixturevalue(outsider))

    assert client.get(reverse(url_name, args=[blora_job.pk])).status_code == 404


def test_outsiders_cannot_confirm_anothers_job(client, blora_job, rutan_pati_officer):
    client.force_login(rutan_pati_officer)

    assert client.post(reverse("inmates:import_confirm", args=[blora_job.pk])).status_code == 404
    assert client.post(reverse("inmates:import_cancel", args=[blora_job.pk])).status_code == 404
    assert not Inmate.objects.exists()


def test_admin_sees_every_job(client, blora_job, admin_user):
    client.force_login(admin_user)

    assert client.get(reverse("inmates:import_detail", args=[blora_job.pk])).status_code == 200


def test_kpu_officer_cannot_upload(client, kpu_blora_officer):
    client.force_login(kpu_blora_officer)

    assert client.get(UPLOAD).status_code == 403


def test_anonymous_visitors_are_sent_to_the_login(client, blora_job):
    response = client.get(reverse("inmates:import_detail", args=[blora_job.pk]))

    assert response.status_code == 302 and "/login/" in response["Location"]


def test_rutan_officer_cannot_choose_another_facility(client, tmp_path, blora, pati, rutan_blora_officer):
    client.force_login(rutan_blora_officer)

    response = post_file(client, write_xlsx(tmp_path / "wbp.xlsx", people(1)), pati)

    assert "facility" in response.context["form"].errors
    assert not ImportJob.objects.exists()


def test_the_upload_form_offers_only_the_users_facility(client, blora, pati, rutan_blora_officer):
    client.force_login(rutan_blora_officer)

    form = client.get(UPLOAD).context["form"]

    assert list(form.fields["facility"].queryset) == [blora]


# --- the admin screens ----------------------------------------------------------------------


def test_inmate_list_has_import_template_and_export_buttons(client, rutan_blora_officer, blora_inmate):
    client.force_login(rutan_blora_officer)

    page = client.get(
        reverse("admin:inmates_inmate_changelist"), {"custody_type__exact": "narapidana"}
    ).content.decode()

    assert f'href="{UPLOAD}"' in page
    assert f'href="{reverse("inmates:import_template")}"' in page
    export = reverse("admin:inmates_inmate_export", args=["xlsx"])
    assert f'href="{export}?custody_type__exact=narapidana"' in page


def test_kpu_officer_sees_export_but_not_import(client, kpu_blora_officer, blora_inmate):
    client.force_login(kpu_blora_officer)

    page = client.get(reverse("admin:inmates_inmate_changelist")).content.decode()

    assert 'id="inmate-import-link"' not in page
    assert 'id="inmate-export-csv"' in page


def test_import_job_admin_lists_only_own_jobs(client, blora_job, rutan_pati_officer, rutan_blora_officer):
    url = reverse("admin:inmates_importjob_changelist")
    client.force_login(rutan_pati_officer)
    assert "wbp.xlsx" not in client.get(url).content.decode()
    assert client.get(reverse("admin:inmates_importjob_change", args=[blora_job.pk])).status_code == 404

    client.force_login(rutan_blora_officer)
    page = client.get(url).content.decode()
    assert "wbp.xlsx" in page
    assert reverse("inmates:import_detail", args=[blora_job.pk]) in page


def test_import_job_admin_add_leads_to_the_upload(client, rutan_blora_officer):
    client.force_login(rutan_blora_officer)

    response = client.get(reverse("admin:inmates_importjob_add"))

    assert (response.status_code, response["Location"]) == (302, UPLOAD)


# --- the template ---------------------------------------------------------------------------


def test_template_has_the_headers_text_columns_dropdowns_and_instructions(client, rutan_blora_officer):
    client.force_login(rutan_blora_officer)

    response = client.get(reverse("inmates:import_template"))

    content = b"".join(response.streaming_content)
    headers = read_xlsx(content, "Data")[0]
    assert headers[:4] == ["Kode Rutan/Lapas", "No. Registrasi", "NIK", "NKK"]
    assert "Jenis Kelamin" in headers and "Tanggal Masuk" in headers
    xml = xlsx_bytes_text(content)
    assert 'formatCode="@"' in xml  # the Text format of the NIK/NKK columns
    assert '<formula1>"L,P"</formula1>' in xml
    assert '<formula1>"Tahanan,Narapidana"</formula1>' in xml
    assert '<formula1>"rutan-blora"</formula1>' in xml
    instructions = read_xlsx(content, "Instructions")
    assert any("16th digit" in str(cell) for row in instructions for cell in row)


def test_the_filled_in_template_imports(client, tmp_path, blora, rutan_blora_officer):
    client.force_login(rutan_blora_officer)
    headers = read_xlsx(b"".join(client.get(reverse("inmates:import_template")).streaming_content), "Data")[0]
    row = dict(person(1), **{"Kode Rutan/Lapas": "rutan-blora"})

    response = post_file(client, write_xlsx(tmp_path / "wbp.xlsx", [row], headers), blora)

    assert response.context["job"].report["created"] == 1
    assert response.context["job"].report["ignored_columns"] == []


# --- files that are not what they claim ----------------------------------------------


def post_bytes(client, facility, name: str, data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile(name, data, content_type="application/octet-stream")
    return client.post(UPLOAD, {"facility": facility.pk, "file": upload}, follow=True)


def zip_of(members: dict[str, bytes]) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("wbp.xlsx", b"NIK;Nama\n1;2\n", "is not a valid Excel workbook"),
        ("wbp.xlsx", zip_of({"word/document.xml": b"<w:document/>"}), "is not an Excel .xlsx workbook"),
        (
            "wbp.xlsx",
            zip_of(
                {"xl/workbook.xml": b"<workbook/>", "xl/worksheets/sheet1.xml": b" " * (16 * 1024 * 1024)}
            ),
            "unpacks to far more data than its size",
        ),
        ("wbp.xlsx", b"", "The submitted file is empty"),
    ],
    ids=["text-named-xlsx", "word-document", "zip-bomb", "empty"],
)
def test_a_file_that_is_no_workbook_gets_a_clear_message_not_an_error_page(
    client, blora, rutan_blora_officer, name, data, message
):
    client.force_login(rutan_blora_officer)
    response = post_bytes(client, blora, name, data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Inmate.objects.exists()


def test_an_oversized_upload_is_refused_before_it_is_stored(
    client, settings, monkeypatch, blora, rutan_blora_officer
):
    monkeypatch.setattr("inmates.imports_jobs.MAX_FILE_BYTES", 1024)
    client.force_login(rutan_blora_officer)
    response = post_bytes(client, blora, "wbp.csv", b"x" * 2048)
    assert response.status_code == 200
    assert "too large to import" in response.content.decode()
    assert not ImportJob.objects.exists()
    media = settings.MEDIA_ROOT
    assert not any(path.is_file() for path in media.rglob("*")) if media.exists() else True
