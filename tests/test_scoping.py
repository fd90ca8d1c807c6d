"""Who sees what: each role against its own and a foreign facility/regency,
through the querysets and through the admin pages."""

import pytest
from django.urls import reverse

from inmates.models import Facility, Inmate

pytestmark = pytest.mark.django_db


def visible(user):
    return set(Inmate.objects.for_user(user).values_list("pk", flat=True))


def test_rutan_officer_sees_only_own_facility(rutan_blora_officer, blora_inmate, pati_inmate):
    assert visible(rutan_blora_officer) == {blora_inmate.pk}


def test_kpu_officer_sees_the_facilities_of_their_regency(kpu_blora_officer, blora_inmate, pati_inmate):
    assert visible(kpu_blora_officer) == {blora_inmate.pk}
    assert list(Facility.objects.for_user(kpu_blora_officer).values_list("code", flat=True)) == [
        "rutan-blora"
    ]


def test_kpu_officer_of_another_regency_sees_nothing_of_blora(kpu_pati_officer, blora_inmate, pati_inmate):
    assert visible(kpu_pati_officer) == {pati_inmate.pk}


def test_admin_sees_everything(admin_user, blora_inmate, pati_inmate):
    assert visible(admin_user) == {blora_inmate.pk, pati_inmate.pk}


def test_inactive_or_anonymous_users_see_nothing(rutan_blora_officer, blora_inmate):
    from django.contrib.auth.models import AnonymousUser

    assert visible(AnonymousUser()) == set()
    rutan_blora_officer.is_active = False
    assert visible(rutan_blora_officer) == set()


def change_url(inmate):
    return reverse("admin:inmates_inmate_change", args=[inmate.pk])


def history_url(inmate):
    return reverse("admin:inmates_inmate_history", args=[inmate.pk])


def test_rutan_officer_opens_own_inmate(client, rutan_blora_officer, blora_inmate):
    client.force_login(rutan_blora_officer)
    response = client.get(change_url(blora_inmate))
    assert response.status_code == 200
    assert "Slamet Riyadi" in response.content.decode()


@pytest.mark.parametrize("view", [change_url, history_url])
def test_other_facility_officer_gets_404_for_the_record(client, rutan_pati_officer, blora_inmate, view):
    client.force_login(rutan_pati_officer)
    response = client.get(view(blora_inmate))
    assert response.status_code == 404
    assert "Slamet" not in response.content.decode()


def test_other_facility_officer_gets_404_for_a_history_version(client, rutan_pati_officer, blora_inmate):
    version = blora_inmate.history.first()
    client.force_login(rutan_pati_officer)
    url = reverse("admin:inmates_inmate_simple_history", args=[blora_inmate.pk, version.history_id])
    assert client.get(url).status_code == 404


def test_changelist_lists_only_own_facility(client, rutan_blora_officer, blora_inmate, pati_inmate):
    client.force_login(rutan_blora_officer)
    body = client.get(reverse("admin:inmates_inmate_changelist")).content.decode()
    assert "Slamet Riyadi" in body
    assert "Joko Susilo" not in body


def test_search_does_not_reach_other_facilities(client, rutan_blora_officer, pati_inmate):
    client.force_login(rutan_blora_officer)
    body = client.get(reverse("admin:inmates_inmate_changelist"), {"q": pati_inmate.nik}).content.decode()
    assert "Joko Susilo" not in body


def test_kpu_officer_reads_but_cannot_change(client, kpu_blora_officer, blora_inmate):
    client.force_login(kpu_blora_officer)
    page = client.get(change_url(blora_inmate))
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    response = client.post(change_url(blora_inmate), {"full_name": "Changed"})
    assert response.status_code == 403
    blora_inmate.refresh_from_db()
    assert blora_inmate.full_name == "Slamet Riyadi"


def test_kpu_officer_cannot_add_inmates(client, kpu_blora_officer):
    client.force_login(kpu_blora_officer)
    assert client.get(reverse("admin:inmates_inmate_add")).status_code == 403


def test_other_facility_officer_cannot_post_to_the_record(client, rutan_pati_officer, blora_inmate):
    client.force_login(rutan_pati_officer)
    response = client.post(change_url(blora_inmate), {"full_name": "Changed"})
    assert response.status_code == 404
    blora_inmate.refresh_from_db()
    assert blora_inmate.full_name == "Slamet Riyadi"


def test_facility_choice_of_a_rutan_officer_is_their_own(client, rutan_blora_officer, blora, pati):
    client.force_login(rutan_blora_officer)
    response = client.get(reverse("admin:inmates_inmate_add"))
    choices = [str(choice[1]) for choice in response.context["adminform"].form.fields["facility"].choices]
    assert choices == ["---------", "Rutan Kelas IIB Blora"]


def test_history_revert_is_never_accepted(client, admin_user, blora_inmate):
    version = blora_inmate.history.first()
    client.force_login(admin_user)
    url = reverse("admin:inmates_inmate_simple_history", args=[blora_inmate.pk, version.history_id])
    assert client.post(url, {"full_name": "Reverted"}).status_code == 403


def test_rutan_officer_cannot_manage_users_or_facilities(client, rutan_blora_officer):
    client.force_login(rutan_blora_officer)
    assert client.get(reverse("admin:inmates_user_changelist")).status_code == 403
    assert client.get(reverse("admin:inmates_facility_add")).status_code == 403


@pytest.mark.parametrize("suffix", ["history/", "history/1/"])
def test_a_malformed_inmate_id_in_the_history_urls_is_a_404(client, rutan_blora_officer, suffix):
    client.force_login(rutan_blora_officer)
    assert client.get(f"/admin/inmates/inmate/abc/{suffix}").status_code == 404
