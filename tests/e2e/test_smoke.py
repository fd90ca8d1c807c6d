"""The register in a real browser: login, add an inmate, read its history."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_rutan_officer_adds_an_inmate_and_reads_its_history(
    page, live_server, login, shots, rutan_blora_officer
):
    login("rutan_blora")
    shots("logged in")
    assert page.locator("#user-tools").inner_text().upper().startswith("SELAMAT DATANG")
    page.goto(f"{live_server.url}/admin/inmates/inmate/add/")
    page.fill("#id_registration_number", "AI.777/2024")
    page.fill("#id_nik", "'3316 0117 0890 0001")
    page.fill("#id_full_name", "Ahmad Fauzi")
    page.fill("#id_birth_date", "17/08/1990")
    page.select_option("#id_sex", "L")
    page.select_option("#id_custody_type", "tahanan")
    page.fill("#id_admission_date", "01/02/2024")
    shots("form filled")
    page.click("input[name=_continue]")
    page.wait_for_load_state()
    shots("saved")
    assert "berhasil" in page.content()
    page.click("a.historylink")
    page.wait_for_load_state()
    shots("history")
    assert "rutan_blora" in page.content()


def test_the_language_menu_switches_to_english_and_back(page, live_server, login, shots, rutan_blora_officer):
    login("rutan_blora")
    assert page.locator("html").get_attribute("lang") == "id"
    page.select_option("#language-select", "en")
    page.click("#language-submit")
    page.wait_for_load_state()
    shots("english")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("#user-tools").inner_text().upper().startswith("WELCOME")
    page.select_option("#language-select", "id")
    page.click("#language-submit")
    page.wait_for_load_state()
    shots("indonesian again")
    assert page.locator("#user-tools").inner_text().upper().startswith("SELAMAT DATANG")
