"""Data ganda through the service: detection for a scope, the review queue,
merge, dismiss, twins, the DPT cross-check and the entry hook."""

from __future__ import annotations

import datetime
import threading
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from inmates import dedup, dedup_queue, services
from inmates.dedup import CandidateDecidedError, CandidateOutOfScopeError
from inmates.dedup_hooks import similar_existing
from inmates.dpt_import import dpt_import
from inmates.models import DptRecord, DuplicateCandidate, Inmate

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
    "birth_place": "Blora",
}


@pytest.fixture
def slamet(make_inmate, blora, rutan_blora_officer) -> Inmate:
    return make_inmate(blora, rutan_blora_officer, registration_number="AI.001/2023", **SLAMET)


@pytest.fixture
def stranger(make_inmate, blora, rutan_blora_officer) -> Inmate:
    """Someone else in Blora: other name, NIK, family and birth date."""
    return make_inmate(
        blora,
        rutan_blora_officer,
        registration_number="AI.050/2023",
        full_name="Bambang Wibowo",
        nik="3316022303850002",
        nkk="3316021001100001",
        birth_date=datetime.date(1985, 3, 23),
        domicile_region_id="33.16.02.2001",
    )


def pairs(**filters) -> list[DuplicateCandidate]:
    return list(DuplicateCandidate.objects.filter(**filters).order_by("pk"))


def the_pair(x: Inmate, y: Inmate) -> DuplicateCandidate:
    a, b = sorted([x.pk, y.pk])
    return DuplicateCandidate.objects.get(inmate_a_id=a, inmate_b_id=b)


# --- finding pairs --------------------------------------------------------------


@pytest.mark.parametrize(
    ("typo", "reason"),
    [("3316011708900007", "nik_one_digit"), ("3316011708900010", "nik_transposition")],
)
def test_nik_typo_is_found_end_to_end(
    make_inmate, blora, rutan_blora_officer, slamet, stranger, typo, reason
):
    again = make_inmate(
        blora, rutan_blora_officer, registration_number="BI.002/2024", **{**SLAMET, "nik": typo}
    )

    result = dedup.duplicates_detect(facility=blora)

    candidate = the_pair(slamet, again)
    assert candidate.status == DuplicateCandidate.Status.OPEN
    assert candidate.kind == DuplicateCandidate.Kind.INMATE_PAIR
    assert candidate.reasons[0] == reason
    assert candidate.score >= dedup.MATCH_THRESHOLD
    assert not candidate.auto_merge_ok  # a human picks which NIK is right
    assert DuplicateCandidate.objects.count() == 1  # the stranger matches nobody
    assert result.created == 1


def test_same_nik_with_a_name_variant_is_safe_to_merge(make_inmate, blora, slamet):
    make_inmate(blora, registration_number="BI.003/2024", **{**SLAMET, "full_name": "MOCH. SLAMET RIJADI"})

    dedup.duplicates_detect()

    (candidate,) = pairs()
    assert candidate.reasons[0] == "nik_exact"
    assert candidate.auto_merge_ok


def test_record_without_nik_is_matched_on_name_and_birth_date(make_inmate, blora, slamet):
    again = make_inmate(
        blora,
        registration_number="BI.004/2024",
        **{**SLAMET, "nik": None, "nkk": "", "full_name": "Slamet Riyadi bin Karto"},
    )

    dedup.duplicates_detect(facility=blora)

    candidate = the_pair(slamet, again)
    assert "nik_missing" in candidate.reasons
    assert "birth_date_exact" in candidate.reasons


def test_same_person_in_two_facilities_is_one_pair_found_from_either_side(make_inmate, pati, slamet):
    moved = make_inmate(pati, registration_number="AI.777/2024", **SLAMET)

    dedup.duplicates_detect(facility=pati)
    dedup.duplicates_detect(facility=slamet.facility)
    dedup.duplicates_detect()

    (candidate,) = pairs()
    assert (candidate.inmate_a_id, candidate.inmate_b_id) == (slamet.pk, moved.pk)


def test_a_facility_run_leaves_other_facilities_pairs_alone(make_inmate, blora, pati, slamet, pati_inmate):
    make_inmate(blora, registration_number="BI.005/2024", **SLAMET)
    twin_of_joko = make_inmate(
        pati,
        registration_number="AI.002/2023",
        full_name="Joko Susilo",
        nik=pati_inmate.nik,
        birth_date=pati_inmate.birth_date,
        domicile_region_id="33.18.01.2001",
    )
    dedup.duplicates_detect()
    assert DuplicateCandidate.objects.count() == 2

    result = dedup.duplicates_detect(facility=blora)

    assert result.removed == 0
    assert DuplicateCandidate.objects.filter(inmate_b=twin_of_joko).exists()


def test_pair_is_removed_when_a_correction_makes_it_no_longer_match(make_inmate, blora, slamet):
    again = make_inmate(blora, registration_number="BI.006/2024", **{**SLAMET, "nik": "3316011708900007"})
    dedup.duplicates_detect(facility=blora)
    services.inmate_update(
        inmate=again,
        user=None,
        full_name="Wahyu Hidayat",
        nik="3316014402950003",
        birth_date=datetime.date(1995, 2, 4),
    )

    result = dedup.duplicates_detect(facility=blora)

    assert result.removed == 1
    assert not DuplicateCandidate.objects.exists()


def test_near_dates_cover_the_typos_matching_accepts():
    day = datetime.date(1990, 8, 17)
    near = dedup.near_dates(day)
    assert {
        day,
        datetime.date(1990, 8, 18),  # day typo
        datetime.date(1990, 3, 17),  # month typo
        datetime.date(1991, 8, 17),  # year one apart
        datetime.date(1980, 8, 17),  # one year digit
    } <= near
    assert datetime.date(1991, 9, 18) not in near
    assert dedup.near_dates(datetime.date(1990, 3, 5)) >= {datetime.date(1990, 5, 3)}  # day and month swapped


def test_targeted_check_of_one_record_finds_what_a_full_run_finds(make_inmate, blora, pati, slamet, stranger):
    variant = make_inmate(
        pati,
        registration_number="AI.900/2024",
        **{**SLAMET, "nik": None, "birth_date": datetime.date(1990, 8, 18)},
    )
    dedup.duplicates_detect()
    full = {(c.inmate_a_id, c.inmate_b_id, c.score) for c in pairs()}
    DuplicateCandidate.objects.all().delete()

    dedup.detect_for_inmates([variant])

    assert {(c.inmate_a_id, c.inmate_b_id, c.score) for c in pairs()} == full
    assert full  # the day typo was found at all


# --- merge ---------------------------------------------------------------------------


@pytest.fixture
def typo_pair(make_inmate, blora, rutan_blora_officer, slamet):
    again = make_inmate(
        blora,
        rutan_blora_officer,
        registration_number="BI.010/2024",
        **{
            **SLAMET,
            "nik": "3316011708900010",
            "full_name": "Slamet Riyadi, S.Pd.",
            "birth_place": "Kab. Blora",
        },
        address="Jl. Baru 2",
    )
    dedup.duplicates_detect(facility=blora)
    return the_pair(slamet, again), slamet, again


def test_merge_takes_the_chosen_values_and_marks_the_other_record(typo_pair, kpu_blora_officer):
    candidate, slamet, again = typo_pair
    assert candidate.inmate_a == slamet

    kept = dedup.duplicate_confirm(
        candidate=candidate,
        survivor=slamet,
        values={"nik": "a", "full_name": "a", "address": "b", "birth_place": "b"},
        user=kpu_blora_officer,
    )

    slamet.refresh_from_db()
    again.refresh_from_db()
    assert kept == slamet
    assert (slamet.nik, slamet.full_name, slamet.address, slamet.birth_place) == (
        "3316011708900001",
        "Slamet Riyadi",
        "Jl. Baru 2",
        "Kab. Blora",
    )
    assert again.duplicate_of == slamet
    assert again.full_name == "Slamet Riyadi, S.Pd."  # the other record keeps its own data
    assert set(Inmate.objects.active().values_list("pk", flat=True)) == {slamet.pk}
    for record in (slamet, again):
        latest = record.history.latest()
        assert latest.history_user == kpu_blora_officer
        assert latest.history_change_reason.startswith("merge")
        assert record.history.count() >= 2  # earlier versions kept
    candidate.refresh_from_db()
    assert candidate.status == DuplicateCandidate.Status.CONFIRMED
    assert candidate.decided_by == kpu_blora_officer
    assert candidate.history.latest().history_user == kpu_blora_officer


def test_values_left_out_keep_the_survivors_own(typo_pair):
    candidate, slamet, again = typo_pair
    dedup.duplicate_confirm(candidate=candidate, survivor=again, values={}, user=None)
    again.refresh_from_db()
    assert again.nik == "3316011708900010"
    assert again.duplicate_of is None


def test_merging_a_decided_pair_again_is_refused(typo_pair):
    candidate, slamet, again = typo_pair
    dedup.duplicate_confirm(candidate=candidate, survivor=slamet, values={}, user=None)

    with pytest.raises(CandidateDecidedError):
        dedup.duplicate_confirm(candidate=candidate, survivor=again, values={}, user=None)
    again.refresh_from_db()
    assert again.duplicate_of == slamet


def test_merge_refuses_when_a_record_changed_after_the_page_was_opened(typo_pair):
    candidate, slamet, again = typo_pair
    seen = dedup.candidate_fingerprint(candidate)
    services.inmate_update(inmate=again, user=None, full_name="Slamet Riyadi Baru")

    with pytest.raises(ValidationError) as error:
        dedup.duplicate_confirm(
            candidate=candidate, survivor=slamet, values={}, user=None, seen_fingerprint=seen
        )
    assert error.value.code == "changed"
    again.refresh_from_db()
    assert again.duplicate_of is None


@pytest.mark.parametrize("values", [{"facility": "b"}, {"nik": "c"}])
def test_merge_refuses_unknown_fields_and_sides(typo_pair, values):
    candidate, slamet, again = typo_pair
    with pytest.raises(ValidationError):
        dedup.duplicate_confirm(candidate=candidate, survivor=slamet, values=values, user=None)
    assert Inmate.objects.active().count() == 2


def test_merge_refuses_a_survivor_outside_the_pair(typo_pair, stranger):
    candidate, slamet, again = typo_pair
    with pytest.raises(ValidationError):
        dedup.duplicate_confirm(candidate=candidate, survivor=stranger, values={}, user=None)


def test_merged_record_is_left_out_of_later_runs(typo_pair, make_inmate, blora):
    candidate, slamet, again = typo_pair
    dedup.duplicate_confirm(candidate=candidate, survivor=slamet, values={}, user=None)

    result = dedup.duplicates_detect(facility=blora)

    assert result.pairs == []
    assert pairs(status="open") == []


# --- dismiss ---------------------------------------------------------------------------


def test_dismissed_pair_is_not_proposed_again(typo_pair, rutan_blora_officer, blora):
    candidate, slamet, again = typo_pair
    dedup.duplicate_dismiss(candidate=candidate, user=rutan_blora_officer)

    result = dedup.duplicates_detect(facility=blora)
    dedup.duplicates_detect()

    candidate.refresh_from_db()
    assert candidate.status == DuplicateCandidate.Status.DISMISSED
    assert candidate.decided_by == rutan_blora_officer
    assert result.kept_dismissed == 1
    assert result.pairs == []


def test_a_custody_event_does_not_reopen_a_dismissed_pair(typo_pair, blora):
    candidate, slamet, again = typo_pair
    dedup.duplicate_dismiss(candidate=candidate, user=None)
    services.custody_event_record(inmate=again, kind="release", date=datetime.date(2024, 1, 20), user=None)
    services.inmate_update(inmate=again, user=None, cell_block="D")

    dedup.duplicates_detect(facility=blora)

    candidate.refresh_from_db()
    assert candidate.status == DuplicateCandidate.Status.DISMISSED


def test_changing_a_record_proposes_the_dismissed_pair_again(typo_pair, rutan_blora_officer, blora):
    candidate, slamet, again = typo_pair
    dedup.duplicate_dismiss(candidate=candidate, user=rutan_blora_officer)
    services.inmate_update(inmate=again, user=None, birth_place="Cepu")

    result = dedup.duplicates_detect(facility=blora)

    candidate.refresh_from_db()
    assert candidate.status == DuplicateCandidate.Status.OPEN
    assert candidate.decided_by is None
    assert result.reopened == 1
    assert candidate.history.filter(status="dismissed").exists()  # the old decision stays in history


def test_dismissing_twice_is_refused(typo_pair):
    candidate, _slamet, _again = typo_pair
    dedup.duplicate_dismiss(candidate=candidate, user=None)
    with pytest.raises(CandidateDecidedError):
        dedup.duplicate_dismiss(candidate=candidate, user=None)


def test_only_an_admin_decides_a_pair_across_regencies(
    make_inmate, pati, slamet, kpu_blora_officer, kpu_pati_officer, admin_user
):
    again = make_inmate(pati, None, registration_number="PT.001/2024", **SLAMET)
    dedup.duplicates_detect()
    candidate = DuplicateCandidate.objects.select_related("inmate_a__facility", "inmate_b__facility").get(
        pk=the_pair(slamet, again).pk
    )
    assert candidate.auto_merge_ok
    assert candidate.sides_in_scope(kpu_blora_officer) == (True, False)
    assert candidate.sides_in_scope(kpu_pati_officer) == (False, True)
    assert candidate.sides_in_scope(admin_user) == (True, True)
    for officer in (kpu_blora_officer, kpu_pati_officer):
        assert DuplicateCandidate.objects.for_user(officer).filter(pk=candidate.pk).exists()
        assert not DuplicateCandidate.objects.inside_scope(officer).filter(pk=candidate.pk).exists()
        with pytest.raises(CandidateOutOfScopeError):
            dedup.duplicate_confirm(candidate=candidate, survivor=slamet, values={}, user=officer)
        with pytest.raises(CandidateOutOfScopeError):
            dedup.duplicate_dismiss(candidate=candidate, user=officer)
        assert dedup.duplicates_auto_merge(candidates=[candidate], user=officer) == (0, 1)
    candidate.refresh_from_db()
    assert candidate.status == DuplicateCandidate.Status.OPEN
    assert not Inmate.objects.filter(duplicate_of__isnull=False).exists()
    assert DuplicateCandidate.objects.inside_scope(admin_user).filter(pk=candidate.pk).exists()
    dedup.duplicate_confirm(candidate=candidate, survivor=slamet, values={}, user=admin_user)
    again.refresh_from_db()
    assert again.duplicate_of == slamet


# --- twins --------------------------------------------------------------------------------


@pytest.fixture
def twins(make_inmate, blora, slamet):
    """Slamet's twin brother: same family card and birth date, the next NIK serial."""
    twin = make_inmate(
        blora,
        registration_number="AI.002/2023",
        **{**SLAMET, "full_name": "Slamet Riyanto", "nik": "3316011708900002"},
    )
    dedup.duplicates_detect(facility=blora)
    return the_pair(slamet, twin)


def test_twins_go_to_review_as_possible_twins(twins):
    assert "possible_twins" in twins.reasons
    assert twins.status == DuplicateCandidate.Status.OPEN
    assert not twins.auto_merge_ok


def test_twins_are_never_merged_automatically(twins, make_inmate, blora):
    same_nik = make_inmate(
        blora, registration_number="AI.003/2023", **{**SLAMET, "full_name": "SLAMET RIYADI"}
    )
    dedup.duplicates_detect(facility=blora)
    safe = DuplicateCandidate.objects.get(inmate_b=same_nik, inmate_a__nik=SLAMET["nik"])
    assert safe.auto_merge_ok

    merged, skipped = dedup.duplicates_auto_merge(candidates=[twins, safe], user=None)

    assert (merged, skipped) == (1, 1)
    twin = Inmate.objects.get(nik="3316011708900002")
    assert twin.duplicate_of is None
    # The twin's question is still open, now against the surviving Slamet.
    (open_pair,) = DuplicateCandidate.objects.open().filter(
        inmate_b=twin
    ) | DuplicateCandidate.objects.open().filter(inmate_a=twin)
    assert "possible_twins" in open_pair.reasons
    assert not open_pair.auto_merge_ok


def test_twins_even_with_the_same_name_are_not_safe_to_merge(make_inmate, blora, slamet):
    make_inmate(blora, registration_number="AI.004/2023", **{**SLAMET, "nik": "3316011708900002"})
    dedup.duplicates_detect(facility=blora)
    (candidate,) = pairs()
    assert "possible_twins" in candidate.reasons
    assert not candidate.auto_merge_ok
    assert dedup.duplicates_auto_merge(candidates=[candidate], user=None) == (0, 1)


def test_auto_merge_keeps_the_record_in_custody(make_inmate, blora, slamet):
    earlier = make_inmate(
        blora,
        registration_number="AI.100/2021",
        admission_date=datetime.date(2021, 1, 5),
        expected_release_date=None,
        custody_type="tahanan",
        **{**SLAMET, "nik": SLAMET["nik"]},
    )
    services.custody_event_record(inmate=earlier, kind="release", date=datetime.date(2021, 6, 1), user=None)
    dedup.duplicates_detect(facility=blora)

    assert dedup.duplicates_auto_merge(candidates=pairs(), user=None) == (1, 0)

    earlier.refresh_from_db()
    assert earlier.duplicate_of == slamet


# --- the DPT cross-check -----------------------------------------------------------------

DPT_HEADER = (
    "NKK;NIK;Nama;Tempat Lahir;Tanggal Lahir;Jenis Kelamin;Status Kawin;Alamat;RT;RW;Kode Wilayah;TPS\n"
)


@pytest.fixture
def blora_dpt(tmp_path, regions):
    path = tmp_path / "DPT_Jati.csv"
    path.write_text(
        DPT_HEADER
        + "3316012005150003;3316011708900001;SLAMET RIYADI;BLORA;17-08-1990;L;S;Dk. Bangkleyan;1;2;33.16.01.2001;004\n"
        + "3316011111110001;3316015505920003;SRI LESTARI;BLORA;15-05-1992;P;S;Dk. Jati;3;1;33.16.01.2001;005\n",
        encoding="utf-8",
    )
    from inmates.models import Region

    return dpt_import(path=path, regency=Region.objects.get(code="33.16"), user=None).dpt_file


def test_inmate_on_a_home_dpt_is_listed_with_the_home_tps(slamet, stranger, blora_dpt, blora):
    result = dedup.duplicates_detect(facility=blora, against_dpt=True)

    (candidate,) = pairs(kind="dpt")
    assert candidate.inmate_a == slamet
    assert candidate.dpt_record.line == 2
    assert candidate.dpt_record.tps == "004"
    assert "nik_exact" in candidate.reasons
    assert result.counts()["dpt_pairs"] == 1
    home = dedup.home_dpt_for([slamet.pk, stranger.pk])
    assert list(home) == [slamet.pk]
    assert (home[slamet.pk].tps, home[slamet.pk].dpt_file, home[slamet.pk].confirmed) == (
        "004",
        "DPT_Jati.csv",
        False,
    )


def test_released_inmates_are_not_checked_against_the_dpt(slamet, blora_dpt, blora):
    services.custody_event_record(inmate=slamet, kind="release", date=datetime.date(2024, 1, 20), user=None)
    dedup.duplicates_detect(facility=blora, against_dpt=True)
    assert not pairs(kind="dpt")


def test_confirming_a_dpt_match_marks_the_inmate_for_dptb(slamet, blora_dpt, blora, kpu_blora_officer):
    dedup.duplicates_detect(against_dpt=True)
    (candidate,) = pairs(kind="dpt")

    dedup.dpt_match_confirm(candidate=candidate, user=kpu_blora_officer)

    candidate.refresh_from_db()
    assert candidate.status == DuplicateCandidate.Status.CONFIRMED
    assert dedup.home_dpt_for([slamet.pk], include_open=False)[slamet.pk].confirmed
    dedup.duplicates_detect(against_dpt=True)
    candidate.refresh_from_db()
    assert candidate.status == DuplicateCandidate.Status.CONFIRMED


def test_a_run_without_the_dpt_keeps_dpt_matches(slamet, blora_dpt, blora):
    dedup.duplicates_detect(facility=blora, against_dpt=True)
    dedup.duplicates_detect(facility=blora)
    assert len(pairs(kind="dpt")) == 1


def test_merge_moves_a_confirmed_home_dpt_to_the_survivor(slamet, blora_dpt, make_inmate, blora):
    again = make_inmate(blora, registration_number="BI.020/2024", **{**SLAMET, "nik": "3316011708900010"})
    dedup.duplicates_detect(against_dpt=True)
    dpt_match = DuplicateCandidate.objects.get(kind="dpt", inmate_a=slamet)
    dedup.dpt_match_confirm(candidate=dpt_match, user=None)

    dedup.duplicate_confirm(candidate=the_pair(slamet, again), survivor=again, values={"nik": "a"}, user=None)

    dpt_match.refresh_from_db()
    assert dpt_match.inmate_a == again
    assert dpt_match.status == DuplicateCandidate.Status.CONFIRMED


# --- prevention at entry ---------------------------------------------------------------------


def test_similar_existing_lists_the_likely_match_of_each_row(slamet, stranger, blora, pati):
    rows = [
        {
            "registration_number": "X.1",
            "full_name": "Muhammad Slamet Riyadi",
            "nik": "3316011708900001",
            "birth_date": datetime.date(1990, 8, 17),
            "sex": "L",
        },
        {
            "registration_number": "X.2",
            "full_name": "Dewi Sartika",
            "nik": None,
            "birth_date": datetime.date(2000, 1, 1),
            "sex": "P",
        },
        {
            "registration_number": "X.3",
            "full_name": "Slamet Riyadi",
            "nik": None,
            "birth_date": datetime.date(1990, 8, 17),
            "sex": "L",
            "birth_place": "Blora",
            "domicile_region_id": "33.16.01.2001",
        },
    ]

    found = similar_existing(pati, rows)

    assert sorted(found) == [0, 2]
    match = found[0][0]
    assert (match.inmate_pk, match.facility_code, match.registration_number) == (
        slamet.pk,
        "rutan-blora",
        "AI.001/2023",
    )
    assert match.url == f"/admin/inmates/inmate/{slamet.pk}/change/"
    assert "nik_exact" in match.reasons
    assert match.score >= dedup.MATCH_THRESHOLD


def test_similar_existing_does_not_match_a_row_with_its_own_record(slamet, blora):
    row = {**SLAMET, "registration_number": "AI.001/2023", "sex": "L"}
    assert similar_existing(blora, [row]) == {}
    assert (
        similar_existing(blora, [{**row, "registration_number": "AI.999/2024"}])[0][0].inmate_pk == slamet.pk
    )


# --- the demo ----------------------------------------------------------------------------------


def test_demo_plants_pairs_and_a_dpt_and_is_idempotent(settings):
    from inmates import demo_dedup

    settings.DEBUG = True
    first = demo_dedup.seed_demo()
    counts = (DuplicateCandidate.objects.count(), DptRecord.objects.count(), Inmate.objects.count())
    second = demo_dedup.seed_demo()

    assert (DuplicateCandidate.objects.count(), DptRecord.objects.count(), Inmate.objects.count()) == counts
    assert first["planted"] > 0 and second["planted"] == 0
    kinds = set(DuplicateCandidate.objects.values_list("kind", flat=True))
    assert kinds == {"inmate_pair", "dpt"}
    assert DuplicateCandidate.objects.filter(reasons__icontains="possible_twins").exists()
    assert DuplicateCandidate.objects.filter(
        inmate_a__facility__code="rutan-blora", inmate_b__facility__code="rutan-pati"
    ).exists()


# --- two officers merging the same pair at once (PostgreSQL) ----------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_merges_of_one_pair_one_wins(
    make_inmate, blora, rutan_blora_officer, kpu_blora_officer
):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks")
    slamet = make_inmate(blora, registration_number="AI.001/2023", **SLAMET)
    again = make_inmate(
        blora,
        registration_number="BI.002/2024",
        **{**SLAMET, "nik": "3316011708900010", "address": "Jl. Lain"},
    )
    dedup.duplicates_detect(facility=blora)
    candidate = the_pair(slamet, again)
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def merge(name, user, survivor, values):
        try:
            barrier.wait(timeout=10)
            outcomes[name] = dedup.duplicate_confirm(
                candidate=candidate, survivor=survivor, values=values, user=user
            )
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test checks
            outcomes[name] = exc
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=merge, args=("rutan", rutan_blora_officer, slamet, {"address": "b"})),
        threading.Thread(target=merge, args=("kpu", kpu_blora_officer, again, {"nik": "a"})),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    winners = [name for name, outcome in outcomes.items() if isinstance(outcome, Inmate)]
    losers = [outcome for outcome in outcomes.values() if not isinstance(outcome, Inmate)]
    assert len(winners) == 1 and len(losers) == 1
    assert isinstance(losers[0], CandidateDecidedError)
    assert any(text in losers[0].messages[0] for text in ("already decided", "sudah diputuskan"))
    candidate.refresh_from_db()
    winner_user = rutan_blora_officer if winners == ["rutan"] else kpu_blora_officer
    assert candidate.decided_by == winner_user
    # Exactly one record survives, and it carries the winner's choices only.
    survivors = list(Inmate.objects.active().filter(pk__in=[slamet.pk, again.pk]))
    assert len(survivors) == 1
    if winners == ["rutan"]:
        assert survivors[0].pk == slamet.pk and survivors[0].address == "Jl. Lain"
    else:
        assert survivors[0].pk == again.pk and survivors[0].nik == SLAMET["nik"]


# --- the large-scale paths ------------------------------------------------------------------


def test_many_new_pairs_are_written_with_their_history(
    monkeypatch, typo_pair, make_inmate, blora, kpu_blora_officer
):
    """Above COPY_MIN_ROWS new candidates take the bulk path (COPY on PostgreSQL)."""
    monkeypatch.setattr(dedup_queue, "COPY_MIN_ROWS", 0)
    DuplicateCandidate.objects.all().delete()
    make_inmate(blora, registration_number="CI.030/2024", **SLAMET)

    dedup.duplicates_detect(facility=blora, user=kpu_blora_officer)

    candidates = pairs()
    assert len(candidates) == 3  # three records of Slamet: three pairs
    for candidate in candidates:
        created = candidate.history.get()
        assert (created.history_type, created.history_user, created.score) == (
            "+",
            kpu_blora_officer,
            candidate.score,
        )
        assert created.reasons == candidate.reasons
    dedup.duplicate_dismiss(candidate=candidates[0], user=None)  # and the rows work like any other
    assert candidates[0].history.count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_scan_finds_what_one_process_finds(
    monkeypatch, settings, make_inmate, blora, pati, tmp_path
):
    if connection.vendor != "postgresql":
        pytest.skip("the parallel scan runs on PostgreSQL")
    from inmates import dedup_scan
    from inmates.models import Region

    for number in range(6):
        make_inmate(
            blora,
            registration_number=f"AI.{number:03d}/2023",
            **{**SLAMET, "nik": f"33160117089000{number + 1:02d}"},
        )
    make_inmate(pati, registration_number="AI.100/2023", **{**SLAMET, "nik": None})
    path = tmp_path / "DPT.csv"
    path.write_text(
        "NIK,Nama,Tanggal Lahir,TPS\n"
        + "".join(f"33160117089000{n:02d},SLAMET RIYADI,17-08-1990,00{n}\n" for n in range(1, 5)),
        encoding="utf-8",
    )
    dpt_import(path=path, regency=Region.objects.get(code="33.16"), user=None)

    def found(workers):
        settings.DEDUP_WORKERS = workers
        DuplicateCandidate.objects.all().delete()
        result = dedup.duplicates_detect(against_dpt=True)
        return sorted((p.kind, p.a, p.b, p.dpt, p.score, tuple(p.reasons)) for p in result.pairs)

    monkeypatch.setattr(dedup_scan, "PARALLEL_MIN_WORK", 0)
    calls = []
    original = dedup_scan.Scan._run_parallel
    monkeypatch.setattr(
        dedup_scan.Scan, "_run_parallel", lambda self, *a: calls.append(a[1]) or original(self, *a)
    )
    parallel = found(3)
    serial = found(1)

    assert calls == [3]
    assert parallel == serial
    assert {kind for kind, *_rest in serial} == {"inmate_pair", "dpt"}
    assert Inmate.objects.count() == 7  # the main process's connection still works after the workers


def test_a_merge_is_written_to_the_access_log(client, rutan_blora_officer, blora, make_inmate):
    from inmates import dedup
    from inmates.models import AccessLog, DuplicateCandidate

    first = make_inmate(blora, rutan_blora_officer, full_name="Budi Santoso", registration_number="AL.1/2024")
    second = make_inmate(
        blora, rutan_blora_officer, full_name="Budi Santoso", registration_number="AL.2/2024"
    )
    candidate = DuplicateCandidate.objects.create(
        inmate_a=first, inmate_b=second, score=0.99, reasons=["nik_exact"]
    )
    dedup.duplicate_confirm(candidate=candidate, survivor=first, values={}, user=rutan_blora_officer)
    entry = AccessLog.objects.get(action=AccessLog.Action.MERGE)
    assert (entry.user, entry.details["survivor"], entry.details["duplicate"]) == (
        rutan_blora_officer,
        first.pk,
        second.pk,
    )
