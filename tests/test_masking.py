"""Masking NIK/NKK for published lists: 6 area digits stay, 10 become asterisks."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voterreg.masking import mask_nik, mask_nkk, mask_number


def test_nik_keeps_the_area_code_and_hides_ten_digits():
    assert mask_nik("3316010101900001") == "331601**********"


def test_nkk_is_masked_the_same_way():
    assert mask_nkk("3316012005150003") == "331601**********"


@pytest.mark.parametrize("value", [None, "", "   "])
def test_missing_number_masks_to_empty(value):
    assert mask_nik(value) == ""


def test_formatted_number_is_masked_on_its_digits():
    assert mask_nik("3316 0101 0190 0001") == "331601**********"


def test_leading_apostrophe_is_ignored():
    assert mask_nik("'3316010101900001") == "331601**********"


def test_malformed_length_does_not_show_through():
    assert mask_nik("331601010190000") == "331601**********"


def test_value_shorter_than_the_area_code_is_fully_masked():
    assert mask_nik("3316") == "*" * 16


def test_value_not_starting_with_digits_is_fully_masked():
    assert mask_nik("TIDAK ADA NIK") == "*" * 16


def test_number_type_is_accepted():
    assert mask_nik(3316010101900001) == "331601**********"


def test_visible_digits_are_configurable():
    assert mask_number("3316010101900001", visible=4) == "3316************"


@settings(max_examples=300, database=None)
@given(st.text(max_size=30))
def test_mask_never_shows_more_than_six_characters(value):
    masked = mask_nik(value)

    assert masked == "" or (len(masked) == 16 and masked[6:] == "*" * 10)
