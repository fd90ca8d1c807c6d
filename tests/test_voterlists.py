"""The potential-voter list (tps/services/voterlists.py, tps/views/voterlists.py,
tps/admin/voterlists.py): eligibility through the database, the hand-over to
KPU with its permissions, locking, versions and the DPT cross-check.

The register is read on 10 January 2024 (frozen); Pemilu 2024 voting day is
14 February 2024, H-7 is 7 February 2024.
"""

from __future__ import annotations

import datetime
import io
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import translation

from inmates import services as register_services
from inmates.models import CustodyEvent, DptFile, DptRecord, DuplicateCandidate, Inmate
from tps.eligibility import Reason
from tps.models import VoterList, VoterListEntry, VoterListEvent
from tps.services import voterlists as services
from tps.services.elections import reference_elections_ensure

pytestmark = pytest.mark.django_db

JAKARTA = ZoneInfo("Asia/Jakarta")
TODAY = datetime.date(2024, 1, 10)
VOTING_DAY = datetime.date(2024, 2, 14)


@pytest.fixture(autouse=True)
def frozen_today():
    with time_machine.travel(datetime.datetime(2024, 1, 10, 9, 0, tzinfo=JAKARTA), tick=False) as traveller:
        yield traveller


@pytest.fixture
def pemilu():
    return reference_elections_ensure()["pemilu-2024"]


def entry_of(voter_list: VoterList, inmate: Inmate) -> VoterListEntry:
    return voter_list.entries.get(inmate=inmate)


def generate(pemilu, facility, user) -> VoterList:
    return services.voterlist_generate(election=pemilu, facility=facility, user=user)


def born_days_from_17th_birthday(days: int) -> datetime.date:
    """Birth date of someone whose 17th birthday is ``days`` after voting day."""
    birthday = VOTING_DAY + datetime.timedelta(days=days)
    return birthday.replace(year=birthday.year - 17)


# --- eligibility through the database -------------------------------------------------------------

UNMARRIED = {"marital_status": "belum_kawin"}


@pytest.mark.parametrize(
    ("overrides", "status", "reasons"),
    [
        pytest.param(
            {**UNMARRIED, "birth_date": born_days_from_17th_birthday(-1)}, "eligible", [], id="17-day-before"
        ),
        pytest.param(
            {**UNMARRIED, "birth_date": born_days_from_17th_birthday(0)},
            "eligible",
            [],
            id="17-on-voting-day",
        ),
        pytest.param(
            {**UNMARRIED, "birth_date": born_days_from_17th_birthday(1), "nik": "3316015702070001"},
            "not_eligible",
            ["underage"],
            id="17-day-after",
        ),
        pytest.param(
            {"marital_status": "kawin", "birth_date": datetime.date(2008, 1, 1), "nik": "3316010101080001"},
            "eligible",
            [],
            id="married-at-16",
        ),
        pytest.param(
            {"expected_release_date": datetime.date(2024, 2, 13)},
            "not_eligible",
            ["released"],
            id="release-day-before",
        ),
        pytest.param(
            {"expected_release_date": datetime.date(2024, 2, 14)},
            "not_eligible",
            ["released"],
            id="release-on-day",
        ),
        pytest.param(
            {"expected_release_date": datetime.date(2024, 2, 15)}, "eligible", [], id="release-day-after"
        ),
        pytest.param(
            {"custody_type": "tahanan", "expected_release_date": None},
            "eligible",
            [],
            id="tahanan-no-release-date",
        ),
        pytest.param({"citizenship": "WNA"}, "not_eligible", ["wna"], id="wna"),
        pytest.param({"is_tni_polri": True}, "not_eligible", ["tni_polri"], id="tni-polri"),
        pytest.param(
            {"voting_right_revoked": True, "revocation_decision": "123/Pid.B/2023/PN Bla"},
            "not_eligible",
            ["revoked"],
            id="revoked",
        ),
        pytest.param({"nik": None}, "needs_data", ["missing_nik"], id="missing-nik"),
        pytest.param({"domicile_region_id": None}, "needs_data", ["missing_domicile"], id="missing-domicile"),
        pytest.param(
            {**UNMARRIED, "birth_date": None}, "needs_data", ["missing_birth_date"], id="missing-birth-date"
        ),
        pytest.param(
            {"citizenship": "WNA", "nik": None},
            "not_eligible",
            ["wna", "missing_nik"],
            id="tms-wins-over-missing",
        ),
    ],
)
def test_each_rule_reaches_the_list_with_its_reason(
    pemilu, blora, rutan_blora_officer, make_inmate, overrides, status, reasons
):
    inmate = make_inmate(blora, rutan_blora_officer, **overrides)
    entry = entry_of(generate(pemilu, blora, rutan_blora_officer), inmate)
    assert (entry.status, entry.reasons) == (status, reasons)
    assert entry.category == ("DPT" if status == "eligible" else "")


@pytest.mark.parametrize(
    ("kind", "day", "status", "reasons"),
    [
        ("release", datetime.date(2024, 2, 13), "not_eligible", ["released"]),
        ("release", datetime.date(2024, 2, 14), "not_eligible", ["released"]),
        ("release", datetime.date(2024, 2, 15), "eligible", []),
        ("transfer_out", datetime.date(2024, 2, 1), "not_eligible", ["transferred"]),
        ("death", datetime.date(2024, 1, 20), "not_eligible", ["dead"]),
    ],
)
def test_recorded_custody_events_decide_voting_day(
    pemilu, blora, pati, rutan_blora_officer, make_inmate, kind, day, status, reasons
):
    inmate = make_inmate(blora, rutan_blora_officer)
    register_services.custody_event_record(
        inmate=inmate,
        kind=kind,
        date=day,
        user=rutan_blora_officer,
        to_facility=pati if kind == "transfer_out" else None,
    )
    entry = entry_of(generate(pemilu, blora, rutan_blora_officer), inmate)
    assert (entry.status, entry.reasons) == (status, reasons)


def test_a_release_records_when_the_voter_leaves(pemilu, blora, rutan_blora_officer, make_inmate):
    by_date = make_inmate(blora, rutan_blora_officer, expected_release_date=datetime.date(2024, 2, 1))
    by_event = make_inmate(blora, rutan_blora_officer)
    register_services.custody_event_record(
        inmate=by_event, kind="release", date=datetime.date(2024, 1, 25), user=rutan_blora_officer
    )
    voter_list = generate(pemilu, blora, rutan_blora_officer)
    assert entry_of(voter_list, by_date).custody_event_date == datetime.date(2024, 2, 1)
    assert entry_of(voter_list, by_event).custody_event_date == datetime.date(2024, 1, 25)


def test_a_release_date_passed_without_a_release_recorded_is_listed_for_follow_up(
    pemilu, blora, rutan_blora_officer, make_inmate
):
    stale = make_inmate(blora, rutan_blora_officer, expected_release_date=datetime.date(2024, 1, 5))
    entry = entry_of(generate(pemilu, blora, rutan_blora_officer), stale)
    assert (entry.status, entry.reasons) == ("needs_data", ["release_not_recorded"])
    assert entry.custody_event_date == datetime.date(2024, 1, 5)


def test_a_confirmed_duplicate_is_listed_as_not_eligible(pemilu, blora, rutan_blora_officer, make_inmate):
    original = make_inmate(blora, rutan_blora_officer)
    copy = make_inmate(blora, rutan_blora_officer)
    Inmate.objects.filter(pk=copy.pk).update(duplicate_of=original)
    voter_list = generate(pemilu, blora, rutan_blora_officer)
    assert entry_of(voter_list, copy).reasons == ["duplicate"]
    assert entry_of(voter_list, original).status == "eligible"


def test_people_released_before_today_are_history_not_entries(
    pemilu, blora, rutan_blora_officer, make_inmate
):
    gone = make_inmate(blora, rutan_blora_officer)
    register_services.custody_event_record(
        inmate=gone, kind="release", date=datetime.date(2023, 12, 1), user=rutan_blora_officer
    )
    voter_list = generate(pemilu, blora, rutan_blora_officer)
    assert not voter_list.entries.filter(inmate=gone).exists()


def test_a_record_without_custody_events_is_judged_from_its_admission_date(
    pemilu, blora, rutan_blora_officer, make_inmate
):
    inmate = make_inmate(blora, rutan_blora_officer)
    CustodyEvent._unchecked.filter(inmate=inmate).delete()
    assert entry_of(generate(pemilu, blora, rutan_blora_officer), inmate).status == "eligible"


def test_the_snapshot_keeps_the_facts_of_the_day(pemilu, blora, rutan_blora_officer, blora_inmate):
    voter_list = generate(pemilu, blora, rutan_blora_officer)
    register_services.inmate_update(inmate=blora_inmate, user=rutan_blora_officer, full_name="Slamet R.")
    entry = entry_of(voter_list, blora_inmate)
    assert (entry.full_name, entry.nik, entry.birth_date, entry.sex, entry.domicile_code) == (
        "Slamet Riyadi",
        "3316011708900001",
        datetime.date(1990, 8, 17),
        "L",
        "33.16.01.2001",
    )
    assert voter_list.judged_on == VOTING_DAY
    assert voter_list.register_date == TODAY


# --- generating ----------------------------------------------------------------------------------


def test_generating_records_the_step_with_user_and_counts(pemilu, blora, rutan_blora_officer, make_inmate):
    make_inmate(blora, rutan_blora_officer)
    make_inmate(blora, rutan_blora_officer, nik=None)
    with translation.override("en"):
        voter_list = generate(pemilu, blora, rutan_blora_officer)
    assert (voter_list.version, voter_list.status, voter_list.created_by) == (1, "draft", rutan_blora_officer)
    event = voter_list.events.get()
    assert (event.action, event.user) == ("generated", rutan_blora_officer)
    assert event.at == datetime.datetime(2024, 1, 10, 9, 0, tzinfo=JAKARTA)
    assert (
        event.comment
        == "Built from the register of 10-01-2024: 1 eligible, 0 not eligible (TMS), 1 need data"
    )


def test_only_the_facility_officer_or_an_admin_generates(
    pemilu, blora, rutan_pati_officer, kpu_blora_officer, admin_user, blora_inmate
):
    for outsider in (rutan_pati_officer, kpu_blora_officer):
        with pytest.raises(PermissionDenied):
            generate(pemilu, blora, outsider)
    assert generate(pemilu, blora, admin_user).created_by == admin_user
    assert VoterList.objects.count() == 1


def test_regenerating_a_draft_rebuilds_it_and_keeps_the_officers_decisions(
    pemilu, blora, rutan_blora_officer, make_inmate
):
    mover = make_inmate(blora, rutan_blora_officer)
    first = generate(pemilu, blora, rutan_blora_officer)
    services.voterlist_entry_update(
        entry=entry_of(first, mover), user=rutan_blora_officer, category="DPTb", home_tps="TPS 003 Jepon"
    )
    newcomer = make_inmate(blora, rutan_blora_officer)
    again = generate(pemilu, blora, rutan_blora_officer)
    assert again.pk == first.pk and again.version == 1
    assert set(again.entries.values_list("inmate_id", flat=True)) == {mover.pk, newcomer.pk}
    kept = entry_of(again, mover)
    assert (kept.category, kept.home_tps) == ("DPTb", "TPS 003 Jepon")
    assert list(again.events.values_list("action", flat=True)) == ["generated", "edited", "generated"]


def test_generating_while_kpu_reviews_is_refused(pemilu, blora, rutan_blora_officer, blora_inmate):
    voter_list = generate(pemilu, blora, rutan_blora_officer)
    services.voterlist_submit(voter_list=voter_list, user=rutan_blora_officer)
    with pytest.raises(services.TransitionError):
        generate(pemilu, blora, rutan_blora_officer)
    assert VoterList.objects.get().status == "submitted"


# --- the hand-over and its permissions ---------------------------------------------------------------


@pytest.fixture
def draft(pemilu, blora, rutan_blora_officer, blora_inmate) -> VoterList:
    return generate(pemilu, blora, rutan_blora_officer)


@pytest.fixture
def submitted(draft, rutan_blora_officer) -> VoterList:
    return services.voterlist_submit(voter_list=draft, user=rutan_blora_officer)


@pytest.fixture
def accepted(submitted, kpu_blora_officer) -> VoterList:
    return services.voterlist_accept(voter_list=submitted, user=kpu_blora_officer)


def actions(voter_list: VoterList) -> list[tuple[str, str]]:
    return [(event.action, event.user.username) for event in voter_list.events.order_by("at", "pk")]


def test_the_full_workflow_records_every_step(draft, rutan_blora_officer, kpu_blora_officer, frozen_today):
    services.voterlist_submit(voter_list=draft, user=rutan_blora_officer)
    frozen_today.shift(datetime.timedelta(hours=2))
    services.voterlist_return(voter_list=draft, user=kpu_blora_officer, comment="NIK AI.001 keliru")
    services.voterlist_submit(voter_list=draft, user=rutan_blora_officer)
    services.voterlist_accept(voter_list=draft, user=kpu_blora_officer, comment="OK")
    draft.refresh_from_db()
    assert draft.status == "accepted"
    assert draft.review_comment == "OK"
    assert actions(draft) == [
        ("generated", "rutan_blora"),
        ("submitted", "rutan_blora"),
        ("returned", "kpu_blora"),
        ("submitted", "rutan_blora"),
        ("accepted", "kpu_blora"),
    ]
    returned = draft.events.get(action="returned")
    assert (returned.comment, returned.at) == (
        "NIK AI.001 keliru",
        datetime.datetime(2024, 1, 10, 11, 0, tzinfo=JAKARTA),
    )


def test_a_return_needs_a_comment(submitted, kpu_blora_officer):
    with pytest.raises(ValidationError):
        services.voterlist_return(voter_list=submitted, user=kpu_blora_officer, comment="   ")
    submitted.refresh_from_db()
    assert submitted.status == "submitted"


@pytest.mark.parametrize("user", ["kpu_blora_officer", "rutan_pati_officer", "kpu_pati_officer"])
def test_only_the_facility_officer_or_an_admin_submits(draft, user, request):
    with pytest.raises(PermissionDenied):
        services.voterlist_submit(voter_list=draft, user=request.getfixturevalue(user))
    draft.refresh_from_db()
    assert draft.status == "draft"


@pytest.mark.parametrize("user", ["rutan_blora_officer", "kpu_pati_officer", "rutan_pati_officer"])
@pytest.mark.parametrize("step", ["accept", "return"])
def test_only_kpu_of_the_regency_or_an_admin_decides(submitted, user, step, request):
    decide = services.voterlist_accept if step == "accept" else services.voterlist_return
    with pytest.raises(PermissionDenied):
        decide(voter_list=submitted, user=request.getfixturevalue(user), comment="x")
    submitted.refresh_from_db()
    assert submitted.status == "submitted"


def test_an_admin_may_do_every_step(pemilu, blora, admin_user, blora_inmate):
    voter_list = generate(pemilu, blora, admin_user)
    services.voterlist_submit(voter_list=voter_list, user=admin_user)
    services.voterlist_accept(voter_list=voter_list, user=admin_user)
    assert VoterList.objects.get().status == "accepted"


@pytest.mark.parametrize(
    ("state", "step"),
    [
        ("draft", "accept"),
        ("draft", "return"),
        ("submitted", "submit"),
        ("accepted", "submit"),
        ("accepted", "accept"),
        ("accepted", "return"),
    ],
)
def test_invalid_transitions_are_refused(state, step, request, rutan_blora_officer, kpu_blora_officer):
    voter_list = request.getfixturevalue(state)
    calls = {
        "submit": lambda: services.voterlist_submit(voter_list=voter_list, user=rutan_blora_officer),
        "accept": lambda: services.voterlist_accept(voter_list=voter_list, user=kpu_blora_officer),
        "return": lambda: services.voterlist_return(
            voter_list=voter_list, user=kpu_blora_officer, comment="x"
        ),
    }
    events_before = voter_list.events.count()
    with pytest.raises(services.TransitionError):
        calls[step]()
    voter_list.refresh_from_db()
    assert voter_list.status == state
    assert voter_list.events.count() == events_before


# --- locking ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("state", ["submitted", "accepted"])
def test_a_submitted_or_accepted_list_cannot_be_edited(state, request, rutan_blora_officer, blora_inmate):
    voter_list = request.getfixturevalue(state)
    entry = entry_of(voter_list, blora_inmate)
    with pytest.raises(services.ListLockedError):
        services.voterlist_entry_update(entry=entry, user=rutan_blora_officer, category="DPK")
    entry.refresh_from_db()
    assert entry.category == "DPT"


def test_the_model_refuses_to_save_an_entry_of_an_accepted_list(accepted, blora_inmate):
    entry = entry_of(accepted, blora_inmate)
    entry.category = "DPK"
    with pytest.raises(ValidationError):
        entry.save()
    assert entry_of(accepted, blora_inmate).category == "DPT"


def test_posting_edits_to_an_accepted_list_is_403(client, accepted, rutan_blora_officer, blora_inmate):
    entry = entry_of(accepted, blora_inmate)
    client.force_login(rutan_blora_officer)
    response = client.post(
        reverse("tps:voterlist_detail", args=[accepted.pk]), formset_data([entry], category="DPK")
    )
    assert response.status_code == 403
    assert entry_of(accepted, blora_inmate).category == "DPT"


def test_the_admin_change_page_refuses_posts(client, accepted, admin_user):
    client.force_login(admin_user)
    url = reverse("admin:tps_voterlist_change", args=[accepted.pk])
    assert client.post(url, {"status": "draft"}).status_code == 403
    assert client.get(url).url == reverse("tps:voterlist_detail", args=[accepted.pk])
    accepted.refresh_from_db()
    assert accepted.status == "accepted"


# --- versions ---------------------------------------------------------------------------------------------


def test_after_acceptance_a_new_version_follows_and_shows_what_changed(
    accepted, pemilu, blora, rutan_blora_officer, blora_inmate, make_inmate, frozen_today
):
    frozen_today.move_to(datetime.datetime(2024, 2, 7, 9, 0, tzinfo=JAKARTA))
    register_services.custody_event_record(
        inmate=blora_inmate, kind="release", date=datetime.date(2024, 2, 5), user=rutan_blora_officer
    )
    newcomer = make_inmate(blora, rutan_blora_officer, admission_date=datetime.date(2024, 2, 1))
    second = generate(pemilu, blora, rutan_blora_officer)
    assert (second.version, second.previous_accepted) == (2, accepted)
    assert entry_of(second, blora_inmate).reasons == ["released"]
    from tps.changes import changes_between_versions

    report = changes_between_versions(old=second.previous_accepted, new=second)
    assert [(row.change, row.cause, row.date, row.inmate_id) for row in report.rows] == [
        ("added", "admitted", datetime.date(2024, 2, 1), newcomer.pk),
        ("removed", "released", datetime.date(2024, 2, 5), blora_inmate.pk),
    ]
    accepted.refresh_from_db()
    assert accepted.status == "accepted"
    assert entry_of(accepted, blora_inmate).status == "eligible"


def test_a_new_version_carries_the_accepted_categories(
    draft, pemilu, blora, rutan_blora_officer, kpu_blora_officer, blora_inmate
):
    services.voterlist_entry_update(
        entry=entry_of(draft, blora_inmate),
        user=rutan_blora_officer,
        category="DPTb",
        home_tps="TPS 002 Cepu",
        move_form_number="A-PINDAH/12",
        move_form_date=datetime.date(2024, 1, 9),
    )
    services.voterlist_submit(voter_list=draft, user=rutan_blora_officer)
    services.voterlist_accept(voter_list=draft, user=kpu_blora_officer)
    second = generate(pemilu, blora, rutan_blora_officer)
    entry = entry_of(second, blora_inmate)
    assert (entry.category, entry.home_tps, entry.move_form_number, entry.move_form_date) == (
        "DPTb",
        "TPS 002 Cepu",
        "A-PINDAH/12",
        datetime.date(2024, 1, 9),
    )


def test_the_changes_page_lists_the_difference(
    client, accepted, pemilu, blora, rutan_blora_officer, kpu_blora_officer, blora_inmate
):
    register_services.custody_event_record(
        inmate=blora_inmate, kind="release", date=datetime.date(2024, 2, 1), user=rutan_blora_officer
    )
    second = generate(pemilu, blora, rutan_blora_officer)
    client.force_login(kpu_blora_officer)
    response = client.get(reverse("tps:voterlist_changes", args=[second.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Slamet Riyadi" in body
    assert "change-removed cause-released" in body
    download = client.get(reverse("tps:voterlist_changes", args=[second.pk]), {"format": "xlsx"})
    assert download["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = openpyxl.load_workbook(io.BytesIO(download.content)).worksheets[0]
    assert sheet.max_row == 2
    assert sheet.cell(row=2, column=6).value == "Slamet Riyadi"


# --- categories and the DPT cross-check -----------------------------------------------------------------


def dpt_candidate(inmate, *, tps="003", status="open", score=0.9, line=1):
    dpt_file, _created = DptFile.objects.get_or_create(name="DPT Blora.xlsx", regency_id="33.16")
    record = DptRecord.objects.create(
        dpt_file=dpt_file,
        line=line,
        regency_code="33.16",
        nik=inmate.nik or "",
        name=inmate.full_name,
        region_code="33.16.01.2001",
        tps=tps,
    )
    return DuplicateCandidate.objects.create(
        kind="dpt", inmate_a=inmate, dpt_record=record, score=score, status=status
    )


def test_the_dpt_cross_check_proposes_dptb_with_the_home_tps(
    pemilu, blora, rutan_blora_officer, blora_inmate
):
    dpt_candidate(blora_inmate, tps="003")
    entry = entry_of(generate(pemilu, blora, rutan_blora_officer), blora_inmate)
    assert entry.category == "DPTb"
    assert entry.home_tps.startswith("TPS 003 ")
    assert entry.home_tps.endswith("(33.16.01.2001)")
    assert entry.category_from_dpt_check


def test_a_dismissed_dpt_match_proposes_nothing(pemilu, blora, rutan_blora_officer, blora_inmate):
    dpt_candidate(blora_inmate, status="dismissed")
    entry = entry_of(generate(pemilu, blora, rutan_blora_officer), blora_inmate)
    assert (entry.category, entry.home_tps, entry.category_from_dpt_check) == ("DPT", "", False)


def test_a_confirmed_dpt_match_wins_over_a_better_scored_open_one(
    pemilu, blora, rutan_blora_officer, blora_inmate
):
    dpt_candidate(blora_inmate, tps="007", status="open", score=0.99, line=1)
    dpt_candidate(blora_inmate, tps="011", status="confirmed", score=0.8, line=2)
    entry = entry_of(generate(pemilu, blora, rutan_blora_officer), blora_inmate)
    assert entry.home_tps.startswith("TPS 011 ")


def test_a_later_dpt_match_turns_an_accepted_dpt_voter_into_a_dptb_proposal(
    accepted, pemilu, blora, rutan_blora_officer, blora_inmate
):
    dpt_candidate(blora_inmate, tps="005")
    entry = entry_of(generate(pemilu, blora, rutan_blora_officer), blora_inmate)
    assert (entry.category, entry.category_from_dpt_check) == ("DPTb", True)


@pytest.mark.parametrize(
    ("fields", "field_with_error"),
    [
        ({"category": "DPTb"}, "home_tps"),
        ({"category": "DPT", "home_tps": "TPS 003"}, "category"),
        ({"category": "DPTb", "home_tps": "TPS 003", "move_form_number": "A-12"}, "move_form_date"),
        (
            {
                "category": "DPTb",
                "home_tps": "TPS 003",
                "move_form_number": "A-12",
                "move_form_date": datetime.date(2024, 2, 8),
            },
            "move_form_date",
        ),
        ({"category": ""}, "category"),
    ],
)
def test_invalid_category_decisions_are_refused(
    draft, rutan_blora_officer, blora_inmate, fields, field_with_error
):
    entry = entry_of(draft, blora_inmate)
    for name, value in fields.items():
        setattr(entry, name, value)
    with pytest.raises(ValidationError) as caught:
        entry.full_clean()
    assert field_with_error in caught.value.message_dict
    with pytest.raises(ValidationError):
        services.voterlist_entry_update(
            entry=entry_of(draft, blora_inmate), user=rutan_blora_officer, **fields
        )
    assert entry_of(draft, blora_inmate).category == "DPT"


def test_a_move_form_dated_on_h7_is_accepted(draft, rutan_blora_officer, blora_inmate):
    entry = services.voterlist_entry_update(
        entry=entry_of(draft, blora_inmate),
        user=rutan_blora_officer,
        category="DPTb",
        home_tps="TPS 003",
        move_form_number="A-12",
        move_form_date=datetime.date(2024, 2, 7),
    )
    assert entry.move_form_date == datetime.date(2024, 2, 7)
    event = draft.events.get(action="edited")
    assert event.user == rutan_blora_officer
    assert "AI.001/2023" in event.comment


def test_a_not_eligible_entry_gets_no_category(pemilu, blora, rutan_blora_officer, make_inmate):
    foreigner = make_inmate(blora, rutan_blora_officer, citizenship="WNA")
    voter_list = generate(pemilu, blora, rutan_blora_officer)
    with pytest.raises(ValidationError):
        services.voterlist_entry_update(
            entry=entry_of(voter_list, foreigner), user=rutan_blora_officer, category="DPK"
        )


def test_an_entry_of_another_list_cannot_be_edited_through_this_one(
    draft, pemilu, pati, rutan_blora_officer, rutan_pati_officer, pati_inmate
):
    foreign = entry_of(generate(pemilu, pati, rutan_pati_officer), pati_inmate)
    with pytest.raises(ValidationError):
        services.voterlist_entries_update(
            voter_list=draft, user=rutan_blora_officer, changes={foreign.pk: {"category": "DPK"}}
        )
    assert VoterListEntry.objects.get(pk=foreign.pk).category == "DPT"


# --- pages -----------------------------------------------------------------------------------------------


def formset_data(entries, **fields) -> dict:
    data = {
        "entries-TOTAL_FORMS": str(len(entries)),
        "entries-INITIAL_FORMS": str(len(entries)),
        "entries-MIN_NUM_FORMS": "0",
        "entries-MAX_NUM_FORMS": "1000",
    }
    for index, entry in enumerate(entries):
        values = {
            "id": entry.pk,
            "category": entry.category,
            "home_tps": entry.home_tps,
            "move_form_number": entry.move_form_number,
            "move_form_date": entry.move_form_date.isoformat() if entry.move_form_date else "",
        }
        values.update(fields)
        for name, value in values.items():
            data[f"entries-{index}-{name}"] = value
    return data


def test_the_review_page_shows_rows_with_reasons_in_indonesian(
    client, pemilu, blora, rutan_blora_officer, make_inmate
):
    make_inmate(blora, rutan_blora_officer, full_name="Asing Sekali", citizenship="WNA")
    voter_list = generate(pemilu, blora, rutan_blora_officer)
    client.force_login(rutan_blora_officer)
    response = client.get(reverse("tps:voterlist_detail", args=[voter_list.pk]), HTTP_ACCEPT_LANGUAGE="id")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Asing Sekali" in body
    with translation.override("id"):
        assert str(Reason.WNA.label) in body
    assert 'name="entries-0-category"' not in body  # the WNA row has nothing to edit


def test_the_officer_saves_categories_on_the_review_page(client, draft, rutan_blora_officer, blora_inmate):
    entry = entry_of(draft, blora_inmate)
    client.force_login(rutan_blora_officer)
    url = reverse("tps:voterlist_detail", args=[draft.pk])
    page = client.get(url)
    assert f'name="entries-0-id" value="{entry.pk}"' in page.content.decode()
    response = client.post(url, formset_data([entry], category="DPTb", home_tps="TPS 009 Randublatung"))
    assert response.status_code == 302
    entry.refresh_from_db()
    assert (entry.category, entry.home_tps) == ("DPTb", "TPS 009 Randublatung")
    assert draft.events.filter(action="edited", user=rutan_blora_officer).exists()


def test_an_invalid_edit_on_the_review_page_saves_nothing(client, draft, rutan_blora_officer, blora_inmate):
    entry = entry_of(draft, blora_inmate)
    client.force_login(rutan_blora_officer)
    response = client.post(
        reverse("tps:voterlist_detail", args=[draft.pk]), formset_data([entry], category="DPTb")
    )
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    entry.refresh_from_db()
    assert entry.category == "DPT"
    assert not draft.events.filter(action="edited").exists()


def test_kpu_reads_the_list_but_cannot_post_edits(client, draft, kpu_blora_officer, blora_inmate):
    entry = entry_of(draft, blora_inmate)
    client.force_login(kpu_blora_officer)
    url = reverse("tps:voterlist_detail", args=[draft.pk])
    assert client.get(url).status_code == 200
    assert client.post(url, formset_data([entry], category="DPK")).status_code == 403
    entry.refresh_from_db()
    assert entry.category == "DPT"


@pytest.mark.parametrize("outsider", ["rutan_pati_officer", "kpu_pati_officer"])
@pytest.mark.parametrize(
    "name", ["voterlist_detail", "voterlist_changes", "voterlist_export", "voterlist_return"]
)
def test_outsiders_get_404_for_every_page(client, draft, outsider, name, request):
    client.force_login(request.getfixturevalue(outsider))
    response = client.get(reverse(f"tps:{name}", args=[draft.pk]))
    assert response.status_code == 404
    assert "Slamet" not in response.content.decode()


@pytest.mark.parametrize("outsider", ["rutan_pati_officer", "kpu_pati_officer"])
@pytest.mark.parametrize(
    "name", ["voterlist_submit", "voterlist_accept", "voterlist_return", "voterlist_regenerate"]
)
def test_outsiders_get_404_when_posting_steps(client, submitted, outsider, name, request):
    client.force_login(request.getfixturevalue(outsider))
    assert client.post(reverse(f"tps:{name}", args=[submitted.pk]), {"comment": "x"}).status_code == 404
    submitted.refresh_from_db()
    assert submitted.status == "submitted"


def test_anonymous_visitors_are_sent_to_the_login(client, draft):
    response = client.get(reverse("tps:voterlist_detail", args=[draft.pk]))
    assert response.status_code == 302
    assert "login" in response.url


def test_the_workflow_through_the_pages(client, draft, rutan_blora_officer, kpu_blora_officer):
    client.force_login(rutan_blora_officer)
    assert client.post(reverse("tps:voterlist_submit", args=[draft.pk])).status_code == 302
    assert client.post(reverse("tps:voterlist_accept", args=[draft.pk])).status_code == 403
    client.force_login(kpu_blora_officer)
    page = client.get(reverse("tps:voterlist_detail", args=[draft.pk])).content.decode()
    assert reverse("tps:voterlist_accept", args=[draft.pk]) in page
    response = client.post(reverse("tps:voterlist_return", args=[draft.pk]), {"comment": "Cek NIK"})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.status, draft.review_comment) == ("returned", "Cek NIK")
    client.force_login(rutan_blora_officer)
    client.post(reverse("tps:voterlist_submit", args=[draft.pk]))
    client.force_login(kpu_blora_officer)
    client.post(reverse("tps:voterlist_accept", args=[draft.pk]), {"comment": "Lengkap"})
    draft.refresh_from_db()
    assert draft.status == "accepted"
    assert actions(draft)[-1] == ("accepted", "kpu_blora")


def test_an_invalid_step_through_the_pages_changes_nothing(client, draft, kpu_blora_officer):
    client.force_login(kpu_blora_officer)
    response = client.post(reverse("tps:voterlist_accept", args=[draft.pk]), follow=True)
    assert response.status_code == 200
    assert list(response.context["messages"])[0].level_tag == "error"
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_a_return_without_comment_shows_the_form_again(client, submitted, kpu_blora_officer):
    client.force_login(kpu_blora_officer)
    response = client.post(reverse("tps:voterlist_return", args=[submitted.pk]), {"comment": ""})
    assert response.status_code == 200
    assert response.context["form"].errors
    submitted.refresh_from_db()
    assert submitted.status == "submitted"


def test_the_generate_page_makes_a_list_for_the_officers_facility(
    client, pemilu, blora, pati, rutan_blora_officer, blora_inmate
):
    client.force_login(rutan_blora_officer)
    page = client.get(reverse("tps:voterlist_generate"))
    assert list(page.context["form"].fields["facility"].queryset) == [blora]
    response = client.post(reverse("tps:voterlist_generate"), {"election": pemilu.pk, "facility": blora.pk})
    voter_list = VoterList.objects.get()
    assert response.url == reverse("tps:voterlist_detail", args=[voter_list.pk])
    refused = client.post(reverse("tps:voterlist_generate"), {"election": pemilu.pk, "facility": pati.pk})
    assert refused.status_code == 200
    assert "facility" in refused.context["form"].errors
    assert VoterList.objects.count() == 1


def test_kpu_cannot_open_the_generate_page(client, kpu_blora_officer, pemilu):
    client.force_login(kpu_blora_officer)
    assert client.get(reverse("tps:voterlist_generate")).status_code == 403


def test_regenerating_through_the_page_starts_version_2_after_acceptance(
    client, accepted, rutan_blora_officer
):
    client.force_login(rutan_blora_officer)
    response = client.post(reverse("tps:voterlist_regenerate", args=[accepted.pk]))
    second = VoterList.objects.get(version=2)
    assert response.url == reverse("tps:voterlist_detail", args=[second.pk])
    assert second.previous_accepted == accepted


def test_the_export_holds_full_niks_so_it_is_in_the_access_log(client, draft, rutan_blora_officer):
    from inmates.models import AccessLog

    client.force_login(rutan_blora_officer)
    client.get(reverse("tps:voterlist_export", args=[draft.pk]))
    entry = AccessLog.objects.get(action=AccessLog.Action.EXPORT_FULL_NIK)
    assert (entry.user, entry.facility, entry.details["kind"]) == (
        rutan_blora_officer,
        draft.facility,
        "voter_list",
    )
    assert entry.target.startswith("daftar-rutan-blora-")


def test_the_export_is_a_workbook_with_nik_as_text(client, draft, rutan_blora_officer):
    client.force_login(rutan_blora_officer)
    response = client.get(reverse("tps:voterlist_export", args=[draft.pk]))
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).worksheets[0]
    assert sheet.cell(row=2, column=4).value == "3316011708900001"
    assert sheet.cell(row=2, column=10).value == "DPT"


# --- admin ---------------------------------------------------------------------------------------------


def test_the_changelist_is_scoped(
    client,
    pemilu,
    blora,
    pati,
    rutan_blora_officer,
    rutan_pati_officer,
    kpu_blora_officer,
    admin_user,
    blora_inmate,
    pati_inmate,
):
    generate(pemilu, blora, rutan_blora_officer)
    generate(pemilu, pati, rutan_pati_officer)
    url = reverse("admin:tps_voterlist_changelist")
    for user, expected in [
        (rutan_blora_officer, {"rutan-blora"}),
        (kpu_blora_officer, {"rutan-blora"}),
        (rutan_pati_officer, {"rutan-pati"}),
        (admin_user, {"rutan-blora", "rutan-pati"}),
    ]:
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200
        shown = {voter_list.facility.code for voter_list in response.context["cl"].result_list}
        assert shown == expected, user


def test_the_changelist_offers_generation_to_officers_only(client, rutan_blora_officer, kpu_blora_officer):
    url = reverse("admin:tps_voterlist_changelist")
    generate_url = reverse("tps:voterlist_generate")
    client.force_login(rutan_blora_officer)
    assert generate_url in client.get(url).content.decode()
    client.force_login(kpu_blora_officer)
    assert generate_url not in client.get(url).content.decode()


def test_the_accept_action_accepts_for_kpu_and_refuses_drafts(
    client, submitted, kpu_blora_officer, pemilu, pati, rutan_pati_officer, pati_inmate, admin_user
):
    other = generate(pemilu, pati, rutan_pati_officer)
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:tps_voterlist_changelist"),
        {"action": "accept_selected", "_selected_action": [submitted.pk, other.pk]},
        follow=True,
    )
    assert response.status_code == 200
    submitted.refresh_from_db()
    other.refresh_from_db()
    assert (submitted.status, other.status) == ("accepted", "draft")
    levels = sorted(message.level_tag for message in response.context["messages"])
    assert levels == ["error", "success"]


def test_the_event_log_is_scoped_and_read_only(client, draft, pemilu, pati, rutan_pati_officer, pati_inmate):
    generate(pemilu, pati, rutan_pati_officer)
    client.force_login(rutan_pati_officer)
    response = client.get(reverse("admin:tps_voterlistevent_changelist"))
    assert response.status_code == 200
    assert {event.voter_list.facility.code for event in response.context["cl"].result_list} == {"rutan-pati"}
    event = VoterListEvent.objects.filter(voter_list=draft).first()
    assert client.get(reverse("admin:tps_voterlistevent_change", args=[event.pk])).status_code == 404


def test_the_facility_filter_offers_only_visible_facilities(
    client, pemilu, blora, pati, rutan_blora_officer, rutan_pati_officer, blora_inmate, pati_inmate
):
    generate(pemilu, blora, rutan_blora_officer)
    generate(pemilu, pati, rutan_pati_officer)
    client.force_login(rutan_blora_officer)
    body = client.get(reverse("admin:tps_voterlist_changelist")).content.decode()
    assert "Rutan Kelas IIB Blora" in body
    assert "Rutan Kelas IIB Pati" not in body


def test_accepting_a_list_is_written_to_the_access_log(accepted, kpu_blora_officer):
    from inmates.models import AccessLog

    [entry] = [
        row for row in AccessLog.objects.order_by("pk") if row.action == AccessLog.Action.LIST_ACCEPTED
    ]
    assert (entry.user, entry.facility, entry.details["version"]) == (kpu_blora_officer, accepted.facility, 1)


# --- DPTb voters need their move form before the list goes to KPU ---------------------------------------


def make_dptb(voter_list: VoterList, inmate: Inmate, **form) -> VoterListEntry:
    return services.voterlist_entry_update(
        entry=entry_of(voter_list, inmate),
        user=voter_list.created_by,
        category="DPTb",
        home_tps="TPS 003 Jepon",
        **form,
    )


WITH_FORM = {"move_form_number": "A-PINDAH/3316/0031", "move_form_date": datetime.date(2024, 1, 9)}


def test_a_dptb_voter_without_move_form_holds_back_submission(draft, rutan_blora_officer, blora_inmate):
    make_dptb(draft, blora_inmate)
    with pytest.raises(services.MoveFormMissingError):
        services.voterlist_submit(voter_list=draft, user=rutan_blora_officer)
    draft.refresh_from_db()
    assert draft.status == "draft"
    assert not draft.events.filter(action="submitted").exists()


def test_the_refusal_names_the_entries_and_how_to_fix_them(draft, rutan_blora_officer, blora_inmate):
    make_dptb(draft, blora_inmate)
    with translation.override("en"), pytest.raises(services.MoveFormMissingError) as refused:
        services.voterlist_submit(voter_list=draft, user=rutan_blora_officer)
    message = " ".join(refused.value.messages)
    assert "1 DPTb entry lacks the number and date" in message
    assert "AI.001/2023 Slamet Riyadi" in message
    assert "change the category to DPT or DPK" in message


def test_a_dptb_voter_with_the_move_form_is_submitted(draft, rutan_blora_officer, blora_inmate):
    make_dptb(draft, blora_inmate, **WITH_FORM)
    services.voterlist_submit(voter_list=draft, user=rutan_blora_officer)
    draft.refresh_from_db()
    assert draft.status == "submitted"


def test_the_dpt_cross_check_proposal_needs_its_form_too(pemilu, blora, rutan_blora_officer, blora_inmate):
    dpt_candidate(blora_inmate, tps="003")
    voter_list = generate(pemilu, blora, rutan_blora_officer)
    with pytest.raises(services.MoveFormMissingError):
        services.voterlist_submit(voter_list=voter_list, user=rutan_blora_officer)


def test_kpu_cannot_accept_a_list_with_a_dptb_voter_without_form(submitted, kpu_blora_officer, blora_inmate):
    # A list that reached KPU before the rule: the entry is changed under the model's lock.
    VoterListEntry.objects.filter(voter_list=submitted, inmate=blora_inmate).update(
        category="DPTb", home_tps="TPS 003 Jepon"
    )
    with pytest.raises(services.MoveFormMissingError):
        services.voterlist_accept(voter_list=submitted, user=kpu_blora_officer)
    submitted.refresh_from_db()
    assert submitted.status == "submitted"


def test_the_review_page_counts_dptb_voters_without_form(client, draft, rutan_blora_officer, blora_inmate):
    make_dptb(draft, blora_inmate)
    client.force_login(rutan_blora_officer)
    response = client.get(reverse("tps:voterlist_detail", args=[draft.pk]))
    assert response.context["counts"]["dptb_without_form"] == 1
    assert 'id="dptb-without-form"' in response.content.decode()


def test_the_review_page_says_nothing_when_every_dptb_has_its_form(
    client, draft, rutan_blora_officer, blora_inmate
):
    make_dptb(draft, blora_inmate, **WITH_FORM)
    client.force_login(rutan_blora_officer)
    response = client.get(reverse("tps:voterlist_detail", args=[draft.pk]))
    assert response.context["counts"]["dptb_without_form"] == 0
    assert 'id="dptb-without-form"' not in response.content.decode()


def test_the_review_page_filters_dptb_voters_without_form(
    client, pemilu, blora, rutan_blora_officer, make_inmate
):
    missing = make_inmate(blora, rutan_blora_officer, full_name="Tanpa Formulir")
    complete = make_inmate(blora, rutan_blora_officer, full_name="Dengan Formulir")
    make_inmate(blora, rutan_blora_officer, full_name="Tetap DPT")
    voter_list = generate(pemilu, blora, rutan_blora_officer)
    make_dptb(voter_list, missing)
    make_dptb(voter_list, complete, **WITH_FORM)
    client.force_login(rutan_blora_officer)
    response = client.get(reverse("tps:voterlist_detail", args=[voter_list.pk]), {"form": "missing"})
    assert [row["entry"].full_name for row in response.context["rows"]] == ["Tanpa Formulir"]


def test_submitting_through_the_page_shows_why_it_was_refused(
    client, draft, rutan_blora_officer, blora_inmate
):
    make_dptb(draft, blora_inmate)
    client.force_login(rutan_blora_officer)
    response = client.post(reverse("tps:voterlist_submit", args=[draft.pk]), follow=True)
    [message] = list(response.context["messages"])
    assert message.level_tag == "error"
    assert "Slamet Riyadi" in message.message
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_a_long_refusal_names_the_first_ten_and_points_to_the_filter(
    pemilu, blora, rutan_blora_officer, make_inmate
):
    movers = [make_inmate(blora, rutan_blora_officer, full_name=f"Pindah {n:02d}") for n in range(11)]
    voter_list = generate(pemilu, blora, rutan_blora_officer)
    for mover in movers:
        make_dptb(voter_list, mover)
    with translation.override("en"), pytest.raises(services.MoveFormMissingError) as refused:
        services.voterlist_submit(voter_list=voter_list, user=rutan_blora_officer)
    message = " ".join(refused.value.messages)
    assert "11 DPTb entries lack" in message
    assert "Pindah 09" in message and "Pindah 10" not in message
    assert "and more (filter the list by “DPTb without move form”)" in message
