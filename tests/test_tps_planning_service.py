"""Planning the TPS of Rutan Blora through the service: how many TPS, who goes
where, stability on re-plan, manual moves and capacity (tps/services/stations.py,
plan_tps command)."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.urls import reverse

from tests.stations_support import TODAY, bulk_inmates, make_election, make_tps, release
from tps.models import Tps, TpsAssignment
from tps.services import stations

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def election(regions):
    return make_election()


@pytest.fixture
def tiny_election(regions):
    """Three voters per TPS: capacity cases without hundreds of inmates."""
    return make_election(code="tiny", name="Tiny", max_voters_per_tps=3)


def plan(election, facility, **kwargs):
    return stations.tps_plan(election=election, facility=facility, user=None, **kwargs)


def sizes(election, facility) -> dict[str, int]:
    return {
        tps.number: tps.assignments.count()
        for tps in Tps.objects.filter(election=election, facility=facility)
    }


def tps_of(election) -> dict[int, str]:
    return dict(TpsAssignment.objects.filter(election=election).values_list("inmate_id", "tps__number"))


def test_301_voters_get_two_tps_of_151_and_150(election, blora):
    bulk_inmates(blora, 301, cell_block="")
    result = plan(election, blora)
    assert sizes(election, blora) == {"901": 151, "902": 150}
    assert result.created_tps == ("901", "902")
    assert len(result.added) == 301


def test_new_tps_take_the_election_capacity_and_count_their_voters(election, blora):
    bulk_inmates(blora, 301, cell_block="")
    plan(election, blora)
    stored = {tps.number: (tps.capacity, tps.voter_count) for tps in Tps.objects.filter(facility=blora)}
    assert stored == {"901": (300, 151), "902": (300, 150)}


def test_300_voters_fit_one_tps(election, blora):
    bulk_inmates(blora, 300, cell_block="")
    plan(election, blora)
    assert sizes(election, blora) == {"901": 300}


def test_voters_are_numbered_alphabetically_within_each_tps(election, blora):
    for name in ["Wahyu", "agus", "Budi", "Ádi"]:
        bulk_inmates(blora, 1, prefix=name, start=len(name))
    plan(election, blora)
    ordered = list(
        TpsAssignment.objects.filter(election=election)
        .order_by("order_number")
        .values_list("inmate__full_name", "order_number")
    )
    assert [name.split()[0] for name, _number in ordered] == ["Ádi", "agus", "Budi", "Wahyu"]
    assert [number for _name, number in ordered] == [1, 2, 3, 4]


def test_cell_blocks_are_kept_together(election, blora):
    bulk_inmates(blora, 120, prefix="Alpha", cell_block="A")
    bulk_inmates(blora, 100, prefix="Bravo", cell_block="B")
    bulk_inmates(blora, 90, prefix="Charlie", cell_block="C")
    plan(election, blora)
    tps_per_block = {
        block: set(
            TpsAssignment.objects.filter(inmate__cell_block=block).values_list("tps__number", flat=True)
        )
        for block in "ABC"
    }
    assert all(len(numbers) == 1 for numbers in tps_per_block.values()), tps_per_block
    assert sorted(sizes(election, blora).values()) == [120, 190]


def test_only_voters_projected_for_voting_day_get_a_tps(election, blora, make_inmate):
    staying = bulk_inmates(blora, 3)
    leaving = make_inmate(
        blora, full_name="Bebas Sebelum Pemilu", expected_release_date=datetime.date(2024, 2, 1)
    )
    foreigner = make_inmate(blora, full_name="John Smith", citizenship="WNA")
    plan(election, blora)
    assert set(tps_of(election)) == {inmate.pk for inmate in staying}
    assert leaving.pk not in tps_of(election) and foreigner.pk not in tps_of(election)


def test_adding_voters_moves_nobody(election, blora):
    bulk_inmates(blora, 301, cell_block="")
    plan(election, blora)
    before = tps_of(election)
    bulk_inmates(blora, 40, prefix="Newcomer", cell_block="")
    result = plan(election, blora)
    after = tps_of(election)
    assert result.moved == ()
    assert {pk: after[pk] for pk in before} == before
    assert len(result.added) == 40
    assert result.created_tps == ()


def test_newcomers_beyond_capacity_open_a_new_tps_and_nobody_moves(election, blora):
    bulk_inmates(blora, 300, cell_block="")
    plan(election, blora)
    bulk_inmates(blora, 5, prefix="Newcomer", cell_block="")
    result = plan(election, blora)
    assert result.created_tps == ("902",)
    assert result.moved == ()
    assert sizes(election, blora) == {"901": 300, "902": 5}


def test_released_voters_are_removed_and_reported(election, blora):
    inmates = bulk_inmates(blora, 10)
    plan(election, blora)
    release(inmates[:2], datetime.date(2024, 2, 1))
    result = plan(election, blora)
    assert {item.inmate_id for item in result.removed} == {inmates[0].pk, inmates[1].pk}
    assert all(item.from_tps == "901" for item in result.removed)
    assert set(tps_of(election)) == {inmate.pk for inmate in inmates[2:]}
    assert Tps.objects.get(facility=blora).voter_count == 8


def test_rebalancing_reports_exactly_who_moved(regions, blora):
    election = make_election(code="ten", max_voters_per_tps=10)
    inmates = bulk_inmates(blora, 11, cell_block="")
    plan(election, blora)
    on_901 = [inmate for inmate in inmates if tps_of(election)[inmate.pk] == "901"]
    release(on_901[:4], datetime.date(2024, 2, 1))
    before = tps_of(election)
    result = plan(election, blora, rebalance=True)
    after = tps_of(election)
    changed = {pk for pk in after if after[pk] != before[pk]}
    assert changed, "an uneven plan (2 against 5) is rebalanced"
    assert {move.key for move in result.moved} == changed
    assert all(move.from_tps == "902" and move.to_tps == "901" for move in result.moved)
    assert sorted(sizes(election, blora).values()) == [3, 4]


def test_dry_run_reports_without_saving(election, blora):
    bulk_inmates(blora, 5)
    result = plan(election, blora, dry_run=True)
    assert result.applied is False
    assert len(result.added) == 5
    assert not Tps.objects.exists()
    assert not TpsAssignment.objects.exists()


def test_replanning_keeps_a_manual_move(tiny_election, blora):
    bulk_inmates(blora, 5, cell_block="")
    plan(tiny_election, blora)
    assignment = TpsAssignment.objects.filter(tps__number="901").first()
    stations.tps_move_voter(assignment=assignment, to_tps=Tps.objects.get(number="902"), user=None)
    result = plan(tiny_election, blora)
    assignment.refresh_from_db()
    assert assignment.tps.number == "902"
    assert assignment.manual is True
    assert result.moved == ()


def test_a_voter_on_another_facilitys_tps_is_taken_over_not_duplicated(election, blora, pati):
    inmate = bulk_inmates(blora, 1)[0]
    pati_tps = make_tps(election, pati)
    TpsAssignment.objects.create(election=election, tps=pati_tps, inmate=inmate, order_number=1)
    plan(election, blora)
    assert TpsAssignment.objects.get(inmate=inmate).tps.facility == blora


def test_a_new_tps_stands_in_the_village_of_the_existing_one(election, blora):
    make_tps(election, blora, village="33.16.09.1013")
    bulk_inmates(blora, 301, cell_block="")
    plan(election, blora)
    assert set(Tps.objects.filter(facility=blora).values_list("village_id", flat=True)) == {"33.16.09.1013"}


# --- manual moves and capacity ------------------------------------------------------


def test_move_into_a_full_tps_is_refused(tiny_election, blora):
    bulk_inmates(blora, 6, cell_block="")
    plan(tiny_election, blora)
    assignment = TpsAssignment.objects.filter(tps__number="901").first()
    full = Tps.objects.get(number="902")
    with pytest.raises(stations.TpsFullError):
        stations.tps_move_voter(assignment=assignment, to_tps=full, user=None)
    assignment.refresh_from_db()
    assert assignment.tps.number == "901"
    assert sizes(tiny_election, blora) == {"901": 3, "902": 3}


def test_move_renumbers_both_lists_and_keeps_the_counts(tiny_election, blora, rutan_blora_officer):
    bulk_inmates(blora, 5, cell_block="")
    plan(tiny_election, blora)
    assignment = TpsAssignment.objects.filter(tps__number="901").order_by("order_number").first()
    moved = stations.tps_move_voter(
        assignment=assignment, to_tps=Tps.objects.get(number="902"), user=rutan_blora_officer
    )
    assert moved.manual is True
    for tps in Tps.objects.filter(facility=blora):
        numbers = list(tps.assignments.order_by("inmate__full_name").values_list("order_number", flat=True))
        assert numbers == list(range(1, len(numbers) + 1))
        assert tps.voter_count == len(numbers)
    assert moved.history.first().history_user == rutan_blora_officer


def test_move_to_another_facility_is_refused(election, blora, pati):
    bulk_inmates(blora, 1)
    plan(election, blora)
    other = make_tps(election, pati)
    with pytest.raises(ValidationError):
        stations.tps_move_voter(assignment=TpsAssignment.objects.get(), to_tps=other, user=None)


def test_the_database_refuses_a_tps_over_capacity(tiny_election, blora):
    bulk_inmates(blora, 3)
    plan(tiny_election, blora)
    tps = Tps.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        Tps.objects.filter(pk=tps.pk).update(voter_count=4)


def test_capacity_cannot_drop_below_the_voters_on_the_tps(tiny_election, blora):
    bulk_inmates(blora, 3)
    plan(tiny_election, blora)
    tps = Tps.objects.get()
    tps.capacity = 2
    with pytest.raises(ValidationError) as error:
        stations.tps_save(tps=tps, user=None)
    assert "capacity" in error.value.message_dict


def test_capacity_cannot_exceed_the_election_maximum(election, blora):
    tps = Tps(election=election, facility=blora, number="901", capacity=301)
    with pytest.raises(ValidationError) as error:
        stations.tps_save(tps=tps, user=None)
    assert "capacity" in error.value.message_dict


def test_capacity_defaults_to_the_election_maximum(election, blora):
    tps = stations.tps_save(tps=Tps(election=election, facility=blora, number="901"), user=None)
    assert tps.capacity == 300


def test_a_tps_village_must_lie_in_the_facilitys_regency(election, blora):
    tps = Tps(election=election, facility=blora, number="901", village_id="33.18.10.1005", capacity=300)
    with pytest.raises(ValidationError) as error:
        stations.tps_save(tps=tps, user=None)
    assert "village" in error.value.message_dict


def test_planning_never_overfills_a_tps_whose_capacity_was_lowered(election, blora):
    make_tps(election, blora, capacity=100)
    bulk_inmates(blora, 150, cell_block="")
    plan(election, blora)
    # TPS 902 is new (capacity 300): both are filled to about 38 % of their own capacity.
    assert sizes(election, blora) == {"901": 38, "902": 112}
    assert all(tps.voter_count <= tps.capacity for tps in Tps.objects.all())


def test_a_tps_with_a_lowered_capacity_does_not_open_a_needless_tps(election, blora):
    # TPS 901 holds 300, TPS 902 was set to 100: 250 voters fit, no TPS 903.
    make_tps(election, blora)
    make_tps(election, blora, number="902", capacity=100)
    bulk_inmates(blora, 250, cell_block="")
    result = plan(election, blora)
    assert result.created_tps == ()
    # Filled to the same share of their own capacity (62-63 %).
    assert sizes(election, blora) == {"901": 187, "902": 63}


def test_newcomers_next_to_a_lowered_tps_move_nobody_and_share_by_capacity(election, blora):
    make_tps(election, blora)
    make_tps(election, blora, number="902", capacity=100)
    bulk_inmates(blora, 250, cell_block="")
    plan(election, blora)
    bulk_inmates(blora, 60, prefix="Newcomer", cell_block="")
    result = plan(election, blora)
    assert (result.moved, result.created_tps) == ((), ())
    assert sizes(election, blora) == {"901": 232, "902": 78}


def test_new_tps_are_added_only_for_what_the_existing_ones_cannot_hold(election, blora):
    # 400 places in 901 (300) and 902 (100): 401 voters need exactly one more TPS.
    make_tps(election, blora)
    make_tps(election, blora, number="902", capacity=100)
    bulk_inmates(blora, 401, cell_block="")
    result = plan(election, blora)
    assert result.created_tps == ("903",)
    stored = {tps.number: (tps.capacity, tps.voter_count) for tps in Tps.objects.filter(facility=blora)}
    assert {number: capacity for number, (capacity, _count) in stored.items()} == {
        "901": 300,
        "902": 100,
        "903": 300,
    }
    assert all(count <= capacity for capacity, count in stored.values())
    assert sum(count for _capacity, count in stored.values()) == 401


# --- categories and audit -------------------------------------------------------


def test_category_is_dpt_when_no_list_was_accepted(election, blora):
    bulk_inmates(blora, 2)
    plan(election, blora)
    assert set(TpsAssignment.objects.values_list("category", flat=True)) == {"DPT"}


def test_planning_records_the_user_in_the_history(election, blora, kpu_blora_officer):
    bulk_inmates(blora, 1)
    stations.tps_plan(election=election, facility=blora, user=kpu_blora_officer)
    assert TpsAssignment.objects.get().history.first().history_user == kpu_blora_officer
    assert Tps.objects.get().history.first().history_user == kpu_blora_officer


def test_only_kpu_and_admins_manage_tps(rutan_blora_officer, kpu_blora_officer, admin_user):
    assert not stations.can_manage_tps(rutan_blora_officer)
    assert stations.can_manage_tps(kpu_blora_officer)
    assert stations.can_manage_tps(admin_user)
    kpu_blora_officer.is_active = False
    assert not stations.can_manage_tps(kpu_blora_officer)


# --- the command ------------------------------------------------------------------


def test_plan_tps_command_prints_and_saves_the_plan(election, blora, capsys):
    bulk_inmates(blora, 301, cell_block="")
    call_command("plan_tps", "--election", "pemilu-test", "--facility", "rutan-blora")
    out = capsys.readouterr().out
    assert "TPS 901 (new): 151 voters of at most 300" in out
    assert "TPS 902 (new): 150 voters" in out
    assert "moved: 0" in out
    assert TpsAssignment.objects.count() == 301


def test_plan_tps_command_dry_run_saves_nothing(election, blora, capsys):
    bulk_inmates(blora, 2)
    call_command("plan_tps", "--election", "pemilu-test", "--facility", "rutan-blora", "--dry-run")
    assert "not saved" in capsys.readouterr().out
    assert not Tps.objects.exists()


def test_plan_tps_command_refuses_an_unknown_facility(election):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("plan_tps", "--election", "pemilu-test", "--facility", "rutan-nowhere")


def test_plan_preview_shows_each_tps_with_its_own_capacity(client, election, blora, kpu_blora_officer):
    make_tps(election, blora, capacity=100)
    bulk_inmates(blora, 150, cell_block="")
    client.force_login(kpu_blora_officer)
    response = client.get(reverse("tps:stations_plan", args=["pemilu-test", "rutan-blora"]))
    rows = [(tps.number, tps.size, tps.capacity) for tps in response.context["result"].plan.tps]
    assert rows == [("901", 38, 100), ("902", 112, 300)]
    table = response.content.decode().split('id="plan-tps"')[1].split("</table>")[0]
    assert "<td>100</td>" in table and "<td>300</td>" in table
    assert not Tps.objects.filter(number="902").exists(), "a preview saves nothing"
