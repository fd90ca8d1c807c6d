"""Rutan Blora after the ballot logistics were fixed: the register moves on
(inmates admitted, released) and nobody has planned again yet. The plan is
reported out of date and the shortage check counts the voters projected for
voting day, on the facility page, in the ``ballots`` command and in
``logistics_shortages`` (tps/services/stations.py)."""

from __future__ import annotations

import datetime
import json

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from tests.stations_support import (
    TODAY,
    blora_dapils,
    bulk_inmates,
    home,
    make_election,
    make_tps,
    release,
    session_translations,
)
from tps.services import stations

pytestmark = pytest.mark.django_db

ALL = ["PPWP", "DPR", "DPD", "DPRD_PROV", "DPRD_KABKOTA"]
BEFORE_VOTING_DAY = datetime.date(2024, 2, 1)


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
def fixed(election, blora):
    """TPS 901 with 10 voters from Blora town (every ballot); logistics fixed: 11 of each type."""
    make_tps(election, blora)
    voters = bulk_inmates(blora, 10, prefix="Blora", domicile_region_id=home("blora_town"))
    stations.tps_plan(election=election, facility=blora, user=None)
    stations.logistics_fix(election=election, facility=blora, user=None)
    return voters


def by_type(shortages) -> dict[str, stations.Shortage]:
    return {shortage.ballot_type: shortage for shortage in shortages}


# --- the plan against the projection --------------------------------------------------


def test_a_fresh_plan_is_not_out_of_date(election, blora, fixed):
    drift = stations.logistics_check(election=election, facility=blora).drift
    assert (drift.projected, drift.unplanned, drift.no_longer_projected) == (10, (), 0)
    assert not drift.out_of_date


def test_admitted_inmates_are_projected_voters_on_no_tps(election, blora, fixed):
    newcomers = bulk_inmates(blora, 4, prefix="Baru", domicile_region_id=home("blora_town"))
    drift = stations.logistics_check(election=election, facility=blora).drift
    assert drift.out_of_date
    assert drift.unplanned == tuple(sorted(inmate.pk for inmate in newcomers))
    assert drift.no_longer_projected == 0


def test_inmates_released_before_voting_day_are_on_a_tps_but_no_longer_projected(election, blora, fixed):
    release(fixed[:3], BEFORE_VOTING_DAY)
    drift = stations.logistics_check(election=election, facility=blora).drift
    assert (drift.unplanned, drift.no_longer_projected) == ((), 3)
    assert drift.out_of_date


def test_the_out_of_date_message_gives_both_figures(election, blora, fixed):
    release(fixed[:1], BEFORE_VOTING_DAY)
    bulk_inmates(blora, 2, prefix="Baru", domicile_region_id=home("blora_town"))
    drift = stations.logistics_check(election=election, facility=blora).drift
    with translation.override("en"):
        assert drift.message == (
            "The TPS plan is out of date: 2 voters projected for voting day are on no TPS, "
            "1 voter on a TPS is no longer projected. Plan the TPS again."
        )


def test_planning_again_brings_the_plan_up_to_date(election, blora, fixed):
    release(fixed[:3], BEFORE_VOTING_DAY)
    bulk_inmates(blora, 4, prefix="Baru", domicile_region_id=home("blora_town"))
    stations.tps_plan(election=election, facility=blora, user=None)
    assert not stations.logistics_check(election=election, facility=blora).drift.out_of_date


def test_a_facility_without_tps_has_no_plan_to_be_out_of_date(election, blora):
    bulk_inmates(blora, 3)
    check = stations.logistics_check(election=election, facility=blora)
    assert (check.drift.projected, check.drift.out_of_date, check.shortages) == (3, False, ())


# --- shortages before anyone plans again ------------------------------------------------


def test_admissions_after_fixing_show_a_shortage_before_anyone_plans_again(election, blora, fixed):
    # Fifteen detainees arrive from Bojonegoro: presidential ballots only.
    bulk_inmates(blora, 15, prefix="Bojonegoro", domicile_region_id=home("bojonegoro"))
    shortages = by_type(stations.logistics_shortages(election=election, facility=blora))
    assert set(shortages) == {"PPWP"}
    ppwp = shortages["PPWP"]
    assert ppwp.whole_facility
    assert (ppwp.fixed_total, ppwp.voters_now, ppwp.needed_now, ppwp.short_by) == (11, 25, 26, 15)
    assert (ppwp.unplanned, ppwp.critical) == (15, True)


def test_released_voters_no_longer_count_against_the_fixed_ballots(election, blora, fixed):
    # Blora 2024 in small: six leave, eight arrive; 4 + 8 = 12 voters need 13, 11 were fixed.
    release(fixed[:6], BEFORE_VOTING_DAY)
    bulk_inmates(blora, 8, prefix="Baru", domicile_region_id=home("blora_town"))
    shortages = by_type(stations.logistics_shortages(election=election, facility=blora))
    assert set(shortages) == set(ALL)
    assert {(s.voters_now, s.needed_now, s.short_by) for s in shortages.values()} == {(12, 13, 2)}


def test_fewer_arrivals_than_departures_is_no_shortage(election, blora, fixed):
    release(fixed[:3], BEFORE_VOTING_DAY)
    bulk_inmates(blora, 3, prefix="Baru", domicile_region_id=home("blora_town"))
    assert stations.logistics_shortages(election=election, facility=blora) == []


def test_the_reserve_alone_can_absorb_one_arrival(election, blora, fixed):
    # 11 voters need 11 + 1 = 12 ballots; 11 were fixed: one short, nobody without a ballot.
    bulk_inmates(blora, 1, prefix="Baru", domicile_region_id=home("blora_town"))
    ppwp = by_type(stations.logistics_shortages(election=election, facility=blora))["PPWP"]
    assert (ppwp.short_by, ppwp.critical) == (1, False)


def test_unplanned_voters_count_only_for_the_ballots_they_are_entitled_to(election, blora, fixed):
    # From Kudus: same province, another DPR dapil -> PPWP and DPD only.
    bulk_inmates(blora, 5, prefix="Kudus", domicile_region_id=home("kudus"))
    assert set(by_type(stations.logistics_shortages(election=election, facility=blora))) == {"PPWP", "DPD"}


def test_without_fixed_logistics_there_is_no_shortage_to_warn_about(election, blora):
    make_tps(election, blora)
    bulk_inmates(blora, 10, domicile_region_id=home("blora_town"))
    stations.tps_plan(election=election, facility=blora, user=None)
    bulk_inmates(blora, 5, prefix="Baru", domicile_region_id=home("blora_town"))
    assert stations.logistics_shortages(election=election, facility=blora) == []


def test_the_whole_facility_message_names_the_unplanned_voters(election, blora, fixed):
    bulk_inmates(blora, 15, prefix="Bojonegoro", domicile_region_id=home("bojonegoro"))
    (shortage,) = stations.logistics_shortages(election=election, facility=blora)
    with translation.override("en"):
        assert shortage.message == (
            "All TPS of the facility, President and Vice President (PPWP): 11 ballots fixed, 26 needed "
            "for the voters projected for voting day (25 voters + reserve, 15 of them on no TPS yet): "
            "15 short."
        )


# --- the ballots command -------------------------------------------------------------------


def run_ballots(tmp_path) -> dict:
    output = tmp_path / "ballots.json"
    call_command("ballots", "--election", "pemilu-test", "--facility", "rutan-blora", "--json", str(output))
    return json.loads(output.read_text(encoding="utf-8"))


def test_ballots_command_warns_about_the_plan_and_the_shortage_at_once(
    election, blora, fixed, tmp_path, capsys
):
    bulk_inmates(blora, 15, prefix="Bojonegoro", domicile_region_id=home("bojonegoro"))
    with translation.override("en"):  # the command speaks the active language (Indonesian by default)
        run_ballots(tmp_path)
    err = capsys.readouterr().err
    assert "OUT OF DATE" in err and "15 voters projected for voting day are on no TPS" in err
    (shortage,) = [line for line in err.splitlines() if line.startswith("SHORTAGE")]
    assert (
        shortage.startswith("SHORTAGE All TPS of the facility, ") and "(PPWP): 11 ballots fixed" in shortage
    )


def test_ballots_command_json_stays_that_of_the_stored_plan(election, blora, fixed, tmp_path):
    bulk_inmates(blora, 15, prefix="Bojonegoro", domicile_region_id=home("bojonegoro"))
    data = run_ballots(tmp_path)
    assert data == {
        "tps": [
            {
                "number": "901",
                "voters": 10,
                "ballots": {code: {"voters": 10, "reserve": 1, "total": 11} for code in ALL},
            }
        ]
    }


def test_ballots_command_is_quiet_about_a_current_plan(election, blora, fixed, tmp_path, capsys):
    run_ballots(tmp_path)
    err = capsys.readouterr().err
    assert "OUT OF DATE" not in err and "SHORTAGE" not in err


# --- the facility page ------------------------------------------------------------------------


def test_facility_page_warns_about_the_plan_and_the_shortage(
    client, election, blora, fixed, kpu_blora_officer
):
    bulk_inmates(blora, 15, prefix="Bojonegoro", domicile_region_id=home("bojonegoro"))
    client.force_login(kpu_blora_officer)
    response = client.get(reverse("tps:stations_facility", args=["pemilu-test", "rutan-blora"]))
    body = response.content.decode()
    assert response.context["drift"].unplanned and 'id="plan-out-of-date"' in body
    assert [shortage.ballot_type for shortage in response.context["shortages"]] == ["PPWP"]
    assert reverse("tps:stations_plan", args=["pemilu-test", "rutan-blora"]) in body


def test_facility_page_of_a_current_plan_warns_about_nothing(
    client, election, blora, fixed, rutan_blora_officer
):
    client.force_login(rutan_blora_officer)
    body = client.get(reverse("tps:stations_facility", args=["pemilu-test", "rutan-blora"])).content.decode()
    assert 'id="plan-out-of-date"' not in body and 'id="shortages"' not in body


def test_facility_page_of_another_regency_stays_hidden(client, election, blora, fixed, kpu_pati_officer):
    client.force_login(kpu_pati_officer)
    url = reverse("tps:stations_facility", args=["pemilu-test", "rutan-blora"])
    assert client.get(url).status_code == 404


# --- translations ------------------------------------------------------------------------------


def test_the_new_messages_are_translated_in_the_session_fragment():
    catalog = session_translations()
    assert catalog["The TPS plan is out of date: %(unplanned)s, %(gone)s. Plan the TPS again."].startswith(
        "Rencana TPS"
    )
    assert all(catalog.values()), [msgid for msgid, msgstr in catalog.items() if not msgstr]
