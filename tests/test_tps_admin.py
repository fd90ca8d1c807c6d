"""Admin of TPS, TPS assignments, ballot allocations and dapil
(tps/admin/stations.py): scope, manual moves through the service with the
capacity error shown, planning and logistics actions, dapil import."""

from __future__ import annotations

import pytest
import time_machine
from django.contrib.messages import ERROR, get_messages
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.stations_support import TODAY, blora_dapils, bulk_inmates, home, make_election, make_tps
from tps.models import BallotAllocation, Dapil, Tps, TpsAssignment
from tps.planning import CapacityError
from tps.services import stations

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def election(regions):
    """Three voters per TPS, so a TPS is full with three."""
    election = make_election(max_voters_per_tps=3)
    blora_dapils(election)
    return election


@pytest.fixture
def full(election, blora):
    """TPS 901 and 902 of Rutan Blora, both full (3 of 3)."""
    bulk_inmates(blora, 6, cell_block="")
    stations.tps_plan(election=election, facility=blora, user=None)
    return election


@pytest.fixture
def room(election, blora):
    """TPS 901 full (3 of 3), TPS 902 with room (2 of 3); voters from Blora town (every ballot)."""
    bulk_inmates(blora, 5, cell_block="", domicile_region_id=home("blora_town"))
    make_tps(election, blora)  # in Kel. Kauman; TPS 902 follows it there
    stations.tps_plan(election=election, facility=blora, user=None)
    return election


def first_on(number: str) -> TpsAssignment:
    return TpsAssignment.objects.filter(tps__number=number).order_by("order_number").first()


def change_url(assignment: TpsAssignment) -> str:
    return reverse("admin:tps_tpsassignment_change", args=[assignment.pk])


def error_messages(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request) if message.level == ERROR]


# --- scope -------------------------------------------------------------------------------


def test_tps_list_is_scoped(client, room, pati, rutan_pati_officer, rutan_blora_officer):
    make_tps(room, pati)
    client.force_login(rutan_pati_officer)
    response = client.get(reverse("admin:tps_tps_changelist"))
    assert [tps.facility.code for tps in response.context["cl"].result_list] == ["rutan-pati"]
    assert "Rutan Kelas IIB Blora" not in response.content.decode(), "not even in the filters"
    listing = client.get(reverse("admin:tps_tpsassignment_changelist")).content.decode()
    assert "Rutan Kelas IIB Blora" not in listing
    blora_tps = Tps.objects.get(facility__code="rutan-blora", number="901")
    assert client.get(reverse("admin:tps_tps_change", args=[blora_tps.pk])).status_code == 404
    assert client.get(change_url(first_on("901"))).status_code == 404


def test_rutan_officer_reads_the_tps_but_cannot_move_voters(client, room, rutan_blora_officer):
    client.force_login(rutan_blora_officer)
    tps = Tps.objects.get(number="901")
    page = client.get(reverse("admin:tps_tps_change", args=[tps.pk]))
    assert page.status_code == 200
    assert first_on("901").inmate.full_name in page.content.decode()
    assignment = first_on("901")
    response = client.post(change_url(assignment), {"tps": Tps.objects.get(number="902").pk})
    assert response.status_code == 403
    assert first_on("901") == assignment


# --- manual moves ---------------------------------------------------------------------------


def test_move_in_the_change_form(client, room, kpu_blora_officer):
    client.force_login(kpu_blora_officer)
    assignment = first_on("901")
    target = Tps.objects.get(number="902")
    response = client.post(change_url(assignment), {"tps": target.pk})
    assert response.status_code == 302
    assignment.refresh_from_db()
    assert (assignment.tps, assignment.manual) == (target, True)
    assert Tps.objects.get(number="902").voter_count == 3
    assert assignment.history.first().history_user == kpu_blora_officer


def test_the_change_form_shows_the_capacity_error(client, full, kpu_blora_officer):
    client.force_login(kpu_blora_officer)
    assignment = first_on("901")
    response = client.post(change_url(assignment), {"tps": Tps.objects.get(number="902").pk})
    assert response.status_code == 200
    assert "tps" in response.context["adminform"].form.errors
    assert 'class="errorlist' in response.content.decode()
    assignment.refresh_from_db()
    assert assignment.tps.number == "901"


def test_the_move_action_moves_within_capacity(client, room, admin_user):
    client.force_login(admin_user)
    assignment = first_on("901")
    response = client.post(
        reverse("admin:tps_tpsassignment_changelist"),
        {
            "action": "move_to_tps",
            "_selected_action": [assignment.pk],
            "apply": "1",
            "to_tps": Tps.objects.get(number="902").pk,
        },
    )
    assert response.status_code == 302
    assignment.refresh_from_db()
    assert assignment.tps.number == "902"


def test_the_move_action_shows_the_capacity_error(client, full, admin_user):
    client.force_login(admin_user)
    assignment = first_on("901")
    response = client.post(
        reverse("admin:tps_tpsassignment_changelist"),
        {
            "action": "move_to_tps",
            "_selected_action": [assignment.pk],
            "apply": "1",
            "to_tps": Tps.objects.get(number="902").pk,
        },
        follow=True,
    )
    errors = error_messages(response)
    assert len(errors) == 1 and "902" in errors[0] and "3" in errors[0]
    assignment.refresh_from_db()
    assert assignment.tps.number == "901"


def test_the_move_action_asks_for_the_target_first(client, room, admin_user):
    client.force_login(admin_user)
    assignment = first_on("901")
    response = client.post(
        reverse("admin:tps_tpsassignment_changelist"),
        {"action": "move_to_tps", "_selected_action": [assignment.pk]},
    )
    assert response.status_code == 200
    assert [tps.number for tps in response.context["form"].fields["to_tps"].queryset] == ["901", "902"]


def test_the_move_action_fills_the_last_place_and_refuses_the_rest(client, room, admin_user):
    client.force_login(admin_user)
    two = list(TpsAssignment.objects.filter(tps__number="901").values_list("pk", flat=True)[:2])
    response = client.post(
        reverse("admin:tps_tpsassignment_changelist"),
        {
            "action": "move_to_tps",
            "_selected_action": two,
            "apply": "1",
            "to_tps": Tps.objects.get(number="902").pk,
        },
        follow=True,
    )
    assert len(error_messages(response)) == 1
    assert {tps.number: tps.voter_count for tps in Tps.objects.all()} == {"901": 2, "902": 3}


def test_assignments_are_not_added_or_deleted_by_hand(client, room, admin_user):
    client.force_login(admin_user)
    assert client.get(reverse("admin:tps_tpsassignment_add")).status_code == 403
    assert client.get(reverse("admin:tps_tpsassignment_delete", args=[first_on("901").pk])).status_code == 403


# --- TPS --------------------------------------------------------------------------------------


def test_adding_a_tps_defaults_the_capacity(client, election, blora, kpu_blora_officer):
    client.force_login(kpu_blora_officer)
    response = client.post(
        reverse("admin:tps_tps_add"),
        {
            "election": election.pk,
            "facility": blora.pk,
            "number": "905",
            "village": "33.16.09.1013",
            "capacity": "",
            "assignments-TOTAL_FORMS": "0",
            "assignments-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Tps.objects.get(number="905").capacity == 3


def test_a_tps_with_voters_cannot_be_deleted(client, room, admin_user):
    client.force_login(admin_user)
    tps = Tps.objects.get(number="901")
    assert client.get(reverse("admin:tps_tps_delete", args=[tps.pk])).status_code == 403


def test_plan_action_plans_the_facility(client, election, blora, admin_user):
    bulk_inmates(blora, 4, cell_block="")
    make_tps(election, blora)
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:tps_tps_changelist"),
        {"action": "plan_again", "_selected_action": [Tps.objects.get().pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert {tps.number: tps.voter_count for tps in Tps.objects.all()} == {"901": 2, "902": 2}


def plan_action(client, user):
    client.force_login(user)
    return client.post(
        reverse("admin:tps_tps_changelist"),
        {"action": "plan_again", "_selected_action": [Tps.objects.get().pk]},
        follow=True,
    )


def test_plan_action_shows_the_planners_error_in_the_users_language(
    client, election, blora, admin_user, monkeypatch
):
    make_tps(election, blora)

    def too_many(**kwargs):
        raise CapacityError(voters=301, capacity=300, tps_available=1)

    monkeypatch.setattr(stations, "tps_plan", too_many)
    (message,) = error_messages(plan_action(client, admin_user))  # in Bahasa Indonesia, the default
    assert message.startswith("Rutan Kelas IIB Blora: 301 pemilih memerlukan sedikitnya 2 TPS")


def test_plan_action_shows_each_refusal_as_plain_text(client, election, blora, admin_user, monkeypatch):
    make_tps(election, blora)

    def refused(**kwargs):
        raise ValidationError({"village": ["Pilih desa/kelurahan."]})

    monkeypatch.setattr(stations, "tps_plan", refused)
    assert error_messages(plan_action(client, admin_user)) == ["Rutan Kelas IIB Blora: Pilih desa/kelurahan."]


def test_logistics_action_fixes_the_allocations(client, room, admin_user):
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:tps_tps_changelist"),
        {"action": "fix_logistics", "_selected_action": [Tps.objects.get(number="901").pk]},
        follow=True,
    )
    assert error_messages(response) == []
    assert BallotAllocation.objects.count() == 10
    listing = client.get(reverse("admin:tps_ballotallocation_changelist"))
    assert listing.status_code == 200
    assert len(listing.context["cl"].result_list) == 10


def test_logistics_action_reports_undecided_ballots(client, election, blora, admin_user):
    bulk_inmates(blora, 1)  # Kec. Jati: no DPRD Kab/Kota dapil configured
    make_tps(election, blora)
    stations.tps_plan(election=election, facility=blora, user=None)
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:tps_tps_changelist"),
        {"action": "fix_logistics", "_selected_action": [Tps.objects.get().pk]},
        follow=True,
    )
    assert len(error_messages(response)) == 1
    assert not BallotAllocation.objects.exists()


def test_ballot_allocations_are_read_only(client, room, admin_user):
    client.force_login(admin_user)
    assert client.get(reverse("admin:tps_ballotallocation_add")).status_code == 403


# --- dapil ----------------------------------------------------------------------------------


def upload(text: str, name: str = "dapil.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


def test_dapil_import_page(client, regions, admin_user):
    election = make_election(code="pemilu-import")
    client.force_login(admin_user)
    url = reverse("admin:tps_dapil_import")
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "election": election.pk,
            "is_demo": "on",
            "file": upload(
                "Kontestasi,Kode Dapil,Nama,Wilayah\nDPR,JATENG III,Jawa Tengah III,33.15;33.16;33.17;33.18\n"
            ),
        },
    )
    assert response.status_code == 302
    dapil = Dapil.objects.get(election=election)
    assert (dapil.code, dapil.is_demo, dapil.regions.count()) == ("JATENG III", True, 4)


def test_a_bad_dapil_file_shows_its_errors_and_imports_nothing(client, regions, admin_user):
    election = make_election(code="pemilu-import")
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:tps_dapil_import"),
        {"election": election.pk, "file": upload("Kontestasi,Kode Dapil,Nama,Wilayah\nDPR,X,,99.99\n")},
    )
    assert response.status_code == 200
    assert response.context["errors"]
    assert "99.99" in response.content.decode()
    assert not Dapil.objects.filter(election=election).exists()


def test_dapil_import_is_for_admins(client, regions, kpu_blora_officer):
    client.force_login(kpu_blora_officer)
    assert client.get(reverse("admin:tps_dapil_import")).status_code == 403


def test_dapil_form_refuses_an_area_of_another_dapil(client, election, admin_user):
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:tps_dapil_add"),
        {
            "election": election.pk,
            "contest": "DPRD_KABKOTA",
            "code": "BLORA 9",
            "name": "",
            "regions": ["33.16.09"],
        },
    )
    assert response.status_code == 200
    assert "regions" in response.context["adminform"].form.errors
    assert not Dapil.objects.filter(code="BLORA 9").exists()


def test_dapil_form_saves_through_the_service(client, election, admin_user):
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:tps_dapil_add"),
        {
            "election": election.pk,
            "contest": "DPRD_KABKOTA",
            "code": "BLORA 2",
            "name": "Blora 2",
            "regions": ["33.16.11", "33.16.12"],
        },
    )
    assert response.status_code == 302
    dapil = Dapil.objects.get(code="BLORA 2")
    assert sorted(dapil.regions.values_list("code", flat=True)) == ["33.16.11", "33.16.12"]
    assert dapil.history.first().history_user == admin_user


def test_renaming_a_dapil_keeps_its_own_areas(client, election, admin_user):
    dapil = Dapil.objects.get(election=election, code="BLORA 1")
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:tps_dapil_change", args=[dapil.pk]),
        {
            "election": election.pk,
            "contest": "DPRD_KABKOTA",
            "code": "BLORA I",
            "name": "Blora I",
            "regions": ["33.16.09", "33.16.10"],
        },
    )
    assert response.status_code == 302
    dapil.refresh_from_db()
    assert dapil.code == "BLORA I"
    assert sorted(dapil.regions.values_list("code", flat=True)) == ["33.16.09", "33.16.10"]


def test_dapil_list_shows_the_import_button(client, election, admin_user):
    client.force_login(admin_user)
    body = client.get(reverse("admin:tps_dapil_changelist")).content.decode()
    assert reverse("admin:tps_dapil_import") in body
