"""The duplicate review screens: who sees which pairs, the comparison page,
merge and dismiss by form, runs with progress, the DPT upload and the
warning after an admin form save."""

from __future__ import annotations

import datetime
import re
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Q
from django.urls import reverse

from inmates import dedup
from inmates.models import DptFile, DptRecord, DuplicateCandidate, Inmate, Region
from inmates.models.dedup import DedupRun

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fixed_day(time_machine):
    """Every test happens on 1 February 2024 (Jakarta), two weeks before Pemilu 2024."""
    time_machine.move_to(datetime.datetime(2024, 2, 1, 9, 0, tzinfo=ZoneInfo("Asia/Jakarta")))


SLAMET = {
    "full_name": "Slamet Riyadi",
    "nik": "3316011708900001",
    "nkk": "3316012005150003",
    "birth_date": datetime.date(1990, 8, 17),
}
CSV_HEADER = "NIK,Nama,Tempat Lahir,Tanggal Lahir,Jenis Kelamin,Kode Wilayah,TPS\n"


@pytest.fixture
def blora_pair(make_inmate, blora, rutan_blora_officer):
    """Slamet entered twice at Rutan Blora, the second time with two NIK digits swapped."""
    first = make_inmate(blora, rutan_blora_officer, registration_number="AI.001/2023", **SLAMET)
    second = make_inmate(
        blora,
        rutan_blora_officer,
        registration_number="BI.002/2024",
        **{**SLAMET, "nik": "3316011708900010", "full_name": "SLAMET RIYADI S.Pd."},
        address="Jl. Baru 2",
    )
    dedup.duplicates_detect(facility=blora)
    return DuplicateCandidate.objects.get(inmate_a=first, inmate_b=second)


@pytest.fixture
def cross_pair(make_inmate, blora, pati, rutan_blora_officer):
    """Joko at Rutan Blora and again at Rutan Pati (a transfer never recorded)."""
    joko = {
        "full_name": "Joko Susilo",
        "nik": "3316022303850002",
        "nkk": "",
        "birth_date": datetime.date(1985, 3, 23),
    }
    first = make_inmate(blora, rutan_blora_officer, registration_number="AI.050/2023", **joko)
    second = make_inmate(pati, None, registration_number="AI.051/2024", **joko)
    dedup.duplicates_detect()
    return DuplicateCandidate.objects.get(inmate_a=first, inmate_b=second)


@pytest.fixture
def dpt_pair(blora_pair, tmp_path):
    from inmates.dpt_import import dpt_import

    path = tmp_path / "DPT_Blora.csv"
    path.write_text(
        CSV_HEADER + "3316011708900001,SLAMET RIYADI,BLORA,17-08-1990,L,33.16.01.2001,007\n", encoding="utf-8"
    )
    dpt_import(path=path, regency=Region.objects.get(code="33.16"), user=None)
    dedup.duplicates_detect(against_dpt=True)
    return DuplicateCandidate.objects.get(kind="dpt", inmate_a=blora_pair.inmate_a)


def compare_url(candidate):
    return reverse("inmates:duplicate_compare", args=[candidate.pk])


def listed(client, user) -> str:
    client.force_login(user)
    response = client.get(reverse("admin:inmates_duplicatecandidate_changelist"))
    assert response.status_code == 200
    return response.content.decode()


# --- who sees what ------------------------------------------------------------------


def test_rutan_officer_sees_only_pairs_inside_their_facility(
    client, rutan_blora_officer, blora_pair, cross_pair
):
    body = listed(client, rutan_blora_officer)
    assert compare_url(blora_pair) in body
    assert compare_url(cross_pair) not in body


def test_kpu_officer_sees_pairs_touching_their_regency(
    client, kpu_blora_officer, kpu_pati_officer, blora_pair, cross_pair, dpt_pair
):
    body = listed(client, kpu_blora_officer)
    assert all(compare_url(c) in body for c in (blora_pair, cross_pair, dpt_pair))
    body = listed(client, kpu_pati_officer)
    assert compare_url(cross_pair) in body
    assert compare_url(blora_pair) not in body
    assert compare_url(dpt_pair) not in body


def test_queue_filters_by_status_kind_and_facility(
    client, kpu_blora_officer, blora_pair, cross_pair, dpt_pair, pati
):
    client.force_login(kpu_blora_officer)
    url = reverse("admin:inmates_duplicatecandidate_changelist")
    body = client.get(url, {"kind__exact": "dpt"}).content.decode()
    assert compare_url(dpt_pair) in body and compare_url(blora_pair) not in body
    body = client.get(url, {"facility": pati.pk}).content.decode()
    assert compare_url(cross_pair) in body and compare_url(blora_pair) not in body
    dedup.duplicate_dismiss(candidate=blora_pair, user=kpu_blora_officer)
    body = client.get(url, {"status__exact": "open"}).content.decode()
    assert compare_url(blora_pair) not in body and compare_url(cross_pair) in body


def searched(client, user, q: str) -> set[int]:
    client.force_login(user)
    response = client.get(reverse("admin:inmates_duplicatecandidate_changelist"), {"q": q})
    assert response.status_code == 200
    return {pair.pk for pair in response.context["cl"].result_list}


def test_queue_search_by_nik_finds_the_pair_from_either_side(
    client, kpu_blora_officer, blora_pair, cross_pair, dpt_pair
):
    # The second Slamet record's NIK (inmate_b of its pairs), Joko's NIK (both sides).
    second = blora_pair.inmate_b
    expected = set(
        DuplicateCandidate.objects.filter(Q(inmate_a=second) | Q(inmate_b=second)).values_list(
            "pk", flat=True
        )
    )
    assert blora_pair.pk in expected and dpt_pair.pk not in expected
    assert searched(client, kpu_blora_officer, "3316011708900010") == expected
    assert searched(client, kpu_blora_officer, "3316022303850002") == {cross_pair.pk}
    # The DPT row's NIK: the pairs with that DPT record.
    assert dpt_pair.pk in searched(client, kpu_blora_officer, dpt_pair.dpt_record.nik)


def test_queue_search_by_name_matches_inmates_and_dpt_records(
    client, kpu_blora_officer, blora_pair, cross_pair, dpt_pair
):
    # "riyadi" names both Slamet records and the DPT row: every pair of theirs, no other.
    slamet = DuplicateCandidate.objects.exclude(pk__in=[cross_pair.pk]).values_list("pk", flat=True)
    assert searched(client, kpu_blora_officer, "riyadi") == set(slamet) >= {blora_pair.pk, dpt_pair.pk}
    assert searched(client, kpu_blora_officer, "riyadi joko") == set()


def test_queue_search_stays_in_the_officers_scope(client, kpu_pati_officer, blora_pair, cross_pair):
    assert searched(client, kpu_pati_officer, "slamet") == set()
    assert searched(client, kpu_pati_officer, "joko") == {cross_pair.pk}


def test_comparison_page_highlights_the_differing_values(client, rutan_blora_officer, blora_pair):
    client.force_login(rutan_blora_officer)
    response = client.get(compare_url(blora_pair))
    assert response.status_code == 200
    body = response.content.decode()
    differing = re.findall(r'<tr class="dedup-differs" data-key="([a-z_]+)">', body)
    assert set(differing) == {"nik", "full_name", "address"}
    assert 'name="value_nik"' in body and 'name="survivor"' in body
    assert "3316011708900010" in body


@pytest.mark.parametrize("outsider", ["rutan_pati_officer", "kpu_pati_officer"])
def test_outsiders_get_404_on_the_comparison_page(client, request, blora_pair, outsider):
    client.force_login(request.getfixturevalue(outsider))
    response = client.get(compare_url(blora_pair))
    assert response.status_code == 404
    assert "Slamet" not in response.content.decode()


def test_admin_change_page_of_a_pair_leads_to_the_comparison(
    client, kpu_blora_officer, kpu_pati_officer, blora_pair
):
    url = reverse("admin:inmates_duplicatecandidate_change", args=[blora_pair.pk])
    client.force_login(kpu_blora_officer)
    assert client.get(url)["Location"] == compare_url(blora_pair)
    client.force_login(kpu_pati_officer)
    assert client.get(url).status_code == 404


def test_rutan_officer_cannot_open_a_dpt_match(client, rutan_blora_officer, dpt_pair):
    client.force_login(rutan_blora_officer)
    assert client.get(compare_url(dpt_pair)).status_code == 404


# --- deciding -------------------------------------------------------------------------------


def merge_data(candidate, survivor="a", **values) -> dict:
    data = {"survivor": survivor, "fingerprint": dedup.candidate_fingerprint(candidate)}
    data.update({f"value_{key}": side for key, side in values.items()})
    return data


def test_officer_merges_with_the_values_chosen(client, rutan_blora_officer, blora_pair):
    client.force_login(rutan_blora_officer)
    response = client.post(
        reverse("inmates:duplicate_merge", args=[blora_pair.pk]),
        merge_data(blora_pair, "a", nik="a", full_name="a", address="b"),
    )
    assert response.status_code == 302
    a, b = Inmate.objects.get(pk=blora_pair.inmate_a_id), Inmate.objects.get(pk=blora_pair.inmate_b_id)
    assert (a.nik, a.full_name, a.address) == ("3316011708900001", "Slamet Riyadi", "Jl. Baru 2")
    assert b.duplicate_of == a
    assert a.history.latest().history_user == rutan_blora_officer
    blora_pair.refresh_from_db()
    assert blora_pair.status == "confirmed"


def test_merge_form_needs_a_choice_for_every_differing_value(client, rutan_blora_officer, blora_pair):
    client.force_login(rutan_blora_officer)
    response = client.post(
        reverse("inmates:duplicate_merge", args=[blora_pair.pk]), merge_data(blora_pair, "a", nik="a")
    )
    assert response.status_code == 400
    assert not Inmate.objects.filter(duplicate_of__isnull=False).exists()


def test_second_merge_of_a_decided_pair_shows_a_clear_error(
    client, rutan_blora_officer, kpu_blora_officer, blora_pair
):
    data = merge_data(blora_pair, "a", nik="a", full_name="a", address="a")
    dedup.duplicate_confirm(
        candidate=blora_pair, survivor=blora_pair.inmate_b, values={}, user=kpu_blora_officer
    )
    client.force_login(rutan_blora_officer)
    response = client.post(reverse("inmates:duplicate_merge", args=[blora_pair.pk]), data, follow=True)
    body = response.content.decode()
    assert "kpu_blora" in body  # who decided it
    assert Inmate.objects.get(pk=blora_pair.inmate_a_id).duplicate_of_id == blora_pair.inmate_b_id


def test_officer_dismisses_a_pair(client, rutan_blora_officer, blora_pair):
    client.force_login(rutan_blora_officer)
    response = client.post(reverse("inmates:duplicate_dismiss", args=[blora_pair.pk]))
    assert response.status_code == 302
    blora_pair.refresh_from_db()
    assert (blora_pair.status, blora_pair.decided_by) == ("dismissed", rutan_blora_officer)


@pytest.mark.parametrize("action", ["duplicate_merge", "duplicate_dismiss"])
@pytest.mark.parametrize("outsider", ["rutan_pati_officer", "kpu_pati_officer"])
def test_outsiders_cannot_post_decisions(client, request, blora_pair, action, outsider):
    client.force_login(request.getfixturevalue(outsider))
    response = client.post(
        reverse(f"inmates:{action}", args=[blora_pair.pk]),
        merge_data(blora_pair, "a", nik="a", full_name="a", address="a"),
    )
    assert response.status_code == 404
    blora_pair.refresh_from_db()
    assert blora_pair.status == "open"
    assert not Inmate.objects.filter(duplicate_of__isnull=False).exists()


def test_get_on_a_decision_url_changes_nothing(client, rutan_blora_officer, blora_pair):
    client.force_login(rutan_blora_officer)
    assert client.get(reverse("inmates:duplicate_dismiss", args=[blora_pair.pk])).status_code == 405
    blora_pair.refresh_from_db()
    assert blora_pair.status == "open"


def test_kpu_officer_confirms_a_home_dpt_match(client, kpu_blora_officer, dpt_pair):
    client.force_login(kpu_blora_officer)
    page = client.get(compare_url(dpt_pair)).content.decode()
    assert "007" in page and "DPT_Blora.csv" in page
    response = client.post(reverse("inmates:dpt_match_confirm", args=[dpt_pair.pk]), follow=True)
    assert "DPTb" in response.content.decode()
    dpt_pair.refresh_from_db()
    assert (dpt_pair.status, dpt_pair.decided_by) == ("confirmed", kpu_blora_officer)


def test_action_merges_only_the_pairs_safe_unseen(client, admin_user, make_inmate, blora, blora_pair):
    same = make_inmate(blora, registration_number="CI.003/2024", **SLAMET)
    dedup.duplicates_detect(facility=blora)
    client.force_login(admin_user)
    ids = list(DuplicateCandidate.objects.values_list("pk", flat=True))
    response = client.post(
        reverse("admin:inmates_duplicatecandidate_changelist"),
        {"action": "merge_safe_pairs", "_selected_action": ids},
        follow=True,
    )
    assert response.status_code == 200
    assert Inmate.objects.filter(duplicate_of__isnull=False).count() == 1
    assert Inmate.objects.filter(
        pk__in=[same.pk, blora_pair.inmate_a_id], duplicate_of__isnull=False
    ).exists()


# --- runs -------------------------------------------------------------------------------------


def test_kpu_officer_runs_detection_for_their_regency_and_sees_the_result(
    client, kpu_blora_officer, make_inmate, blora, django_capture_on_commit_callbacks
):
    make_inmate(blora, registration_number="AI.001/2023", **SLAMET)
    make_inmate(blora, registration_number="BI.002/2024", **{**SLAMET, "nik": "3316011708900007"})
    client.force_login(kpu_blora_officer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("inmates:dedup_run_start"), {"against_dpt": "on"})
    run = DedupRun.objects.get()
    assert response["Location"] == reverse("inmates:dedup_run", args=[run.pk])
    assert (run.status, run.regency_id, run.facility_id, run.against_dpt) == ("done", "33.16", None, True)
    assert run.result["inmate_pairs"] == 1
    assert run.task_id
    status = client.get(reverse("inmates:dedup_run_status", args=[run.pk])).json()
    assert (status["finished"], status["percent"]) == (True, 100)
    page = client.get(reverse("inmates:dedup_run", args=[run.pk])).content.decode()
    assert 'data-count="inmate_pairs">1<' in page


def test_rutan_officer_run_is_their_facility_without_the_dpt(
    client, rutan_blora_officer, blora, django_capture_on_commit_callbacks
):
    client.force_login(rutan_blora_officer)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("inmates:dedup_run_start"), {"against_dpt": "on"})
    run = DedupRun.objects.get()
    assert (run.facility_id, run.against_dpt, run.status) == (blora.pk, False, "done")


def test_run_pages_of_another_user_are_404(client, rutan_blora_officer, rutan_pati_officer, blora):
    run = DedupRun.objects.create(facility=blora, started_by=rutan_blora_officer)
    client.force_login(rutan_pati_officer)
    assert client.get(reverse("inmates:dedup_run", args=[run.pk])).status_code == 404
    assert client.get(reverse("inmates:dedup_run_status", args=[run.pk])).status_code == 404


def test_pending_run_page_shows_progress(client, rutan_blora_officer, blora):
    run = DedupRun.objects.create(facility=blora, started_by=rutan_blora_officer)
    client.force_login(rutan_blora_officer)
    body = client.get(reverse("inmates:dedup_run", args=[run.pk])).content.decode()
    assert 'id="dedup-progress"' in body and "dedup_progress.js" in body


# --- DPT upload ---------------------------------------------------------------------------------


def test_kpu_officer_uploads_the_dpt_of_their_regency(client, kpu_blora_officer, tmp_path):
    client.force_login(kpu_blora_officer)
    content = CSV_HEADER + "3316011708900001,SLAMET RIYADI,BLORA,17-08-1990,L,33.16.01.2001,007\n"
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("DPT_Jati.csv", content.encode("utf-8"), content_type="text/csv")
    response = client.post(reverse("inmates:dpt_upload"), {"regency": "33.16", "file": upload})
    assert response.status_code == 302
    dpt_file = DptFile.objects.get()
    assert (dpt_file.name, dpt_file.regency_id, dpt_file.loaded_by, dpt_file.row_count) == (
        "DPT_Jati.csv",
        "33.16",
        kpu_blora_officer,
        1,
    )
    assert DptRecord.objects.get().line == 2


def test_upload_with_bad_rows_lists_them_and_loads_nothing(client, kpu_blora_officer):
    from django.core.files.uploadedfile import SimpleUploadedFile

    content = (
        CSV_HEADER
        + "3316011708900001,SLAMET,BLORA,17-08-1990,L,33.16.01.2001,007\n"
        + "331601170890,BUDI,BLORA,31-02-1990,L,33.16.01.2001,008\n"
    )
    client.force_login(kpu_blora_officer)
    response = client.post(
        reverse("inmates:dpt_upload"),
        {
            "regency": "33.16",
            "file": SimpleUploadedFile("DPT.csv", content.encode(), content_type="text/csv"),
        },
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert re.search(r"<tr><td>3</td><td>NIK</td>", body)
    assert re.search(r"<tr><td>3</td><td>Tanggal Lahir</td>", body)
    assert not DptFile.objects.exists() and not DptRecord.objects.exists()


def test_kpu_officer_cannot_upload_for_another_regency(client, kpu_blora_officer):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(kpu_blora_officer)
    upload = SimpleUploadedFile(
        "DPT.csv", (CSV_HEADER + "3318012005880002,JOKO,PATI,20-05-1988,L,33.18.01.2001,001\n").encode()
    )
    response = client.post(reverse("inmates:dpt_upload"), {"regency": "33.18", "file": upload})
    assert response.status_code == 200  # the form refuses the choice
    assert not DptFile.objects.exists()


def test_rutan_officer_cannot_upload_a_dpt(client, rutan_blora_officer):
    client.force_login(rutan_blora_officer)
    assert client.get(reverse("inmates:dpt_upload")).status_code == 403


def test_dpt_records_are_scoped_to_the_regency(client, kpu_blora_officer, kpu_pati_officer, dpt_pair):
    url = reverse("admin:inmates_dptrecord_changelist")
    client.force_login(kpu_blora_officer)
    assert "SLAMET RIYADI" in client.get(url).content.decode()
    client.force_login(kpu_pati_officer)
    assert "SLAMET RIYADI" not in client.get(url).content.decode()


# --- warning after an admin form save -----------------------------------------------------------


def add_form(blora, **overrides) -> dict:
    data = {
        "facility": blora.pk,
        "registration_number": "AI.900/2024",
        "nik": "3316011708900007",
        "nkk": "",
        "full_name": "Slamet Riyadi",
        "birth_place": "Blora",
        "birth_date": "17/08/1990",
        "sex": "L",
        "marital_status": "kawin",
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
    data.update(overrides)
    return data


def test_saving_a_record_like_an_existing_one_warns_with_a_link(
    client, make_inmate, blora, rutan_blora_officer
):
    existing = make_inmate(blora, rutan_blora_officer, registration_number="AI.001/2023", **SLAMET)
    client.force_login(rutan_blora_officer)
    response = client.post(reverse("admin:inmates_inmate_add"), add_form(blora), follow=True)
    assert response.status_code == 200
    candidate = DuplicateCandidate.objects.get(inmate_a=existing)
    warnings = [str(m) for m in response.context["messages"] if m.level_tag == "warning"]
    assert len(warnings) == 1
    assert compare_url(candidate) in warnings[0]
    assert candidate.inmate_b.registration_number == "AI.900/2024"


def test_a_match_in_another_facility_is_announced_without_details(
    client, make_inmate, pati, blora, rutan_blora_officer
):
    make_inmate(pati, None, registration_number="AI.001/2023", **SLAMET)
    client.force_login(rutan_blora_officer)
    response = client.post(reverse("admin:inmates_inmate_add"), add_form(blora), follow=True)
    warnings = [str(m) for m in response.context["messages"] if m.level_tag == "warning"]
    assert len(warnings) == 1
    assert "KPU" in warnings[0] and "/register/duplicates/" not in warnings[0]
    assert DuplicateCandidate.objects.count() == 1


def test_saving_an_unrelated_record_warns_nothing(client, make_inmate, blora, rutan_blora_officer):
    make_inmate(blora, rutan_blora_officer, registration_number="AI.001/2023", **SLAMET)
    client.force_login(rutan_blora_officer)
    data = add_form(blora, nik="3316015505920003", full_name="Sri Lestari", birth_date="15/05/1992", sex="P")
    response = client.post(reverse("admin:inmates_inmate_add"), data, follow=True)
    assert not [m for m in response.context["messages"] if m.level_tag == "warning"]
    assert not DuplicateCandidate.objects.exists()
