"""The UI language: Bahasa Indonesia by default, English only when the user picks it."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_an_english_browser_still_gets_the_indonesian_ui(client, rutan_blora_officer):
    client.force_login(rutan_blora_officer)
    body = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert 'lang="id"' in body
    assert "Keluar" in body  # "Log out"


def test_the_login_page_has_the_language_menu(client):
    body = client.get(reverse("admin:login")).content.decode()
    assert 'id="language-menu"' in body
    assert reverse("set_language") in body
    assert ">English</option>" in body
    assert ">Bahasa Indonesia</option>" in body


def test_picking_english_in_the_menu_switches_the_ui(client, rutan_blora_officer):
    client.force_login(rutan_blora_officer)
    response = client.post(reverse("set_language"), {"language": "en", "next": "/admin/"})
    assert response.status_code == 302
    body = client.get("/admin/").content.decode()
    assert 'lang="en"' in body
    assert "Log out" in body


def test_an_unknown_language_cookie_falls_back_to_indonesian(client, rutan_blora_officer, settings):
    client.force_login(rutan_blora_officer)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    body = client.get("/admin/").content.decode()
    assert 'lang="id"' in body


def test_product_pages_have_the_language_menu(client, kpu_blora_officer):
    client.force_login(kpu_blora_officer)
    body = client.get(reverse("tps:dashboard")).content.decode()
    assert 'id="language-menu"' in body


def test_a_not_found_page_carries_the_product_name_in_indonesian(client, rutan_blora_officer):
    client.force_login(rutan_blora_officer)
    body = client.get("/register/imports/999999/").content.decode()
    assert "voterreg: daftar pemilih WBP" in body
    assert "Django" not in body
