"""Indonesian name normalisation, keys and similarity. No database."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inmates.names import (
    MUHAMMAD_VARIANTS,
    informative_tokens,
    modernise_spelling,
    name_key,
    name_phonetic_key,
    name_similarity,
    name_tokens,
    normalize_name,
    parse_name,
    patronym,
    token_similarity,
    token_skeleton,
)

# --- case, punctuation and spacing ----------------------------------------------


def test_case_is_folded() -> None:
    assert normalize_name("BUDI SANTOSO") == "budi santoso"


def test_extra_spacing_is_collapsed() -> None:
    assert normalize_name("  Budi \t  Santoso \n") == "budi santoso"


@pytest.mark.parametrize(
    "raw", ["Budi-Santoso", "Budi_Santoso", "Budi/Santoso", "(Budi) Santoso", "Budi;Santoso"]
)
def test_separators_split_tokens(raw: str) -> None:
    assert normalize_name(raw) == "budi santoso"


def test_apostrophes_join_the_word() -> None:
    assert normalize_name("Ma'ruf Amin") == "maruf amin"
    assert normalize_name("Mu’min") == "mumin"


def test_digits_and_symbols_are_dropped() -> None:
    assert normalize_name("Budi Santoso 2 #") == "budi santoso"


def test_accents_are_folded() -> None:
    assert normalize_name("José Ramírez") == "jose ramirez"


def test_empty_and_missing_names() -> None:
    assert normalize_name("") == ""
    assert normalize_name(None) == ""
    assert normalize_name(" .,- ") == ""
    assert name_tokens(None) == []


def test_single_word_name_stays_one_token() -> None:
    assert name_tokens("SUKARNO") == ["sukarno"]
    assert name_key("Sukarno") == "sukarno"


# --- titles and honorifics ---------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "H. Budi Santoso",
        "Hj. Budi Santoso",
        "Haji Budi Santoso",
        "Hajjah Budi Santoso",
        "Hadji Budi Santoso",
        "Drs. Budi Santoso",
        "Dra. Budi Santoso",
        "Dr. Budi Santoso",
        "Ir. Budi Santoso",
        "Prof. Budi Santoso",
        "Prof. Dr. Ir. H. Budi Santoso",
        "KH. Budi Santoso",
        "Almarhum Budi Santoso",
    ],
)
def test_prefix_titles_are_dropped(raw: str) -> None:
    assert normalize_name(raw) == "budi santoso"


@pytest.mark.parametrize(
    "degree",
    [
        "S.Pd.",
        "S.H.",
        "S.E.",
        "S.Kom.",
        "S.T.",
        "M.Si.",
        "M.M.",
        "M.Pd.",
        "Amd.",
        "A.Md.",
        "S.Ag.",
        "S.Sos.",
        "Lc.",
        "S.Pd.I",
        "M.H.",
        "S.Kep.",
        "M.Kes.",
    ],
)
def test_degrees_after_a_comma_are_dropped(degree: str) -> None:
    assert normalize_name(f"Budi Santoso, {degree}") == "budi santoso"


def test_several_degrees_are_dropped() -> None:
    assert normalize_name("Dr. Budi Santoso, S.H., M.H., M.M.") == "budi santoso"


def test_dotless_degrees_at_the_end_are_dropped() -> None:
    assert normalize_name("BUDI SANTOSO SH SE") == "budi santoso"


def test_title_glued_to_the_name_is_dropped() -> None:
    assert normalize_name("Hj.Siti Aminah") == "siti aminah"


def test_ambiguous_degree_that_ends_a_name_is_kept() -> None:
    # "Ma" is a Chinese-Indonesian surname as well as Magister Agama.
    assert normalize_name("Liem Ma") == "liem ma"
    assert normalize_name("Budi Santoso, M.A.") == "budi santoso"


def test_a_name_that_is_only_a_title_is_kept() -> None:
    assert normalize_name("Haji") == "haji"


# --- bin / binti and alias -----------------------------------------------------------


@pytest.mark.parametrize("marker", ["bin", "BIN", "bin.", "binti", "Binti", "bt", "bt.", "Bte"])
def test_patronym_is_split_off(marker: str) -> None:
    raw = f"Ahmad Fauzi {marker} Abdul Rahman"
    assert normalize_name(raw) == "ahmad fauzi"
    assert patronym(raw) == "abdul rahman"


def test_name_without_patronym_has_none() -> None:
    assert patronym("Ahmad Fauzi") == ""


def test_bin_as_the_first_word_is_part_of_the_name() -> None:
    assert normalize_name("Bin Laden") == "bin laden"


def test_alias_is_split_off() -> None:
    parsed = parse_name("BUDI ALS GEPENG BIN SLAMET")
    assert parsed.tokens == ("budi",)
    assert parsed.aliases == (("gepeng",),)
    assert parsed.patronym == ("slamet",)


def test_patronym_is_ignored_by_similarity() -> None:
    assert name_similarity("Budi Santoso bin Slamet", "Budi Santoso") == 1.0


# --- Muhammad, Abdul, Nur ----------------------------------------------------------


@pytest.mark.parametrize(
    "variant",
    [
        "Muhammad",
        "Muhamad",
        "Mohammad",
        "Mohamad",
        "Mohamed",
        "Moh.",
        "Moch.",
        "Mochammad",
        "Mochamad",
        "Muh.",
        "Mhd.",
        "Md.",
        "M.",
        "M",
        "MOCH",
        "Mohd.",
        "Moehammad",
    ],
)
def test_muhammad_variants_are_canonical(variant: str) -> None:
    assert normalize_name(f"{variant} Rizki") == "muhammad rizki"


def test_every_listed_muhammad_variant_is_canonical() -> None:
    assert {normalize_name(v) for v in MUHAMMAD_VARIANTS} == {"muhammad"}


def test_initial_glued_to_the_name_is_split() -> None:
    assert normalize_name("M.Rizki") == "muhammad rizki"
    assert normalize_name("H.M. Yusuf") == "muhammad yusuf"


@pytest.mark.parametrize("variant", ["Abdul", "Abd.", "Abd", "ABD", "Abdoel"])
def test_abdul_variants_are_canonical(variant: str) -> None:
    assert normalize_name(f"{variant} Rahman") == "abdul rahman"


@pytest.mark.parametrize("variant", ["Nur", "Nurul", "Noor", "Noer", "NURUL"])
def test_nur_variants_are_canonical(variant: str) -> None:
    assert normalize_name(f"{variant} Hidayah") == "nur hidayah"


# --- old spelling ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("Soeharto", "suharto"),  # oe -> u
        ("Djoko", "joko"),  # dj -> j
        ("Tjipto", "cipto"),  # tj -> c
        ("Njoman", "nyoman"),  # nj -> ny at the start
        ("Sjahrir", "syahrir"),  # sj -> sy
        ("Tjahjo", "cahyo"),  # a bare j in an old-spelled word -> y
        ("Soejono", "suyono"),
        ("Soedjono", "sujono"),  # the j of dj stays j
        ("Soenjoto", "sunyoto"),
        ("Djojohadikoesoemo", "joyohadikusumo"),
    ],
)
def test_old_spelling_is_modernised(old: str, new: str) -> None:
    assert normalize_name(old) == new


@pytest.mark.parametrize("modern", ["Panji", "Anjar", "Joko", "Sanjaya", "Jaya"])
def test_modern_spelling_with_j_or_nj_is_left_alone(modern: str) -> None:
    assert normalize_name(modern) == modern.lower()


def test_old_spelling_applies_per_token() -> None:
    assert normalize_name("Soekarno Panji") == "sukarno panji"


def test_modernise_spelling_is_idempotent() -> None:
    for word in ["ddjo", "tjoe", "oeoe", "sjdj", "njj"]:
        once = modernise_spelling(word)
        assert modernise_spelling(once) == once


# --- determinism and idempotence --------------------------------------------------------

REAL_NAMES = [
    "H. MOCH. DJOKO SOEPRAPTO, S.H.",
    "Hj. Siti Aminah binti H. Abdul Rahman",
    "Drs. H.M. Yusuf, M.Si.",
    "S.H. M.M.",
    "BUDI ALS GEPENG BIN SLAMET",
    "Mochamad Chairul Anam, A.Md.",
    "Liem Ma",
]


@pytest.mark.parametrize("raw", REAL_NAMES)
def test_normalisation_is_idempotent_on_real_names(raw: str) -> None:
    once = normalize_name(raw)
    assert normalize_name(once) == once


@settings(max_examples=300, derandomize=True, database=None)
@given(st.text(alphabet="abcdeghjklmnostu .,'-HMSPDJ", max_size=30))
def test_normalisation_is_idempotent(raw: str) -> None:
    once = normalize_name(raw)
    assert normalize_name(once) == once


def test_normalisation_is_deterministic() -> None:
    assert [normalize_name(n) for n in REAL_NAMES] == [normalize_name(n) for n in REAL_NAMES]


# --- keys ------------------------------------------------------------------------------------


def test_name_key_ignores_token_order() -> None:
    assert name_key("Rizki Pratama") == name_key("PRATAMA, Rizki") == "pratama rizki"


def test_phonetic_key_joins_spelling_variants() -> None:
    assert name_phonetic_key("Rizky Khairul") == name_phonetic_key("Rizki Chairul")
    assert name_phonetic_key("Slamet") == name_phonetic_key("Selamet")
    assert name_phonetic_key("Hassan") == name_phonetic_key("Hasan")
    assert name_phonetic_key("Fitri") == name_phonetic_key("Pitri")


def test_phonetic_key_keeps_different_names_apart() -> None:
    assert name_phonetic_key("Budi") != name_phonetic_key("Agus")


def test_token_skeleton_keeps_the_first_letter() -> None:
    assert token_skeleton("agus") == "ags"
    assert token_skeleton("") == ""


def test_informative_tokens_skip_common_names_and_initials() -> None:
    assert informative_tokens(("muhammad", "r", "siti", "pratama")) == ("pratama",)


# --- similarity --------------------------------------------------------------------------


def test_identical_names_score_one() -> None:
    assert name_similarity("Budi Santoso", "BUDI SANTOSO") == 1.0


def test_swapped_tokens_score_one() -> None:
    assert name_similarity("Rizki Pratama", "Pratama Rizki") == 1.0


def test_muhammad_initial_scores_one() -> None:
    assert name_similarity("M. Rizki", "Muhammad Rizki") == 1.0


def test_missing_middle_token_scores_high() -> None:
    assert name_similarity("Muhammad Rizki Pratama", "Muhammad Pratama") >= 0.9
    assert name_similarity("Dewi Lestari Ningsih", "Dewi Ningsih") >= 0.9


def test_initial_for_a_token_scores_high() -> None:
    assert name_similarity("Rizki A.", "Rizki Andriansyah") >= 0.9


def test_single_word_inside_a_longer_name_is_only_close() -> None:
    assert 0.8 <= name_similarity("Budi", "Budi Santoso") < 0.9


def test_shared_common_token_alone_scores_low() -> None:
    assert name_similarity("Siti Aminah", "Siti Rahayu") < 0.5
    assert name_similarity("Siti", "Siti Aminah") <= 0.6
    assert name_similarity("Muhammad Ali", "Muhammad Adi") < 0.5


def test_one_letter_typo_in_a_long_token_scores_high() -> None:
    assert name_similarity("Zainal Santoso", "Zainal Saotoso") >= 0.9
    assert name_similarity("Muhammad Rizki", "Muhammad Rizky") >= 0.9


def test_short_names_one_letter_apart_are_different() -> None:
    assert name_similarity("Rina Wati", "Rini Wati") < 0.8


def test_spelling_variants_score_high() -> None:
    assert name_similarity("Khairul Anam", "Chairul Anam") >= 0.95
    assert name_similarity("Ahmad Fauzi", "Achmad Fauzi") >= 0.95
    assert name_similarity("Slamet Riyadi", "Selamet Riyadi") >= 0.95


def test_written_with_or_without_a_space_scores_high() -> None:
    assert name_similarity("Nur Hayati", "Nurhayati") >= 0.95
    assert name_similarity("Abdul Rahman", "Abdurrahman") >= 0.9


def test_different_people_score_low() -> None:
    assert name_similarity("Budi Santoso", "Agus Prasetyo") < 0.3
    assert name_similarity("Agus Santoso", "Agus Susanto") < 0.8


def test_empty_name_scores_zero() -> None:
    assert name_similarity("", "Budi") == 0.0
    assert name_similarity(None, None) == 0.0


def test_similarity_is_symmetric_and_bounded() -> None:
    pairs = [
        ("Muhammad Rizki Pratama", "M. Rizky"),
        ("Siti Nur Aminah", "Aminah"),
        ("Budi", "Budi Santoso Wibowo"),
    ]
    for a, b in pairs:
        assert name_similarity(a, b) == name_similarity(b, a)
        assert 0.0 <= name_similarity(a, b) <= 1.0


def test_token_similarity_handles_initials() -> None:
    assert token_similarity("a", "andi") == 0.9
    assert token_similarity("b", "andi") == 0.0
