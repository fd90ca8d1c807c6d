"""The PDPB change report (tps/changes.py, the change_report command and the page):
who was added and removed between two dates or two list versions, why and when.

The story: on 2 January 2024 Rutan Blora registers eight inmates. During
February one is admitted, one is released, one transferred, one dies, one
turns 17, one gets the NIK that was missing, one has the voting right
revoked and one is found to be a duplicate. The report runs on 5 March 2024
for 31 January – 29 February 2024.
"""

from __future__ import annotations

import datetime
import io
import json
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.urls import reverse

from inmates import services as register_services
from tps import changes
from tps.changes import changes_between_dates, changes_between_versions
from tps.services import voterlists as list_services
from tps.services.elections import reference_elections_ensure

pytestmark = pytest.mark.django_db

JAKARTA = ZoneInfo("Asia/Jakarta")
START, END = datetime.date(2024, 1, 31), datetime.date(2024, 2, 29)


def at(day: datetime.date, hour: int = 9) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, hour, 0, tzinfo=JAKARTA)


@pytest.fixture
def clock():
    with time_machine.travel(at(datetime.date(2024, 1, 2)), tick=False) as traveller:
        yield traveller


@pytest.fixture
def story(clock, blora, pati, rutan_blora_officer, make_inmate) -> dict:
    officer = rutan_blora_officer
    people = {
        "stays": make_inmate(blora, officer, full_name="Tetap Tinggal"),
        "released": make_inmate(blora, officer, full_name="Bebas Februari"),
        "transferred": make_inmate(blora, officer, full_name="Pindah Pati"),
        "died": make_inmate(blora, officer, full_name="Almarhum"),
        "teen": make_inmate(
            blora,
            officer,
            full_name="Remaja",
            marital_status="belum_kawin",
            birth_date=datetime.date(2007, 2, 20),
            nik="3316012002070001",
        ),
        "no_nik": make_inmate(blora, officer, full_name="Tanpa NIK", nik=None),
        "revoked": make_inmate(blora, officer, full_name="Dicabut Haknya"),
        "duplicate": make_inmate(blora, officer, full_name="Catatan Ganda"),
    }

    def on(day, action):
        clock.move_to(at(day))
        action()

    on(
        datetime.date(2024, 2, 5),
        lambda: people.update(
            newcomer=make_inmate(
                blora, officer, full_name="Baru Masuk", admission_date=datetime.date(2024, 2, 5)
            )
        ),
    )
    for key, kind, day in [
        ("released", "release", datetime.date(2024, 2, 5)),
        ("transferred", "transfer_out", datetime.date(2024, 2, 10)),
        ("died", "death", datetime.date(2024, 2, 12)),
    ]:
        on(
            day,
            lambda key=key, kind=kind, day=day: register_services.custody_event_record(
                inmate=people[key],
                kind=kind,
                date=day,
                user=officer,
                to_facility=pati if kind == "transfer_out" else None,
            ),
        )
    on(
        datetime.date(2024, 2, 8),
        lambda: register_services.inmate_update(
            inmate=people["no_nik"], user=officer, nik="3316011708900009"
        ),
    )
    on(
        datetime.date(2024, 2, 12),
        lambda: register_services.inmate_update(
            inmate=people["revoked"],
            user=officer,
            voting_right_revoked=True,
            revocation_decision="77/Pid/2024/PN Bla",
        ),
    )
    on(
        datetime.date(2024, 2, 15),
        lambda: register_services.inmate_update(
            inmate=people["duplicate"], user=officer, duplicate_of=people["stays"]
        ),
    )
    clock.move_to(at(datetime.date(2024, 3, 5)))
    return people


def summary(report) -> list[tuple]:
    return [(row.change, row.cause, row.date, row.full_name, row.reasons) for row in report.rows]


def test_every_cause_with_its_date(story, blora):
    report = changes_between_dates(facility=blora, start=START, end=END)
    assert summary(report) == [
        ("added", "admitted", datetime.date(2024, 2, 5), "Baru Masuk", ()),
        ("added", "became_eligible", datetime.date(2024, 2, 8), "Tanpa NIK", ("missing_nik",)),
        ("added", "became_eligible", datetime.date(2024, 2, 20), "Remaja", ("underage",)),
        ("removed", "released", datetime.date(2024, 2, 5), "Bebas Februari", ("released",)),
        ("removed", "transferred", datetime.date(2024, 2, 10), "Pindah Pati", ("transferred",)),
        ("removed", "died", datetime.date(2024, 2, 12), "Almarhum", ("dead",)),
        ("removed", "ineligible", datetime.date(2024, 2, 12), "Dicabut Haknya", ("revoked",)),
        ("removed", "duplicate", datetime.date(2024, 2, 15), "Catatan Ganda", ("duplicate",)),
    ]
    assert (report.voters_start, report.voters_end) == (6, 4)


def test_a_period_without_changes_is_empty(story, blora):
    report = changes_between_dates(
        facility=blora, start=datetime.date(2024, 1, 10), end=datetime.date(2024, 1, 20)
    )
    assert report.rows == []
    assert report.voters_start == report.voters_end == 6


def test_with_an_election_age_is_judged_for_its_voting_day(story, blora):
    pilkada = reference_elections_ensure()["pilkada-2024"]
    report = changes_between_dates(facility=blora, start=START, end=END, election=pilkada)
    # 17 by 27 November 2024 already: a voter at both dates, so no change.
    assert "Remaja" not in [row.full_name for row in report.rows]


def test_the_register_of_the_start_date_is_the_one_of_that_day(story, blora):
    # On 5 February the NIK was still missing: not a voter yet that day.
    report = changes_between_dates(facility=blora, start=START, end=datetime.date(2024, 2, 5))
    assert ("Tanpa NIK", "added") not in [(row.full_name, row.change) for row in report.rows]


def test_other_facilities_are_not_in_the_report(story, pati, blora):
    assert changes_between_dates(facility=pati, start=START, end=END).rows == []


def test_the_end_cannot_be_before_the_start(blora):
    with pytest.raises(ValueError):
        changes_between_dates(facility=blora, start=END, end=START)


def test_the_workbook_for_kpu(story, blora, tmp_path):
    report = changes_between_dates(facility=blora, start=START, end=END)
    path = tmp_path / "pdpb.xlsx"
    assert changes.write_xlsx_report(report, path) == 8
    workbook = openpyxl.load_workbook(path)
    changes_sheet, summary_sheet = workbook.worksheets[0], workbook.worksheets[1]
    assert changes_sheet.max_row == 9
    first = [cell.value for cell in changes_sheet[2]]
    assert first[0] == 1
    assert first[3] == datetime.datetime(2024, 2, 5)
    assert (first[4], first[5], first[6]) == (
        story["newcomer"].registration_number,
        "Baru Masuk",
        "3316011708900001",
    )
    assert isinstance(first[6], str)
    counts = [row for row in summary_sheet.iter_rows(min_row=2, values_only=True) if isinstance(row[2], int)]
    assert sum(row[2] for row in counts[2:]) == 8  # after the two voter totals


# --- between two versions ----------------------------------------------------------------------------


def test_versions_show_categories_changed_and_data_completed(
    clock, blora, rutan_blora_officer, kpu_blora_officer, make_inmate
):
    pemilu = reference_elections_ensure()["pemilu-2024"]
    moved = make_inmate(blora, rutan_blora_officer, full_name="Pindah Memilih")
    completed = make_inmate(blora, rutan_blora_officer, full_name="Dilengkapi", nik=None)
    lost = make_inmate(blora, rutan_blora_officer, full_name="Domisili Hilang")
    first = list_services.voterlist_generate(election=pemilu, facility=blora, user=rutan_blora_officer)
    list_services.voterlist_submit(voter_list=first, user=rutan_blora_officer)
    list_services.voterlist_accept(voter_list=first, user=kpu_blora_officer)
    clock.move_to(at(datetime.date(2024, 1, 20)))
    register_services.inmate_update(inmate=completed, user=rutan_blora_officer, nik="3316011708900007")
    register_services.inmate_update(inmate=lost, user=rutan_blora_officer, domicile_region=None)
    second = list_services.voterlist_generate(election=pemilu, facility=blora, user=rutan_blora_officer)
    list_services.voterlist_entry_update(
        entry=second.entries.get(inmate=moved),
        user=rutan_blora_officer,
        category="DPTb",
        home_tps="TPS 001 Cepu",
    )
    report = changes_between_versions(old=first, new=second)
    assert [(row.change, row.cause, row.full_name, row.reasons) for row in report.rows] == [
        ("added", "became_eligible", "Dilengkapi", ("missing_nik",)),
        ("removed", "needs_data", "Domisili Hilang", ("missing_domicile",)),
        ("changed", "category", "Pindah Memilih", ()),
    ]
    assert report.rows[2].detail == "DPT → DPTb, TPS 001 Cepu"
    assert {row.date for row in report.rows} == {datetime.date(2024, 1, 20)}
    assert (report.voters_start, report.voters_end) == (2, 2)


def test_a_voter_whose_record_left_the_facility_is_removed_as_not_found(
    clock, blora, pati, rutan_blora_officer, kpu_blora_officer, admin_user, blora_inmate, make_inmate
):
    pemilu = reference_elections_ensure()["pemilu-2024"]
    make_inmate(blora, rutan_blora_officer, full_name="Tetap Tinggal")
    first = list_services.voterlist_generate(election=pemilu, facility=blora, user=rutan_blora_officer)
    list_services.voterlist_submit(voter_list=first, user=rutan_blora_officer)
    list_services.voterlist_accept(voter_list=first, user=kpu_blora_officer)
    clock.move_to(at(datetime.date(2024, 1, 20)))
    # Registered at the wrong facility: an admin corrects it, the record leaves Blora's register.
    register_services.inmate_update(inmate=blora_inmate, user=admin_user, facility=pati)
    second = list_services.voterlist_generate(election=pemilu, facility=blora, user=rutan_blora_officer)
    report = changes_between_versions(old=first, new=second)
    assert [(row.change, row.cause, row.date, row.full_name, row.reasons) for row in report.rows] == [
        ("removed", "not_found", datetime.date(2024, 1, 20), "Slamet Riyadi", ("not_found",))
    ]


def test_a_release_date_that_passed_unrecorded_removes_the_voter_for_follow_up(
    clock, blora, rutan_blora_officer, make_inmate
):
    make_inmate(
        blora,
        rutan_blora_officer,
        full_name="Lewat Tanggal",
        expected_release_date=datetime.date(2024, 2, 10),
    )
    clock.move_to(at(datetime.date(2024, 3, 5)))
    report = changes_between_dates(facility=blora, start=START, end=END)
    assert summary(report) == [
        ("removed", "needs_data", datetime.date(2024, 2, 10), "Lewat Tanggal", ("release_not_recorded",))
    ]


def test_a_first_version_has_everyone_added(clock, blora, rutan_blora_officer, blora_inmate):
    pemilu = reference_elections_ensure()["pemilu-2024"]
    first = list_services.voterlist_generate(election=pemilu, facility=blora, user=rutan_blora_officer)
    report = changes_between_versions(old=None, new=first)
    assert [(row.change, row.cause, row.date) for row in report.rows] == [
        ("added", "admitted", datetime.date(2023, 3, 1))
    ]


# --- the command --------------------------------------------------------------------------------------


def test_the_command_prints_the_report(story, blora, capsys):
    call_command("change_report", "--facility", "rutan-blora", "--from", "2024-01-31", "--to", "2024-02-29")
    out = capsys.readouterr().out
    assert "rutan-blora" in out
    assert "6 → 4" in out
    for name in ("Baru Masuk", "Bebas Februari", "Catatan Ganda"):
        assert name in out


def test_the_command_writes_xlsx_and_json(story, blora, tmp_path, capsys):
    xlsx, document = tmp_path / "pdpb.xlsx", tmp_path / "pdpb.json"
    call_command(
        "change_report",
        "--facility",
        "rutan-blora",
        "--from",
        "2024-01-31",
        "--to",
        "2024-02-29",
        "--xlsx",
        str(xlsx),
        "--json",
        str(document),
    )
    assert openpyxl.load_workbook(xlsx).worksheets[0].max_row == 9
    data = json.loads(document.read_text(encoding="utf-8"))
    assert set(data) == {"facility", "election", "start", "end", "voters_start", "voters_end", "changes"}
    assert (data["facility"], data["start"], data["end"]) == ("rutan-blora", "2024-01-31", "2024-02-29")
    assert data["changes"][0] == {
        "change": "added",
        "cause": "admitted",
        "date": "2024-02-05",
        "registration_number": story["newcomer"].registration_number,
        "full_name": "Baru Masuk",
        "reasons": [],
        "detail": "",
    }


def test_the_command_compares_versions(
    clock, blora, rutan_blora_officer, kpu_blora_officer, blora_inmate, capsys
):
    pemilu = reference_elections_ensure()["pemilu-2024"]
    first = list_services.voterlist_generate(election=pemilu, facility=blora, user=rutan_blora_officer)
    list_services.voterlist_submit(voter_list=first, user=rutan_blora_officer)
    list_services.voterlist_accept(voter_list=first, user=kpu_blora_officer)
    register_services.custody_event_record(
        inmate=blora_inmate, kind="release", date=datetime.date(2024, 2, 1), user=rutan_blora_officer
    )
    list_services.voterlist_generate(election=pemilu, facility=blora, user=rutan_blora_officer)
    call_command(
        "change_report",
        "--facility",
        "rutan-blora",
        "--election",
        "pemilu-2024",
        "--versions",
        "1",
        "2",
        "--json",
        "-",
    )
    data = json.loads(capsys.readouterr().out)
    assert [(row["change"], row["cause"], row["date"]) for row in data["changes"]] == [
        ("removed", "released", "2024-02-01")
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--facility", "rutan-nowhere", "--from", "2024-01-01", "--to", "2024-02-01"], "No facility"),
        (["--facility", "rutan-blora", "--from", "2024-02-01", "--to", "2024-01-01"], "before"),
        (["--facility", "rutan-blora", "--from", "01-02-2024", "--to", "2024-03-01"], "YYYY-MM-DD"),
        (["--facility", "rutan-blora"], "--from and --to"),
        (["--facility", "rutan-blora", "--versions", "1", "2"], "--election"),
        (
            ["--facility", "rutan-blora", "--election", "pemilu-2024", "--versions", "1", "2"],
            "No list version",
        ),
    ],
)
def test_the_command_refuses_bad_arguments(blora, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("change_report", *args)


# --- the page -------------------------------------------------------------------------------------------


def test_the_page_shows_the_report_and_downloads_it(client, story, blora, kpu_blora_officer):
    client.force_login(kpu_blora_officer)
    url = reverse("tps:facility_changes", args=[blora.pk])
    response = client.get(url, {"start": "2024-01-31", "end": "2024-02-29"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Catatan Ganda" in body and "cause-duplicate" in body
    download = client.get(url, {"start": "2024-01-31", "end": "2024-02-29", "format": "xlsx"})
    assert download["Content-Disposition"] == 'attachment; filename="pdpb-rutan-blora-20240131-20240229.xlsx"'
    assert openpyxl.load_workbook(io.BytesIO(download.content)).worksheets[0].max_row == 9


def test_the_report_download_is_in_the_access_log_and_the_page_is_not(
    client, story, blora, kpu_blora_officer
):
    from inmates.models import AccessLog

    client.force_login(kpu_blora_officer)
    url = reverse("tps:facility_changes", args=[blora.pk])
    client.get(url, {"start": "2024-01-31", "end": "2024-02-29"})
    assert not AccessLog.objects.exists()
    client.get(url, {"start": "2024-01-31", "end": "2024-02-29", "format": "xlsx"})
    entry = AccessLog.objects.get()
    assert (entry.action, entry.user, entry.details["kind"]) == (
        "export_full_nik",
        kpu_blora_officer,
        "change_report",
    )


def test_the_page_without_dates_shows_the_form_only(client, blora, rutan_blora_officer, clock):
    client.force_login(rutan_blora_officer)
    response = client.get(reverse("tps:facility_changes", args=[blora.pk]))
    assert response.status_code == 200
    assert response.context["report"] is None


def test_the_page_refuses_an_end_before_the_start(client, blora, rutan_blora_officer, clock):
    client.force_login(rutan_blora_officer)
    response = client.get(
        reverse("tps:facility_changes", args=[blora.pk]), {"start": "2024-02-01", "end": "2024-01-01"}
    )
    assert response.context["form"].errors
    assert response.context["report"] is None


@pytest.mark.parametrize("outsider", ["rutan_pati_officer", "kpu_pati_officer"])
def test_outsiders_get_404(client, blora, outsider, request, clock):
    client.force_login(request.getfixturevalue(outsider))
    response = client.get(
        reverse("tps:facility_changes", args=[blora.pk]), {"start": "2024-01-01", "end": "2024-02-01"}
    )
    assert response.status_code == 404
