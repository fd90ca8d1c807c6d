"""Admins manage users: role, scope and the role's group, with history."""

import pytest
from django.urls import reverse

from inmates.models import User
from inmates.roles import GROUP_NAMES

pytestmark = pytest.mark.django_db

STRONG_PASSWORD = "Lapas-Blora-2024!"  # noqa: S105 - test account


def add_user(client, **fields):
    data = {
        "username": "petugas_baru",
        "usable_password": "true",
        "password1": STRONG_PASSWORD,
        "password2": STRONG_PASSWORD,
        "role": "rutan",
        "facility": "",
        "regency": "",
        "first_name": "Siti",
        "last_name": "Aminah",
        **fields,
    }
    return client.post(reverse("admin:inmates_user_add"), data)


def test_admin_adds_a_kpu_officer_with_regency_and_group(client, admin_user):
    client.force_login(admin_user)
    response = add_user(client, role="kpu", regency="33.16")
    assert response.status_code == 302
    officer = User.objects.get(username="petugas_baru")
    assert (officer.role, officer.regency_id, officer.facility_id) == ("kpu", "33.16", None)
    assert list(officer.groups.values_list("name", flat=True)) == [GROUP_NAMES["kpu"]]
    assert officer.is_staff


def test_admin_adds_a_rutan_officer_scoped_to_a_facility(client, admin_user, blora):
    client.force_login(admin_user)
    add_user(client, role="rutan", facility=blora.pk)
    officer = User.objects.get(username="petugas_baru")
    assert officer.facility == blora
    assert list(officer.groups.values_list("name", flat=True)) == [GROUP_NAMES["rutan"]]


def test_a_kpu_officer_without_a_regency_is_refused_with_a_message(client, admin_user):
    client.force_login(admin_user)
    response = add_user(client, role="kpu")
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert not User.objects.filter(username="petugas_baru").exists()


def test_changing_the_role_swaps_the_group(rutan_blora_officer):
    rutan_blora_officer.role = User.Role.KPU
    rutan_blora_officer.facility = None
    rutan_blora_officer.regency_id = "33.16"
    rutan_blora_officer.save()
    assert list(rutan_blora_officer.groups.values_list("name", flat=True)) == [GROUP_NAMES["kpu"]]


def test_a_new_user_is_in_the_history_with_the_admin_who_made_it(client, admin_user, blora):
    client.force_login(admin_user)
    add_user(client, role="rutan", facility=blora.pk)
    record = User.objects.get(username="petugas_baru").history.earliest()
    assert record.history_type == "+"
    assert record.history_user == admin_user
