"""Which ballots a voter gets at the Rutan Blora TPS (UU 7/2017 art. 348(4)),
and how many ballots a TPS needs (art. 344(2)) - tps/entitlement.py.

Region codes are Kemendagri codes. The dapil maps below are test fixtures
shaped like the real ones, not official dapil data.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.test_eligibility import english, fragment_translations
from tps.entitlement import (
    BUPATI_WALIKOTA,
    DPD,
    DPR,
    DPRD_KABKOTA,
    DPRD_PROV,
    GUBERNUR,
    PEMILU_BALLOT_TYPES,
    PILKADA_BALLOT_TYPES,
    PPWP,
    BallotDecision,
    Entitlement,
    EntitlementReason,
    ballots_for,
    entitlement,
)

ENTITLED = Entitlement.ENTITLED
NOT_ENTITLED = Entitlement.NOT_ENTITLED
UNKNOWN = Entitlement.UNKNOWN

# Rutan Kelas IIB Blora: Kel. Kauman, Kec. Blora, Kab. Blora, Jawa Tengah.
BLORA_TPS = "33.16.09.1013"
BLORA_TOWN_VILLAGE = "33.16.09.2001"  # Jepangrejo, Kec. Blora
CEPU_VILLAGE = "33.16.05.2001"  # Gadon, Kec. Cepu: Blora, other DPRD Kab dapil
PATI_VILLAGE = "33.18.01.2001"  # Prawoto, Kec. Sukolilo, Kab. Pati
REMBANG = "33.17"
BOJONEGORO = "35.22"  # Jawa Timur

DAPILS = {
    # Blora and Pati share a DPR dapil ...
    DPR: {"33.15": "JATENG III", "33.16": "JATENG III", "33.17": "JATENG III", "33.18": "JATENG III"},
    # ... but not a DPRD Provinsi dapil, so the two are decided separately.
    DPRD_PROV: {"33.15": "JATENG 7", "33.16": "JATENG 7", "33.17": "JATENG 6", "33.18": "JATENG 6"},
    DPRD_KABKOTA: {
        "33.16.09": "BLORA 1",
        "33.16.10": "BLORA 1",
        "33.16.05": "BLORA 3",
        "33.16.06": "BLORA 3",
    },
}


def decisions(home: str | None, ballot_types=PEMILU_BALLOT_TYPES, dapils=DAPILS) -> dict[str, tuple]:
    result = entitlement(home, BLORA_TPS, ballot_types, dapils)
    return {ballot: (decision.status, decision.reason) for ballot, decision in result.decisions.items()}


# -------------------------------------------------------------- art. 348(4)


def test_blora_voter_at_the_blora_tps_gets_all_five_ballots() -> None:
    result = entitlement(BLORA_TOWN_VILLAGE, BLORA_TPS, PEMILU_BALLOT_TYPES, DAPILS)
    assert result.entitled == [PPWP, DPR, DPD, DPRD_PROV, DPRD_KABKOTA]


def test_blora_voter_from_another_dprd_kabkota_dapil_loses_only_that_ballot() -> None:
    assert decisions(CEPU_VILLAGE) == {
        PPWP: (ENTITLED, None),
        DPR: (ENTITLED, None),
        DPD: (ENTITLED, None),
        DPRD_PROV: (ENTITLED, None),
        DPRD_KABKOTA: (NOT_ENTITLED, EntitlementReason.OTHER_DAPIL),
    }


def test_bojonegoro_voter_in_blora_gets_the_presidential_ballot_only() -> None:
    assert decisions(BOJONEGORO + ".01.2001") == {
        PPWP: (ENTITLED, None),
        DPR: (NOT_ENTITLED, EntitlementReason.OTHER_PROVINCE),
        DPD: (NOT_ENTITLED, EntitlementReason.OTHER_PROVINCE),
        DPRD_PROV: (NOT_ENTITLED, EntitlementReason.OTHER_PROVINCE),
        DPRD_KABKOTA: (NOT_ENTITLED, EntitlementReason.OTHER_PROVINCE),
    }


def test_pati_voter_in_the_same_dpr_dapil_gets_ppwp_dpd_and_dpr() -> None:
    assert decisions(PATI_VILLAGE) == {
        PPWP: (ENTITLED, None),
        DPR: (ENTITLED, None),
        DPD: (ENTITLED, None),
        DPRD_PROV: (NOT_ENTITLED, EntitlementReason.OTHER_DAPIL),
        DPRD_KABKOTA: (NOT_ENTITLED, EntitlementReason.OTHER_REGENCY),
    }


def test_pati_voter_in_the_same_dprd_provinsi_dapil_gets_that_ballot() -> None:
    dapils = {**DAPILS, DPRD_PROV: {**DAPILS[DPRD_PROV], "33.18": "JATENG 7"}}
    assert decisions(PATI_VILLAGE, [DPRD_PROV], dapils) == {DPRD_PROV: (ENTITLED, None)}


def test_pati_voter_in_another_dpr_dapil_gets_ppwp_and_dpd_only() -> None:
    dapils = {**DAPILS, DPR: {**DAPILS[DPR], "33.18": "JATENG II"}}
    result = entitlement(PATI_VILLAGE, BLORA_TPS, PEMILU_BALLOT_TYPES, dapils)
    assert result.entitled == [PPWP, DPD]
    assert result[DPR] == BallotDecision(DPR, NOT_ENTITLED, EntitlementReason.OTHER_DAPIL)


def test_each_ballot_type_is_decided_on_its_own() -> None:
    # The same Rembang voter: DPR yes (JATENG III), DPRD Provinsi no (JATENG 6).
    result = entitlement(REMBANG, BLORA_TPS, [DPR, DPRD_PROV], DAPILS)
    assert (result.status(DPR), result.status(DPRD_PROV)) == (ENTITLED, NOT_ENTITLED)


# ---------------------------------------------------------------- Pilkada


def test_blora_voter_gets_both_pilkada_ballots() -> None:
    result = entitlement(BLORA_TOWN_VILLAGE, BLORA_TPS, PILKADA_BALLOT_TYPES, {})
    assert result.entitled == [GUBERNUR, BUPATI_WALIKOTA]


def test_pati_voter_in_blora_gets_the_governor_ballot_only() -> None:
    assert decisions(PATI_VILLAGE, PILKADA_BALLOT_TYPES, {}) == {
        GUBERNUR: (ENTITLED, None),
        BUPATI_WALIKOTA: (NOT_ENTITLED, EntitlementReason.OTHER_REGENCY),
    }


def test_bojonegoro_voter_in_blora_gets_no_pilkada_ballot() -> None:
    result = entitlement(BOJONEGORO, BLORA_TPS, PILKADA_BALLOT_TYPES, {})
    assert result.not_entitled == [GUBERNUR, BUPATI_WALIKOTA]


# ---------------------------------------------------------- never guess


def test_voter_with_unknown_domicile_gets_ppwp_and_every_other_ballot_unknown() -> None:
    assert decisions(None) == {
        PPWP: (ENTITLED, None),
        DPR: (UNKNOWN, EntitlementReason.UNKNOWN_DOMICILE),
        DPD: (UNKNOWN, EntitlementReason.UNKNOWN_DOMICILE),
        DPRD_PROV: (UNKNOWN, EntitlementReason.UNKNOWN_DOMICILE),
        DPRD_KABKOTA: (UNKNOWN, EntitlementReason.UNKNOWN_DOMICILE),
    }


@pytest.mark.parametrize("home", ["", "3316092001", "33.16.9", "Blora"])
def test_a_domicile_that_is_not_a_kemendagri_code_counts_as_unknown(home: str) -> None:
    assert decisions(home, [DPD]) == {DPD: (UNKNOWN, EntitlementReason.UNKNOWN_DOMICILE)}


def test_surrounding_spaces_in_a_domicile_code_are_ignored() -> None:
    assert entitlement(" 33.16.09.2001 ", BLORA_TPS, [DPRD_KABKOTA], DAPILS).entitled == [DPRD_KABKOTA]


def test_province_only_domicile_decides_province_ballots_and_no_more() -> None:
    assert decisions("33", [*PEMILU_BALLOT_TYPES, *PILKADA_BALLOT_TYPES]) == {
        PPWP: (ENTITLED, None),
        DPR: (UNKNOWN, EntitlementReason.DOMICILE_TOO_COARSE),
        DPD: (ENTITLED, None),
        DPRD_PROV: (UNKNOWN, EntitlementReason.DOMICILE_TOO_COARSE),
        DPRD_KABKOTA: (UNKNOWN, EntitlementReason.DOMICILE_TOO_COARSE),
        GUBERNUR: (ENTITLED, None),
        BUPATI_WALIKOTA: (UNKNOWN, EntitlementReason.DOMICILE_TOO_COARSE),
    }


def test_province_only_domicile_in_another_province_is_a_definite_no() -> None:
    result = entitlement("35", BLORA_TPS, PEMILU_BALLOT_TYPES, DAPILS)
    assert result.entitled == [PPWP]
    assert result.not_entitled == [DPR, DPD, DPRD_PROV, DPRD_KABKOTA]


def test_regency_only_domicile_is_too_coarse_for_a_district_dapil() -> None:
    assert decisions("33.16") == {
        PPWP: (ENTITLED, None),
        DPR: (ENTITLED, None),
        DPD: (ENTITLED, None),
        DPRD_PROV: (ENTITLED, None),
        DPRD_KABKOTA: (UNKNOWN, EntitlementReason.DOMICILE_TOO_COARSE),
    }


def test_missing_dapil_map_for_a_contest_leaves_that_ballot_unknown() -> None:
    dapils = {key: value for key, value in DAPILS.items() if key != DPR}
    assert decisions(BLORA_TOWN_VILLAGE, [DPR], dapils) == {
        DPR: (UNKNOWN, EntitlementReason.DAPIL_NOT_CONFIGURED)
    }


def test_home_regency_missing_from_the_dapil_map_leaves_the_ballot_unknown() -> None:
    # Kota Semarang (33.74) is in Jawa Tengah but not in the fixture.
    assert decisions("33.74.01.1001", [DPR]) == {DPR: (UNKNOWN, EntitlementReason.DAPIL_NOT_CONFIGURED)}


def test_tps_regency_missing_from_the_dapil_map_leaves_the_ballot_unknown() -> None:
    dapils = {DPR: {"33.18": "JATENG III"}}
    assert decisions(PATI_VILLAGE, [DPR], dapils) == {DPR: (UNKNOWN, EntitlementReason.DAPIL_NOT_CONFIGURED)}


def test_a_ballot_for_another_province_needs_no_dapil_to_be_refused() -> None:
    assert decisions(BOJONEGORO, [DPR], {}) == {DPR: (NOT_ENTITLED, EntitlementReason.OTHER_PROVINCE)}


def test_regency_split_between_dapils_is_decided_by_district() -> None:
    # A regency mapped as a whole, with one district belonging elsewhere.
    dapils = {DPR: {"33.16": "JATENG III", "33.16.05": "JATENG IX"}}
    assert decisions(CEPU_VILLAGE, [DPR], dapils) == {DPR: (NOT_ENTITLED, EntitlementReason.OTHER_DAPIL)}
    assert decisions(BLORA_TOWN_VILLAGE, [DPR], dapils) == {DPR: (ENTITLED, None)}


def test_regency_only_domicile_in_a_split_regency_is_too_coarse() -> None:
    dapils = {DPR: {"33.16": "JATENG III", "33.16.05": "JATENG IX"}}
    assert decisions("33.16", [DPR], dapils) == {DPR: (UNKNOWN, EntitlementReason.DOMICILE_TOO_COARSE)}


def test_result_lists_unknown_ballots_and_is_not_complete() -> None:
    result = entitlement("33", BLORA_TPS, PEMILU_BALLOT_TYPES, DAPILS)
    assert result.unknown == [DPR, DPRD_PROV, DPRD_KABKOTA]
    assert not result.is_complete


def test_fully_decided_result_is_complete() -> None:
    assert entitlement(BOJONEGORO, BLORA_TPS, PEMILU_BALLOT_TYPES, DAPILS).is_complete


# ------------------------------------------------------------- the request


def test_only_the_requested_ballot_types_are_decided_in_the_order_given() -> None:
    result = entitlement(BLORA_TOWN_VILLAGE, BLORA_TPS, [DPD, PPWP, DPD], DAPILS)
    assert list(result.decisions) == [DPD, PPWP]


def test_an_unknown_ballot_type_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown ballot type 'DPRD'"):
        entitlement(BLORA_TOWN_VILLAGE, BLORA_TPS, ["DPRD"], DAPILS)


@pytest.mark.parametrize("tps_code", ["33.16", "33", "3316091013", "", "33.16.09.13"])
def test_a_tps_code_coarser_than_a_district_or_malformed_is_an_error(tps_code: str) -> None:
    with pytest.raises(ValueError, match="TPS region code"):
        entitlement(BLORA_TOWN_VILLAGE, tps_code, [PPWP], DAPILS)


def test_module_constants_are_the_ballot_type_codes() -> None:
    assert PEMILU_BALLOT_TYPES == ("PPWP", "DPR", "DPD", "DPRD_PROV", "DPRD_KABKOTA")
    assert PILKADA_BALLOT_TYPES == ("GUBERNUR", "BUPATI_WALIKOTA")


# ------------------------------------------------------------------ ballots


def test_a_300_voter_tps_gets_306_ballots() -> None:
    assert ballots_for(300, Decimal("0.02")) == (6, 306)


def test_the_reserve_rounds_up() -> None:
    assert ballots_for(301, Decimal("0.02")) == (7, 308)


def test_an_exact_reserve_is_not_rounded_up_further() -> None:
    assert ballots_for(50, Decimal("0.02")) == (1, 51)


def test_a_single_voter_still_gets_a_reserve_ballot() -> None:
    assert ballots_for(1, Decimal("0.02")) == (1, 2)


def test_no_voters_need_no_ballots() -> None:
    assert ballots_for(0, Decimal("0.02")) == (0, 0)


def test_the_reserve_rate_is_configurable() -> None:
    assert ballots_for(300, Decimal("0.025")) == (8, 308)


def test_a_zero_reserve_rate_gives_the_voter_count() -> None:
    assert ballots_for(155, Decimal(0)) == (0, 155)


def test_a_float_rate_is_refused_because_it_is_inexact() -> None:
    with pytest.raises(TypeError, match="Decimal"):
        ballots_for(300, 0.02)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("voters", "rate"), [(-1, Decimal("0.02")), (300, Decimal("-0.02")), (300, Decimal("NaN"))]
)
def test_negative_or_nonsense_inputs_are_refused(voters: int, rate: Decimal) -> None:
    with pytest.raises(ValueError):
        ballots_for(voters, rate)


@settings(database=None, deadline=None)
@given(
    voters=st.integers(min_value=0, max_value=1_000_000),
    rate=st.decimals(min_value=0, max_value=1, places=4, allow_nan=False, allow_infinity=False),
)
def test_the_reserve_is_the_smallest_whole_number_covering_the_rate(voters: int, rate: Decimal) -> None:
    reserve, total = ballots_for(voters, rate)
    assert reserve - 1 < voters * rate <= reserve
    assert total == voters + reserve


# ------------------------------------------------------------------ i18n


@pytest.mark.parametrize("choice", [*Entitlement, *EntitlementReason], ids=str)
def test_every_entitlement_label_has_an_indonesian_translation(choice: object) -> None:
    msgid = english(choice.label)  # type: ignore[attr-defined]
    assert fragment_translations().get(msgid, msgid) != msgid
