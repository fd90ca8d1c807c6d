"""Audit history: every change to a register record says who and when."""

import re

import pytest
from django.urls import reverse

from inmates import services
from inmates.models import CustodyEvent, Inmate

pytestmark = pytest.mark.django_db


def test_registration_is_recorded_with_the_acting_user(blora_inmate, rutan_blora_officer):
    first = blora_inmate.history.earliest()
    assert first.history_type == "+"
    assert first.history_user == rutan_blora_officer


def test_service_update_records_user_and_changed_field(blora_inmate, admin_user):
    services.inmate_update(inmate=blora_inmate, user=admin_user, cell_block="C")
    latest = blora_inmate.history.latest()
    assert latest.history_user == admin_user
    delta = latest.diff_against(latest.prev_record)
    assert [change.field for change in delta.changes] == ["cell_block"]


def admin_form_data(inmate: Inmate, **overrides) -> dict:
    data = {
        "facility": inmate.facility_id,
        "registration_number": inmate.registration_number,
        "nik": inmate.nik or "",
        "nkk": inmate.nkk,
        "full_name": inmate.full_name,
        "birth_place": inmate.birth_place,
        "birth_date": inmate.birth_date.strftime("%d/%m/%Y") if inmate.birth_date else "",
        "sex": inmate.sex,
        "marital_status": inmate.marital_status,
        "citizenship": inmate.citizenship,
        "address": inmate.address,
        "rt": inmate.rt,
        "rw": inmate.rw,
        "domicile_region": inmate.domicile_region_id or "",
        "custody_type": inmate.custody_type,
        "admission_date": inmate.admission_date.strftime("%d/%m/%Y"),
        "expected_release_date": inmate.expected_release_date.strftime("%d/%m/%Y")
        if inmate.expected_release_date
        else "",
        "cell_block": inmate.cell_block,
        "disability": inmate.disability,
        "ktp_el_status": inmate.ktp_el_status,
        "revocation_decision": inmate.revocation_decision,
        "notes": inmate.notes,
        "custody_events-TOTAL_FORMS": "0",
        # The inline lists every recorded event, corrected ones included.
        "custody_events-INITIAL_FORMS": str(CustodyEvent.recorded.filter(inmate=inmate).count()),
        "custody_events-MIN_NUM_FORMS": "0",
        "custody_events-MAX_NUM_FORMS": "1000",
    }
    data.update(overrides)
    return data


def test_edit_in_the_admin_is_recorded_with_the_officer(client, rutan_blora_officer, blora_inmate):
    client.force_login(rutan_blora_officer)
    url = reverse("admin:inmates_inmate_change", args=[blora_inmate.pk])
    response = client.post(url, admin_form_data(blora_inmate, cell_block="D"))
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    latest = blora_inmate.history.latest()
    assert latest.cell_block == "D"
    assert latest.history_user == rutan_blora_officer


def test_history_page_shows_who_changed_what(client, rutan_blora_officer, blora_inmate):
    services.inmate_update(inmate=blora_inmate, user=rutan_blora_officer, cell_block="C")
    client.force_login(rutan_blora_officer)
    body = client.get(reverse("admin:inmates_inmate_history", args=[blora_inmate.pk])).content.decode()
    assert "rutan_blora" in body
    label = str(Inmate._meta.get_field("cell_block").verbose_name)
    text = re.sub(r"<[^>]+>", " ", body)
    assert re.search(rf"{label}:\s*A\s*&nbsp;&rarr;&nbsp;&nbsp;C", text, re.IGNORECASE)


def test_admin_adds_a_release_event_through_the_inline(client, rutan_blora_officer, blora_inmate):
    client.force_login(rutan_blora_officer)
    url = reverse("admin:inmates_inmate_change", args=[blora_inmate.pk])
    data = admin_form_data(
        blora_inmate,
        **{
            "custody_events-TOTAL_FORMS": "2",
            "custody_events-0-id": blora_inmate.custody_events.get().pk,
            "custody_events-0-inmate": blora_inmate.pk,
            "custody_events-1-inmate": blora_inmate.pk,
            "custody_events-1-kind": "release",
            "custody_events-1-date": "10/01/2024",
            "custody_events-1-note": "Bebas murni",
        },
    )
    response = client.post(url, data)
    assert response.status_code == 302
    blora_inmate.refresh_from_db()
    assert blora_inmate.custody_status == "released"
    assert blora_inmate.custody_events.last().created_by == rutan_blora_officer


def test_rutan_officer_adds_an_inmate_with_a_warning(client, rutan_blora_officer, blora):
    client.force_login(rutan_blora_officer)
    data = {
        "facility": blora.pk,
        "registration_number": "AI.900/2024",
        "nik": "'3316 0117 0890 0001",
        "nkk": "",
        "full_name": "Ahmad Fauzi",
        "birth_place": "Blora",
        "birth_date": "18/08/1990",
        "sex": "L",
        "marital_status": "belum_kawin",
        "citizenship": "WNI",
        "rt": "",
        "rw": "",
        "domicile_region": "33.16.01.2001",
        "custody_type": "tahanan",
        "admission_date": "01/02/2024",
        "ktp_el_status": "S",
        "custody_events-TOTAL_FORMS": "0",
        "custody_events-INITIAL_FORMS": "0",
        "custody_events-MIN_NUM_FORMS": "0",
        "custody_events-MAX_NUM_FORMS": "1000",
    }
    response = client.post(reverse("admin:inmates_inmate_add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    inmate = Inmate.objects.get(registration_number="AI.900/2024")
    assert inmate.nik == "3316011708900001"
    assert inmate.nik_warnings == ["nik_birth_date_mismatch"]
    assert inmate.custody_events.get().kind == "admission"
    assert inmate.history.get().history_user == rutan_blora_officer


def test_inmate_history_is_indexed_by_record_and_date_only():
    # Every imported row writes a history row: the register's search indexes
    # (NIK, name, birth date ...) are not copied onto the history table, while
    # the lookups the history page and the change report make stay indexed.
    history = Inmate.history.model._meta
    assert history.get_field("id").db_index
    assert history.get_field("history_date").db_index
    for name in ("nik", "full_name", "birth_date", "custody_status", "domicile_region", "duplicate_of"):
        assert not history.get_field(name).db_index, name
