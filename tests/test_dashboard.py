"""The dashboard (tps/dashboard.py, its page and the admin index link): the
figures per facility, and who sees which facilities."""

from __future__ import annotations

import datetime
import re

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse

from inmates.models import CustodyEvent, DuplicateCandidate, Facility, User
from tests.stations_support import TODAY, blora_dapils, bulk_inmates, home, make_election, make_tps, release
from tps.dashboard import dashboard_data, default_election
from tps.services import stations

pytestmark = pytest.mark.django_db
URL = reverse("tps:dashboard")


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
def cepu(regions):
    return Facility.objects.create(code="lapas-cepu", name="Lapas Cepu", regency_id="33.16")


@pytest.fixture
def scene(election, blora, pati, cepu):
    """Blora: 10 voters on TPS 901, 2 without NIK, one leaving before voting day, an open duplicate pair."""
    voters = bulk_inmates(blora, 10, prefix="Blora", domicile_region_id=home("blora_town"))
    bulk_inmates(blora, 2, prefix="Tanpa", nik=None, nkk="")
    bulk_inmates(blora, 1, prefix="Bebas", expected_release_date=datetime.date(2024, 1, 20))
    DuplicateCandidate.objects.create(inmate_a=voters[0], inmate_b=voters[1], score=0.97, reasons=["nik"])
    bulk_inmates(pati, 4, prefix="Pati", domicile_region_id=home("pati"))
    bulk_inmates(cepu, 3, prefix="Cepu", domicile_region_id=home("cepu"))
    make_tps(election, blora)
    stations.tps_plan(election=election, facility=blora, user=None)
    return election


def codes(dashboard) -> list[str]:
    return [item.facility.code for item in dashboard.facilities]


def open_page(client, user, **params):
    client.force_login(user)
    return client.get(URL, {"election": "pemilu-test", **params})


# --- figures --------------------------------------------------------------------------


def test_figures_of_a_facility(scene, admin_user):
    data = dashboard_data(user=admin_user, election=scene, today=TODAY.date())
    blora = next(item for item in data.facilities if item.facility.code == "rutan-blora")
    assert blora.in_custody == 13
    assert blora.needs_data == 2
    assert blora.open_duplicates == 1
    assert blora.eligible == 10  # no NIK: needs data; released on 20 Jan: gone by voting day
    assert (blora.tps_count, blora.voters_on_tps) == (1, 10)
    assert blora.ballots["PPWP"] == 11  # 10 + 2 % rounded up
    assert [label for label, *_rest in blora.projection][-1]
    assert blora.projection_eligible[-1] == 10


def test_a_facility_without_tps_shows_no_ballots(scene, admin_user):
    data = dashboard_data(user=admin_user, election=scene, today=TODAY.date())
    pati = next(item for item in data.facilities if item.facility.code == "rutan-pati")
    assert (pati.tps_count, sum(pati.ballots.values()), pati.eligible) == (0, 0, 4)


def test_regency_totals_sum_its_facilities(scene, kpu_blora_officer):
    data = dashboard_data(user=kpu_blora_officer, election=scene, today=TODAY.date())
    (regency,) = data.regencies
    assert regency.in_custody == 13 + 3
    assert regency.eligible == 10 + 3


def test_the_next_election_is_shown_by_default(scene):
    chosen = default_election(TODAY.date())
    assert chosen.voting_day >= TODAY.date()
    assert default_election(datetime.date(2030, 1, 1)).voting_day <= datetime.date(2030, 1, 1)


# --- scope ------------------------------------------------------------------------------


def test_rutan_officer_sees_their_facility_only(client, scene, rutan_blora_officer):
    response = open_page(client, rutan_blora_officer)
    assert response.status_code == 200
    assert codes(response.context["dashboard"]) == ["rutan-blora"]
    body = response.content.decode()
    assert "Rutan Kelas IIB Pati" not in body and "Lapas Cepu" not in body


def test_kpu_officer_sees_the_facilities_of_their_regency(client, scene, kpu_blora_officer):
    response = open_page(client, kpu_blora_officer)
    assert codes(response.context["dashboard"]) == ["lapas-cepu", "rutan-blora"]
    assert "Rutan Kelas IIB Pati" not in response.content.decode()


def test_kpu_officer_of_another_regency_sees_nothing_of_blora(client, scene, kpu_pati_officer):
    response = open_page(client, kpu_pati_officer)
    assert codes(response.context["dashboard"]) == ["rutan-pati"]
    body = response.content.decode()
    assert "Blora" not in body.split('id="dashboard-scope"')[1]


def test_an_outsider_sees_no_facility(client, scene, regions):
    outsider = User(username="kpu_bojonegoro", role=User.Role.KPU, regency_id="35.22", is_staff=True)
    outsider.set_password("x")
    outsider.save()
    response = open_page(client, outsider)
    assert response.status_code == 200
    assert codes(response.context["dashboard"]) == []
    assert 'id="dashboard-empty"' in response.content.decode()
    assert "Blora" not in response.content.decode().split('id="dashboard-scope"')[1]


def test_admin_sees_every_facility(client, scene, admin_user):
    response = open_page(client, admin_user)
    assert codes(response.context["dashboard"]) == ["lapas-cepu", "rutan-blora", "rutan-pati"]


def test_anonymous_is_sent_to_the_login(client, scene):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_an_unknown_election_is_404(client, scene, admin_user):
    assert open_page(client, admin_user, election="no-such-election").status_code == 404


# --- page, charts, links ---------------------------------------------------------------


def test_charts_use_the_local_chart_library_and_no_cdn(client, scene, rutan_blora_officer):
    body = open_page(client, rutan_blora_officer).content.decode()
    scripts = re.findall(r'<script[^>]+src="([^"]+)"', body)
    assert "/static/vendor/chartjs/chart.umd.min.js" in scripts
    assert not [src for src in scripts if src.startswith(("http:", "https:", "//"))]
    assert (settings.BASE_DIR / "static/vendor/chartjs/chart.umd.min.js").stat().st_size > 100_000
    assert (settings.BASE_DIR / "static/vendor/chartjs/LICENSE.md").exists()


def test_chart_data_is_embedded_as_json(client, scene, rutan_blora_officer):
    response = open_page(client, rutan_blora_officer)
    charts = response.context["charts"]
    assert charts["labels"] == ["Rutan Kelas IIB Blora"]
    assert [dataset["data"] for dataset in charts["register"]] == [[13], [10], [2], [1]]
    assert 'id="dashboard-charts"' in response.content.decode()


def test_admin_index_links_to_the_dashboard(client, scene, rutan_blora_officer):
    client.force_login(rutan_blora_officer)
    body = client.get(reverse("admin:index")).content.decode()
    assert f'href="{URL}"' in body
    assert f'href="{reverse("tps:stations_index")}"' in body


def test_stations_pages_follow_the_scope(client, scene, rutan_pati_officer, rutan_blora_officer):
    url = reverse("tps:stations_facility", args=["pemilu-test", "rutan-blora"])
    client.force_login(rutan_pati_officer)
    assert client.get(url).status_code == 404
    client.force_login(rutan_blora_officer)
    response = client.get(url)
    assert response.status_code == 200
    assert response.context["ballots"].voters == 10


def test_planning_pages_are_for_kpu_and_admins(client, scene, rutan_blora_officer, kpu_blora_officer):
    url = reverse("tps:stations_plan", args=["pemilu-test", "rutan-blora"])
    client.force_login(rutan_blora_officer)
    assert client.get(url).status_code == 403
    assert client.post(url).status_code == 403
    client.force_login(kpu_blora_officer)
    assert client.get(url).status_code == 200
    assert client.post(url).status_code == 302


def test_fixing_logistics_from_the_page(client, scene, kpu_blora_officer):
    client.force_login(kpu_blora_officer)
    url = reverse("tps:stations_fix_logistics", args=["pemilu-test", "rutan-blora"])
    assert client.post(url).status_code == 302
    assert scene.tps.get(facility__code="rutan-blora").ballot_allocations.count() == 5


# --- the plan against the projection, shortages ------------------------------------------------


def blora_figures(user, election):
    data = dashboard_data(user=user, election=election, today=TODAY.date())
    return next(item for item in data.facilities if item.facility.code == "rutan-blora")


def test_admissions_and_releases_since_the_plan_show_as_a_plan_out_of_date(scene, blora, kpu_blora_officer):
    planned = list(blora.inmates.filter(tps_assignments__isnull=False))
    release(planned[:1], datetime.date(2024, 2, 1))
    bulk_inmates(blora, 3, prefix="Baru", domicile_region_id=home("blora_town"))
    item = blora_figures(kpu_blora_officer, scene)
    assert (item.unplanned, item.no_longer_projected, item.plan_out_of_date) == (3, 1, True)


def test_a_current_plan_is_not_flagged(scene, kpu_blora_officer):
    item = blora_figures(kpu_blora_officer, scene)
    assert (item.unplanned, item.no_longer_projected, item.plan_out_of_date) == (0, 0, False)


def test_the_dashboard_page_shows_the_plan_out_of_date(client, scene, blora, rutan_blora_officer):
    bulk_inmates(blora, 3, prefix="Baru", domicile_region_id=home("blora_town"))
    body = open_page(client, rutan_blora_officer).content.decode()
    row = body.split('data-facility="rutan-blora"')[1].split("</tr>")[0]
    assert 'class="warn plan-out-of-date"' in row


def test_unplanned_arrivals_count_as_a_shortage_against_fixed_logistics(scene, blora, kpu_blora_officer):
    stations.logistics_fix(election=scene, facility=blora, user=None)  # 11 of each type for 10 voters
    bulk_inmates(blora, 2, prefix="Bojonegoro", domicile_region_id=home("bojonegoro"))  # PPWP only
    assert blora_figures(kpu_blora_officer, scene).shortages == 1


def test_plan_figures_equal_the_facility_service(scene, blora, cepu, admin_user):
    # Cepu planned too; then both registers move on.
    make_tps(scene, cepu)
    stations.tps_plan(election=scene, facility=cepu, user=None)
    stations.logistics_fix(election=scene, facility=blora, user=None)
    release(list(cepu.inmates.all()[:1]), datetime.date(2024, 2, 1))
    bulk_inmates(cepu, 2, prefix="Baru", domicile_region_id=home("cepu"))
    bulk_inmates(blora, 4, prefix="Kudus", domicile_region_id=home("kudus"))
    bulk_inmates(blora, 1, prefix="Bebas", start=50, expected_release_date=datetime.date(2024, 1, 20))
    # Recorded ahead of their dates: one voter transferred out, one death, one arrival in February.
    planned = list(blora.inmates.filter(tps_assignments__isnull=False).order_by("pk"))
    CustodyEvent.objects.create(inmate=planned[0], kind="transfer_out", date=datetime.date(2024, 2, 5))
    CustodyEvent.objects.create(inmate=planned[1], kind="death", date=datetime.date(2024, 1, 25))
    bulk_inmates(
        blora, 1, prefix="Datang", admission_date=datetime.date(2024, 2, 3), domicile_region_id=home("cepu")
    )
    data = dashboard_data(user=admin_user, election=scene, today=TODAY.date())
    for item in data.facilities:
        if not item.tps_count:
            continue
        check = stations.logistics_check(election=scene, facility=item.facility)
        expected = (len(check.drift.unplanned), check.drift.no_longer_projected, len(check.shortages))
        assert (item.unplanned, item.no_longer_projected, item.shortages) == expected, item.facility.code
    blora_item = blora_figures(admin_user, scene)
    assert (blora_item.unplanned, blora_item.no_longer_projected) == (5, 2)


def test_fixed_logistics_add_no_query_per_facility(scene, blora, cepu, pati, admin_user, kpu_pati_officer):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for facility in (cepu, pati):
        make_tps(scene, facility)
        stations.tps_plan(election=scene, facility=facility, user=None)
    for facility in (blora, cepu, pati):
        stations.logistics_fix(election=scene, facility=facility, user=None, allow_undecided=True)

    def queries(user) -> int:
        with CaptureQueriesContext(connection) as captured:
            dashboard_data(user=user, election=scene, today=TODAY.date())
        return len(captured.captured_queries)

    # The admin sees three facilities with fixed logistics, the KPU Pati officer one.
    assert queries(admin_user) == queries(kpu_pati_officer)
