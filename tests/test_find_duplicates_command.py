"""python manage.py find_duplicates: scope flags and the exact JSON shape."""

from __future__ import annotations

import datetime
import io
import json
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command

from inmates.dpt_import import dpt_import
from inmates.models import DuplicateCandidate, Region

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fixed_day(time_machine):
    """Every test happens on 1 February 2024 (Jakarta), two weeks before Pemilu 2024."""
    time_machine.move_to(datetime.datetime(2024, 2, 1, 9, 0, tzinfo=ZoneInfo("Asia/Jakarta")))


SLAMET = {
    "full_name": "Slamet Riyadi",
    "nik": "3316011708900001",
    "nkk": "3316012005150003",
    "birth_date": datetime.date(1990, 8, 17),
}


@pytest.fixture
def register(make_inmate, blora, pati):
    """Slamet twice in Blora (NIK typo), Joko in Blora and Pati, and a DPT of Blora with Slamet on it."""
    make_inmate(blora, registration_number="AI.001/2023", **SLAMET)
    make_inmate(blora, registration_number="BI.002/2024", **{**SLAMET, "nik": "3316011708900007"})
    joko = {
        "full_name": "Joko Susilo",
        "nik": "3318012005880002",
        "nkk": "",
        "birth_date": datetime.date(1988, 5, 20),
    }
    make_inmate(pati, registration_number="AI.010/2023", **joko)
    make_inmate(pati, registration_number="AI.011/2023", **{**joko, "full_name": "JOKO SUSILO BIN KARTO"})


@pytest.fixture
def dpt(tmp_path, regions):
    path = tmp_path / "DPT_Kab_Blora.csv"
    path.write_text(
        "NIK,Nama,Tanggal Lahir,Jenis Kelamin,TPS\n"
        "3316015505920003,SRI LESTARI,15-05-1992,P,001\n"
        "3316011708900001,SLAMET RIYADI,17-08-1990,L,004\n",
        encoding="utf-8",
    )
    dpt_import(path=path, regency=Region.objects.get(code="33.16"), user=None)


def run(tmp_path, *args) -> dict:
    out = tmp_path / "pairs.json"
    call_command("find_duplicates", *args, "--json", str(out), stdout=io.StringIO())
    return json.loads(out.read_text(encoding="utf-8"))


def inmate_ref(ref: dict) -> tuple:
    assert set(ref) == {"facility", "registration_number"}
    assert isinstance(ref["facility"], str) and isinstance(ref["registration_number"], str)
    return ref["facility"], ref["registration_number"]


def test_json_has_exactly_the_documented_shape(tmp_path, register, dpt):
    document = run(tmp_path, "--against-dpt")

    assert set(document) == {"pairs"}
    for pair in document["pairs"]:
        assert set(pair) == {"a", "b", "score", "reasons"}
        assert isinstance(pair["score"], float) and 0 < pair["score"] <= 1
        assert pair["reasons"] and all(isinstance(reason, str) for reason in pair["reasons"])
        inmate_ref(pair["a"])
    inmate_pairs = {
        (inmate_ref(p["a"]), inmate_ref(p["b"])) for p in document["pairs"] if "facility" in p["b"]
    }
    assert inmate_pairs == {
        (("rutan-blora", "AI.001/2023"), ("rutan-blora", "BI.002/2024")),
        (("rutan-pati", "AI.010/2023"), ("rutan-pati", "AI.011/2023")),
    }
    dpt_pairs = [p for p in document["pairs"] if "dpt_file" in p["b"]]
    assert len(dpt_pairs) == 2  # Slamet's two records both look like the DPT voter
    for pair in dpt_pairs:
        assert pair["b"] == {"dpt_file": "DPT_Kab_Blora.csv", "line": 3, "nik": "3316011708900001"}
    exact = next(p for p in dpt_pairs if p["a"]["registration_number"] == "AI.001/2023")
    assert "nik_exact" in exact["reasons"]
    scores = [p["score"] for p in document["pairs"]]
    assert scores == sorted(scores, reverse=True)


def test_without_against_dpt_only_inmate_pairs(tmp_path, register, dpt):
    document = run(tmp_path)
    assert len(document["pairs"]) == 2
    assert all("facility" in p["b"] for p in document["pairs"])


def test_facility_limits_the_run_to_pairs_touching_it(tmp_path, register):
    document = run(tmp_path, "--facility", "rutan-pati")
    assert [(p["a"]["registration_number"], p["b"]["registration_number"]) for p in document["pairs"]] == [
        ("AI.010/2023", "AI.011/2023")
    ]


def test_the_run_fills_the_review_queue_and_reports(tmp_path, register, capsys):
    call_command("find_duplicates")
    out = capsys.readouterr().out
    assert "2 inmate pairs" in out and "new 2" in out
    assert DuplicateCandidate.objects.open().count() == 2


def test_dismissed_pairs_are_left_out_of_the_json(tmp_path, register):
    from inmates import dedup

    run(tmp_path)
    dedup.duplicate_dismiss(
        candidate=DuplicateCandidate.objects.filter(inmate_a__facility__code="rutan-pati").get(), user=None
    )
    document = run(tmp_path)
    assert [p["a"]["facility"] for p in document["pairs"]] == ["rutan-blora"]


def test_json_to_standard_output(register, capsys):
    call_command("find_duplicates", "--facility", "rutan-blora", "--json", "-")
    captured = capsys.readouterr()
    assert len(json.loads(captured.out)["pairs"]) == 1
    assert "inmate pairs" in captured.err


def test_unknown_facility_is_an_error(register):
    with pytest.raises(CommandError):
        call_command("find_duplicates", "--facility", "rutan-nowhere")
