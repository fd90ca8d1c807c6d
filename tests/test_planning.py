"""Planning the TPS of a facility (tps/planning.py): how many, who goes where,
and what a re-plan changes. Pure, no database."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.stations_support import session_translations
from tests.test_eligibility import fragment_translations, in_english
from tps.planning import CapacityError, Move, Plan, PlanVoter, plan, tps_count

PEMILU_CAPACITY = 300
PILKADA_CAPACITY = 600


def inmates(count: int, *, block: str | None = None, prefix: str = "Inmate") -> list[PlanVoter]:
    return [
        PlanVoter(key=f"{prefix}-{index:04d}", name=f"{prefix} {index:04d}", cell_block=block)
        for index in range(count)
    ]


def in_blocks(**sizes: int) -> list[PlanVoter]:
    """Voters by cell block, e.g. ``in_blocks(A=100, B=50)``."""
    return [
        voter for block, size in sizes.items() for voter in inmates(size, block=block, prefix=f"Blok {block}")
    ]


def as_current(result: Plan) -> list[PlanVoter]:
    """The voters of a saved plan, as the next re-plan receives them."""
    return [PlanVoter(a.key, a.name, a.cell_block, current_tps=a.tps_number) for a in result.assignments]


def tps_of_blocks(result: Plan) -> dict[str, set[str]]:
    where: dict[str, set[str]] = {}
    for assignment in result.assignments:
        where.setdefault(assignment.cell_block or "", set()).add(assignment.tps_number)
    return where


# ---------------------------------------------------------------- tps_count


@pytest.mark.parametrize(
    ("voters", "capacity", "expected"),
    [(0, 300, 0), (1, 300, 1), (300, 300, 1), (301, 300, 2), (600, 300, 2), (601, 300, 3), (601, 600, 2)],
)
def test_tps_count_is_the_fewest_tps_that_fit(voters: int, capacity: int, expected: int) -> None:
    assert tps_count(voters, capacity) == expected


@pytest.mark.parametrize(("voters", "capacity"), [(10, 0), (10, -300), (-1, 300)])
def test_tps_count_refuses_nonsense(voters: int, capacity: int) -> None:
    with pytest.raises(ValueError):
        tps_count(voters, capacity)


# ---------------------------------------------------------------- how many TPS


def test_301_voters_at_capacity_300_need_two_tps() -> None:
    assert plan(inmates(301), PEMILU_CAPACITY).numbers == ("901", "902")


def test_300_voters_at_capacity_300_fit_one_tps() -> None:
    assert plan(inmates(300), PEMILU_CAPACITY).sizes == {"901": 300}


def test_the_same_voters_need_fewer_tps_under_the_pilkada_capacity() -> None:
    assert plan(inmates(301), PILKADA_CAPACITY).sizes == {"901": 301}


def test_numbering_can_start_elsewhere() -> None:
    assert plan(inmates(301), PEMILU_CAPACITY, start_number=1).numbers == ("1", "2")


def test_no_voters_make_an_empty_plan() -> None:
    result = plan([], PEMILU_CAPACITY)
    assert (result.tps, result.moved, result.added) == ((), (), ())


def test_given_tps_numbers_are_used_as_given() -> None:
    result = plan(inmates(301), PEMILU_CAPACITY, tps_numbers=["905", "903"])
    assert result.numbers == ("905", "903")


def test_extra_given_tps_share_the_voters() -> None:
    result = plan(inmates(300), PEMILU_CAPACITY, tps_numbers=["901", "902", "903"])
    assert result.sizes == {"901": 100, "902": 100, "903": 100}


# --------------------------------------------------------------------- capacity


def test_too_few_given_tps_is_a_clear_error() -> None:
    with pytest.raises(
        CapacityError, match="301 voters need at least 2 TPS of at most 300 voters each, but only 1"
    ):
        plan(inmates(301), PEMILU_CAPACITY, tps_numbers=["901"])


def test_capacity_error_carries_the_figures() -> None:
    with pytest.raises(CapacityError) as caught:
        plan(inmates(601), PEMILU_CAPACITY, tps_numbers=["901", "902"])
    error = caught.value
    assert (error.voters, error.capacity, error.tps_available, error.tps_needed) == (601, 300, 2, 3)


def test_capacity_error_has_the_same_message_for_the_user() -> None:
    error = CapacityError(voters=301, capacity=300, tps_available=1)
    with in_english():
        assert error.user_message == str(error)


def test_capacity_error_message_is_translated_in_the_fragment() -> None:
    msgid = (
        "%(voters)d voters need at least %(needed)d TPS of at most %(capacity)d voters each, "
        "but only %(available)d TPS are available."
    )
    assert fragment_translations()[msgid].startswith("%(voters)d pemilih")


def test_a_tps_over_a_lowered_capacity_gives_up_voters_and_stays_within_it() -> None:
    # Planned at 600 for Pilkada, re-planned at 300 for Pemilu.
    before = plan(inmates(400), PILKADA_CAPACITY)
    after = plan(as_current(before), PEMILU_CAPACITY)
    assert after.sizes == {"901": 300, "902": 100}
    assert {move.to_tps for move in after.moved} == {"902"}
    assert len(after.moved) == 100


@pytest.mark.parametrize("capacity", [0, -1, 1.5, True])
def test_capacity_must_be_a_positive_whole_number(capacity: object) -> None:
    with pytest.raises(ValueError, match="capacity"):
        plan(inmates(3), capacity)  # type: ignore[arg-type]


# ---------------------------------------------------- each TPS its own capacity


def test_a_small_tps_does_not_limit_the_others() -> None:
    # TPS 902 was set to 100: 250 voters still fit 901 (300) and 902 together.
    result = plan(inmates(250), PEMILU_CAPACITY, tps_numbers=["901", "902"], capacities={"902": 100})
    assert result.sizes == {"901": 187, "902": 63}


def test_each_tps_is_filled_to_the_same_share_of_its_capacity() -> None:
    result = plan(inmates(200), PEMILU_CAPACITY, tps_numbers=["901", "902"], capacities={"902": 100})
    assert result.sizes == {"901": 150, "902": 50}


def test_a_planned_tps_carries_its_own_capacity() -> None:
    result = plan(inmates(250), PEMILU_CAPACITY, tps_numbers=["901", "902"], capacities={"902": 100})
    assert [(tps.number, tps.capacity) for tps in result.tps] == [("901", 300), ("902", 100)]


def test_without_given_numbers_the_fewest_tps_that_fit_their_own_capacities() -> None:
    # 901 holds 100: 350 voters need 901 and one TPS of 300, not three.
    result = plan(inmates(350), PEMILU_CAPACITY, capacities={"901": 100})
    assert result.numbers == ("901", "902")
    assert all(tps.size <= tps.capacity for tps in result.tps)


def test_cell_blocks_stay_together_next_to_a_small_tps() -> None:
    result = plan(
        in_blocks(A=120, B=90, C=60, D=30),
        PEMILU_CAPACITY,
        tps_numbers=["901", "902"],
        capacities={"902": 100},
    )
    assert result.split_blocks == ()
    assert result.sizes == {"901": 210, "902": 90}


def test_a_block_too_big_for_the_small_tps_goes_whole_to_the_big_one() -> None:
    result = plan(
        in_blocks(A=150, B=20), PEMILU_CAPACITY, tps_numbers=["901", "902"], capacities={"901": 100}
    )
    assert tps_of_blocks(result) == {"A": {"902"}, "B": {"901"}}


def test_too_few_tps_of_different_capacities_is_a_clear_error() -> None:
    with pytest.raises(
        CapacityError,
        match="401 voters need at least 3 TPS, but the 2 TPS available hold at most 400 voters together",
    ) as caught:
        plan(inmates(401), PEMILU_CAPACITY, tps_numbers=["901", "902"], capacities={"902": 100})
    assert (caught.value.room, caught.value.tps_needed) == (400, 3)


def test_the_capacity_error_for_different_capacities_is_translated_in_the_fragment() -> None:
    msgid = (
        "%(voters)d voters need at least %(needed)d TPS, but the %(available)d TPS available "
        "hold at most %(room)d voters together."
    )
    assert session_translations()[msgid].startswith("%(voters)d pemilih")


def test_a_lowered_capacity_on_re_plan_moves_only_the_voters_over_it() -> None:
    before = plan(inmates(400), PEMILU_CAPACITY)
    after = plan(as_current(before), PEMILU_CAPACITY, capacities={"902": 50})
    assert after.sizes == {"901": 200, "902": 50, "903": 150}
    assert {(move.from_tps, move.to_tps) for move in after.moved} == {("902", "903")}
    assert len(after.moved) == 150


def test_rebalancing_shares_voters_in_proportion_to_capacity() -> None:
    first = plan(inmates(300), PEMILU_CAPACITY, tps_numbers=["901", "902"], capacities={"902": 100})
    second = plan(
        as_current(first) + inmates(100, prefix="Baru"),
        PEMILU_CAPACITY,
        tps_numbers=["901", "902"],
        capacities={"902": 100},
        rebalance=True,
    )
    assert second.sizes == {"901": 300, "902": 100}
    assert all(move.to_tps == "902" for move in second.moved)


# ------------------------------------------------------------------- balance


def test_301_voters_without_blocks_are_split_151_and_150() -> None:
    assert plan(inmates(301), PEMILU_CAPACITY).sizes == {"901": 151, "902": 150}


def test_301_voters_of_one_block_are_split_evenly() -> None:
    result = plan(inmates(301, block="A"), PEMILU_CAPACITY)
    assert sorted(result.sizes.values()) == [150, 151]


def test_a_block_bigger_than_a_tps_is_split_evenly_and_reported() -> None:
    result = plan(in_blocks(A=400), PEMILU_CAPACITY)
    assert result.sizes == {"901": 200, "902": 200}
    assert result.split_blocks == ("A",)


def test_voters_without_a_block_fill_the_smaller_tps() -> None:
    voters = in_blocks(A=200, B=60) + inmates(41)
    assert plan(voters, PEMILU_CAPACITY).sizes == {"901": 200, "902": 101}


# ----------------------------------------------------------------- cell blocks


def test_cell_blocks_are_kept_together() -> None:
    result = plan(in_blocks(A=80, B=70, C=60, D=50, E=41), PEMILU_CAPACITY)
    assert result.split_blocks == ()
    assert all(len(where) == 1 for where in tps_of_blocks(result).values())


def test_whole_blocks_are_packed_as_evenly_as_they_allow() -> None:
    result = plan(in_blocks(A=80, B=70, C=60, D=50, E=41), PEMILU_CAPACITY)
    assert sorted(result.sizes.values()) == [150, 151]


def test_keeping_blocks_whole_comes_before_perfect_balance() -> None:
    result = plan(in_blocks(A=200, B=101), PEMILU_CAPACITY)
    assert result.split_blocks == ()
    assert sorted(result.sizes.values()) == [101, 200]


def test_a_block_is_split_only_when_no_tps_has_room_for_it() -> None:
    # 3 x 180 = 540 voters in 2 TPS: one block cannot be placed whole.
    result = plan(in_blocks(A=180, B=180, C=180), PEMILU_CAPACITY)
    assert result.split_blocks == ("C",)
    assert result.sizes == {"901": 270, "902": 270}


def test_blank_block_names_count_as_no_block() -> None:
    voters = [PlanVoter(key=index, name=f"N{index}", cell_block="  ") for index in range(3)]
    assert plan(voters, PEMILU_CAPACITY).assignments[0].cell_block is None


# ---------------------------------------------------------------- numbering


def test_voters_are_numbered_alphabetically_within_each_tps() -> None:
    voters = [PlanVoter("w", "Wahyu Santoso"), PlanVoter("a", "agus salim"), PlanVoter("b", "Budi")]
    result = plan(voters, PEMILU_CAPACITY)
    assert [(a.sequence, a.name) for a in result.tps[0].voters] == [
        (1, "agus salim"),
        (2, "Budi"),
        (3, "Wahyu Santoso"),
    ]


def test_accents_do_not_move_a_name_out_of_alphabetical_order() -> None:
    voters = [PlanVoter(1, "Zainal"), PlanVoter(2, "Éko"), PlanVoter(3, "Fajar")]
    assert [a.name for a in plan(voters, PEMILU_CAPACITY).assignments] == ["Éko", "Fajar", "Zainal"]


def test_each_tps_numbers_its_voters_from_one() -> None:
    result = plan(inmates(301), PEMILU_CAPACITY)
    assert [[a.sequence for a in tps.voters] for tps in result.tps] == [
        list(range(1, 152)),
        list(range(1, 151)),
    ]


def test_namesakes_are_ordered_the_same_way_every_time() -> None:
    voters = [PlanVoter(key, "Ahmad") for key in (3, 1, 2)]
    assert [a.key for a in plan(voters, PEMILU_CAPACITY).assignments] == [1, 2, 3]


# ------------------------------------------------------------- re-planning


def test_adding_five_voters_moves_nobody_else() -> None:
    first = plan(in_blocks(A=80, B=70, C=60, D=50, E=41), PEMILU_CAPACITY)
    newcomers = inmates(5, prefix="Baru")
    second = plan(as_current(first) + newcomers, PEMILU_CAPACITY)
    assert second.moved == ()
    assert all(second.assignment_for(a.key).tps_number == a.tps_number for a in first.assignments)


def test_newcomers_are_reported_as_added() -> None:
    first = plan(inmates(301), PEMILU_CAPACITY)
    second = plan(as_current(first) + inmates(5, prefix="Baru"), PEMILU_CAPACITY)
    assert sorted(a.key for a in second.added) == [f"Baru-{index:04d}" for index in range(5)]


def test_newcomers_join_their_cell_block() -> None:
    first = plan(in_blocks(A=150, B=151), PEMILU_CAPACITY)
    block_b_tps = first.assignment_for("Blok B-0000").tps_number
    newcomers = [PlanVoter(f"new-{i}", f"Baru {i}", cell_block="B") for i in range(3)]
    second = plan(as_current(first) + newcomers, PEMILU_CAPACITY)
    assert {second.assignment_for(voter.key).tps_number for voter in newcomers} == {block_b_tps}


def test_stability_comes_before_balance() -> None:
    # A full TPS stays full; the newcomers open a second TPS.
    first = plan(inmates(300), PEMILU_CAPACITY)
    second = plan(as_current(first) + inmates(5, prefix="Baru"), PEMILU_CAPACITY)
    assert (second.sizes, second.moved, second.added_tps) == ({"901": 300, "902": 5}, (), ("902",))


def test_rebalancing_on_request_evens_out_with_the_fewest_moves() -> None:
    first = plan(inmates(300), PEMILU_CAPACITY)
    second = plan(as_current(first) + inmates(5, prefix="Baru"), PEMILU_CAPACITY, rebalance=True)
    assert second.sizes == {"901": 153, "902": 152}
    assert len(second.moved) == 300 - 153
    assert {(move.from_tps, move.to_tps) for move in second.moved} == {("901", "902")}


def test_voters_of_a_tps_that_is_no_longer_needed_are_moved() -> None:
    first = plan(inmates(400), PEMILU_CAPACITY)
    leaving = {a.key for a in first.tps[0].voters[:150]}
    remaining = [voter for voter in as_current(first) if voter.key not in leaving]
    second = plan(remaining, PEMILU_CAPACITY)
    assert second.numbers == ("901",)
    assert second.removed_tps == ("902",)
    assert {(move.from_tps, move.to_tps) for move in second.moved} == {("902", "901")}
    assert len(second.moved) == 200


def test_a_voter_on_an_unknown_tps_is_moved_not_added() -> None:
    voter = PlanVoter("x", "Slamet", current_tps="905")
    result = plan([voter], PEMILU_CAPACITY)
    assert result.moved == (Move(key="x", name="Slamet", from_tps="905", to_tps="901"),)
    assert result.added == ()
    assert result.removed_tps == ("905",)


def test_first_plan_adds_every_voter_and_every_tps() -> None:
    result = plan(inmates(301), PEMILU_CAPACITY)
    assert (len(result.added), result.added_tps, result.moved) == (301, ("901", "902"), ())


# ------------------------------------------------------------ determinism


def test_the_plan_does_not_depend_on_input_order() -> None:
    voters = in_blocks(A=120, B=90, C=45) + inmates(46)
    shuffled = voters[:]
    random.Random(7).shuffle(shuffled)
    assert plan(shuffled, PEMILU_CAPACITY) == plan(voters, PEMILU_CAPACITY)


# ------------------------------------------------------------------ bad input


def test_duplicate_voter_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="voter keys must be unique"):
        plan([PlanVoter(1, "Ani"), PlanVoter(1, "Ani")], PEMILU_CAPACITY)


def test_duplicate_tps_numbers_are_refused() -> None:
    with pytest.raises(ValueError, match="TPS numbers must be unique"):
        plan(inmates(3), PEMILU_CAPACITY, tps_numbers=["901", " 901 "])


def test_blank_tps_numbers_are_refused() -> None:
    with pytest.raises(ValueError, match="blank"):
        plan(inmates(3), PEMILU_CAPACITY, tps_numbers=["901", ""])


def test_asking_for_an_absent_voter_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        plan(inmates(3), PEMILU_CAPACITY).assignment_for("nobody")


# ---------------------------------------------------------------- properties

voter_lists = st.lists(
    st.tuples(
        st.sampled_from(["Ani", "Budi", "Citra", "Dedi", "Eka"]),
        st.one_of(st.none(), st.sampled_from(["A", "B", "C", "D"])),
        st.one_of(st.none(), st.sampled_from(["901", "902", "903", "950"])),
    ),
    max_size=120,
)


def build(rows: list[tuple[str, str | None, str | None]]) -> list[PlanVoter]:
    return [
        PlanVoter(key=index, name=name, cell_block=block, current_tps=tps)
        for index, (name, block, tps) in enumerate(rows)
    ]


@settings(database=None, deadline=None, max_examples=150)
@given(rows=voter_lists, capacity=st.integers(min_value=1, max_value=60))
def test_every_voter_gets_exactly_one_place_and_no_tps_is_over_capacity(
    rows: list[tuple[str, str | None, str | None]], capacity: int
) -> None:
    result = plan(build(rows), capacity)
    assert Counter(a.key for a in result.assignments) == Counter(range(len(rows)))
    assert len(result.tps) == tps_count(len(rows), capacity)
    assert all(tps.size <= capacity for tps in result.tps)
    assert all([a.sequence for a in tps.voters] == list(range(1, tps.size + 1)) for tps in result.tps)


@settings(database=None, deadline=None, max_examples=150)
@given(rows=voter_lists, capacity=st.integers(min_value=1, max_value=60))
def test_moves_are_exactly_the_voters_whose_tps_changed(
    rows: list[tuple[str, str | None, str | None]], capacity: int
) -> None:
    voters = build(rows)
    result = plan(voters, capacity)
    changed = {
        voter.key
        for voter in voters
        if voter.current_tps and voter.current_tps != result.assignment_for(voter.key).tps_number
    }
    assert {move.key for move in result.moved} == changed


@settings(database=None, deadline=None, max_examples=100)
@given(rows=voter_lists, capacity=st.integers(min_value=1, max_value=60))
def test_replanning_an_unchanged_plan_changes_nothing(
    rows: list[tuple[str, str | None, str | None]], capacity: int
) -> None:
    first = plan(build(rows), capacity)
    again = plan(as_current(first), capacity)
    assert again.moved == ()
    assert again.assignments == first.assignments


@settings(database=None, deadline=None, max_examples=150)
@given(
    rows=voter_lists,
    capacity=st.integers(min_value=1, max_value=60),
    own=st.dictionaries(
        st.sampled_from(["901", "902", "903", "904"]), st.integers(min_value=1, max_value=60)
    ),
)
def test_no_tps_is_over_its_own_capacity_and_none_is_needless(
    rows: list[tuple[str, str | None, str | None]], capacity: int, own: dict[str, int]
) -> None:
    result = plan(build(rows), capacity, capacities=own)
    assert Counter(a.key for a in result.assignments) == Counter(range(len(rows)))
    assert all(tps.size <= tps.capacity == own.get(tps.number, capacity) for tps in result.tps)
    # The fewest TPS: without the last one the others could not hold everyone.
    assert sum(tps.capacity for tps in result.tps[:-1]) < len(rows) or not result.tps


@settings(database=None, deadline=None, max_examples=100)
@given(
    rows=voter_lists,
    capacity=st.integers(min_value=1, max_value=60),
    own=st.dictionaries(
        st.sampled_from(["901", "902", "903", "904"]), st.integers(min_value=1, max_value=60)
    ),
)
def test_replanning_an_unchanged_plan_of_different_capacities_changes_nothing(
    rows: list[tuple[str, str | None, str | None]], capacity: int, own: dict[str, int]
) -> None:
    first = plan(build(rows), capacity, capacities=own)
    again = plan(as_current(first), capacity, capacities=own)
    assert again.moved == ()
    assert again.assignments == first.assignments
