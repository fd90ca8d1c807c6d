"""``python manage.py eligibility --election CODE [--facility CODE] [--on DATE] [--json FILE]``.

The register is read on 10 January 2024; Pemilu 2024 voting day is 14 February 2024.
"""

from __future__ import annotations

import datetime
import json
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.utils import translation

from tps.services.elections import reference_elections_ensure

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen_today():
    with time_machine.travel(
        datetime.datetime(2024, 1, 10, 9, 0, tzinfo=ZoneInfo("Asia/Jakarta")), tick=False
    ):
        yield


@pytest.fixture
def register(blora, pati, rutan_blora_officer, make_inmate, blora_inmate, pati_inmate):
    """Blora: an eligible voter, one without NIK, a WNA, and one released on 13 February."""
    make_inmate(blora, rutan_blora_officer, registration_number="AI.002/2023", nik=None)
    make_inmate(blora, rutan_blora_officer, registration_number="AI.003/2023", citizenship="WNA", nik=None)
    make_inmate(
        blora,
        rutan_blora_officer,
        registration_number="AI.004/2023",
        expected_release_date=datetime.date(2024, 2, 13),
    )
    reference_elections_ensure()


def run_json(tmp_path, *args) -> dict:
    target = tmp_path / "eligibility.json"
    call_command("eligibility", "--election", "pemilu-2024", *args, "--json", str(target))
    return json.loads(target.read_text(encoding="utf-8"))


def test_the_json_has_exactly_the_documented_shape(register, tmp_path):
    document = run_json(tmp_path, "--facility", "rutan-blora")
    assert list(document) == ["election", "on", "inmates"]
    assert (document["election"], document["on"]) == ("pemilu-2024", "2024-02-14")
    for row in document["inmates"]:
        assert list(row) == ["facility", "registration_number", "status", "reasons"]
        assert row["status"] in {"eligible", "not_eligible", "needs_data"}
        assert all(isinstance(reason, str) for reason in row["reasons"])
    assert document["inmates"] == [
        {
            "facility": "rutan-blora",
            "registration_number": "AI.001/2023",
            "status": "eligible",
            "reasons": [],
        },
        {
            "facility": "rutan-blora",
            "registration_number": "AI.002/2023",
            "status": "needs_data",
            "reasons": ["missing_nik"],
        },
        {
            "facility": "rutan-blora",
            "registration_number": "AI.003/2023",
            "status": "not_eligible",
            "reasons": ["wna", "missing_nik"],
        },
        {
            "facility": "rutan-blora",
            "registration_number": "AI.004/2023",
            "status": "not_eligible",
            "reasons": ["released"],
        },
    ]


def test_without_facility_every_facility_is_judged(register, tmp_path):
    document = run_json(tmp_path)
    assert [(row["facility"], row["registration_number"]) for row in document["inmates"]] == [
        ("rutan-blora", "AI.001/2023"),
        ("rutan-blora", "AI.002/2023"),
        ("rutan-blora", "AI.003/2023"),
        ("rutan-blora", "AI.004/2023"),
        ("rutan-pati", "AI.001/2023"),
    ]


def test_on_judges_another_day(register, tmp_path):
    document = run_json(tmp_path, "--facility", "rutan-blora", "--on", "2024-02-12")
    assert document["on"] == "2024-02-12"
    released = next(row for row in document["inmates"] if row["registration_number"] == "AI.004/2023")
    assert released["status"] == "eligible"


def test_json_to_standard_output(register, capsys):
    call_command("eligibility", "--election", "pemilu-2024", "--facility", "rutan-pati", "--json", "-")
    document = json.loads(capsys.readouterr().out)
    assert document["inmates"] == [
        {"facility": "rutan-pati", "registration_number": "AI.001/2023", "status": "eligible", "reasons": []}
    ]


def test_the_summary_counts_and_lists_the_follow_up(register, capsys):
    with translation.override("en"):
        call_command("eligibility", "--election", "pemilu-2024", "--facility", "rutan-blora")
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Pemilu 2024, judged for 14-02-2024"
    assert lines[2] == (
        "rutan-blora · Rutan Kelas IIB Blora: 4 judged · Eligible to vote: 1"
        " · Not eligible to vote (TMS): 2 · Data incomplete, needs follow-up: 1"
    )
    assert "    Foreign citizen (WNA), not a voter: 1" in lines
    assert "    NIK missing: 2" in lines
    # Only the needs-data record is a follow-up case; the WNA is not.
    follow_up = lines[lines.index("  Needs follow-up:") + 1 :]
    assert follow_up == ["    AI.002/2023  Budi Santoso: NIK missing"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--election", "pemilu-2099"], "No election"),
        (["--election", "pemilu-2024", "--facility", "rutan-nowhere"], "No facility"),
        (["--election", "pemilu-2024", "--on", "14-02-2024"], "YYYY-MM-DD"),
    ],
)
def test_bad_arguments_are_refused(register, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("eligibility", *args)


def test_election_is_required(register):
    with pytest.raises(CommandError):
        call_command("eligibility")


# --- a release date that passed with no release recorded ------------------------------------------


def test_a_release_date_passed_without_a_release_recorded_needs_follow_up(
    register, blora, rutan_blora_officer, make_inmate, tmp_path
):
    make_inmate(
        blora,
        rutan_blora_officer,
        registration_number="AI.005/2023",
        expected_release_date=datetime.date(2024, 1, 5),
    )
    document = run_json(tmp_path, "--facility", "rutan-blora")
    stale = next(row for row in document["inmates"] if row["registration_number"] == "AI.005/2023")
    assert (stale["status"], stale["reasons"]) == ("needs_data", ["release_not_recorded"])


def test_the_follow_up_says_to_record_the_release_or_correct_the_date(
    register, blora, rutan_blora_officer, make_inmate, capsys
):
    make_inmate(
        blora,
        rutan_blora_officer,
        registration_number="AI.005/2023",
        full_name="Lewat Tanggal",
        expected_release_date=datetime.date(2024, 1, 5),
    )
    with translation.override("en"):
        call_command("eligibility", "--election", "pemilu-2024", "--facility", "rutan-blora")
    lines = capsys.readouterr().out.splitlines()
    assert (
        "    AI.005/2023  Lewat Tanggal: Expected release date has passed but no release is recorded: "
        "record the release or correct the expected release date"
    ) in lines


@pytest.fixture
def judged_in_2026(frozen_today):
    """The 2024 elections judged long after: the register is read on 30 November 2026."""
    with time_machine.travel(
        datetime.datetime(2026, 11, 30, 9, 0, tzinfo=ZoneInfo("Asia/Jakarta")), tick=False
    ):
        yield


def test_a_past_election_counts_who_was_inside_on_its_voting_day(
    register, blora, rutan_blora_officer, make_inmate, tmp_path, judged_in_2026
):
    make_inmate(
        blora,
        rutan_blora_officer,
        registration_number="AI.005/2023",
        expected_release_date=datetime.date(2024, 6, 1),
    )
    document = run_json(tmp_path, "--facility", "rutan-blora")
    row = next(row for row in document["inmates"] if row["registration_number"] == "AI.005/2023")
    assert (row["status"], row["reasons"]) == ("eligible", [])


def test_a_past_election_flags_a_release_date_before_its_voting_day_that_was_never_recorded(
    register, blora, rutan_blora_officer, make_inmate, tmp_path, judged_in_2026
):
    # Released on 13 February 2024 by the date, still "in custody" by the register in 2026.
    document = run_json(tmp_path, "--facility", "rutan-blora")
    row = next(row for row in document["inmates"] if row["registration_number"] == "AI.004/2023")
    assert (row["status"], row["reasons"]) == ("needs_data", ["release_not_recorded"])
