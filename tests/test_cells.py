"""Cell parsers: what an office clerk types into Excel, and what the importer makes of it."""

from __future__ import annotations

import contextlib
import datetime

import pytest
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from voterreg.spreadsheets import (
    MONTHS,
    CellError,
    ColumnSpec,
    build_choices,
    parse_bool,
    parse_choice,
    parse_date,
    parse_int,
    parse_nik,
    parse_nkk,
    parse_region_code,
    parse_sex,
    parse_text,
)

NIK = "3316010101900001"


@pytest.fixture
def english():
    """Message texts are checked in English (msgids); Indonesian is tested with the .po file."""
    with translation.override("en"):
        yield


def error_of(parser, value, **kwargs) -> CellError:
    with pytest.raises(CellError) as caught:
        parser(value, **kwargs)
    return caught.value


# --- NIK / NKK ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        NIK,
        f"  {NIK}\t",
        "3316 0101 0190 0001",
        "3316.0101.0190.0001",
        "3316-0101-0190-0001",
        "33.16.01 010190 0001",
        f"'{NIK}",
        f"\u00a0{NIK}\u00a0",
        "３３１６０１０１０１９００００１",  # full-width digits from some Asian IMEs
    ],
)
def test_nik_is_normalised_to_16_digits(value):
    assert parse_nik(value) == NIK


@pytest.mark.parametrize("value", [None, "", "   ", "'"])
def test_empty_nik_is_none(value):
    assert parse_nik(value) is None


@pytest.mark.parametrize("value", [3316010101900001.0, 3316010101900000, 331601.0, 12345])
def test_nik_stored_as_a_number_is_refused(value):
    # Excel keeps 15 significant digits: a numeric NIK cell cannot be trusted,
    # whatever its digit count, so the user must retype it in a Text column.
    assert error_of(parse_nik, value).code == "nik_numeric"


@pytest.mark.parametrize(
    "value", ["3.31601E+15", "3,31601E+15", "3.31601e15", "3316010101900001.0", "3316010101900000,00"]
)
def test_nik_in_scientific_or_float_text_is_refused(value):
    assert error_of(parse_nik, value).code == "nik_numeric"


def test_numeric_nik_message_says_to_format_the_column_as_text(english):
    message = error_of(parse_nik, 3316010101900001.0).message

    assert ("3.31601E+15" in message, "Text" in message) == (True, True)


def test_short_nik_message_gives_the_digit_count():
    error = error_of(parse_nik, "331601010190000")

    assert (error.code, error.params["count"]) == ("nik_length", 15)


def test_long_nik_is_refused():
    assert error_of(parse_nik, NIK + "1").code == "nik_length"


@pytest.mark.parametrize("value", ["33160101019O0001", "TIDAK ADA", "-", "3316010101900001/2"])
def test_nik_with_other_characters_is_refused(value):
    assert error_of(parse_nik, value).code == "nik_characters"


def test_boolean_nik_is_refused():
    assert error_of(parse_nik, True).code == "nik_characters"


def test_nkk_errors_name_the_nkk_column(english):
    assert error_of(parse_nkk, "123").message.startswith("NKK ")


def test_nik_column_name_can_be_overridden(english):
    assert error_of(parse_nik, "123", column="NIK Ayah").message.startswith("NIK Ayah ")


@settings(max_examples=300, database=None)
@given(st.one_of(st.text(max_size=40), st.floats(), st.integers(), st.none(), st.booleans()))
def test_nik_parser_returns_16_digits_none_or_cell_error(value):
    try:
        result = parse_nik(value)
    except CellError:
        return
    assert result is None or (len(result) == 16 and result.isascii() and result.isdigit())


# --- dates ------------------------------------------------------------------------------

AUG_17 = datetime.date(1985, 8, 17)


@pytest.mark.parametrize(
    "value",
    [
        "17-08-1985",
        "17/08/1985",
        "17.08.1985",
        "17-8-1985",
        "1985-08-17",
        "1985/08/17",
        "1985-08-17 00:00:00",
        "1985-08-17T00:00:00",
        "17-08-1985 10:30",
        "17 Agustus 1985",
        "17 AGUSTUS 1985",
        "17 Agt 1985",
        "17 Ags 1985",
        "17 Agst 1985",
        "17-Agu-1985",
        "17 Agu. 1985",
        "17 August 1985",
        "17 Aug 1985",
        "17-Aug-1985",
        "August 17, 1985",
        "Aug 17th, 1985",
        "Sabtu, 17 Agustus 1985",
        " 17  Agustus  1985 ",
        "'17-08-1985",
    ],
)
def test_date_text_forms(value):
    assert parse_date(value) == AUG_17


def test_ambiguous_numeric_date_is_day_first():
    assert parse_date("03/04/1990") == datetime.date(1990, 4, 3)


def test_date_cell_is_taken_as_is():
    assert parse_date(AUG_17) == AUG_17


def test_datetime_cell_drops_the_time():
    assert parse_date(datetime.datetime(1985, 8, 17, 13, 45)) == AUG_17


@pytest.mark.parametrize("serial", [31276, 31276.0, 31276.75])
def test_excel_serial_number_is_a_date(serial):
    assert parse_date(serial) == AUG_17


def test_excel_serial_before_march_1900_allows_for_the_leap_year_bug():
    assert parse_date(59, min_year=1900) == datetime.date(1900, 2, 28)


@pytest.mark.parametrize("value", [None, "", "  "])
def test_empty_date_is_none(value):
    assert parse_date(value) is None


@pytest.mark.parametrize("value", ["17-08-85", "17/08/85", "17.8.85", "17 Agustus 85", "17-Agu-85"])
def test_two_digit_year_is_refused(value):
    assert error_of(parse_date, value).code == "date_two_digit_year"


@pytest.mark.parametrize("value", ["31-02-1985", "29-02-1985", "17-13-1985", "00-01-1985", "1985-02-30"])
def test_impossible_date_is_refused(value):
    assert error_of(parse_date, value).code == "date_invalid"


def test_month_words_the_day_cannot_hold_are_refused():
    assert error_of(parse_date, "31 Februari 1985").code == "date_invalid"


@pytest.mark.parametrize(
    "value",
    [
        "kemarin",
        "17 Foo 1985",
        "17081985",
        "1985",
        "17-08/1985",
        "17 Agustus 19850",
        datetime.time(10, 0),
        True,
    ],
)
def test_unreadable_date_is_refused(value):
    assert error_of(parse_date, value).code == "date_format"


def test_date_error_lists_the_accepted_formats(english):
    message = error_of(parse_date, "kemarin").message

    assert all(form in message for form in ("DD-MM-YYYY", "YYYY-MM-DD", "17 Agustus 1985"))


@pytest.mark.parametrize("year", [1985, 1985.0])
def test_a_bare_year_number_is_not_taken_for_a_serial(year):
    assert error_of(parse_date, year).code == "date_year_only"


def test_date_outside_the_year_range_is_refused():
    assert error_of(parse_date, "17-08-1850").code == "date_range"


def test_year_range_is_configurable():
    assert parse_date("17-08-1850", min_year=1800) == datetime.date(1850, 8, 17)


@pytest.mark.parametrize("value", [0, -5, 3_000_000, float("nan"), float("inf")])
def test_impossible_serial_is_refused(value):
    assert error_of(parse_date, value).code == "date_format"


@pytest.mark.parametrize(
    ("name", "month"),
    [
        ("Januari", 1), ("Jan", 1), ("Februari", 2), ("Feb", 2), ("Pebruari", 2), ("Peb", 2), ("Maret", 3),
        ("Mar", 3), ("April", 4), ("Apr", 4), ("Mei", 5), ("Juni", 6), ("Jun", 6), ("Juli", 7), ("Jul", 7),
        ("Agustus", 8), ("Agu", 8), ("Agt", 8), ("Ags", 8), ("Agst", 8), ("September", 9), ("Sep", 9),
        ("Sept", 9), ("Oktober", 10), ("Okt", 10), ("November", 11), ("Nov", 11), ("Nop", 11),
        ("Nopember", 11), ("Desember", 12), ("Des", 12), ("January", 1), ("February", 2), ("March", 3),
        ("May", 5), ("June", 6), ("July", 7), ("August", 8), ("Aug", 8), ("October", 10), ("Oct", 10),
        ("December", 12), ("Dec", 12),
    ],
)  # fmt: skip
def test_month_names(name, month):
    assert parse_date(f"1 {name} 1990") == datetime.date(1990, month, 1)


def test_every_month_name_maps_to_a_month():
    assert set(MONTHS.values()) == set(range(1, 13))


@settings(max_examples=300, database=None)
@given(st.one_of(st.text(max_size=40), st.floats(), st.integers(), st.none(), st.dates(), st.datetimes()))
def test_date_parser_returns_date_none_or_cell_error(value):
    try:
        result = parse_date(value)
    except CellError:
        return
    assert result is None or type(result) is datetime.date


# --- sex --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("L", "L"), ("l", "L"), (" L ", "L"), ("Laki-laki", "L"), ("LAKI-LAKI", "L"), ("Laki Laki", "L"),
        ("laki laki", "L"), ("Lelaki", "L"), ("Pria", "L"), ("LK", "L"), ("M", "L"), ("Male", "L"),
        ("P", "P"), ("p", "P"), ("Perempuan", "P"), ("PEREMPUAN", "P"), ("Wanita", "P"), ("PR", "P"),
        ("F", "P"), ("Female", "P"),
    ],
)  # fmt: skip
def test_sex_synonyms(value, expected):
    assert parse_sex(value) == expected


@pytest.mark.parametrize("value", [None, "", " "])
def test_empty_sex_is_none(value):
    assert parse_sex(value) is None


@pytest.mark.parametrize("value", ["X", "Banci", 1.0, True])
def test_unknown_sex_is_refused(value):
    assert error_of(parse_sex, value).code == "sex_invalid"


def test_sex_error_says_what_to_write(english):
    assert "L (laki-laki) or P (perempuan)" in error_of(parse_sex, "X").message


# --- region codes ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("33", "33"),
        ("33.16", "33.16"),
        ("33.16.01", "33.16.01"),
        ("33.16.01.2001", "33.16.01.2001"),
        ("3316", "33.16"),
        ("331601", "33.16.01"),
        ("3316012001", "33.16.01.2001"),
        (" 33.16.01.2001 ", "33.16.01.2001"),
        ("'331601", "33.16.01"),
        ("33 16 01", "33.16.01"),
        ("33-16-01-2001", "33.16.01.2001"),
        (331601, "33.16.01"),
        (3316012001.0, "33.16.01.2001"),
        (33.0, "33"),
    ],
)
def test_region_code_forms(value, expected):
    assert parse_region_code(value) == expected


@pytest.mark.parametrize(
    "value", ["3", "331", "33160", "3316012", "33.1.6", "33.16.1", "33.16.01.201", "Blora", True]
)
def test_malformed_region_code_is_refused(value):
    assert error_of(parse_region_code, value).code == "region_format"


def test_region_code_that_excel_made_a_decimal_is_refused():
    # "33.10" typed into a General cell becomes the number 33.1.
    assert error_of(parse_region_code, 33.1).code == "region_numeric"


@pytest.mark.parametrize("value", [None, "", " "])
def test_empty_region_code_is_none(value):
    assert parse_region_code(value) is None


# --- choices and booleans -------------------------------------------------------------

CUSTODY = build_choices(
    {"tahanan": ["Tahanan", "Tahanan (belum vonis)"], "narapidana": ["Narapidana", "Napi"]}
)


@pytest.mark.parametrize(
    ("value", "expected"), [("Tahanan", "tahanan"), ("NAPI", "narapidana"), (" narapidana ", "narapidana")]
)
def test_choice_synonyms(value, expected):
    assert parse_choice(value, CUSTODY) == expected


def test_choice_built_from_integral_number_cell():
    assert parse_choice(3.0, build_choices({"3": ["Mental"]})) == "3"


def test_unknown_choice_lists_the_values():
    assert error_of(parse_choice, "Bebas", choices=CUSTODY).params["choices"] == "tahanan, narapidana"


def test_unknown_choice_lists_given_labels():
    error = error_of(parse_choice, "Bebas", choices=CUSTODY, labels=["Tahanan", "Narapidana"])

    assert error.params["choices"] == "Tahanan, Narapidana"


def test_empty_choice_is_none():
    assert parse_choice("", CUSTODY) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Ya", True), ("YA", True), ("Y", True), ("yes", True), ("1", True), (1, True), (1.0, True),
        ("true", True), ("TRUE", True), (True, True),
        ("Tidak", False), ("T", False), ("no", False), ("N", False), ("0", False), (0, False),
        ("false", False), (False, False),
    ],
)  # fmt: skip
def test_bool_synonyms(value, expected):
    assert parse_bool(value) is expected


def test_unknown_bool_is_refused():
    assert error_of(parse_bool, "mungkin").code == "bool_invalid"


def test_empty_bool_is_none():
    assert parse_bool(" ") is None


# --- text --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("  BUDI   SANTOSO ", "BUDI SANTOSO"),
        ("BUDI\nSANTOSO", "BUDI SANTOSO"),
        ("BUDI\u00a0SANTOSO", "BUDI SANTOSO"),
        ("BU\u200bDI", "BUDI"),
        ("'=1+1", "=1+1"),
        ("' 007", "007"),
        ("O'BRIEN", "O'BRIEN"),
        (5.0, "5"),
        (5.5, "5.5"),
        (12, "12"),
        (datetime.date(1985, 8, 17), "17-08-1985"),
    ],
)
def test_text_is_cleaned(value, expected):
    assert parse_text(value) == expected


@pytest.mark.parametrize("value", [None, "", "   "])
def test_empty_text_is_an_empty_string(value):
    assert parse_text(value) == ""


def test_text_longer_than_allowed_is_refused():
    error = error_of(parse_text, "x" * 101, max_length=100)

    assert (error.code, error.params["length"]) == ("text_too_long", 101)


def test_text_length_is_measured_after_cleaning():
    assert parse_text("  " + "x" * 100 + "  ", max_length=100) == "x" * 100


# --- integers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"), [(5, 5), (5.0, 5), ("5", 5), (" +5 ", 5), ("-3", -3), ("12.0", 12), ("'7", 7)]
)
def test_int_forms(value, expected):
    assert parse_int(value) == expected


@pytest.mark.parametrize("value", ["5.5", 5.5, "lima", "1.000.000", True, "9" * 40])
def test_non_integer_is_refused(value):
    assert error_of(parse_int, value).code == "int_invalid"


def test_int_below_minimum_is_refused():
    assert error_of(parse_int, "0", min_value=1).code == "int_too_small"


def test_int_above_maximum_is_refused():
    assert error_of(parse_int, 7, max_value=6).code == "int_too_large"


def test_empty_int_is_none():
    assert parse_int("") is None


ANY_CELL = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=40),
    st.from_regex(r"[0-9 .,'\-/A-Za-z]{0,24}", fullmatch=True),
    st.dates(),
    st.datetimes(),
    st.times(),
    st.timedeltas(),
)


@pytest.mark.parametrize(
    "parser",
    [
        parse_nik,
        parse_nkk,
        parse_date,
        parse_sex,
        parse_region_code,
        parse_bool,
        parse_int,
        lambda value: parse_text(value, 20),
        lambda value: parse_choice(value, CUSTODY),
    ],
    ids=["nik", "nkk", "date", "sex", "region", "bool", "int", "text", "choice"],
)
@settings(max_examples=200, database=None)
@given(value=ANY_CELL)
def test_parsers_raise_nothing_but_cell_error(parser, value):
    with contextlib.suppress(CellError):
        parser(value)


def test_column_spec_is_hashable_with_list_synonyms():
    assert hash(ColumnSpec("name", "Nama", ["Nama Lengkap"])) is not None
