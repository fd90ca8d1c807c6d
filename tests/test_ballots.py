"""Ballots per TPS and type at Rutan Blora: art. 348(4) entitlement with the
dapils in the database, the 2 % reserve rounded up, undecided ballots
reported (never guessed), logistics fixed and the shortage warning, the
dapil import, and the ballots command."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import translation

from inmates.models import Inmate
from tests.stations_support import (
    TODAY,
    add_dapil,
    blora_dapils,
    bulk_inmates,
    home,
    make_election,
    make_tps,
    release,
)
from tps.models import BallotAllocation, Dapil, Tps, TpsAssignment
from tps.services import stations

pytestmark = pytest.mark.django_db

ALL = ["PPWP", "DPR", "DPD", "DPRD_PROV", "DPRD_KABKOTA"]


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def election(regions):
    election = make_election()
    blora_dapils(election)
    return election


def planned(election, facility):
    stations.tps_plan(election=election, facility=facility, user=None)
    return stations.tps_ballots(election=election, facility=facility)


def entitled_types(ballots) -> list[str]:
    (item,) = ballots.tps
    return [code for code, line in item.lines.items() if line.voters == 1]


# --- art. 348(4), one case per home ---------------------------------------------------


@pytest.mark.parametrize(
    ("home_key", "expected"),
    [
        # Home in the facility's own dapils: every ballot.
        ("blora_town", ALL),
        # Same regency, another DPRD Kab/Kota dapil.
        ("cepu", ["PPWP", "DPR", "DPD", "DPRD_PROV"]),
        # Another regency in the same DPR and DPRD Provinsi dapil.
        ("rembang", ["PPWP", "DPR", "DPD", "DPRD_PROV"]),
        # Same DPR dapil, another DPRD Provinsi dapil.
        ("pati", ["PPWP", "DPR", "DPD"]),
        # Same province, another DPR dapil.
        ("kudus", ["PPWP", "DPD"]),
        # Another province (Bojonegoro, East Java): the presidential ballot only.
        ("bojonegoro", ["PPWP"]),
    ],
)
def test_each_voter_gets_the_ballots_of_art_348_4(election, blora, home_key, expected):
    make_tps(election, blora)
    bulk_inmates(blora, 1, domicile_region_id=home(home_key))
    ballots = planned(election, blora)
    assert entitled_types(ballots) == expected
    assert ballots.problems == ()


def test_not_entitled_voters_are_counted_as_such_not_as_undecided(election, blora):
    make_tps(election, blora)
    bulk_inmates(blora, 1, domicile_region_id=home("bojonegoro"))
    line = planned(election, blora).tps[0].lines["DPR"]
    assert (line.voters, line.not_entitled, line.undecided) == (0, 1, 0)


def test_pilkada_ballots_follow_province_and_regency(regions, blora):
    pilkada = make_election(
        code="pilkada-test",
        name="Pilkada",
        type="pilkada",
        ballot_types=["GUBERNUR", "BUPATI_WALIKOTA"],
        max_voters_per_tps=600,
    )
    make_tps(pilkada, blora)
    bulk_inmates(blora, 1, prefix="Blora", domicile_region_id=home("blora_town"))
    bulk_inmates(blora, 1, prefix="Pati", domicile_region_id=home("pati"))
    bulk_inmates(blora, 1, prefix="Bojonegoro", domicile_region_id=home("bojonegoro"))
    lines = planned(pilkada, blora).tps[0].lines
    assert (lines["GUBERNUR"].voters, lines["BUPATI_WALIKOTA"].voters) == (2, 1)


# --- reported, never guessed --------------------------------------------------------


def test_an_unconfigured_dapil_is_reported_not_guessed(election, blora):
    make_tps(election, blora)
    voter = bulk_inmates(blora, 1, domicile_region_id=home("jati"))[0]  # Kec. Jati: in no DPRD Kab dapil
    ballots = planned(election, blora)
    line = ballots.tps[0].lines["DPRD_KABKOTA"]
    assert (line.voters, line.undecided, line.total) == (0, 1, 0)
    (problem,) = ballots.problems
    assert (problem.inmate_id, problem.ballot_type, problem.reason) == (
        voter.pk,
        "DPRD_KABKOTA",
        "dapil_not_configured",
    )
    assert entitled_types(ballots) == ["PPWP", "DPR", "DPD", "DPRD_PROV"]


def test_an_unknown_domicile_leaves_only_the_presidential_ballot_decided(election, blora):
    make_tps(election, blora)
    voter = bulk_inmates(blora, 1)[0]
    stations.tps_plan(election=election, facility=blora, user=None)
    # The domicile is lost after planning (a correction gone wrong).
    Inmate.objects.filter(pk=voter.pk).update(domicile_region=None)
    ballots = stations.tps_ballots(election=election, facility=blora)
    assert entitled_types(ballots) == ["PPWP"]
    assert {(p.ballot_type, p.reason) for p in ballots.problems} == {
        (code, "unknown_domicile") for code in ALL[1:]
    }
    assert ballots.undecided_voters == 1


def test_a_domicile_too_coarse_for_the_dapil_is_reported(election, blora):
    make_tps(election, blora)
    voter = bulk_inmates(blora, 1)[0]
    stations.tps_plan(election=election, facility=blora, user=None)
    Inmate.objects.filter(pk=voter.pk).update(domicile_region_id="33.16")
    ballots = stations.tps_ballots(election=election, facility=blora)
    assert [(p.ballot_type, p.reason) for p in ballots.problems] == [("DPRD_KABKOTA", "domicile_too_coarse")]


def test_a_tps_without_village_decides_only_the_presidential_ballot(election, blora):
    Tps.objects.create(election=election, facility=blora, number="901", capacity=300)
    bulk_inmates(blora, 2)
    ballots = planned(election, blora)
    lines = ballots.tps[0].lines
    assert lines["PPWP"].voters == 2
    assert all(lines[code].voters == 0 and lines[code].undecided == 2 for code in ALL[1:])
    assert {p.reason for p in ballots.problems} == {stations.TPS_VILLAGE_MISSING}


# --- reserve ------------------------------------------------------------------------


def test_300_voters_get_306_ballots_of_each_type(election, blora):
    make_tps(election, blora)
    bulk_inmates(blora, 300, domicile_region_id=home("blora_town"))
    item = planned(election, blora).tps[0]
    assert {code: (line.voters, line.reserve, line.total) for code, line in item.lines.items()} == {
        code: (300, 6, 306) for code in ALL
    }


def test_301_voters_on_one_tps_get_308_since_the_reserve_rounds_up(regions, blora):
    # The law allows up to 500 per TPS (art. 350(1)); 2 % of 301 is 6.02 -> 7.
    election = make_election(code="pemilu-500", max_voters_per_tps=500)
    blora_dapils(election)
    make_tps(election, blora)
    bulk_inmates(blora, 301, domicile_region_id=home("blora_town"))
    line = planned(election, blora).tps[0].lines["PPWP"]
    assert (line.voters, line.reserve, line.total) == (301, 7, 308)


def test_the_reserve_is_applied_per_tps_not_to_the_facility_total(election, blora):
    bulk_inmates(blora, 301, domicile_region_id=home("blora_town"), cell_block="")
    ballots = planned(election, blora)
    assert [item.lines["PPWP"].total for item in ballots.tps] == [151 + 4, 150 + 3]
    assert ballots.totals()["PPWP"].total == 308


def test_the_reserve_rate_comes_from_the_election(regions, blora):
    election = make_election(code="pemilu-5pct", ballot_reserve_rate=Decimal("0.05"))
    blora_dapils(election)
    make_tps(election, blora)
    bulk_inmates(blora, 10, domicile_region_id=home("blora_town"))
    line = planned(election, blora).tps[0].lines["PPWP"]
    assert (line.reserve, line.total) == (1, 11)


# --- logistics and shortages --------------------------------------------------------


def test_fixing_logistics_stores_each_type_for_each_tps(election, blora, kpu_blora_officer):
    make_tps(election, blora)
    bulk_inmates(blora, 10, domicile_region_id=home("blora_town"))
    stations.tps_plan(election=election, facility=blora, user=None)
    saved = stations.logistics_fix(election=election, facility=blora, user=kpu_blora_officer)
    assert sorted(allocation.ballot_type for allocation in saved) == sorted(ALL)
    assert set(BallotAllocation.objects.values_list("voters", "reserve", "total")) == {(10, 1, 11)}
    assert Tps.objects.get().logistics_fixed_at is not None
    assert BallotAllocation.objects.first().fixed_by == kpu_blora_officer


def test_shortage_is_warned_when_the_register_changes_after_logistics_were_fixed(election, blora):
    make_tps(election, blora)
    bulk_inmates(blora, 10, domicile_region_id=home("blora_town"))
    stations.tps_plan(election=election, facility=blora, user=None)
    stations.logistics_fix(election=election, facility=blora, user=None)
    assert stations.logistics_shortages(election=election, facility=blora) == []
    # Fifteen detainees arrive from Bojonegoro: presidential ballots only.
    bulk_inmates(blora, 15, prefix="Bojonegoro", domicile_region_id=home("bojonegoro"))
    result = stations.tps_plan(election=election, facility=blora, user=None)
    shortages = {shortage.ballot_type: shortage for shortage in result.shortages}
    assert set(shortages) == {"PPWP"}
    ppwp = shortages["PPWP"]
    assert (ppwp.fixed_total, ppwp.voters_now, ppwp.needed_now, ppwp.short_by) == (11, 25, 26, 15)
    assert ppwp.critical


def test_fewer_voters_after_fixing_is_no_shortage(election, blora):
    make_tps(election, blora)
    inmates = bulk_inmates(blora, 10, domicile_region_id=home("blora_town"))
    stations.tps_plan(election=election, facility=blora, user=None)
    stations.logistics_fix(election=election, facility=blora, user=None)
    release(inmates[:3], datetime.date(2024, 2, 1))
    result = stations.tps_plan(election=election, facility=blora, user=None)
    assert result.shortages == ()


def test_logistics_are_not_fixed_while_ballots_are_undecided(election, blora):
    make_tps(election, blora)
    bulk_inmates(blora, 1, domicile_region_id=home("jati"))
    stations.tps_plan(election=election, facility=blora, user=None)
    with pytest.raises(ValidationError):
        stations.logistics_fix(election=election, facility=blora, user=None)
    assert not BallotAllocation.objects.exists()
    stations.logistics_fix(election=election, facility=blora, user=None, allow_undecided=True)
    assert BallotAllocation.objects.get(ballot_type="DPRD_KABKOTA").total == 0


def test_logistics_need_a_tps(election, blora):
    with pytest.raises(ValidationError):
        stations.logistics_fix(election=election, facility=blora, user=None)


# --- dapil configuration ----------------------------------------------------------------


def write(tmp_path, text: str, name: str = "dapil.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_dapil_csv_import_creates_dapils_with_their_areas(regions, tmp_path):
    election = make_election()
    path = write(
        tmp_path,
        "Kontestasi,Kode Dapil,Nama,Wilayah\n"
        "DPR,JATENG III,Jawa Tengah III,33.15;33.16;33.17;33.18\n"
        "DPRD Provinsi,JATENG 4,,3316 3317\n"
        "DPRD_KABKOTA,BLORA 1,Blora 1,33.16.09\n"
        "DPRD_KABKOTA,BLORA 1,,33.16.10\n",
    )
    result = stations.dapil_import(
        election=election, file=str(path), filename="dapil.csv", user=None, is_demo=True
    )
    assert (result.created, result.updated) == (3, 0)
    areas = {
        (dapil.contest, dapil.code): sorted(dapil.regions.values_list("code", flat=True))
        for dapil in Dapil.objects.filter(election=election)
    }
    assert areas == {
        ("DPR", "JATENG III"): ["33.15", "33.16", "33.17", "33.18"],
        ("DPRD_PROV", "JATENG 4"): ["33.16", "33.17"],
        ("DPRD_KABKOTA", "BLORA 1"): ["33.16.09", "33.16.10"],
    }
    assert all(dapil.is_demo for dapil in Dapil.objects.all())


def test_dapil_import_again_replaces_the_areas(regions, tmp_path):
    election = make_election()
    header = "Kontestasi,Kode Dapil,Nama,Wilayah\n"
    stations.dapil_import(
        election=election,
        file=str(write(tmp_path, header + "DPR,JATENG III,,33.15;33.16\n")),
        filename="a.csv",
        user=None,
    )
    result = stations.dapil_import(
        election=election,
        file=str(write(tmp_path, header + "DPR,JATENG III,,33.16;33.17\n")),
        filename="a.csv",
        user=None,
    )
    assert (result.created, result.updated) == (0, 1)
    assert sorted(Dapil.objects.get().regions.values_list("code", flat=True)) == ["33.16", "33.17"]


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ("DPD,X,,33.16", "contest"),
        ("DPR,X,,99.99", "unknown region"),
        ("DPRD_KABKOTA,X,,33.16", "districts"),
        ("DPRD_KABKOTA,X,,33.16.01;33.18.01", "one regency"),
        ("DPR,X,,33.16;35.22", "one province"),
        ("DPR,X,,33.16\nDPR,Y,,33.16", "both"),
    ],
)
def test_a_bad_dapil_file_imports_nothing(regions, tmp_path, row, problem):
    election = make_election()
    path = write(tmp_path, "Kontestasi,Kode Dapil,Nama,Wilayah\n" + row + "\n")
    with pytest.raises(stations.DapilImportError) as error, translation.override("en"):
        stations.dapil_import(election=election, file=str(path), filename="dapil.csv", user=None)
    assert any(problem in message for message in error.value.messages), error.value.messages
    assert not Dapil.objects.exists()


def test_an_area_already_in_another_dapil_is_refused(election):
    with pytest.raises(ValidationError):
        add_dapil(election, Dapil.Contest.DPRD_KABKOTA, "BLORA 9", ["33.16.09"])


# --- the command ----------------------------------------------------------------------


def test_ballots_command_writes_exactly_the_agreed_json(election, blora, tmp_path, capsys):
    make_tps(election, blora)
    bulk_inmates(blora, 300, prefix="Blora", domicile_region_id=home("blora_town"))
    bulk_inmates(blora, 1, prefix="Bojonegoro", domicile_region_id=home("bojonegoro"))
    make_tps(election, blora, number="902")
    stations.tps_plan(election=election, facility=blora, user=None)
    output = tmp_path / "ballots.json"
    call_command("ballots", "--election", "pemilu-test", "--facility", "rutan-blora", "--json", str(output))
    data = json.loads(output.read_text(encoding="utf-8"))
    numbers = {tps.number: tps.assignments.count() for tps in Tps.objects.all()}
    assert list(data) == ["tps"]
    assert [item["number"] for item in data["tps"]] == ["901", "902"]
    for item in data["tps"]:
        assert set(item) == {"number", "voters", "ballots"}
        assert isinstance(item["number"], str)
        assert item["voters"] == numbers[item["number"]]
        assert list(item["ballots"]) == ALL
        for line in item["ballots"].values():
            assert set(line) == {"voters", "reserve", "total"}
            assert line["total"] == line["voters"] + line["reserve"]
    assert sum(item["ballots"]["PPWP"]["voters"] for item in data["tps"]) == 301
    assert sum(item["ballots"]["DPR"]["voters"] for item in data["tps"]) == 300


def test_ballots_command_lists_undecided_voters_on_stderr(election, blora, tmp_path, capsys):
    make_tps(election, blora)
    bulk_inmates(blora, 1, prefix="Jati", domicile_region_id=home("jati"))
    stations.tps_plan(election=election, facility=blora, user=None)
    call_command(
        "ballots",
        "--election",
        "pemilu-test",
        "--facility",
        "rutan-blora",
        "--json",
        str(tmp_path / "b.json"),
    )
    err = capsys.readouterr().err
    assert "UNDECIDED" in err and "DPRD_KABKOTA" in err and "dapil_not_configured" in err


def test_every_assignment_is_counted_once_per_type(election, blora):
    bulk_inmates(blora, 7, domicile_region_id=home("cepu"))
    ballots = planned(election, blora)
    for line in ballots.totals().values():
        assert line.voters + line.not_entitled + line.undecided == TpsAssignment.objects.count()
