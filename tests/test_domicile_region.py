"""The domicile of an inmate is a village or a district: coarser codes cannot place a voter's ballots."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from inmates import services
from tests.conftest import inmate_data
from tests.test_history import admin_form_data

pytestmark = pytest.mark.django_db


def domicile_errors(blora, code: str) -> list[str]:
    try:
        services.inmate_register(facility=blora, user=None, **inmate_data(domicile_region_id=code))
    except ValidationError as exc:
        return [error.code for error in exc.error_dict.get("domicile_region", [])]
    return []


def test_a_province_is_refused_as_domicile(blora):
    assert domicile_errors(blora, "33") == ["domicile_too_coarse"]


def test_a_regency_is_refused_as_domicile(blora):
    assert domicile_errors(blora, "33.16") == ["domicile_too_coarse"]


@pytest.mark.parametrize("code", ["33.16.01", "33.16.01.2001"], ids=["district", "village"])
def test_a_district_or_village_is_accepted_as_domicile(blora, code):
    assert domicile_errors(blora, code) == []


def test_the_admin_form_explains_a_too_coarse_domicile(client, rutan_blora_officer, blora_inmate):
    client.force_login(rutan_blora_officer)
    url = reverse("admin:inmates_inmate_change", args=[blora_inmate.pk])

    response = client.post(url, admin_form_data(blora_inmate, domicile_region="33"))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors.as_data()["domicile_region"]
    assert [error.code for error in errors] == ["domicile_too_coarse"]
    assert "33" in errors[0].messages[0] and "33.16.01" in errors[0].messages[0]


def test_the_domicile_search_offers_only_districts_and_villages(client, rutan_blora_officer):
    client.force_login(rutan_blora_officer)
    params = {
        "app_label": "inmates",
        "model_name": "inmate",
        "field_name": "domicile_region",
        "term": "Blora",
    }

    results = client.get(reverse("admin:autocomplete"), params).json()["results"]

    codes = [result["id"] for result in results]
    assert "33.16.09" in codes  # Kec. Blora
    assert "33.16" not in codes  # Kab. Blora
