"""Duplicate detection over plain records: NIK typos, blocking, scoring, twins, cross-matching.

Pure: no database, no Django (``--noconftest -p no:django`` runs them alone).
The last tests plant duplicates in a seeded synthetic population and check
precision and recall.
"""

from __future__ import annotations

import datetime
import itertools
import random
from collections.abc import Iterator

import pytest

from inmates.matching import (
    AUTO_MERGE_THRESHOLD,
    MATCH_THRESHOLD,
    REASON_LABELS,
    REVIEW_THRESHOLD,
    Match,
    MatchIndex,
    PersonRecord,
    blocking_keys,
    candidate_pairs,
    candidate_pairs_between,
    clean_id_number,
    find_matches,
    find_matches_between,
    nik_distance_kind,
    score_pair,
)

DOB = datetime.date(1990, 5, 12)
NIK = "3316011205900003"  # district 33.16.01 (Kab. Blora); 12-05-1990; a man; serial 3
NKK = "3316010101150007"


def person(ref: object = 1, **fields: object) -> PersonRecord:
    """A man from Blora; tests override what they are about."""
    base: dict[str, object] = {
        "ref": ref,
        "nik": NIK,
        "nkk": NKK,
        "name": "Budi Santoso",
        "birth_date": DOB,
        "sex": "L",
        "birth_place": "Blora",
        "domicile_code": "33.16.01.2001",
        "facility": None,
    }
    base.update(fields)
    return PersonRecord(**base)  # type: ignore[arg-type]


def with_digit(nik: str, position: int, digit: str) -> str:
    return nik[:position] + digit + nik[position + 1 :]


def swapped(nik: str, position: int) -> str:
    chars = list(nik)
    chars[position], chars[position + 1] = chars[position + 1], chars[position]
    return "".join(chars)


# --- nik_distance_kind -------------------------------------------------------


def test_same_nik_is_exact() -> None:
    assert nik_distance_kind(NIK, NIK) == "exact"


@pytest.mark.parametrize("position", range(16))
def test_one_substituted_digit_anywhere_is_one_digit(position: int) -> None:
    other = with_digit(NIK, position, "9" if NIK[position] != "9" else "8")
    assert nik_distance_kind(NIK, other) == "one_digit"


def test_adjacent_swap_is_transposition() -> None:
    assert nik_distance_kind("3316011205900003", "3316011250900003") == "transposition"


def test_swap_of_equal_digits_changes_nothing() -> None:
    assert nik_distance_kind(NIK, swapped(NIK, 0)) == "exact"  # "33" swapped is "33"


def test_two_substitutions_are_too_far() -> None:
    assert nik_distance_kind(NIK, "3316011205900099") is None


def test_non_adjacent_swap_is_too_far() -> None:
    assert nik_distance_kind("3316011205900003", "3316011200905003") is None


def test_missing_or_malformed_nik_has_no_kind() -> None:
    assert nik_distance_kind(NIK, None) is None
    assert nik_distance_kind(None, None) is None
    assert nik_distance_kind(NIK, NIK[:15]) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("3316011205900003", NIK),
        ("'3316011205900003", NIK),  # Excel's text marker
        ("33.16.01 120590 0003", NIK),
        ("3333333333333333", None),  # one digit repeated
        ("3316010000000000", None),  # zero padding
        ("3316011205900000", None),  # serial 0000
        ("3.31601E+15", None),  # typed as a number: last digit lost
        ("", None),
        (None, None),
    ],
)
def test_clean_id_number(raw: str | None, expected: str | None) -> None:
    assert clean_id_number(raw) == expected


# --- blocking keys -------------------------------------------------------------


def test_one_digit_nik_typo_shares_a_key() -> None:
    for position in range(16):
        typo = person(2, nik=with_digit(NIK, position, "7" if NIK[position] != "7" else "6"), name="Xyz")
        assert blocking_keys(person(name="Abc")) & blocking_keys(typo), position


def test_nik_transposition_shares_a_key_even_across_the_halves() -> None:
    for position in range(15):
        if NIK[position] == NIK[position + 1]:
            continue
        typo = person(2, nik=swapped(NIK, position), name="Xyz")
        assert blocking_keys(person(name="Abc")) & blocking_keys(typo), position


def test_unrelated_people_share_no_key() -> None:
    other = PersonRecord(
        ref=2,
        nik="3318024408850001",
        nkk="3318020202100004",
        name="Siti Rahayu",
        birth_date=datetime.date(1985, 8, 4),
        sex="P",
        birth_place="Pati",
        domicile_code="33.18.02.2003",
    )
    assert not blocking_keys(person()) & blocking_keys(other)


def test_same_birth_date_elsewhere_with_a_different_name_shares_no_key() -> None:
    other = person(2, nik="3318021205900004", nkk=None, name="Agus Prasetyo", domicile_code="33.18.02.2001")
    assert not blocking_keys(person()) & blocking_keys(other)


def test_name_variant_without_nik_shares_a_key() -> None:
    a = person(nik=None, name="H. Budi Santoso, S.H.")
    b = person(2, nik=None, nkk=None, name="BUDI SANTOSA BIN SLAMET")
    assert blocking_keys(a) & blocking_keys(b)


def test_swapped_day_and_month_share_a_key() -> None:
    a = person(nik=None, nkk=None)
    b = person(2, nik=None, nkk=None, birth_date=datetime.date(1990, 12, 5))
    assert blocking_keys(a) & blocking_keys(b)


def test_junk_nik_gets_no_nik_key() -> None:
    keys = blocking_keys(person(nik="3333333333333333"))
    assert not any(k.startswith(("N|", "A|", "B|", "S|")) for k in keys)


def test_record_without_birth_date_and_nik_gets_no_keys() -> None:
    assert blocking_keys(person(birth_date=None, nik=None)) == set()


def test_missing_birth_date_is_taken_from_the_nik() -> None:
    assert blocking_keys(person(birth_date=None)) == blocking_keys(person())


# --- candidate pairs -----------------------------------------------------------


def test_candidate_pairs_yields_each_pair_once() -> None:
    a, b = person(1), person(2, name="Budi Santoso bin Slamet")
    assert list(candidate_pairs([a, b])) == [(a, b)]


def test_candidate_pairs_skip_oversized_blocks() -> None:
    # Same common name and birth date, no NIK: one big block.
    crowd = [person(i, nik=None, nkk=None) for i in range(6)]
    assert len(list(candidate_pairs(crowd, max_block_size=10))) == 15
    assert list(candidate_pairs(crowd, max_block_size=5)) == []


def test_candidate_pairs_never_pair_a_record_with_itself() -> None:
    assert list(candidate_pairs([person()])) == []


def test_candidate_pairs_between_keeps_left_right_order_whichever_side_is_indexed() -> None:
    inmate = person(("inmate", 1))
    dpt = [person(("dpt", i), nik=None, name=f"Other{i} Name", nkk=None) for i in range(5)]
    dpt.append(person(("dpt", 99), name="BUDI SANTOSO"))
    pairs = list(candidate_pairs_between([inmate], dpt))
    assert pairs == [(inmate, dpt[-1])]
    assert list(candidate_pairs_between(dpt, [inmate])) == [(dpt[-1], inmate)]


def test_candidate_pairs_between_streams_a_generator() -> None:
    inmate = person(("inmate", 1))

    def dpt() -> Iterator[PersonRecord]:
        yield person(("dpt", 1), nik=None)
        yield person(
            ("dpt", 2), nik="3318024408850001", name="Siti Rahayu", birth_date=datetime.date(1985, 8, 4)
        )

    assert [(a.ref, b.ref) for a, b in candidate_pairs_between([inmate], dpt())] == [
        (("inmate", 1), ("dpt", 1))
    ]


# --- scoring -------------------------------------------------------------------


def test_identical_records_auto_merge() -> None:
    match = score_pair(person(1), person(2))
    assert match is not None
    assert match.score >= AUTO_MERGE_THRESHOLD
    assert match.auto_merge_ok
    assert match.reasons[:3] == ["nik_exact", "name_exact", "birth_date_exact"]


def test_same_nik_with_name_variant_auto_merges() -> None:
    match = score_pair(person(1), person(2, name="H. BUDI SANTOSO, S.H. BIN SLAMET"))
    assert match is not None and match.auto_merge_ok


def test_same_nik_with_different_name_and_birth_date_goes_to_review() -> None:
    match = score_pair(person(1), person(2, name="Joko Widodo", birth_date=datetime.date(1961, 6, 21)))
    assert match is not None
    assert REVIEW_THRESHOLD <= match.score < MATCH_THRESHOLD
    assert not match.auto_merge_ok
    assert "name_differs" in match.reasons and "birth_date_differs" in match.reasons


def test_one_digit_nik_typo_with_same_name_and_birth_date_matches() -> None:
    match = score_pair(person(1, nkk=None), person(2, nkk=None, nik=with_digit(NIK, 14, "8")))
    assert match is not None and match.score >= MATCH_THRESHOLD
    assert match.reasons[0] == "nik_one_digit"
    assert not match.auto_merge_ok  # a human picks the right NIK


def test_transposed_nik_with_same_name_and_birth_date_matches() -> None:
    match = score_pair(person(1), person(2, nkk=None, nik=swapped(NIK, 8)))
    assert match is not None and match.score >= MATCH_THRESHOLD
    assert match.reasons[0] == "nik_transposition"


def test_nik_typo_without_agreeing_name_does_not_match() -> None:
    other = person(2, nkk=None, nik=with_digit(NIK, 15, "4"), name="Agus Prasetyo")
    assert score_pair(person(1, nkk=None), other) is None


def test_nik_typo_without_identical_birth_date_does_not_match() -> None:
    other = person(2, nkk=None, nik=with_digit(NIK, 15, "4"), birth_date=datetime.date(1990, 5, 13))
    match = score_pair(person(1, nkk=None), other)
    assert match is None or match.score < MATCH_THRESHOLD


def test_different_valid_niks_are_different_people() -> None:
    other = person(2, nkk=None, nik="3316011205900017", birth_place="Pati", domicile_code=None)
    assert score_pair(person(1, nkk=None), other) is None


def test_different_niks_with_everything_else_equal_go_to_review() -> None:
    match = score_pair(person(1, nkk=None), person(2, nkk=None, nik="3316011205900017"))
    assert match is not None
    assert match.score < MATCH_THRESHOLD and "nik_differs" in match.reasons


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Hasan Basri", "Husain Basri"),  # different names
        ("Budi Santoso", "Budi Santoso"),  # even the same name
    ],
)
def test_twins_are_flagged_and_never_auto_merged(first: str, second: str) -> None:
    a = person(1, name=first, nik="3316011205900003")
    b = person(2, name=second, nik="3316011205900004")  # consecutive serial
    match = score_pair(a, b)
    assert match is not None
    assert "possible_twins" in match.reasons
    assert not match.auto_merge_ok
    assert match.score < AUTO_MERGE_THRESHOLD


def test_twins_with_different_names_stay_below_the_match_threshold() -> None:
    match = score_pair(person(1, name="Hasan Basri"), person(2, name="Husain Basri", nik="3316011205900004"))
    assert match is not None and match.score < MATCH_THRESHOLD


def test_twins_with_the_same_name_are_a_match_to_review() -> None:
    # More likely one person with a NIK typo, but a human must decide.
    match = score_pair(person(1), person(2, nik="3316011205900004"))
    assert match is not None
    assert MATCH_THRESHOLD <= match.score < AUTO_MERGE_THRESHOLD
    assert match.reasons[:2] == ["nik_one_digit", "possible_twins"]


def test_twins_with_distant_serials_are_flagged_too() -> None:
    match = score_pair(person(1, name="Rina"), person(2, name="Rini", nik="3316011205900021"))
    assert match is not None and "possible_twins" in match.reasons and not match.auto_merge_ok


def test_twins_without_nik_are_flagged() -> None:
    match = score_pair(person(1, nik=None, name="Hasan"), person(2, nik=None, name="Husen"))
    assert match is not None and "possible_twins" in match.reasons
    assert match.score < MATCH_THRESHOLD


def test_twins_are_not_returned_by_default_but_are_in_the_review_queue() -> None:
    twins = [person(1, name="Hasan"), person(2, name="Husain", nik="3316011205900004")]
    assert list(find_matches(twins)) == []
    assert [m.reasons for _, _, m in find_matches(twins, threshold=REVIEW_THRESHOLD)][0][
        1
    ] == "possible_twins"


def test_without_nik_name_and_birth_date_and_sex_match() -> None:
    a = person(1, nik=None, nkk=None, birth_place=None, domicile_code=None)
    b = person(2, nik=None, nkk=None, birth_place=None, domicile_code=None, name="BUDI SANTOSO")
    match = score_pair(a, b)
    assert match is not None and match.score >= MATCH_THRESHOLD
    assert "nik_missing" in match.reasons
    assert not match.auto_merge_ok


def test_without_nik_supporting_fields_raise_the_score() -> None:
    bare = score_pair(
        person(1, nik=None, nkk=None, domicile_code=None, birth_place=None), person(2, nik=None, nkk=None)
    )
    full = score_pair(person(1, nik=None, nkk=None), person(2, nik=None, nkk=None))
    assert bare is not None and full is not None
    assert full.score > bare.score
    assert {"birth_place_similar", "domicile_same"} <= set(full.reasons)


def test_without_nik_different_birth_date_does_not_match() -> None:
    b = person(2, nik=None, birth_date=datetime.date(1975, 1, 30))
    assert score_pair(person(1, nik=None, nkk=None), b) is None


def test_without_nik_different_sex_does_not_match() -> None:
    b = person(2, nik=None, nkk=None, sex="P")
    match = score_pair(person(1, nik=None, nkk=None), b)
    assert match is None or match.score < MATCH_THRESHOLD


def test_without_nik_birth_date_typo_needs_support() -> None:
    b = person(2, nik=None, nkk=None, birth_date=datetime.date(1990, 12, 5))  # day and month swapped
    match = score_pair(person(1, nik=None, nkk=None), b)
    assert match is not None and "birth_date_near" in match.reasons
    assert match.score >= MATCH_THRESHOLD  # same village and birth place carry it


def test_without_nik_only_a_shared_common_token_does_not_match() -> None:
    a = person(1, nik=None, nkk=None, name="Siti Aminah", sex="P")
    b = person(2, nik=None, nkk=None, name="Siti Rahayu", sex="P")
    assert score_pair(a, b) is None


def test_junk_nik_is_treated_as_missing() -> None:
    a = person(1, nik="3333333333333333", name="Agus")
    b = person(2, nik="3333333333333333", name="Bambang Sutrisno", birth_date=datetime.date(1970, 1, 1))
    assert score_pair(a, b) is None


def test_score_is_symmetric() -> None:
    a = person(1, name="Muhammad Rizki Pratama", nik=None)
    b = person(2, name="M. Rizky", nkk=None, birth_place="Kab. Blora")
    left, right = score_pair(a, b), score_pair(b, a)
    assert left is not None and right is not None
    assert left.score == right.score


def test_birth_place_is_compared_without_region_words() -> None:
    match = score_pair(person(1, nik=None), person(2, nik=None, birth_place="KAB. BLORA, JAWA TENGAH"))
    assert match is not None and "birth_place_similar" in match.reasons


def test_every_reason_has_a_label() -> None:
    pairs = [
        (person(1), person(2)),
        (person(1, nik=None), person(2, nik=None, birth_date=datetime.date(1990, 12, 5), sex="P")),
        (person(1), person(2, nik="3316011205900004", name="Rina")),
        (person(1), person(2, nik=with_digit(NIK, 3, "9"), domicile_code="33.16.01.2002")),
        (person(1), person(2, nik=swapped(NIK, 8), nkk=None)),
        (person(1, nkk=None), person(2, nkk=None, nik="3316011205900017")),
        (person(1), person(2, name="Joko Widodo", birth_date=datetime.date(1961, 6, 21))),
    ]
    seen = {r for a, b in pairs if (m := score_pair(a, b)) for r in m.reasons}
    assert seen <= set(REASON_LABELS)
    assert len(seen) >= 15


def test_match_needs_review_unless_auto_merge() -> None:
    assert Match(0.9, [], False).needs_review
    assert not Match(0.99, ["nik_exact"], True).needs_review


# --- find_matches --------------------------------------------------------------


def test_find_matches_within_one_list() -> None:
    records = [
        person(1),
        person(2, nik=None, nkk=None, name="BUDI SANTOSO BIN SLAMET"),
        person(
            3,
            nik="3318024408850001",
            nkk=None,
            name="Siti Rahayu",
            sex="P",
            birth_date=datetime.date(1985, 8, 4),
        ),
    ]
    found = [(a.ref, b.ref) for a, b, _ in find_matches(records)]
    assert found == [(1, 2)]


def test_find_matches_between_inmates_and_dpt() -> None:
    inmates = [person(("inmate", 1)), person(("inmate", 2), nik=None, name="Agus Prasetyo", nkk=None)]
    dpt = [
        person(("dpt", 10), name="BUDI SANTOSO", nik=with_digit(NIK, 13, "5"), nkk=None),
        person(("dpt", 11), name="AGUS PRASETYA", nik="3316011205900021", nkk=None),
        person(("dpt", 12), name="SITI RAHAYU", nik="3318024408850001", sex="P", nkk=None),
    ]
    found = sorted((a.ref, b.ref) for a, b, _ in find_matches_between(inmates, dpt))
    assert found == [(("inmate", 1), ("dpt", 10)), (("inmate", 2), ("dpt", 11))]


def test_match_index_probed_with_its_own_records_skips_self_matches() -> None:
    records = [person(1), person(2, name="BUDI SANTOSO"), person(3, nik=None, name="Agus Prasetyo")]
    index = MatchIndex(records)
    assert [(other.ref, record.ref) for record in records for other, _ in index.matches(record)] == [
        (2, 1),
        (1, 2),
    ]


def test_match_index_matches_a_record_of_another_list_with_the_same_ref() -> None:
    index = MatchIndex([person(1)])
    assert [other.ref for other, _ in index.matches(person(1, name="BUDI SANTOSO"))] == [1]


def test_match_index_can_be_probed_record_by_record() -> None:
    index = MatchIndex([person(("inmate", 1))])
    assert [r.ref for r in index.candidates(person(("dpt", 1), nik=swapped(NIK, 4)))] == [("inmate", 1)]
    assert list(index.matches(person(("dpt", 2), nik=None, name="Sugeng"))) == []


# --- synthetic precision / recall ------------------------------------------------


def _words(text: str) -> list[str]:
    return text.split()


MALE = _words(
    "Agus Budi Slamet Joko Eko Bambang Hadi Sutrisno Wahyu Teguh Rizki Dedi Andi Yusuf Ahmad Fajar Imam "
    "Sugeng Heru Arif Rudi Sigit Wawan Supriyadi Suparman Anton Bayu Gilang Rahmat Saiful Taufik Yoga "
    "Zainal Darmaji Hendra Irfan Junaedi Kusnadi Lukman Mulyono Nanang Purwanto Rohmad Sarwono Tono "
    "Untung Wibisono Yanto Zulkifli Hasan Husein Umar Ridwan Fauzi Hidayat Cahyo Suyono Sujono Gunawan"
)
FEMALE = _words(
    "Siti Sri Dewi Endang Wati Yuni Rina Lestari Ani Fitri Indah Ratna Suci Wulan Ayu Eni Murni Rini "
    "Tutik Sulastri Wahyuni Yanti Nining Kartini Sumiati Suharti Mariyam Aminah Khotijah Nurhayati "
    "Rohmah Fatimah Anisa Novita Puji Retno Sariyem Tumini Juwariyah Ningsih"
)
LAST = _words(
    "Santoso Susanto Prasetyo Wibowo Hidayat Setiawan Saputra Purnomo Kurniawan Nugroho Rahayu Wahyuni "
    "Handayani Pratama Firmansyah Hakim Rohman Sholeh Mulyadi Suryadi Haryanto Sulistyo Utomo Maulana "
    "Ramadhan Anggraini Safitri Yulianti Hartono Sugiarto Wijaya Kusuma Permana Hermawan Syahputra "
    "Nurdiansyah Ardiansyah Hidayatullah Rahmawati Susilowati Purwaningsih Setyawati Sutanto Gunadi "
    "Suprapto Sumarno Riyadi Subekti Wicaksono Adiputra Budiman Darmawan Effendi Fadillah Gumilar "
    "Hutagalung Iskandar Jatmiko Kuncoro Laksono Mahendra Nasution Pamungkas Rachmadi Siswanto "
    "Triyono Wardhana Yudhistira Zulkarnain Abdullah Baskoro Cahyono Dwiyanto Erlangga Febrianto"
)
PLACES = _words("Blora Cepu Randublatung Pati Rembang Grobogan Bojonegoro Kudus Semarang Tuban Jepara Demak")
OLD_SPELLING = {"u": "oe", "j": "dj", "c": "tj"}


def _variant_name(rnd: random.Random, name: str, sex: str, father: str) -> str:
    """How another clerk would have written the same name."""
    tokens = name.split()
    ops = rnd.sample(
        ["title", "muhammad", "patronym", "old", "drop", "swap", "typo", "case"], k=rnd.randint(1, 2)
    )
    ops.sort(key=lambda op: op == "patronym")  # the patronym goes after the name is changed
    for op in ops:
        if op == "title":
            tokens = [
                rnd.choice(["H.", "Drs.", "Ir."] if sex == "L" else ["Hj.", "Dra."]),
                *tokens,
                rnd.choice(["", ", S.H.", ", S.Pd."]),
            ]
        elif op == "muhammad" and tokens[0] == "Muhammad":
            tokens[0] = rnd.choice(["M.", "Moch.", "Muh.", "Mohammad", "Muhamad", "Mhd."])
        elif op == "patronym":
            tokens += ["bin" if sex == "L" else "binti", father]
        elif op == "old":
            i = rnd.randrange(len(tokens))
            for new, old in OLD_SPELLING.items():
                tokens[i] = tokens[i].replace(new, old, 1)
        elif op == "drop" and len(tokens) >= 3:
            del tokens[1]
        elif op == "swap" and len(tokens) == 2:
            tokens.reverse()
        elif op == "typo":
            i = max(range(len(tokens)), key=lambda k: len(tokens[k]))
            word = tokens[i]
            if len(word) >= 6:
                p = rnd.randrange(2, len(word) - 1)
                tokens[i] = word[:p] + rnd.choice("aiueo") + word[p + 1 :]
        elif op == "case":
            tokens = [t.upper() for t in tokens]
    return " ".join(t for t in tokens if t)


def synthetic_population(
    seed: int = 7, people: int = 2000
) -> tuple[list[PersonRecord], set[frozenset[object]]]:
    """People with families, twins and namesakes, plus duplicates with planted variants.

    Returns the records and the true duplicate pairs (as frozensets of refs).
    """
    rnd = random.Random(seed)
    villages = [f"33.16.{d:02d}.{2000 + v}" for d in range(1, 9) for v in range(1, 6)]
    serials: dict[tuple[str, str], int] = {}
    records: list[PersonRecord] = []
    owner: dict[object, int] = {}

    def nik_for(village: str, dob: datetime.date, sex: str) -> str:
        district = village.replace(".", "")[:6]
        date_part = f"{dob.day + (40 if sex == 'P' else 0):02d}{dob:%m%y}"
        serial = serials[district, date_part] = serials.get((district, date_part), 0) + 1
        return f"{district}{date_part}{serial:04d}"

    def new_name(sex: str) -> str:
        first = rnd.choice(MALE if sex == "L" else FEMALE)
        tokens = [first]
        if rnd.random() < 0.2:
            tokens.insert(0, "Muhammad" if sex == "L" else rnd.choice(["Siti", "Sri"]))
        if rnd.random() < 0.25:
            tokens.append(rnd.choice(LAST))
        if rnd.random() < 0.85:
            tokens.append(rnd.choice(LAST))
        return " ".join(dict.fromkeys(tokens))

    def add(pid: int, record: PersonRecord) -> None:
        records.append(record)
        owner[record.ref] = pid

    pid = 0
    while pid < people:
        village = rnd.choice(villages)
        nkk = f"{village.replace('.', '')[:6]}{rnd.randint(10, 28):02d}0{rnd.randint(1, 9)}{rnd.randint(10, 23):02d}{rnd.randint(1, 9999):04d}"
        twins = rnd.random() < 0.03
        members = 2 if twins else rnd.randint(1, 3)
        shared_dob = datetime.date(rnd.randint(1956, 2006), rnd.randint(1, 12), rnd.randint(1, 28))
        for _ in range(members):
            pid += 1
            sex = rnd.choice("LP")
            dob = (
                shared_dob
                if twins
                else datetime.date(rnd.randint(1956, 2006), rnd.randint(1, 12), rnd.randint(1, 28))
            )
            name = new_name(sex)
            nik = nik_for(village, dob, sex) if rnd.random() > 0.1 else None
            base = PersonRecord(("p", pid, 0), nik, nkk, name, dob, sex, rnd.choice(PLACES), village)
            add(pid, base)
            for copy in range(1, 3):
                if rnd.random() > (0.35 if copy == 1 else 0.05):
                    break
                add(pid, _duplicate(rnd, base, ("p", pid, copy), villages))
            roll = rnd.random()
            if roll < 0.04:
                # A namesake: a different person with the same name, born a day
                # later or, as happens among thousands of one-word Slamets,
                # the same day. Registered wherever they live.
                pid += 1
                same_day = roll < 0.02 and len(name.split()) == 1
                other_dob = dob if same_day else dob.replace(day=dob.day % 28 + 1)
                home = rnd.choice(villages)
                other_nik = nik_for(home, other_dob, sex) if rnd.random() < 0.5 else None
                add(
                    pid,
                    PersonRecord(
                        ("p", pid, 0), other_nik, None, name, other_dob, sex, rnd.choice(PLACES), home
                    ),
                )
    truth = set()
    by_person: dict[int, list[object]] = {}
    for ref, who in owner.items():
        by_person.setdefault(who, []).append(ref)
    for refs in by_person.values():
        truth.update(frozenset(p) for p in itertools.combinations(refs, 2))
    rnd.shuffle(records)
    return records, truth


def _duplicate(rnd: random.Random, base: PersonRecord, ref: object, villages: list[str]) -> PersonRecord:
    """The same person as another list records them.

    Error rates per copy: NIK one digit wrong 5 %, two digits swapped 3 %,
    missing 25 %, filler 3 %; birth date a day off 3 %, day and month swapped
    (or the year off by one) 1.5 %, missing 1.5 %; the name changed in one or two ways (see
    ``_variant_name``); birth place, domicile, NKK and sex sometimes missing.
    Some copies carry two errors and cannot be found: that is the recall gap.
    """
    father = MALE[base.ref[1] % len(MALE)]  # type: ignore[index]  # one father per person
    nik = base.nik
    roll = rnd.random()
    if nik and roll < 0.05:
        p = rnd.randrange(16)
        nik = with_digit(nik, p, str((int(nik[p]) + rnd.randint(1, 9)) % 10))
    elif nik and roll < 0.08:
        p = rnd.randrange(15)
        nik = swapped(nik, p)
    elif roll < 0.33:
        nik = None
    elif roll < 0.36:
        nik = "3333333333333333"
    dob = base.birth_date
    roll = rnd.random()
    if dob and roll < 0.03:
        dob = dob.replace(day=dob.day % 28 + 1)
    elif dob and roll < 0.045:
        dob = dob.replace(day=dob.month, month=dob.day) if dob.day <= 12 else dob.replace(year=dob.year + 1)
    elif roll < 0.06:
        dob = None
    place = base.birth_place if rnd.random() < 0.8 else rnd.choice([None, f"Kab. {base.birth_place}"])
    roll = rnd.random()
    domicile = base.domicile_code if roll < 0.7 else None if roll < 0.9 else rnd.choice(villages)
    return PersonRecord(
        ref=ref,
        nik=nik,
        nkk=base.nkk if rnd.random() < 0.6 else None,
        name=_variant_name(rnd, base.name, base.sex or "L", father),
        birth_date=dob,
        sex=base.sex if rnd.random() < 0.97 else None,
        birth_place=place,
        domicile_code=domicile,
    )


def _precision_recall(found: set[frozenset[object]], truth: set[frozenset[object]]) -> tuple[float, float]:
    true_positives = len(found & truth)
    return true_positives / max(len(found), 1), true_positives / len(truth)


def test_synthetic_population_precision_and_recall() -> None:
    records, truth = synthetic_population()
    assert len(records) > 2000 and len(truth) > 500
    found = {frozenset((a.ref, b.ref)) for a, b, _ in find_matches(records)}
    precision, recall = _precision_recall(found, truth)
    assert precision >= 0.98, precision
    assert recall >= 0.95, recall


def test_blocking_proposes_a_near_linear_number_of_pairs() -> None:
    records, truth = synthetic_population(seed=5)
    pairs = list(candidate_pairs(records))
    assert len(pairs) < 2 * len(truth)  # all pairs would be ~3.7 million


def test_synthetic_cross_matching_precision_and_recall() -> None:
    records, truth = synthetic_population(seed=11)
    left = [r for r in records if r.ref[2] == 0]  # type: ignore[index]
    right = [r for r in records if r.ref[2] != 0]  # type: ignore[index]
    cross_truth = {pair for pair in truth if sum(ref[2] == 0 for ref in pair) == 1}  # type: ignore[index]
    found = {frozenset((a.ref, b.ref)) for a, b, _ in find_matches_between(left, right)}
    precision, recall = _precision_recall(found, cross_truth)
    assert precision >= 0.98, precision
    assert recall >= 0.95, recall


def test_synthetic_twins_are_never_auto_merged() -> None:
    records, truth = synthetic_population(seed=3)
    review = [
        (a, b, m)
        for a, b, m in find_matches(records, threshold=REVIEW_THRESHOLD)
        if "possible_twins" in m.reasons
    ]
    assert review, "the population has twins"
    assert not any(m.auto_merge_ok for _, _, m in review)
    merged = [(a.ref, b.ref) for a, b, m in find_matches(records) if m.auto_merge_ok]
    assert all(frozenset(pair) in truth for pair in merged)
