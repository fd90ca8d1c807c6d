"""Rekapitulasi per TPS, facility and regency (tps/recap.py and its page): the
levels add up, every voter is counted once in each breakdown, ballots agree
with the ballot computation, and each role sees its own scope only."""

from __future__ import annotations

import pytest
import time_machine
from django.urls import reverse

from inmates.models import Facility
from tests.stations_support import TODAY, blora_dapils, bulk_inmates, home, make_election, make_tps
from tps import recap
from tps.models import TpsAssignment
from tps.services import stations

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def election(regions):
    election = make_election(max_voters_per_tps=10)
    blora_dapils(election)
    return election


@pytest.fixture
def cepu(regions):
    """A second facility in Kab. Blora."""
    return Facility.objects.create(code="lapas-cepu", name="Lapas Cepu", regency_id="33.16")


@pytest.fixture
def planned(election, blora, pati, cepu):
    bulk_inmates(blora, 8, prefix="Blora", cell_block="", domicile_region_id=home("blora_town"))
    bulk_inmates(
        blora, 4, prefix="Wanita", sex="P", disability="1", cell_block="", domicile_region_id=home("cepu")
    )
    bulk_inmates(blora, 3, prefix="Jatim", cell_block="", domicile_region_id=home("bojonegoro"))
    bulk_inmates(pati, 5, prefix="Pati", cell_block="", domicile_region_id=home("pati"))
    bulk_inmates(cepu, 2, prefix="Cepu", sex="P", cell_block="", domicile_region_id=home("cepu"))
    for facility in (blora, pati, cepu):
        make_tps(election, facility)
        stations.tps_plan(election=election, facility=facility, user=None)
    return election


def test_facility_rows_are_the_sums_of_their_tps(planned, admin_user):
    summary = recap.recap(election=planned, user=admin_user)
    blora = next(item for item in summary.facilities if item.row.key == "rutan-blora")
    assert len(blora.tps) == 2  # 15 voters, at most 10 per TPS
    assert blora.row.voters == sum(row.voters for row in blora.tps) == 15
    for name in ("by_sex", "by_disability", "by_category", "ballots"):
        summed = sum((getattr(row, name) for row in blora.tps), start=type(getattr(blora.row, name))())
        assert getattr(blora.row, name) == summed, name


def test_regency_rows_are_the_sums_of_their_facilities(planned, admin_user):
    summary = recap.recap(election=planned, user=admin_user)
    by_code = {regency.row.key: regency for regency in summary.regencies}
    assert set(by_code) == {"33.16", "33.18"}
    blora_regency = by_code["33.16"]
    assert [item.row.key for item in blora_regency.facilities] == ["lapas-cepu", "rutan-blora"]
    assert blora_regency.row.voters == 17
    assert blora_regency.row.ballots == sum(
        (item.row.ballots for item in blora_regency.facilities), start=type(blora_regency.row.ballots)()
    )
    assert blora_regency.row.tps_count == 3


def test_the_total_is_every_voter_on_a_tps(planned, admin_user):
    summary = recap.recap(election=planned, user=admin_user)
    total = summary.total
    assert total.voters == TpsAssignment.objects.count() == 22
    assert sum(total.by_sex.values()) == total.voters
    assert sum(total.by_disability.values()) == total.voters
    assert sum(total.by_category.values()) == total.voters
    assert total.by_sex == {"L": 16, "P": 6}
    assert total.with_disability == 4
    assert total.by_category == {"DPT": 22}


def test_ballots_agree_with_the_ballot_computation(planned, admin_user, blora, pati, cepu):
    summary = recap.recap(election=planned, user=admin_user)
    expected = {}
    for facility in (blora, pati, cepu):
        for code, line in stations.tps_ballots(election=planned, facility=facility).totals().items():
            expected[code] = expected.get(code, 0) + line.total
    assert dict(summary.total.ballots) == expected
    # Bojonegoro voters get the presidential ballot only, so fewer DPR ballots.
    assert summary.total.ballots["PPWP"] > summary.total.ballots["DPR"]


def test_a_kpu_officer_recaps_their_regency_only(planned, kpu_blora_officer):
    summary = recap.recap(election=planned, user=kpu_blora_officer)
    assert [regency.row.key for regency in summary.regencies] == ["33.16"]
    assert summary.total.voters == 17


def test_a_rutan_officer_recaps_their_facility_only(planned, rutan_pati_officer):
    summary = recap.recap(election=planned, user=rutan_pati_officer)
    assert [item.row.key for item in summary.facilities] == ["rutan-pati"]
    assert summary.total.voters == 5


def test_recap_page_shows_the_scope_and_the_total(client, planned, kpu_blora_officer):
    client.force_login(kpu_blora_officer)
    response = client.get(reverse("tps:stations_recap", args=["pemilu-test"]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Rutan Kelas IIB Blora" in body and "Lapas Cepu" in body
    assert "Rutan Kelas IIB Pati" not in body
    assert response.context["total"]["voters"] == 17


def test_recap_page_needs_login(client, planned):
    response = client.get(reverse("tps:stations_recap", args=["pemilu-test"]))
    assert response.status_code == 302
