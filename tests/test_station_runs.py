"""TPS planning and DPT exports over many facilities as background jobs
(tps/services/runs.py, tps/views/runs.py): a regency planned facility after
facility with its progress, a ZIP of masked per-facility files, who may start
which run and for which facilities, who sees a run and its ZIP, the failed
path, and the pages in Indonesian."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import translation

from inmates.models import AccessLog, Facility
from tests.stations_support import FULL_NIK, TODAY, bulk_inmates, make_election, make_tps, pdf_text
from tps.models import StationRun, Tps, TpsAssignment
from tps.services import runs, stations

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _today(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def election(regions):
    return make_election()


@pytest.fixture
def lapas_blora(regions):
    """A second facility in Kab. Blora: a regency run covers both."""
    return Facility.objects.create(
        code="lapas-blora", name="Lapas Kelas IIB Blora", type=Facility.Type.LAPAS, regency_id="33.16"
    )


@pytest.fixture
def voters(blora, lapas_blora, pati):
    """Five voters at Rutan Blora, four at Lapas Blora, three at Rutan Pati; one TPS each."""
    bulk_inmates(blora, 5, prefix="Rutan")
    bulk_inmates(lapas_blora, 4, prefix="Lapas", start=100)
    bulk_inmates(pati, 3, prefix="Pati", start=200)
    return {"rutan-blora": 5, "lapas-blora": 4, "rutan-pati": 3}


@pytest.fixture
def with_tps(election, blora, lapas_blora, pati, voters):
    for facility in (blora, lapas_blora, pati):
        make_tps(election, facility)
    return election


def start(capture, **kwargs):
    """Start a run and let the (immediate) task backend do it when the transaction commits."""
    with capture(execute=True):
        run = runs.station_run_start(**kwargs)
    run.refresh_from_db()
    return run


# --- planning ---------------------------------------------------------------------------------------


def test_a_regency_plan_plans_every_facility_and_reports_each(
    with_tps, blora, lapas_blora, pati, kpu_blora_officer, django_capture_on_commit_callbacks
):
    run = start(
        django_capture_on_commit_callbacks,
        kind="plan",
        election=with_tps,
        user=kpu_blora_officer,
        regency="33.16",
    )
    assert (run.status, run.processed, run.total, run.progress_percent) == ("done", 2, 2, 100)
    assert run.facility_codes == ["lapas-blora", "rutan-blora"]
    assert run.rows == 9
    assert run.result["rutan-blora"] == {
        "name": "Rutan Kelas IIB Blora",
        "tps": 1,
        "voters": 5,
        "moved": 0,
        "added": 5,
        "removed": 0,
        "created_tps": [],
        "shortages": 0,
    }
    assert run.result["lapas-blora"]["voters"] == 4
    assert "rutan-pati" not in run.result
    assert TpsAssignment.objects.filter(tps__facility=blora).count() == 5
    assert TpsAssignment.objects.filter(tps__facility=lapas_blora).count() == 4
    assert not TpsAssignment.objects.filter(tps__facility=pati).exists()
    assert run.finished_at is not None and run.task_id


def test_progress_is_written_after_each_facility(
    with_tps, admin_user, django_capture_on_commit_callbacks, monkeypatch
):
    seen = []
    real_plan = stations.tps_plan

    def plan_and_look(**kwargs):
        row = StationRun.objects.get()
        seen.append((row.status, row.processed, row.total))
        return real_plan(**kwargs)

    monkeypatch.setattr(stations, "tps_plan", plan_and_look)
    run = start(django_capture_on_commit_callbacks, kind="plan", election=with_tps, user=admin_user)
    assert seen == [("running", 0, 3), ("running", 1, 3), ("running", 2, 3)]
    assert (run.processed, run.total, run.rows) == (3, 3, 12)


def test_a_facility_that_cannot_be_planned_is_reported_and_the_others_go_on(
    with_tps, admin_user, django_capture_on_commit_callbacks, monkeypatch
):
    real_plan = stations.tps_plan

    def plan(**kwargs):
        if kwargs["facility"].code == "lapas-blora":
            raise ValidationError("TPS 901 is full")
        return real_plan(**kwargs)

    monkeypatch.setattr(stations, "tps_plan", plan)
    run = start(django_capture_on_commit_callbacks, kind="plan", election=with_tps, user=admin_user)
    assert run.status == "done"
    assert run.result["lapas-blora"] == {"name": "Lapas Kelas IIB Blora", "error": "TPS 901 is full"}
    assert run.result["rutan-pati"]["voters"] == 3


def test_a_failed_run_records_the_error(
    with_tps, admin_user, django_capture_on_commit_callbacks, monkeypatch
):
    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(stations, "tps_plan", broken)
    run = start(django_capture_on_commit_callbacks, kind="plan", election=with_tps, user=admin_user)
    assert run.status == "failed"
    assert run.error == "RuntimeError: database went away"
    assert run.finished_at is not None
    assert run.processed == 0


# --- exports ----------------------------------------------------------------------------------------


@pytest.fixture
def planned(with_tps, blora, lapas_blora, pati):
    for facility in (blora, lapas_blora, pati):
        stations.tps_plan(election=with_tps, facility=facility, user=None)
    return with_tps


def zip_members(run) -> dict[str, bytes]:
    with run.output.open("rb") as handle, zipfile.ZipFile(handle) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_an_xlsx_export_is_a_zip_of_masked_per_facility_files(
    planned, admin_user, django_capture_on_commit_callbacks
):
    run = start(
        django_capture_on_commit_callbacks, kind="export", election=planned, user=admin_user, fmt="xlsx"
    )
    assert (run.status, run.processed, run.total, run.rows) == ("done", 3, 3, 12)
    members = zip_members(run)
    assert sorted(members) == [
        "dpt-pemilu-test-lapas-blora-disamarkan.xlsx",
        "dpt-pemilu-test-rutan-blora-disamarkan.xlsx",
        "dpt-pemilu-test-rutan-pati-disamarkan.xlsx",
    ]
    for name, content in members.items():
        with zipfile.ZipFile(io.BytesIO(content)) as workbook:
            for part in workbook.namelist():
                assert not FULL_NIK.search(workbook.read(part)), f"{name}/{part}"
    assert {code: figures["rows"] for code, figures in run.result.items()} == {
        "lapas-blora": 4,
        "rutan-blora": 5,
        "rutan-pati": 3,
    }
    # Recorded like every other DPT export: one entry per file, with the user who started the run.
    logged = AccessLog.objects.filter(action="export", details__kind="dpt")
    assert logged.count() == 3
    assert {entry.user for entry in logged} == {admin_user}
    assert {entry.details["via"] for entry in logged} == {f"station_run:{run.pk}"}


def test_a_csv_export_has_one_file_per_tps_and_a_row_per_voter(
    with_tps, blora, lapas_blora, kpu_blora_officer, django_capture_on_commit_callbacks
):
    # Three voters per TPS at Rutan Blora: its five voters need TPS 901 and 902.
    Tps.objects.filter(facility=blora).update(capacity=3)
    for facility in (blora, lapas_blora):
        stations.tps_plan(election=with_tps, facility=facility, user=None)
    run = start(
        django_capture_on_commit_callbacks,
        kind="export",
        election=with_tps,
        user=kpu_blora_officer,
        fmt="csv",
    )
    members = zip_members(run)
    assert sorted(members) == [
        "dpt-pemilu-test-lapas-blora-tps901-disamarkan.csv",
        "dpt-pemilu-test-rutan-blora-tps901-disamarkan.csv",
        "dpt-pemilu-test-rutan-blora-tps902-disamarkan.csv",
    ]
    data_rows = 0
    for content in members.values():
        assert not FULL_NIK.search(content)
        data_rows += len(list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))) - 1
    assert data_rows == run.rows == 9
    assert run.result["rutan-blora"]["rows"] == 5


def test_a_pdf_export_is_masked(planned, rutan_blora_officer, django_capture_on_commit_callbacks):
    run = start(
        django_capture_on_commit_callbacks,
        kind="export",
        election=planned,
        user=rutan_blora_officer,
        fmt="pdf",
    )
    members = zip_members(run)
    assert list(members) == ["dpt-pemilu-test-rutan-blora-disamarkan.pdf"]
    assert not FULL_NIK.search(pdf_text(members["dpt-pemilu-test-rutan-blora-disamarkan.pdf"]))


def test_full_numbers_only_when_asked_and_allowed(
    planned, kpu_blora_officer, django_capture_on_commit_callbacks
):
    run = start(
        django_capture_on_commit_callbacks,
        kind="export",
        election=planned,
        user=kpu_blora_officer,
        fmt="csv",
        full_nik=True,
    )
    members = zip_members(run)
    assert all(FULL_NIK.search(content) for content in members.values())
    assert all("disamarkan" not in name for name in members)
    assert AccessLog.objects.filter(action="export_full_nik", user=kpu_blora_officer).count() == 2
    with pytest.raises(ValidationError):
        runs.station_run_start(
            kind="export", election=planned, user=kpu_blora_officer, fmt="pdf", full_nik=True
        )


def test_a_facility_without_tps_is_reported_in_the_export(
    election, voters, blora, admin_user, django_capture_on_commit_callbacks
):
    make_tps(election, blora)
    stations.tps_plan(election=election, facility=blora, user=None)
    run = start(
        django_capture_on_commit_callbacks, kind="export", election=election, user=admin_user, fmt="xlsx"
    )
    assert run.status == "done"
    assert run.rows == 5
    assert run.result["rutan-pati"]["error"]  # "plan them first", in the worker's language
    assert run.result["rutan-pati"]["files"] == []
    assert list(zip_members(run)) == ["dpt-pemilu-test-rutan-blora-disamarkan.xlsx"]


# --- scope --------------------------------------------------------------------------------------------


def test_a_kpu_officer_cannot_start_a_run_for_another_regency(with_tps, kpu_blora_officer):
    with pytest.raises(PermissionDenied):
        runs.station_run_start(kind="plan", election=with_tps, user=kpu_blora_officer, regency="33.18")
    with pytest.raises(PermissionDenied):
        runs.station_run_start(
            kind="export", election=with_tps, user=kpu_blora_officer, facilities=["rutan-pati"], fmt="xlsx"
        )
    assert not StationRun.objects.exists()


def test_a_kpu_officers_run_covers_their_regency_only(with_tps, kpu_blora_officer):
    run = runs.station_run_start(kind="export", election=with_tps, user=kpu_blora_officer, fmt="csv")
    assert run.facility_codes == ["lapas-blora", "rutan-blora"]


def test_a_rutan_officer_exports_their_own_facility_but_does_not_plan(with_tps, rutan_blora_officer):
    run = runs.station_run_start(kind="export", election=with_tps, user=rutan_blora_officer, fmt="xlsx")
    assert run.facility_codes == ["rutan-blora"]
    assert runs.station_run_kinds(rutan_blora_officer) == ["export"]
    with pytest.raises(PermissionDenied):
        runs.station_run_start(kind="plan", election=with_tps, user=rutan_blora_officer)
    with pytest.raises(PermissionDenied):
        runs.station_run_start(
            kind="export", election=with_tps, user=rutan_blora_officer, regency="33.18", fmt="xlsx"
        )


def test_an_officer_without_facilities_may_start_nothing(with_tps, django_user_model):
    nobody = django_user_model.objects.create(
        username="kpu_rembang", is_staff=True, role="kpu", regency_id="33.17"
    )
    assert runs.station_run_kinds(nobody) == []
    with pytest.raises(PermissionDenied):
        runs.station_run_start(kind="export", election=with_tps, user=nobody, fmt="xlsx")


def test_the_admin_may_choose_facilities(with_tps, admin_user):
    run = runs.station_run_start(
        kind="plan", election=with_tps, user=admin_user, facilities=["rutan-pati", "rutan-blora"]
    )
    assert (run.facility_codes, run.total) == (["rutan-blora", "rutan-pati"], 2)


# --- pages --------------------------------------------------------------------------------------------


def test_a_kpu_officer_starts_an_export_from_the_page_and_downloads_it(
    planned, client, kpu_blora_officer, django_capture_on_commit_callbacks
):
    client.force_login(kpu_blora_officer)
    url = reverse("tps:station_runs", args=[planned.code])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"kind": "export", "regency": "33.16", "fmt": "xlsx"})
    run = StationRun.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("tps:station_run", args=[run.pk])
    page = client.get(response.url).content.decode()
    download = reverse("tps:station_run_download", args=[run.pk])
    assert download in page
    assert 'http-equiv="refresh"' not in page
    response = client.get(download)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as archive:
        assert len(archive.namelist()) == 2
    assert AccessLog.objects.filter(user=kpu_blora_officer, details__kind="dpt_run").count() == 1


def test_the_page_refuses_a_foreign_regency(with_tps, client, kpu_blora_officer):
    client.force_login(kpu_blora_officer)
    response = client.post(
        reverse("tps:station_runs", args=[with_tps.code]), {"kind": "plan", "regency": "33.18"}
    )
    assert response.status_code == 200  # the form says the choice is not valid
    assert response.context["form"].errors["regency"]
    assert not StationRun.objects.exists()


def test_a_rutan_officer_is_not_offered_planning(with_tps, client, rutan_blora_officer):
    client.force_login(rutan_blora_officer)
    url = reverse("tps:station_runs", args=[with_tps.code])
    page = client.get(url)
    assert [value for value, _label in page.context["form"].fields["kind"].choices] == ["export"]
    response = client.post(url, {"kind": "plan"})
    assert response.status_code == 200
    assert not StationRun.objects.exists()


def test_another_users_run_and_zip_are_404(
    planned, client, kpu_blora_officer, kpu_pati_officer, admin_user, django_capture_on_commit_callbacks
):
    run = start(
        django_capture_on_commit_callbacks,
        kind="export",
        election=planned,
        user=kpu_blora_officer,
        fmt="xlsx",
    )
    client.force_login(kpu_pati_officer)
    assert client.get(reverse("tps:station_run", args=[run.pk])).status_code == 404
    assert client.get(reverse("tps:station_run_download", args=[run.pk])).status_code == 404
    runs_page = client.get(reverse("tps:station_runs", args=[planned.code]))
    assert list(runs_page.context["runs"]) == []
    client.force_login(admin_user)
    assert client.get(reverse("tps:station_run", args=[run.pk])).status_code == 200
    assert client.get(reverse("tps:station_run_download", args=[run.pk])).status_code == 200


def test_a_waiting_run_refreshes_itself_and_offers_no_download(with_tps, client, kpu_blora_officer):
    run = runs.station_run_start(
        kind="plan", election=with_tps, user=kpu_blora_officer
    )  # not committed: waits
    client.force_login(kpu_blora_officer)
    page = client.get(reverse("tps:station_run", args=[run.pk])).content.decode()
    assert 'http-equiv="refresh" content="2"' in page
    assert "<progress" in page
    assert client.get(reverse("tps:station_run_download", args=[run.pk])).status_code == 404


def test_the_pages_are_in_indonesian_for_a_kpu_officer(
    planned, client, kpu_blora_officer, django_capture_on_commit_callbacks
):
    run = start(django_capture_on_commit_callbacks, kind="plan", election=planned, user=kpu_blora_officer)
    client.force_login(kpu_blora_officer)
    start_page = client.get(reverse("tps:station_runs", args=[planned.code]), HTTP_ACCEPT_LANGUAGE="id")
    run_page = client.get(reverse("tps:station_run", args=[run.pk]), HTTP_ACCEPT_LANGUAGE="id")
    index = client.get(reverse("tps:stations_index"), {"election": planned.code}, HTTP_ACCEPT_LANGUAGE="id")
    assert start_page.status_code == run_page.status_code == index.status_code == 200
    start_body, run_body = start_page.content.decode(), run_page.content.decode()
    everyone, link = "Every facility I see", "Plan or export many facilities (background)"
    with translation.override("id"):
        assert translation.gettext(everyone) != everyone
        assert translation.gettext(everyone) in start_body
        assert str(StationRun.Kind.PLAN.label) in start_body
        assert str(StationRun.Kind.EXPORT.label) in start_body
        assert str(StationRun.Status.DONE.label) in run_body
        assert translation.gettext(link) in index.content.decode()
    assert "Lapas Kelas IIB Blora" in run_body
    assert everyone not in start_body
