"""NIK module: normalisation, decoding and the warnings a record gets."""

import datetime

import pytest

from inmates import nik
from inmates.nik import NikWarning

VALID_MALE = "3316011708900001"  # Jati, Blora; 17-08-1990; male
VALID_FEMALE = "3316015708900002"  # same date, day + 40 = 57: female


def test_normalize_keeps_a_clean_nik():
    assert nik.normalize(VALID_MALE) == VALID_MALE


@pytest.mark.parametrize(
    "raw",
    [
        " 3316011708900001 ",
        "'3316011708900001",
        "3316 0117 0890 0001",
        "33.16.01.170890.0001",
        "3316-0117-0890-0001",
        '="3316011708900001"',
    ],
)
def test_normalize_strips_spreadsheet_habits(raw):
    assert nik.normalize(raw) == VALID_MALE


@pytest.mark.parametrize("raw", [None, "", "   ", "'"])
def test_normalize_reads_empty_as_missing(raw):
    assert nik.normalize(raw) is None


@pytest.mark.parametrize("raw", ["331601170890001", "33160117089000012"])
def test_normalize_rejects_wrong_length_and_says_how_many(raw):
    with pytest.raises(nik.NikError) as exc:
        nik.normalize(raw)
    assert exc.value.code == "wrong_length"
    assert str(len(raw)) in exc.value.message


def test_normalize_rejects_letters():
    with pytest.raises(nik.NikError) as exc:
        nik.normalize("33160117089O0001")
    assert exc.value.code == "not_digits"


@pytest.mark.parametrize(
    "raw",
    [
        3.31601170890000e15,
        3316011708900001,
        "3.31601E+15",
        "3,31601E+15",
        "3316011708900001.0",
        "3.316.011.708.900.000",
        "3,316,011,708,900,000",
    ],
)
def test_normalize_rejects_a_nik_stored_as_a_number(raw):
    with pytest.raises(nik.NikError) as exc:
        nik.normalize(raw)
    assert exc.value.code == "stored_as_number"
    assert "Text" in exc.value.message or "Teks" in exc.value.message


def test_decode_reads_region_birth_date_and_sex():
    info = nik.decode(VALID_MALE)
    assert info.province_code == "33"
    assert info.regency_code == "33.16"
    assert info.district_code == "33.16.01"
    assert info.birth_date == datetime.date(1990, 8, 17)
    assert info.sex == "L"
    assert info.serial == "0001"


def test_decode_subtracts_forty_from_the_day_for_women():
    info = nik.decode(VALID_FEMALE)
    assert info.sex == "P"
    assert info.birth_date == datetime.date(1990, 8, 17)


def test_decode_gives_no_date_for_an_impossible_date():
    assert nik.decode("3316013102900001").birth_date is None  # 31 February


def test_consistent_record_has_no_warnings():
    warnings = nik.warnings_for(
        VALID_FEMALE, birth_date=datetime.date(1990, 8, 17), sex="P", district_exists=lambda code: True
    )
    assert warnings == []


def test_birth_date_mismatch_is_a_warning():
    warnings = nik.warnings_for(VALID_MALE, birth_date=datetime.date(1990, 8, 18), sex="L")
    assert warnings == [NikWarning.BIRTH_DATE_MISMATCH]


def test_sex_mismatch_is_a_warning():
    warnings = nik.warnings_for(VALID_MALE, birth_date=datetime.date(1990, 8, 17), sex="P")
    assert warnings == [NikWarning.SEX_MISMATCH]


def test_unknown_region_is_a_warning():
    warnings = nik.warnings_for(
        VALID_MALE, birth_date=datetime.date(1990, 8, 17), district_exists=lambda c: False
    )
    assert warnings == [NikWarning.UNKNOWN_REGION]


def test_invalid_date_part_is_a_warning():
    assert nik.warnings_for("3316013102900001") == [NikWarning.INVALID_DATE]


def test_missing_nik_is_a_warning():
    assert nik.warnings_for(None) == [NikWarning.MISSING]


@pytest.mark.parametrize(
    "junk", ["3333333333333333", "3316010000000000", "3316011708900000", "0000000000000000"]
)
def test_junk_patterns_are_flagged(junk):
    assert NikWarning.JUNK in nik.warnings_for(junk)


def test_junk_nkk_is_flagged_beside_a_good_nik():
    warnings = nik.warnings_for(VALID_MALE, birth_date=datetime.date(1990, 8, 17), nkk="1111111111111111")
    assert warnings == [NikWarning.NKK_JUNK]


def test_two_digit_year_matches_a_recorded_birth_in_either_century():
    assert nik.warnings_for("3316010101050001", birth_date=datetime.date(2005, 1, 1)) == []
    assert nik.warnings_for("3316010101650001", birth_date=datetime.date(1965, 1, 1)) == []
