"""Who is a voter at the prison TPS on voting day (tps/eligibility.py).

Pure rules, no database. Every date is fixed: Pemilu 2024 voting day was
14 February 2024, Pilkada 2024 voting day 27 November 2024.
"""

from __future__ import annotations

import ast
import dataclasses
import datetime
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import time_machine
from hypothesis import given, settings
from hypothesis import strategies as st

from tps.eligibility import (
    MISSING_DATA_REASONS,
    NOT_ELIGIBLE_REASONS,
    TMS_REASONS,
    Judgement,
    Reason,
    Status,
    VoterFacts,
    age_on,
    judge,
)

PEMILU_DAY = datetime.date(2024, 2, 14)
PILKADA_DAY = datetime.date(2024, 11, 27)
FRAGMENTS = [
    Path(__file__).resolve().parent.parent / "locale" / "fragments" / name
    for name in ("tps_rules.po", "elections_session11.po")
]


def inmate(**changes: object) -> VoterFacts:
    """A complete record of an adult, unmarried narapidana from Blora who is
    still serving on voting day: eligible unless a test changes something."""
    facts = VoterFacts(
        citizenship="WNI",
        nik="3316095203900001",
        birth_date=datetime.date(1990, 3, 12),
        marital_status="belum_kawin",
        is_tni_polri=False,
        voting_right_revoked=False,
        custody_type="narapidana",
        expected_release_date=datetime.date(2025, 6, 1),
        in_custody_on_day=None,
        is_confirmed_duplicate=False,
        domicile_code="33.16.09.2001",
    )
    return dataclasses.replace(facts, **changes)


def seventeenth_birthday_relative_to(day: datetime.date, days: int) -> datetime.date:
    """The birth date of someone whose 17th birthday is ``days`` after ``day``."""
    birthday = day + datetime.timedelta(days=days)
    return birthday.replace(year=birthday.year - 17)


# ---------------------------------------------------------------- the baseline


def test_complete_record_of_an_adult_inmate_is_eligible() -> None:
    assert judge(inmate(), PEMILU_DAY) == Judgement(status=Status.ELIGIBLE, reasons=[])


def test_eligible_judgement_says_so() -> None:
    assert judge(inmate(), PEMILU_DAY).is_eligible


# ------------------------------------------------------------------------- age


def test_turning_17_the_day_after_voting_day_is_underage() -> None:
    facts = inmate(birth_date=seventeenth_birthday_relative_to(PEMILU_DAY, +1))
    assert judge(facts, PEMILU_DAY) == Judgement(Status.NOT_ELIGIBLE, [Reason.UNDERAGE])


def test_turning_17_on_voting_day_is_eligible() -> None:
    facts = inmate(birth_date=seventeenth_birthday_relative_to(PEMILU_DAY, 0))
    assert facts.birth_date == datetime.date(2007, 2, 14)
    assert judge(facts, PEMILU_DAY).status == Status.ELIGIBLE


def test_turning_17_the_day_before_voting_day_is_eligible() -> None:
    facts = inmate(birth_date=seventeenth_birthday_relative_to(PEMILU_DAY, -1))
    assert judge(facts, PEMILU_DAY).status == Status.ELIGIBLE


def test_age_is_judged_on_voting_day_not_on_the_day_the_list_is_made() -> None:
    # Turns 17 in June 2024: too young for Pemilu, a voter in the Pilkada.
    facts = inmate(birth_date=datetime.date(2007, 6, 1))
    assert judge(facts, PEMILU_DAY).reasons == [Reason.UNDERAGE]
    assert judge(facts, PILKADA_DAY).status == Status.ELIGIBLE


def test_judgement_does_not_depend_on_today() -> None:
    facts = inmate(birth_date=seventeenth_birthday_relative_to(PEMILU_DAY, +1))
    with time_machine.travel(datetime.datetime(2031, 1, 1, tzinfo=datetime.UTC), tick=False):
        later = judge(facts, PEMILU_DAY)
    with time_machine.travel(datetime.datetime(2023, 6, 1, tzinfo=datetime.UTC), tick=False):
        earlier = judge(facts, PEMILU_DAY)
    assert later == earlier == Judgement(Status.NOT_ELIGIBLE, [Reason.UNDERAGE])


def test_born_on_29_february_is_still_16_on_28_february_of_a_common_year() -> None:
    facts = inmate(birth_date=datetime.date(2008, 2, 29))
    assert judge(facts, datetime.date(2025, 2, 28)).reasons == [Reason.UNDERAGE]


def test_born_on_29_february_turns_17_on_1_march_of_a_common_year() -> None:
    facts = inmate(birth_date=datetime.date(2008, 2, 29))
    assert judge(facts, datetime.date(2025, 3, 1)).status == Status.ELIGIBLE


def test_born_after_voting_day_is_underage() -> None:
    facts = inmate(birth_date=datetime.date(2024, 3, 1))
    assert judge(facts, PEMILU_DAY).reasons == [Reason.UNDERAGE]


# --------------------------------------------------------------------- age_on


def test_age_on_counts_completed_years() -> None:
    assert age_on(datetime.date(1990, 3, 12), PEMILU_DAY) == 33


def test_age_on_counts_the_birthday_itself() -> None:
    assert age_on(datetime.date(2007, 2, 14), PEMILU_DAY) == 17


def test_age_on_the_day_of_birth_is_zero() -> None:
    assert age_on(PEMILU_DAY, PEMILU_DAY) == 0


def test_age_on_a_leap_day_birthday_in_a_leap_year() -> None:
    assert age_on(datetime.date(2008, 2, 29), datetime.date(2024, 2, 29)) == 16


def test_age_on_a_day_before_birth_is_an_error() -> None:
    with pytest.raises(ValueError, match="before birth date"):
        age_on(datetime.date(2024, 3, 1), PEMILU_DAY)


@settings(database=None, deadline=None)
@given(
    birth=st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date(2030, 12, 31)),
    years=st.integers(min_value=0, max_value=100),
)
def test_age_on_goes_up_by_one_exactly_on_each_birthday(birth: datetime.date, years: int) -> None:
    try:
        birthday = birth.replace(year=birth.year + years)
    except ValueError:  # 29 February in a common year: the birthday is 1 March
        birthday = datetime.date(birth.year + years, 3, 1)
    assert age_on(birth, birthday) == years
    if birthday > birth:
        assert age_on(birth, birthday - datetime.timedelta(days=1)) == years - 1


# -------------------------------------------------------------------- marriage


def test_married_16_year_old_is_eligible() -> None:
    facts = inmate(birth_date=datetime.date(2008, 1, 1), marital_status="kawin")
    assert judge(facts, PEMILU_DAY).status == Status.ELIGIBLE


@pytest.mark.parametrize("status", ["cerai_hidup", "cerai_mati"])
def test_divorced_or_widowed_16_year_old_stays_eligible(status: str) -> None:
    facts = inmate(birth_date=datetime.date(2008, 1, 1), marital_status=status)
    assert judge(facts, PEMILU_DAY).status == Status.ELIGIBLE


def test_unmarried_16_year_old_is_underage() -> None:
    facts = inmate(birth_date=datetime.date(2008, 1, 1), marital_status="belum_kawin")
    assert judge(facts, PEMILU_DAY) == Judgement(Status.NOT_ELIGIBLE, [Reason.UNDERAGE])


def test_16_year_old_with_unrecorded_marital_status_needs_data() -> None:
    # Only a marriage could make them a voter, so the question is asked, not assumed.
    facts = inmate(birth_date=datetime.date(2008, 1, 1), marital_status=None)
    assert judge(facts, PEMILU_DAY) == Judgement(Status.NEEDS_DATA, [Reason.MISSING_MARITAL_STATUS])


def test_adult_with_unrecorded_marital_status_is_eligible() -> None:
    assert judge(inmate(marital_status=None), PEMILU_DAY).status == Status.ELIGIBLE


def test_married_voter_without_birth_date_is_eligible() -> None:
    facts = inmate(birth_date=None, marital_status="kawin")
    assert judge(facts, PEMILU_DAY).status == Status.ELIGIBLE


# ------------------------------------------------------- citizenship, TNI, court


def test_foreign_inmate_is_not_a_voter() -> None:
    assert judge(inmate(citizenship="WNA"), PEMILU_DAY) == Judgement(Status.NOT_ELIGIBLE, [Reason.WNA])


def test_active_tni_or_polri_member_is_not_a_voter() -> None:
    facts = inmate(is_tni_polri=True)
    assert judge(facts, PEMILU_DAY) == Judgement(Status.NOT_ELIGIBLE, [Reason.TNI_POLRI])


def test_voting_right_revoked_by_a_court_is_not_a_voter() -> None:
    facts = inmate(voting_right_revoked=True)
    assert judge(facts, PEMILU_DAY) == Judgement(Status.NOT_ELIGIBLE, [Reason.REVOKED])


def test_a_prison_sentence_alone_does_not_remove_the_right_to_vote() -> None:
    facts = inmate(custody_type="narapidana", expected_release_date=datetime.date(2039, 1, 1))
    assert judge(facts, PEMILU_DAY).status == Status.ELIGIBLE


def test_confirmed_duplicate_is_not_listed_again() -> None:
    facts = inmate(is_confirmed_duplicate=True)
    assert judge(facts, PEMILU_DAY) == Judgement(Status.NOT_ELIGIBLE, [Reason.DUPLICATE])


def test_dead_person_is_not_a_voter() -> None:
    assert judge(inmate(died=True), PEMILU_DAY) == Judgement(Status.NOT_ELIGIBLE, [Reason.DEAD])


def test_dead_person_is_not_also_reported_as_released() -> None:
    facts = inmate(died=True, in_custody_on_day=False)
    assert judge(facts, PEMILU_DAY).reasons == [Reason.DEAD]


def test_inmate_transferred_to_another_facility_leaves_this_list() -> None:
    facts = inmate(transferred=True, in_custody_on_day=False)
    assert judge(facts, PEMILU_DAY) == Judgement(Status.NOT_ELIGIBLE, [Reason.TRANSFERRED])


# --------------------------------------------------------------------- custody


def test_narapidana_released_the_day_before_voting_day_votes_at_home() -> None:
    facts = inmate(expected_release_date=datetime.date(2024, 2, 13))
    assert judge(facts, PEMILU_DAY) == Judgement(Status.NOT_ELIGIBLE, [Reason.RELEASED])


def test_narapidana_released_on_voting_day_votes_at_home() -> None:
    # Releases happen during the day; no ballot is planned for them here.
    facts = inmate(expected_release_date=PEMILU_DAY)
    assert judge(facts, PEMILU_DAY) == Judgement(Status.NOT_ELIGIBLE, [Reason.RELEASED])


def test_narapidana_released_the_day_after_voting_day_votes_at_the_prison() -> None:
    facts = inmate(expected_release_date=datetime.date(2024, 2, 15))
    assert judge(facts, PEMILU_DAY).status == Status.ELIGIBLE


def test_tahanan_without_release_date_counts_as_in_custody() -> None:
    facts = inmate(custody_type="tahanan", expected_release_date=None)
    assert judge(facts, PEMILU_DAY).status == Status.ELIGIBLE


def test_narapidana_without_release_date_counts_as_in_custody() -> None:
    # A life sentence, or a date not yet recorded: the register shows them held.
    facts = inmate(expected_release_date=None)
    assert judge(facts, PEMILU_DAY).status == Status.ELIGIBLE


def test_custody_history_showing_release_overrides_a_tahanan() -> None:
    facts = inmate(custody_type="tahanan", expected_release_date=None, in_custody_on_day=False)
    assert judge(facts, PEMILU_DAY).reasons == [Reason.RELEASED]


def test_custody_history_showing_custody_overrides_a_past_release_date() -> None:
    # Release date passed, but the history says still held (e.g. a new case).
    facts = inmate(expected_release_date=datetime.date(2024, 1, 1), in_custody_on_day=True)
    assert judge(facts, PEMILU_DAY).status == Status.ELIGIBLE


# ------------------------------------------- a release date that passed unrecorded
#
# The register is read on 10 January 2024 ("today") unless a test says otherwise.

REGISTER_DAY = datetime.date(2024, 1, 10)


def test_release_date_passed_without_a_release_recorded_needs_data() -> None:
    # The history still holds the person; the date says gone: stale, not a fact.
    facts = inmate(expected_release_date=datetime.date(2024, 1, 5), register_date=REGISTER_DAY)
    assert judge(facts, PEMILU_DAY) == Judgement(Status.NEEDS_DATA, [Reason.RELEASE_NOT_RECORDED])


def test_release_date_between_today_and_voting_day_is_still_released() -> None:
    facts = inmate(expected_release_date=datetime.date(2024, 2, 1), register_date=REGISTER_DAY)
    assert judge(facts, PEMILU_DAY) == Judgement(Status.NOT_ELIGIBLE, [Reason.RELEASED])


def test_release_date_today_is_not_yet_overdue() -> None:
    facts = inmate(expected_release_date=REGISTER_DAY, register_date=REGISTER_DAY)
    assert judge(facts, PEMILU_DAY).reasons == [Reason.RELEASED]


def test_a_recorded_release_is_a_fact_not_stale_data() -> None:
    facts = inmate(
        expected_release_date=datetime.date(2024, 1, 5), in_custody_on_day=False, register_date=REGISTER_DAY
    )
    assert judge(facts, PEMILU_DAY).reasons == [Reason.RELEASED]


def test_a_tahanan_has_no_release_date_to_go_stale() -> None:
    facts = inmate(
        custody_type="tahanan", expected_release_date=datetime.date(2024, 1, 5), register_date=REGISTER_DAY
    )
    assert judge(facts, PEMILU_DAY).status == Status.ELIGIBLE


def test_a_past_voting_day_before_the_passed_release_date_is_judged_as_usual() -> None:
    # Pemilu 2024 judged in 2026: released in June 2024, so inside on voting day.
    facts = inmate(expected_release_date=datetime.date(2024, 6, 1), register_date=datetime.date(2026, 11, 30))
    assert judge(facts, PEMILU_DAY).status == Status.ELIGIBLE


def test_a_past_voting_day_after_the_passed_release_date_needs_data() -> None:
    facts = inmate(
        expected_release_date=datetime.date(2023, 12, 1), register_date=datetime.date(2026, 11, 30)
    )
    assert judge(facts, PEMILU_DAY).reasons == [Reason.RELEASE_NOT_RECORDED]


def test_a_definite_reason_still_wins_over_a_stale_release_date() -> None:
    facts = inmate(
        citizenship="WNA", expected_release_date=datetime.date(2024, 1, 5), register_date=REGISTER_DAY
    )
    assert judge(facts, PEMILU_DAY) == Judgement(
        Status.NOT_ELIGIBLE, [Reason.WNA, Reason.RELEASE_NOT_RECORDED]
    )


def test_custody_can_be_judged_for_another_day_than_voting_day() -> None:
    # Inside at H-30 (the release is on 1 February), a voter by age on voting day.
    facts = inmate(expected_release_date=datetime.date(2024, 2, 1), custody_day=datetime.date(2024, 1, 15))
    assert judge(facts, PEMILU_DAY).status == Status.ELIGIBLE


# ---------------------------------------------------------------- missing data


def test_record_without_nik_needs_data() -> None:
    assert judge(inmate(nik=None), PEMILU_DAY) == Judgement(Status.NEEDS_DATA, [Reason.MISSING_NIK])


def test_blank_nik_counts_as_missing() -> None:
    assert judge(inmate(nik="   "), PEMILU_DAY).reasons == [Reason.MISSING_NIK]


def test_unmarried_voter_without_birth_date_needs_data() -> None:
    facts = inmate(birth_date=None)
    assert judge(facts, PEMILU_DAY) == Judgement(Status.NEEDS_DATA, [Reason.MISSING_BIRTH_DATE])


def test_voter_without_birth_date_or_marital_status_needs_the_birth_date() -> None:
    facts = inmate(birth_date=None, marital_status=None)
    assert judge(facts, PEMILU_DAY).reasons == [Reason.MISSING_BIRTH_DATE]


def test_unknown_domicile_needs_data() -> None:
    facts = inmate(domicile_code=None)
    assert judge(facts, PEMILU_DAY) == Judgement(Status.NEEDS_DATA, [Reason.MISSING_DOMICILE])


def test_every_missing_item_is_reported() -> None:
    facts = inmate(nik="", birth_date=None, domicile_code="")
    assert judge(facts, PEMILU_DAY) == Judgement(
        Status.NEEDS_DATA, [Reason.MISSING_NIK, Reason.MISSING_BIRTH_DATE, Reason.MISSING_DOMICILE]
    )


# ------------------------------------------------------------ combined reasons


def test_a_definite_reason_wins_over_missing_data() -> None:
    facts = inmate(citizenship="WNA", nik=None)
    assert judge(facts, PEMILU_DAY) == Judgement(Status.NOT_ELIGIBLE, [Reason.WNA, Reason.MISSING_NIK])


def test_every_reason_found_is_reported_in_a_fixed_order() -> None:
    facts = inmate(
        birth_date=datetime.date(2008, 1, 1),
        voting_right_revoked=True,
        expected_release_date=datetime.date(2024, 2, 1),
        is_confirmed_duplicate=True,
        domicile_code=None,
    )
    assert judge(facts, PEMILU_DAY) == Judgement(
        Status.NOT_ELIGIBLE,
        [Reason.UNDERAGE, Reason.REVOKED, Reason.RELEASED, Reason.DUPLICATE, Reason.MISSING_DOMICILE],
    )


def test_reasons_are_plain_stored_codes() -> None:
    reasons = judge(inmate(citizenship="WNA", is_tni_polri=True), PEMILU_DAY).reasons
    assert reasons == ["wna", "tni_polri"]
    assert all(type(reason) is str for reason in reasons)


# The TMS reasons DOMAIN.md names: dead, duplicate, underage, moved, TNI/Polri,
# revoked, not found ("…" for others, such as a foreigner).
DOMAIN_TMS_REASONS = {"dead", "duplicate", "underage", "moved", "tni_polri", "revoked", "not_found"}


def test_every_tms_reason_of_domain_md_has_a_code() -> None:
    assert set(TMS_REASONS) == DOMAIN_TMS_REASONS
    assert all(code in NOT_ELIGIBLE_REASONS for codes in TMS_REASONS.values() for code in codes)


def test_moved_covers_a_transfer_and_a_release() -> None:
    # Either way the person votes elsewhere: at another facility's TPS, or at home.
    assert set(TMS_REASONS["moved"]) == {Reason.TRANSFERRED, Reason.RELEASED}


def test_every_tms_code_is_a_domain_md_reason_or_a_foreigner() -> None:
    mapped = {code.value for codes in TMS_REASONS.values() for code in codes}
    assert mapped | {Reason.WNA.value} == NOT_ELIGIBLE_REASONS


def test_every_reason_is_either_tms_or_missing_data() -> None:
    assert set(Reason.values) == NOT_ELIGIBLE_REASONS | MISSING_DATA_REASONS
    assert not NOT_ELIGIBLE_REASONS & MISSING_DATA_REASONS


def test_a_stale_release_date_is_missing_data_not_tms() -> None:
    assert Reason.RELEASE_NOT_RECORDED in MISSING_DATA_REASONS


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("field", "value"),
    [("citizenship", "wni"), ("custody_type", "Tahanan"), ("marital_status", "menikah")],
)
def test_an_unknown_code_is_refused_rather_than_judged(field: str, value: str) -> None:
    with pytest.raises(ValueError, match=field):
        inmate(**{field: value})


# ------------------------------------------------------------------ i18n


@contextmanager
def in_english() -> Iterator[None]:
    """Render lazy strings as their msgids, with or without the Django test plugin."""
    from django.conf import settings as django_settings
    from django.utils import translation

    if not django_settings.configured and "DJANGO_SETTINGS_MODULE" not in os.environ:
        # Only msgids are needed, and USE_I18N=True would want an app registry.
        django_settings.configure(USE_I18N=False)
    with translation.override("en"):
        yield


def english(label: object) -> str:
    with in_english():
        return str(label)


def fragment_translations() -> dict[str, str]:
    """msgid -> msgstr of the fragments holding the eligibility labels (enough
    of a PO parser for what they use: quoted lines, continuation lines,
    comments, plural forms)."""
    catalog: dict[str, str] = {}
    current: dict[str, str] = {}
    key = ""
    lines = [line for path in FRAGMENTS for line in path.read_text(encoding="utf-8").splitlines() + [""]]
    for raw in lines:
        line = raw.strip()
        if not line or line.startswith("#"):
            if "msgid" in current and "msgstr" in current:
                catalog[current["msgid"]] = current["msgstr"]
            if not line:
                current = {}
            continue
        if line.startswith("msg"):  # msgid, msgstr, msgid_plural, msgstr[0]
            key, _, line = line.partition(" ")
            current[key] = ""
        current[key] += ast.literal_eval(line)
    catalog.pop("", None)
    return catalog


@pytest.mark.parametrize("choice", [*Status, *Reason], ids=str)
def test_every_eligibility_label_has_an_indonesian_translation(choice: Status | Reason) -> None:
    msgid = english(choice.label)
    assert fragment_translations().get(msgid, msgid) != msgid


def test_judgement_labels_follow_the_reasons() -> None:
    labels = judge(inmate(citizenship="WNA", nik=None), PEMILU_DAY).labels
    assert [english(label) for label in labels] == ["Foreign citizen (WNA), not a voter", "NIK missing"]
