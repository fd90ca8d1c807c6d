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
from inmates.views.dedup import INMATE_ROWS

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
    client, kpu_blora_officer, kpu_pati_officer, blora_pair, cross_pair, dpt_pair, blora, pati
):
    url = reverse("admin:inmates_duplicatecandidate_changelist")
    client.force_login(kpu_pati_officer)
    body = client.get(url, {"facility": pati.pk}).content.decode()
    assert compare_url(cross_pair) in body
    client.force_login(kpu_blora_officer)
    body = client.get(url, {"kind__exact": "dpt"}).content.decode()
    assert compare_url(dpt_pair) in body and compare_url(blora_pair) not in body
    body = client.get(url, {"facility": blora.pk}).content.decode()
    assert compare_url(cross_pair) in body and compare_url(blora_pair) in body
    # A facility of another regency is no filter of theirs: it would tell where the other
    # side of a cross-scope pair is kept.
    body = client.get(url, {"facility": pati.pk}).content.decode()
    assert compare_url(cross_pair) not in body and compare_url(blora_pair) not in body
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


# --- cross-scope pairs: one record in the KPU officer's regency, the other elsewhere ------------

JOKO = {
    "full_name": "Joko Susilo",
    "nik": "3316022303850002",
    "birth_date": datetime.date(1985, 3, 23),
    "address": "Dk. Jepon",
}
# What the Pati record holds of its own: none of it may reach KPU Blora.
PATI_SECRETS = (
    "Djoko Soesilo",
    "3316022303850007",
    "PT.777/2024",
    "Jl. Tayu Rahasia 9",
    "Rutan Kelas IIB Pati",
)
BLORA_SECRETS = ("Joko Susilo", "3316022303850002", "AI.060/2023", "Dk. Jepon", "Rutan Kelas IIB Blora")


@pytest.fixture
def transfer_pair(make_inmate, blora, pati, rutan_blora_officer, rutan_pati_officer):
    """Joko at Rutan Blora and again at Rutan Pati in the old spelling, one NIK digit off,
    another address and no family card: a transfer never recorded, across two regencies."""
    first = make_inmate(blora, rutan_blora_officer, registration_number="AI.060/2023", **JOKO)
    second = make_inmate(
        pati,
        rutan_pati_officer,
        registration_number="PT.777/2024",
        **{**JOKO, "full_name": "Djoko Soesilo", "nik": "3316022303850007", "address": "Jl. Tayu Rahasia 9"},
        nkk="",
    )
    dedup.duplicates_detect()
    return DuplicateCandidate.objects.get(inmate_a=first, inmate_b=second)


def _register_rows(*pks) -> list:
    return list(Inmate.objects.filter(pk__in=pks).order_by("pk").values_list())


def assert_none_of(body: str, secrets) -> None:
    shown = [secret for secret in secrets if secret in body]
    assert not shown, f"shows {shown}"


@pytest.mark.parametrize(
    ("officer", "own", "foreign"),
    [("kpu_blora_officer", BLORA_SECRETS, PATI_SECRETS), ("kpu_pati_officer", PATI_SECRETS, BLORA_SECRETS)],
)
def test_kpu_sees_a_cross_scope_pair_without_the_other_sides_data(
    client, request, transfer_pair, officer, own, foreign
):
    body = listed(client, request.getfixturevalue(officer))
    assert compare_url(transfer_pair) in body  # their inmate may be registered elsewhere
    assert own[0] in body and own[2] in body
    assert_none_of(body, [*foreign, "rutan-pati" if own is BLORA_SECRETS else "rutan-blora"])
    assert "dedup-outside" in body

    response = client.get(compare_url(transfer_pair))
    assert response.status_code == 200
    page = response.content.decode()
    assert own[0] in page and own[2] in page
    assert_none_of(page, foreign)
    assert 'id="dedup-outside"' in page


def test_comparison_of_a_cross_scope_pair_shows_only_whether_each_value_matches(
    client, kpu_blora_officer, transfer_pair
):
    client.force_login(kpu_blora_officer)
    page = client.get(compare_url(transfer_pair)).content.decode()
    matches = re.findall(r'<td class="dedup-match" data-match="([a-z]+)">', page)
    fields = [name for name, _key in INMATE_ROWS]
    assert len(matches) == len(fields)
    shown = dict(zip(fields, matches, strict=True))
    assert shown["facility"] == shown["registration_number"] == "hidden"
    assert (shown["nik"], shown["full_name"], shown["address"]) == ("different",) * 3
    assert (shown["birth_date"], shown["sex"], shown["domicile_region"]) == ("same",) * 3
    assert shown["nkk"] == "empty"
    # Nothing to decide here: no survivor, no value choices, no merge or dismissal.
    for control in ('name="survivor"', 'name="value_', 'id="dedup-merge"', 'id="dedup-dismiss"'):
        assert control not in page


@pytest.mark.parametrize("action", ["duplicate_merge", "duplicate_dismiss"])
@pytest.mark.parametrize("officer", ["kpu_blora_officer", "kpu_pati_officer"])
def test_kpu_cannot_merge_or_dismiss_a_cross_scope_pair(client, request, transfer_pair, action, officer):
    before = _register_rows(transfer_pair.inmate_a_id, transfer_pair.inmate_b_id)
    history = transfer_pair.history.count()
    client.force_login(request.getfixturevalue(officer))
    response = client.post(
        reverse(f"inmates:{action}", args=[transfer_pair.pk]),
        merge_data(transfer_pair, "a", nik="a", full_name="a", nkk="a", address="a"),
    )
    assert response.status_code == 403
    assert_none_of(
        response.content.decode(), PATI_SECRETS if officer == "kpu_blora_officer" else BLORA_SECRETS
    )
    transfer_pair.refresh_from_db()
    assert (transfer_pair.status, transfer_pair.decided_by) == ("open", None)
    assert transfer_pair.history.count() == history
    assert _register_rows(transfer_pair.inmate_a_id, transfer_pair.inmate_b_id) == before


def test_the_admin_sees_and_merges_a_cross_scope_pair(client, admin_user, transfer_pair):
    client.force_login(admin_user)
    page = client.get(compare_url(transfer_pair)).content.decode()
    assert all(secret in page for secret in ("PT.777/2024", "AI.060/2023", "Jl. Tayu Rahasia 9"))
    assert 'name="survivor"' in page and "dedup-outside" not in page
    response = client.post(
        reverse("inmates:duplicate_merge", args=[transfer_pair.pk]),
        merge_data(transfer_pair, "a", nik="a", full_name="a", nkk="a", address="b"),
    )
    assert response.status_code == 302
    kept = Inmate.objects.get(pk=transfer_pair.inmate_a_id)
    assert kept.address == "Jl. Tayu Rahasia 9"
    assert Inmate.objects.get(pk=transfer_pair.inmate_b_id).duplicate_of == kept
    transfer_pair.refresh_from_db()
    assert (transfer_pair.status, transfer_pair.decided_by) == ("confirmed", admin_user)


def test_bulk_merge_leaves_cross_scope_pairs_to_the_admin(client, kpu_blora_officer, admin_user, cross_pair):
    assert cross_pair.auto_merge_ok  # same NIK, name and birth date: the action would merge it
    url = reverse("admin:inmates_duplicatecandidate_changelist")
    data = {"action": "merge_safe_pairs", "_selected_action": [cross_pair.pk]}
    client.force_login(kpu_blora_officer)
    response = client.post(url, data, follow=True)
    assert response.status_code == 200
    assert "Joko" not in [m.message for m in response.context["messages"]][0]
    cross_pair.refresh_from_db()
    assert cross_pair.status == "open"
    assert not Inmate.objects.filter(duplicate_of__isnull=False).exists()
    client.force_login(admin_user)
    client.post(url, data)
    cross_pair.refresh_from_db()
    assert cross_pair.status == "confirmed"


def test_queue_search_does_not_find_a_pair_by_its_other_side(
    client, kpu_blora_officer, kpu_pati_officer, admin_user, transfer_pair
):
    for word in ("PT.777/2024", "3316022303850007"):  # the Pati record's number and NIK
        assert searched(client, kpu_blora_officer, word) == set()
        assert searched(client, kpu_pati_officer, word) == {transfer_pair.pk}
        assert searched(client, admin_user, word) == {transfer_pair.pk}
    assert searched(client, kpu_pati_officer, "AI.060/2023") == set()  # the Blora record's number
    assert searched(client, kpu_blora_officer, "AI.060/2023") == {transfer_pair.pk}


def test_history_pages_of_a_cross_scope_pair_lead_to_the_comparison(client, kpu_blora_officer, transfer_pair):
    client.force_login(kpu_blora_officer)
    url = reverse("admin:inmates_duplicatecandidate_history", args=[transfer_pair.pk])
    assert client.get(url)["Location"] == compare_url(transfer_pair)
    version = transfer_pair.history.latest().history_id
    url = reverse("admin:inmates_duplicatecandidate_simple_history", args=[transfer_pair.pk, version])
    response = client.get(url)
    assert response.status_code == 403
    assert_none_of(response.content.decode(), PATI_SECRETS)


def test_a_pati_inmate_on_the_blora_dpt_is_masked_on_each_side(
    client, make_inmate, pati, rutan_pati_officer, kpu_blora_officer, kpu_pati_officer, tmp_path
):
    from inmates.dpt_import import dpt_import

    inmate = make_inmate(pati, rutan_pati_officer, registration_number="PT.778/2024", **JOKO)
    path = tmp_path / "DPT_Blora_rahasia.csv"
    path.write_text(CSV_HEADER + "3316022303850002,JOKO SUSILO,BLORA,23-03-1985,L,33.16.01.2001,007\n")
    dpt_import(path=path, regency=Region.objects.get(code="33.16"), user=None)
    dedup.duplicates_detect(against_dpt=True)
    pair = DuplicateCandidate.objects.get(kind="dpt", inmate_a=inmate)

    client.force_login(kpu_blora_officer)  # the DPT is theirs, the inmate is held in Pati
    page = client.get(compare_url(pair)).content.decode()
    assert "DPT_Blora_rahasia.csv" in page
    assert_none_of(page, ("PT.778/2024", "Rutan Kelas IIB Pati", "Dk. Jepon"))
    assert 'data-match="same"' in page and 'id="dedup-confirm-dpt"' not in page
    response = client.post(reverse("inmates:dpt_match_confirm", args=[pair.pk]))
    assert response.status_code == 403

    client.force_login(kpu_pati_officer)  # the inmate is theirs, the DPT record is Blora's
    page = client.get(compare_url(pair)).content.decode()
    assert "PT.778/2024" in page
    assert_none_of(page, ("DPT_Blora_rahasia.csv", "JOKO SUSILO"))
    assert client.post(reverse("inmates:dpt_match_confirm", args=[pair.pk])).status_code == 403
    assert client.post(reverse("inmates:duplicate_dismiss", args=[pair.pk])).status_code == 403
    pair.refresh_from_db()
    assert pair.status == "open"


def test_a_pair_inside_the_regency_is_decided_by_kpu_as_before(client, kpu_blora_officer, blora_pair):
    client.force_login(kpu_blora_officer)
    page = client.get(compare_url(blora_pair)).content.decode()
    assert "dedup-outside" not in page and "data-match" not in page
    assert 'name="survivor"' in page and "3316011708900010" in page and "BI.002/2024" in page
    response = client.post(
        reverse("inmates:duplicate_merge", args=[blora_pair.pk]),
        merge_data(blora_pair, "a", nik="a", full_name="a", address="b"),
    )
    assert response.status_code == 302
    blora_pair.refresh_from_db()
    assert (blora_pair.status, blora_pair.decided_by) == ("confirmed", kpu_blora_officer)


def test_queue_with_cross_scope_pairs_keeps_a_constant_query_count(
    client, make_inmate, blora, pati, kpu_blora_officer
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def plant(start: int, count: int) -> None:
        for n in range(start, start + count):
            mine = make_inmate(blora, registration_number=f"QB.{n:03d}/2024", full_name=f"Orang {n}")
            theirs = make_inmate(pati, registration_number=f"QP.{n:03d}/2024", full_name=f"Orang {n}")
            DuplicateCandidate.objects.create(
                inmate_a=mine, inmate_b=theirs, score=0.9, reasons=["name_similar"]
            )

    def queries() -> tuple[int, int]:
        client.force_login(kpu_blora_officer)
        url = reverse("admin:inmates_duplicatecandidate_changelist")
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        body = response.content.decode()
        assert "QP." not in body and "rutan-pati" not in body
        return len(response.context["cl"].result_list), len(captured.captured_queries)

    plant(1, 2)
    few_rows, few_queries = queries()
    plant(10, 8)
    many_rows, many_queries = queries()
    assert (few_rows, many_rows) == (2, 10)
    assert many_queries == few_queries


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


@pytest.mark.parametrize("suffix", ["history/", "history/1/"])
def test_a_malformed_pair_id_in_the_history_urls_is_not_a_server_error(client, kpu_blora_officer, suffix):
    client.force_login(kpu_blora_officer)
    response = client.get(f"/admin/inmates/duplicatecandidate/abc/{suffix}")
    assert response.status_code == 404
