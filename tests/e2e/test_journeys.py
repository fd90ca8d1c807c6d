"""The five journeys of issue 7 in a real browser, on the demo data.

Each journey starts from ``seed_demo`` (the demo accounts, Rutan Blora and
Rutan Pati with their inmates, Pemilu 2024 with Blora's accepted v1 and draft
v2, TPS 901, the planted duplicates and the small DPT), signs in through the
login form and asserts what the user reads, in Bahasa Indonesia. Every step
leaves a numbered screenshot in test-output/e2e/<test>/.
"""

from __future__ import annotations

import datetime
import io
import re

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.utils.translation import override

from inmates import dedup
from inmates.fake import make_nik
from inmates.imports_columns import HEADERS
from inmates.imports_jobs import import_job_confirm, import_job_create, import_job_dispatch
from inmates.models import DuplicateCandidate, Facility, ImportJob, Inmate, User
from tests.e2e.journey_support import (
    BackgroundWorker,
    ConsoleWatch,
    assert_message,
    content_text,
    idn,
    label,
    save_download,
    squash,
    switch_user,
    texts,
    txt,
)
from tps.eligibility import Reason
from tps.models import Election, Tps, TpsAssignment, VoterList, VoterListEntry

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(regions, settings):
    """The real demo seeder (it refuses to create the demo accounts unless DEBUG is on)."""
    settings.DEBUG = True
    call_command("seed_demo", stdout=io.StringIO())
    settings.DEBUG = False


@pytest.fixture
def shots(shots):
    """The journey's screenshots, without those of an earlier run."""
    for old in shots.folder.glob("*.png"):
        old.unlink()
    return shots


@pytest.fixture
def console(page):
    return ConsoleWatch().attach(page)


# --- journey 1: import ------------------------------------------------------------------------------

IMPORT_PEOPLE = [
    ("E2E.001/2024", "Bambang Sutrisno", datetime.date(1985, 3, 14)),
    ("E2E.002/2024", "Hendro Wijoyo", datetime.date(1979, 11, 2)),
    ("E2E.003/2024", "Suparno Hadi", datetime.date(1992, 6, 25)),
]


def _import_rows(headers: list[str], *, with_errors: bool) -> list[list]:
    """Three inmates; with errors: NIK typed as a number, an impossible date, a missing name."""
    rows = []
    for serial, (number, name, birth_date) in enumerate(IMPORT_PEOPLE, start=1):
        values = {
            "Kode Rutan/Lapas": "rutan-blora",
            "No. Registrasi": number,
            "NIK": make_nik("33.16.01", birth_date, "L", 900 + serial),
            "NKK": f"33160120051{serial:05d}",
            "Nama Lengkap": name,
            "Tempat Lahir": "Blora",
            "Tanggal Lahir": birth_date.strftime("%d-%m-%Y"),
            "Jenis Kelamin": "L",
            "Status Perkawinan": "Kawin",
            "Kewarganegaraan": "WNI",
            "Alamat": "Dk. Bangkleyan",
            "RT": "001",
            "RW": "002",
            "Kode Wilayah (Desa/Kecamatan)": "33.16.01.2001",
            "Status Penahanan": "Tahanan",
            "Tanggal Masuk": "05-01-2024",
            "Blok/Kamar": "C",
        }
        if with_errors and serial == 1:
            values["NIK"] = int(values["NIK"])  # Excel's habit: a 16-digit number loses its last digit
        if with_errors and serial == 2:
            values["Tanggal Lahir"] = "31-02-1979"
        if with_errors and serial == 3:
            values["Nama Lengkap"] = None
        rows.append([values.get(header) for header in headers])
    return rows


def _write_workbook(path, headers: list[str], rows: list[list]):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Data"
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def _problem_rows(page) -> list[dict[str, str]]:
    cells = page.locator("#import-problems tbody tr").evaluate_all(
        "rows => rows.map(r => Array.from(r.cells, c => c.textContent.trim()))"
    )
    return [
        {"row": c[0], "column": c[1], "cell": c[2], "value": c[3], "level": c[4], "message": c[5]}
        for c in cells
    ]


@pytest.fixture
def background_worker(settings):
    """Imports go to the task queue, as large files do in production; ``run()`` is one worker pass."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    settings.IMPORT_INLINE_MAX_BYTES = 0
    return BackgroundWorker()


def _wait_for_worker(page, shots, step: str, worker) -> None:
    """The progress page while the job waits, then the worker runs it and the page moves on by itself."""
    page.wait_for_selector("#import-progress")
    assert txt(page, "#import-progress [data-progress-text]") == idn("Waiting for the background worker…")
    assert_message(
        txt(page, "#import-progress .help"),
        "This page updates by itself. You may leave it and come back later.",
    )
    shots(step)
    worker.run()
    page.wait_for_selector("#import-progress", state="detached", timeout=30_000)
    page.wait_for_load_state()


def test_journey_1_rutan_imports_inmates_from_a_spreadsheet(
    page, live_server, shots, demo, console, tmp_path, background_worker
):
    if connection.vendor == "sqlite":
        # The test database is SQLite in memory, shared by the live server and the worker run in
        # this thread: a progress poll served while the worker writes would meet its table lock
        # ("database table is locked"). Routed through Playwright, which only answers between
        # browser steps, the polls wait until the worker pass is over. PostgreSQL needs no help.
        page.route(re.compile(r"/register/imports/\d+/status\.json$"), lambda route: route.continue_())

    switch_user(page, live_server, "rutan_blora")
    shots("signed in as rutan_blora")

    page.goto(f"{live_server.url}/admin/inmates/inmate/")
    shots("inmate list")
    assert txt(page, "#inmate-template-link") == idn("Template (XLSX)")

    # The template: the first sheet holds the Indonesian headers of the file format.
    with page.expect_download() as info:
        page.click("#inmate-template-link")
    template = save_download(info.value, tmp_path)
    assert template.suffix == ".xlsx"
    workbook = openpyxl.load_workbook(template)
    first = workbook.worksheets[0]
    headers = [cell.value for cell in next(first.iter_rows(min_row=1, max_row=1))]
    assert headers[:5] == ["Kode Rutan/Lapas", "No. Registrasi", "NIK", "NKK", "Nama Lengkap"]
    assert headers == HEADERS
    assert workbook.sheetnames[1] == idn("Instructions", context="spreadsheet")
    shots("template downloaded")

    # A file with errors: every problem is shown with its row, column and what to do.
    page.click("#inmate-import-link")
    page.wait_for_load_state()
    assert page.locator("#import-template-link").is_visible()
    shots("upload page")
    wrong = _write_workbook(tmp_path / "wbp_januari.xlsx", headers, _import_rows(headers, with_errors=True))
    page.set_input_files("#import-upload-form input[type=file]", str(wrong))
    page.click("#import-upload-form input[type=submit]")
    _wait_for_worker(page, shots, "checking the file with errors", background_worker)
    page.wait_for_selector("#import-failed")
    shots("file with errors")
    assert txt(page, "#import-status") == label(ImportJob.Status.FAILED)
    assert_message(
        txt(page, "#import-failed"),
        "Nothing was imported: the file has errors. Fix them in the file and upload it again.",
    )
    assert txt(page, "#import-problems-title") == idn("Problems in the file")
    header_cells = texts(page, "#import-problems thead th")
    assert header_cells[:2] == [idn("Row"), idn("Column")]
    problems = _problem_rows(page)
    errors = [p for p in problems if p["level"] == idn("Error")]
    by_row = {p["row"]: p for p in errors}
    assert set(by_row) == {"2", "3", "4"}, problems
    assert by_row["2"]["column"] == "NIK"
    assert by_row["2"]["cell"] == "C2"
    assert_message(
        by_row["2"]["message"],
        "%(column)s is stored as a number (%(shown)s). Excel keeps only 15 digits, so the last "
        "digit may already be lost. Format the %(column)s column as Text and type the number again.",
    )
    assert by_row["3"]["column"] == "Tanggal Lahir"
    assert_message(
        by_row["3"]["message"],
        '"%(value)s" is not a real calendar date. Dates are read day first (DD-MM-YYYY): '
        "check the day and the month.",
    )
    assert "31-02-1979" in by_row["3"]["message"]
    assert by_row["4"]["column"] == "Nama Lengkap"
    assert by_row["4"]["message"] == idn(
        "%(column)s is empty. This column is required: fill it in.", column="Nama Lengkap"
    )
    assert not Inmate.objects.filter(registration_number__startswith="E2E.").exists()

    # The corrected file, uploaded from the same page: a preview, then the import.
    fixed = _write_workbook(
        tmp_path / "wbp_januari_benar.xlsx", headers, _import_rows(headers, with_errors=False)
    )
    page.set_input_files("#import-upload-form input[type=file]", str(fixed))
    shots("corrected file chosen")
    page.click("#import-upload-form input[type=submit]")
    _wait_for_worker(page, shots, "checking the corrected file", background_worker)
    page.wait_for_selector("#import-confirm")
    shots("preview")
    assert txt(page, "#import-status") == label(ImportJob.Status.PREVIEW)
    assert txt(page, "td[data-count=created]") == "3"
    assert txt(page, "td[data-count=errors]") == "0"
    assert_message(
        txt(page, ".inmates-import-note"),
        "Nothing has been saved yet. Check the counts and the warnings, then import.",
    )
    assert page.get_attribute("#import-confirm", "value") == idn("Import these rows")
    page.click("#import-confirm")
    _wait_for_worker(page, shots, "importing", background_worker)
    page.wait_for_selector("#import-done")
    shots("import done")
    assert txt(page, "#import-status") == label(ImportJob.Status.DONE)
    assert txt(page, "td[data-count=created]") == "3"
    assert_message(txt(page, "#import-done"), "The import is complete.")

    # The new records in the inmate list, and one record's history.
    page.click("#import-done a")
    page.wait_for_load_state()
    page.fill("#searchbar", "E2E.")
    page.press("#searchbar", "Enter")
    page.wait_for_load_state()
    shots("new records in the inmate list")
    listed = txt(page, "#result_list")
    for number, name, _birth in IMPORT_PEOPLE:
        assert name in listed and number in listed
    page.click("#result_list a:text('Hendro Wijoyo')")
    page.wait_for_load_state()
    shots("record")
    assert page.input_value("#id_registration_number") == "E2E.002/2024"
    page.click("a.historylink")
    page.wait_for_load_state()
    shots("record history")
    history = content_text(page)
    assert "rutan_blora" in history or "Petugas Rutan Blora" in history
    job = ImportJob.objects.get(original_name="wbp_januari_benar.xlsx")
    assert_message(history, "Import %(file)s (job %(id)d)")
    assert "wbp_januari_benar.xlsx" in history and str(job.pk) in history
    console.assert_clean()


# --- journey 2: duplicates -------------------------------------------------------------------------


def _messages(page) -> str:
    return txt(page, "ul.messagelist") if page.locator("ul.messagelist").count() else ""


def _open_voter_list(page, live_server, voter_list) -> None:
    page.goto(f"{live_server.url}/admin/tps/voterlist/")
    page.click(f"#result_list a[href='/elections/voterlists/{voter_list.pk}/']")
    page.wait_for_load_state()


def test_journey_2_kpu_merges_a_planted_duplicate(page, live_server, shots, demo, console):
    loser_number = "DG.001/2024"  # the same man re-admitted, written "H. Noer …"
    switch_user(page, live_server, "kpu_blora")
    shots("signed in as kpu_blora")

    page.click("a[href='/admin/inmates/duplicatecandidate/']")
    page.wait_for_load_state()
    shots("duplicate queue")
    assert txt(page, "#content h1") == idn("Possible duplicates")
    # The surest pairs first: the same NIK.
    with override("id"):
        nik_exact = dedup.reason_labels(["nik_exact"])[0]
    page.click(f"#changelist-filter a:text-is('{nik_exact}')")
    page.wait_for_load_state()
    shots("pairs with the same NIK")
    row = page.locator("#result_list tbody tr", has_text=loser_number)
    assert row.count() == 1
    assert nik_exact in squash(row.text_content())
    row.locator("a.dedup-score").click()
    page.wait_for_load_state()
    shots("comparison")
    assert txt(page, "#content h1") == idn("Compare a possible duplicate")
    assert nik_exact in texts(page, "#dedup-reasons li")
    assert txt(page, "#dedup-status") == label(DuplicateCandidate.Status.OPEN)

    # Which side is the re-admission: the other record stays.
    number_row = page.locator("#dedup-table tbody tr", has_text=loser_number)
    a_text, b_text = (squash(t) for t in number_row.locator("td").all_text_contents())
    survivor = "b" if a_text == loser_number else "a"
    kept_number = b_text if survivor == "b" else a_text
    kept = Inmate.objects.get(facility__code="rutan-blora", registration_number=kept_number)
    loser = Inmate.objects.get(registration_number=loser_number)
    page.check(f"input[name=survivor][value={survivor}]")
    # The highlighted name row: keep the spelling of the record that stays.
    name_row = page.locator("#dedup-table tr.dedup-differs[data-key=full_name]")
    assert kept.full_name in squash(name_row.text_content())
    assert loser.full_name in squash(name_row.text_content())
    name_row.locator(f"input[value={survivor}]").check()
    # Every other highlighted value: the one of the record that stays.
    for key in page.locator("#dedup-table tr[data-key]").evaluate_all("rows => rows.map(r => r.dataset.key)"):
        page.check(f"input[name=value_{key}][value={survivor}]")
    shots("values chosen")
    assert page.get_attribute("#dedup-merge", "value") == idn("Merge: same person")
    page.click("#dedup-merge")
    page.wait_for_load_state()
    shots("merged")
    assert_message(_messages(page), "Merged: %(kept)s stays; the other record is marked as its duplicate.")
    assert page.locator("#result_list tbody tr", has_text=loser_number).count() == 0
    loser.refresh_from_db()
    assert loser.duplicate_of_id == kept.pk
    kept_name = kept.full_name
    kept.refresh_from_db()
    assert kept.full_name == kept_name

    # The register: the re-admission is marked as a duplicate of the record that stays.
    page.goto(f"{live_server.url}/admin/inmates/inmate/")
    page.click(f"#changelist-filter a:text-is('{idn('Marked as duplicate')}')")
    page.wait_for_load_state()
    shots("inmates marked as duplicate")
    marked = page.locator("#result_list tbody tr", has_text=loser_number)
    assert marked.count() == 1
    marked.locator("th a, td a").first.click()
    page.wait_for_load_state()
    shots("the merged-away record")
    assert kept.full_name in txt(page, ".field-duplicate_of")

    # The voter list built after the merge: the re-admission is not eligible, as a duplicate.
    draft = VoterList.objects.get(election__code="pemilu-2024", facility__code="rutan-blora", status="draft")
    switch_user(page, live_server, "rutan_blora")
    _open_voter_list(page, live_server, draft)
    page.click(f"input[type=submit][value='{idn('Rebuild from today’s register')}']")
    page.wait_for_load_state()
    assert_message(_messages(page), "Version %(version)d built from today's register.")
    shots("list rebuilt by rutan_blora")
    switch_user(page, live_server, "kpu_blora")
    _open_voter_list(page, live_server, draft)
    page.fill("#q", loser_number)
    page.click("#changelist-search input[type=submit]")
    page.wait_for_load_state()
    shots("the duplicate in the voter list")
    entry = page.locator("#result_list tbody tr", has_text=loser_number)
    assert entry.count() == 1
    cells = [squash(t) for t in entry.locator("td").all_text_contents()]
    assert cells[4] == label(VoterListEntry.Status.NOT_ELIGIBLE)
    assert label(Reason.DUPLICATE) in cells[5]
    page.fill("#q", kept_number)
    page.click("#changelist-search input[type=submit]")
    page.wait_for_load_state()
    kept_cells = [
        squash(t) for t in page.locator("#result_list tbody tr").first.locator("td").all_text_contents()
    ]
    assert kept_cells[0] == kept_number
    assert label(Reason.DUPLICATE) not in kept_cells[5]
    console.assert_clean()


# --- journey 3: the potential-voter list hand-over -------------------------------------------------


def _list_status(page) -> str:
    return txt(page, "td.voterlist-status")


def test_journey_3_list_is_returned_corrected_and_accepted(page, live_server, shots, demo, console):
    pemilu = Election.objects.get(code="pemilu-2024")
    comment = "Mohon lengkapi TPS asal dan formulir pindah memilih untuk pemilih DPTb."

    # rutan_blora generates the list from today's register and submits it.
    switch_user(page, live_server, "rutan_blora")
    page.goto(f"{live_server.url}/admin/tps/voterlist/")
    shots("voter lists")
    page.click("a.addlink[href='/elections/voterlists/generate/']")
    page.wait_for_load_state()
    assert txt(page, "#content h1") == idn("Generate a potential-voter list")
    page.select_option("#id_election", str(pemilu.pk))
    page.select_option("#id_facility", label="Rutan Kelas IIB Blora")
    shots("generate form")
    page.click(f"input[type=submit][value='{idn('Generate')}']")
    page.wait_for_load_state()
    shots("list generated")
    assert_message(
        _messages(page),
        "Version %(version)d of the list of %(facility)s for %(election)s is ready for review.",
    )
    assert _list_status(page) == label(VoterList.Status.DRAFT)
    list_url = page.url
    assert re.search(r"/elections/voterlists/\d+/$", list_url)
    page.click(f"input[type=submit][value='{idn('Submit to KPU')}']")
    page.wait_for_load_state()
    shots("submitted")
    assert_message(_messages(page), "The list was submitted to KPU.")
    assert _list_status(page) == label(VoterList.Status.SUBMITTED)
    assert idn("Waiting for KPU's review.") in content_text(page)

    # kpu_blora returns it with a comment.
    switch_user(page, live_server, "kpu_blora")
    page.goto(list_url)
    shots("kpu opens the submitted list")
    page.click(f"a.button:text-is('{idn('Return with a comment')}')")
    page.wait_for_load_state()
    page.fill("#id_comment", comment)
    shots("return comment")
    page.click(f"input[type=submit][value='{idn('Return to the facility')}']")
    page.wait_for_load_state()
    shots("returned")
    assert_message(_messages(page), "The list was returned to the facility.")
    assert _list_status(page) == label(VoterList.Status.RETURNED)

    # rutan_blora reads the comment, completes a DPTb voter's move form and resubmits.
    switch_user(page, live_server, "rutan_blora")
    page.goto(list_url)
    shots("rutan reads the comment")
    summary = page.locator(".voterlist-summary tr", has_text=idn("KPU comment"))
    assert comment in squash(summary.text_content())
    first_editable = page.locator(
        "#result_list tbody tr", has=page.locator("select[name$='-category']")
    ).first
    number = squash(first_editable.locator("td").first.text_content())
    first_editable.locator("select[name$='-category']").select_option("DPTb")
    first_editable.locator("input[name$='-home_tps']").fill("TPS 007 Jepon")
    first_editable.locator("input[name$='-move_form_number']").fill("A-PINDAH/3316/0099")
    first_editable.locator("input[name$='-move_form_date']").fill("2024-02-05")
    shots("correction entered")
    page.click(f"input[type=submit][value='{idn('Save categories and move forms')}']")
    page.wait_for_load_state()
    assert_message(_messages(page), "%(count)d entries saved.")
    shots("correction saved")
    corrected = page.locator("#result_list tbody tr", has_text=number)
    assert corrected.locator("input[name$='-home_tps']").input_value() == "TPS 007 Jepon"
    page.click(f"input[type=submit][value='{idn('Submit to KPU')}']")
    page.wait_for_load_state()
    shots("resubmitted")
    assert _list_status(page) == label(VoterList.Status.SUBMITTED)

    # kpu_blora accepts the corrected version: accepted and locked.
    switch_user(page, live_server, "kpu_blora")
    page.goto(list_url)
    page.select_option("#changelist-search select[name=category]", "DPTb")
    page.click("#changelist-search input[type=submit]")
    page.wait_for_load_state()
    corrected = page.locator("#result_list tbody tr", has_text=number)
    assert "TPS 007 Jepon" in squash(corrected.text_content())
    assert "A-PINDAH/3316/0099" in squash(corrected.text_content())
    shots("kpu sees the correction")
    page.fill("input[name=comment]", "Sudah sesuai.")
    page.click(f"input[type=submit][value='{idn('Accept')}']")
    page.wait_for_load_state()
    shots("accepted")
    assert_message(_messages(page), "The list was accepted and is now locked.")
    assert _list_status(page) == f"{label(VoterList.Status.ACCEPTED)} · {idn('locked')}"
    history = texts(page, f".module:has(h2:text-is('{idn('History of this list')}')) tbody tr")
    assert any(comment in line for line in history)
    assert any("Sudah sesuai." in line for line in history)
    accepted = VoterList.objects.get(pk=int(list_url.rstrip("/").rsplit("/", 1)[1]))
    assert accepted.status == VoterList.Status.ACCEPTED
    moved = accepted.entries.get(registration_number=number)
    assert (moved.category, moved.home_tps) == (VoterListEntry.Category.DPTB, "TPS 007 Jepon")

    # Locked: the facility can no longer change or resubmit this version.
    switch_user(page, live_server, "rutan_blora")
    page.goto(list_url)
    shots("locked for rutan_blora")
    assert _list_status(page) == f"{label(VoterList.Status.ACCEPTED)} · {idn('locked')}"
    assert page.locator("select[name$='-category']").count() == 0
    assert page.locator(f"input[type=submit][value='{idn('Submit to KPU')}']").count() == 0
    console.assert_clean()


# --- journey 4: TPS, exports and the dashboard ------------------------------------------------------

DPT_HEADERS = [
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
MASKED_NIK = re.compile(r"\d{6}\*{10}")
FULL_NIK = re.compile(r"(?<!\d)\d{16}(?!\d)")


def test_journey_4_admin_plans_tps_moves_a_voter_and_exports(
    page, live_server, shots, demo, console, tmp_path
):
    pemilu = Election.objects.get(code="pemilu-2024")
    switch_user(page, live_server, "admin")
    shots("signed in as admin")

    # A second TPS for Rutan Blora, then the plan rebalanced over both.
    page.goto(f"{live_server.url}/admin/tps/tps/add/")
    page.select_option("#id_election", str(pemilu.pk))
    page.select_option("#id_facility", label="Rutan Kelas IIB Blora")
    page.fill("#id_number", "902")
    shots("new TPS")
    page.click("input[name=_save]")
    page.wait_for_load_state()
    shots("TPS saved")
    assert_message(txt(page, "ul.messagelist .success"), "The {name} “{obj}” was added successfully.")

    page.goto(f"{live_server.url}/admin/")
    page.click("#link-stations")
    page.wait_for_load_state()
    page.select_option("#id_election", "pemilu-2024")
    page.click(".election-picker input[type=submit]")
    page.wait_for_load_state()
    shots("TPS planning")
    page.click("#stations-facilities a[href='/elections/tps/pemilu-2024/rutan-blora/']")
    page.wait_for_load_state()
    shots("facility TPS")
    page.click(f"a.button:text-is('{idn('Preview the plan')}')")
    page.wait_for_load_state()
    shots("plan preview")
    page.click(f"a.button:text-is('{idn('Preview with rebalancing')}')")
    page.wait_for_load_state()
    shots("plan preview with rebalancing")
    planned = texts(page, "#plan-tps tbody tr")
    assert len(planned) == 2, planned
    page.click(f"input[type=submit][value='{idn('Save this plan')}']")
    page.wait_for_load_state()
    shots("plan saved")
    assert_message(
        _messages(page),
        "Plan saved: %(tps)d TPS, %(moved)d voters moved, %(added)d added, %(removed)d removed.",
    )
    tps901 = Tps.objects.get(election=pemilu, facility__code="rutan-blora", number="901")
    tps902 = Tps.objects.get(election=pemilu, facility__code="rutan-blora", number="902")
    assert tps901.voter_count > 0 and tps902.voter_count > 0

    # Move one voter of TPS 901 to TPS 902 with the move form.
    page.goto(f"{live_server.url}/admin/tps/tps/{tps901.pk}/change/")
    shots("TPS 901")
    first = page.locator("a", has_text=idn("Move to another TPS")).first
    href = first.get_attribute("href")
    assignment = TpsAssignment.objects.select_related("inmate").get(pk=int(href.rstrip("/").split("/")[-2]))
    first.click()
    page.wait_for_load_state()
    page.select_option("#id_tps", str(tps902.pk))
    shots("move form")
    page.click("input[name=_save]")
    page.wait_for_load_state()
    shots("voter moved")
    assert_message(txt(page, "ul.messagelist .success"), "The {name} “{obj}” was changed successfully.")
    assignment.refresh_from_db()
    assert assignment.tps_id == tps902.pk
    page.goto(f"{live_server.url}/elections/tps/pemilu-2024/rutan-blora/tps-902/")
    shots("TPS 902 list")
    assert assignment.inmate.full_name in content_text(page)

    # The DPT of all TPS as XLSX: KPU's worksheet columns, NIK masked.
    page.goto(f"{live_server.url}/elections/tps/pemilu-2024/rutan-blora/")
    with page.expect_download() as info:
        page.click(f"a:text-is('{idn('All TPS (XLSX)')}')")
    dpt = save_download(info.value, tmp_path)
    assert dpt.suffix == ".xlsx"
    workbook = openpyxl.load_workbook(dpt, read_only=True)
    rows = [list(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]
    header_index = next(i for i, row in enumerate(rows) if row and row[0] == "No")
    assert rows[header_index][: len(DPT_HEADERS)] == DPT_HEADERS
    niks = [row[2] for row in rows[header_index + 1 :] if row and row[2]]
    assert niks and all(MASKED_NIK.fullmatch(str(nik)) for nik in niks)
    shots("DPT XLSX downloaded")

    # The printable list: masked NIK, never a full one.
    page.click(f"a[href*='/print/']:text-is('{idn('A4 page')}')")
    page.wait_for_load_state()
    shots("printable list")
    printed = txt(page, "body")
    assert txt(page, "h1") == idn("VOTER LIST (DPT) OF TPS %(number)s", number="901")
    assert MASKED_NIK.search(printed)
    assert not FULL_NIK.search(printed)
    assert not FULL_NIK.search(page.content())
    assert_message(printed, "NIK and NKK masked: only the first 6 digits are shown.")

    # The dashboard with its charts.
    page.goto(f"{live_server.url}/admin/")
    page.click("#link-dashboard")
    page.wait_for_load_state()
    page.select_option("#id_election", "pemilu-2024")
    page.click("#content-main form input[type=submit]")
    page.wait_for_load_state()
    charts = ["chart-register", "chart-ballots", "chart-projection"]
    # Chart.js draws each chart from the page's JSON; wait until the animations have finished.
    page.wait_for_function(
        """ids => window.Chart && ids.every(id => {
            const chart = Chart.getChart(document.getElementById(id));
            return chart && !Chart.animator.running(chart);
        })""",
        arg=charts,
    )
    shots("dashboard")
    assert txt(page, "#content h1") == idn("Dashboard")
    drawn = page.evaluate(
        """ids => ids.map(id => {
            const canvas = document.getElementById(id);
            const chart = Chart.getChart(canvas);
            const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
            let painted = 0;
            for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] > 0) painted++; }
            return {id, labels: chart.data.labels, data: chart.data.datasets.map(d => d.data), painted};
        })""",
        charts,
    )
    for chart in drawn:
        assert chart["data"] and chart["painted"] > 1000, drawn
    # The register chart shows the figures of the table.
    register = drawn[0]
    blora = register["labels"].index("Rutan Kelas IIB Blora")
    row = "#dashboard-table tr[data-facility=rutan-blora]"
    assert register["data"][0][blora] == int(txt(page, f"{row} td.in-custody"))
    assert register["data"][1][blora] == int(txt(page, f"{row} td.eligible"))
    assert txt(page, f"{row} td.tps-count") == "2"
    console.assert_clean()


# --- journey 5: another facility's officer gets nothing --------------------------------------------


def _blora_records(tmp_path):
    """What journeys 1-4 leave behind at Rutan Blora, made through the same services."""
    blora = Facility.objects.get(code="rutan-blora")
    officer = User.objects.get(username="rutan_blora")
    kpu = User.objects.get(username="kpu_blora")
    path = _write_workbook(tmp_path / "wbp_blora.xlsx", HEADERS, _import_rows(HEADERS, with_errors=False))
    job = import_job_create(
        user=officer,
        facility=blora,
        upload=SimpleUploadedFile(path.name, path.read_bytes()),
        language="id",
    )
    import_job_dispatch(job=job)
    job.refresh_from_db()
    job = import_job_confirm(job=job, user=officer)
    assert job.status == ImportJob.Status.DONE
    candidate = DuplicateCandidate.objects.get(inmate_b__registration_number="DG.001/2024")
    dedup.duplicate_confirm(candidate=candidate, survivor=candidate.inmate_a, values={}, user=kpu)
    pemilu = Election.objects.get(code="pemilu-2024")
    tps = Tps.objects.get(election=pemilu, facility=blora, number="901")
    return {
        "facility": blora,
        "inmate": Inmate.objects.get(facility=blora, registration_number="E2E.002/2024"),
        "job": job,
        "candidate": candidate,
        "lists": list(VoterList.objects.filter(facility=blora)),
        "election": pemilu,
        "tps": tps,
        "assignment": TpsAssignment.objects.filter(tps=tps).first(),
    }


def test_journey_5_other_facility_gets_nothing(page, live_server, shots, demo, tmp_path):
    records = _blora_records(tmp_path)
    blora_names = set(Inmate.objects.filter(facility__code="rutan-blora").values_list("full_name", flat=True))
    pati_names = set(Inmate.objects.filter(facility__code="rutan-pati").values_list("full_name", flat=True))
    secrets = sorted(blora_names - pati_names)
    pati_niks = set(Inmate.objects.filter(facility__code="rutan-pati").values_list("nik", flat=True))
    blora_niks = sorted(
        set(
            Inmate.objects.filter(facility__code="rutan-blora", nik__isnull=False).values_list(
                "nik", flat=True
            )
        )
        - pati_niks
    )
    assert {"Hendro Wijoyo", "H. Noer Moelyadi"} <= set(secrets)

    def leaks(body: str) -> list[str]:
        return [name for name in secrets if name in body] + [nik for nik in blora_niks if nik in body]

    switch_user(page, live_server, "rutan_pati")
    shots("signed in as rutan_pati")

    # Control: the officer's own pages work, so the refusals below are about scope.
    own = page.goto(f"{live_server.url}/elections/tps/pemilu-2024/rutan-pati/")
    assert own.status == 200
    assert "Rutan Kelas IIB Pati" in txt(page, "#content h1")
    shots("own TPS page")

    inmate, job, candidate = records["inmate"], records["job"], records["candidate"]
    facility, election = records["facility"], records["election"]
    pages = {
        "imported inmate": f"/admin/inmates/inmate/{inmate.pk}/change/",
        "imported inmate history": f"/admin/inmates/inmate/{inmate.pk}/history/",
        "merged-away inmate": f"/admin/inmates/inmate/{candidate.inmate_b_id}/change/",
        "facility": f"/admin/inmates/facility/{facility.pk}/change/",
        "import job": f"/register/imports/{job.pk}/",
        "duplicate comparison": f"/register/duplicates/{candidate.pk}/",
        "duplicate in the admin": f"/admin/inmates/duplicatecandidate/{candidate.pk}/change/",
        **{f"voter list v{vl.version}": f"/elections/voterlists/{vl.pk}/" for vl in records["lists"]},
        **{
            f"voter list v{vl.version} changes": f"/elections/voterlists/{vl.pk}/changes/"
            for vl in records["lists"]
        },
        "facility change report": f"/elections/facilities/{facility.pk}/changes/",
        "facility projection": f"/elections/facilities/{facility.pk}/projection/{election.pk}/",
        "TPS of the facility": "/elections/tps/pemilu-2024/rutan-blora/",
        "TPS 901 list": "/elections/tps/pemilu-2024/rutan-blora/tps-901/",
        "TPS plan": "/elections/tps/pemilu-2024/rutan-blora/plan/",
        "printable DPT": "/elections/tps/pemilu-2024/rutan-blora/print/",
        "TPS in the admin": f"/admin/tps/tps/{records['tps'].pk}/change/",
        "TPS voter move form": f"/admin/tps/tpsassignment/{records['assignment'].pk}/change/",
    }
    for name, path in pages.items():
        response = page.goto(f"{live_server.url}{path}")
        shots(f"foreign {name}")
        assert response.status in (403, 404), f"{path}: {response.status}"
        assert leaks(page.content()) == [], f"{path} shows Blora data"
        # The refusal itself is told in Bahasa Indonesia.
        refusal = "Page not found" if response.status == 404 else "Not allowed"
        assert txt(page, "#content h1") == idn(refusal), path

    downloads = [
        f"/register/imports/{job.pk}/status.json",
        f"/register/imports/{job.pk}/problems.csv",
        *[f"/elections/voterlists/{voter_list.pk}/export.xlsx" for voter_list in records["lists"]],
        "/elections/tps/pemilu-2024/rutan-blora/export/xlsx/",
        "/elections/tps/pemilu-2024/rutan-blora/export/csv/?tps=901",
        "/elections/tps/pemilu-2024/rutan-blora/export/pdf/",
        "/elections/tps/pemilu-2024/rutan-blora/export/xlsx/?tps=901&full_nik=1",
    ]
    for path in downloads:
        response = page.request.get(f"{live_server.url}{path}", max_redirects=0)
        assert response.status in (403, 404), f"{path}: {response.status}"
        assert leaks(response.text()) == [], f"{path} returns Blora data"

    # Lists, searches and the register export, filtered on Blora: nothing of Blora in them.
    lists = {
        "inmates filtered on Blora": f"/admin/inmates/inmate/?facility__id__exact={facility.pk}",
        "inmate search": "/admin/inmates/inmate/?q=Hendro",
        "inmate search by number": "/admin/inmates/inmate/?q=E2E.",
        "duplicate search": "/admin/inmates/duplicatecandidate/?q=Moelyadi",
        "import jobs": "/admin/inmates/importjob/",
        "voter lists": "/admin/tps/voterlist/",
        "TPS": "/admin/tps/tps/",
        "TPS voter search": "/admin/tps/tpsassignment/?q=Hendro",
        "dashboard": "/elections/dashboard/?election=pemilu-2024",
    }
    for name, path in lists.items():
        response = page.goto(f"{live_server.url}{path}")
        shots(f"own {name}")
        assert response.status in (200, 403, 404), f"{path}: {response.status}"
        assert leaks(page.content()) == [], f"{path} shows Blora data"
        if "q=" in path:
            assert page.locator("#result_list tbody tr").count() == 0, f"{path} finds Blora records"
    response = page.request.get(
        f"{live_server.url}/admin/inmates/inmate/export/csv/?facility__id__exact={facility.pk}",
        max_redirects=0,
    )
    assert response.status in (200, 302, 403, 404)
    if response.status == 200:
        assert leaks(response.text()) == []
    shots("done")
