"""Planning the TPS of a facility: how many, and which voter goes where.

Pure module: plain voters in, a plan out. The service stores the plan; this
module only decides. It is deterministic, so the same list always yields the
same plan, and a plan can be previewed before it is saved.

Priorities, strongest first:

1. **Capacity** is never exceeded. Each TPS has its own (the election's
   maximum, 300 for Pemilu 2024, 600 for Pilkada, or lower when the KPU set
   a TPS lower); if the voters cannot fit, ``CapacityError`` says why.
2. **Stability**: on a re-plan a voter keeps the TPS they are on while it still
   exists and has room. Every move means a changed DPT, a new notice and
   confused KPPS, and the lists turn over weekly before voting day.
3. **Cell blocks together**: inmates are escorted to the TPS block by block,
   so a block is placed whole (largest first, into the least filled TPS that
   has room for it) and split only when no TPS has room for it; a split
   block is shared out evenly.
4. **Balance relative to capacity**: within those limits, voters go to the
   TPS filled to the smallest share of its capacity, so 301 voters without
   blocks make two TPS of 151 and 150, not 300 and 1, and a TPS of capacity
   100 next to one of 300 gets about a quarter of the voters. A small TPS
   does not hold the big ones back: each is filled against its own capacity.

Within each TPS voters are numbered 1..n in alphabetical order of name, the
order of the printed DPT.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

from django.utils.translation import gettext

DEFAULT_START_NUMBER = 901


@dataclass(frozen=True)
class PlanVoter:
    key: Hashable
    name: str
    cell_block: str | None = None
    current_tps: str | None = None


@dataclass(frozen=True)
class Assignment:
    key: Hashable
    name: str
    cell_block: str | None
    tps_number: str
    sequence: int


@dataclass(frozen=True)
class Move:
    key: Hashable
    name: str
    from_tps: str
    to_tps: str


@dataclass(frozen=True)
class PlannedTps:
    number: str
    voters: tuple[Assignment, ...]
    capacity: int

    @property
    def size(self) -> int:
        return len(self.voters)

    @property
    def blocks(self) -> tuple[str, ...]:
        return tuple(sorted({voter.cell_block for voter in self.voters if voter.cell_block is not None}))


@dataclass(frozen=True)
class Plan:
    """The proposed TPS and what changes compared with the voters' current TPS.

    ``added`` are voters who had no TPS before. ``added_tps`` are TPS numbers
    no voter was on before; ``removed_tps`` are TPS numbers voters were on
    that the plan no longer has. Voters who left the list are not passed in,
    so the caller (which knows the stored assignments) reports those.

    ``capacity`` is the capacity of a TPS the plan adds (the election's
    maximum); each planned TPS carries its own in ``PlannedTps.capacity``.
    """

    capacity: int
    tps: tuple[PlannedTps, ...]
    moved: tuple[Move, ...]
    added: tuple[Assignment, ...]
    added_tps: tuple[str, ...]
    removed_tps: tuple[str, ...]
    split_blocks: tuple[str, ...]

    @property
    def numbers(self) -> tuple[str, ...]:
        return tuple(tps.number for tps in self.tps)

    @property
    def sizes(self) -> dict[str, int]:
        return {tps.number: tps.size for tps in self.tps}

    @property
    def assignments(self) -> tuple[Assignment, ...]:
        return tuple(assignment for tps in self.tps for assignment in tps.voters)

    def assignment_for(self, key: Hashable) -> Assignment:
        for assignment in self.assignments:
            if assignment.key == key:
                return assignment
        raise KeyError(key)


class CapacityError(ValueError):
    """The voters do not fit the TPS available without exceeding capacity.

    ``room`` is what the available TPS hold together (their capacities may
    differ); ``tps_needed`` adds the TPS of ``capacity`` voters still missing.
    """

    def __init__(self, *, voters: int, capacity: int, tps_available: int, room: int | None = None) -> None:
        self.voters = voters
        self.capacity = capacity
        self.tps_available = tps_available
        self.room = capacity * tps_available if room is None else room
        self.tps_needed = tps_available + tps_count(max(0, voters - self.room), capacity)
        if self._uniform:
            message = (
                f"{voters} voters need at least {self.tps_needed} TPS of at most {capacity} voters each, "
                f"but only {tps_available} TPS are available."
            )
        else:
            message = (
                f"{voters} voters need at least {self.tps_needed} TPS, but the {tps_available} TPS "
                f"available hold at most {self.room} voters together."
            )
        super().__init__(message)

    @property
    def _uniform(self) -> bool:
        return self.room == self.capacity * self.tps_available

    @property
    def user_message(self) -> str:
        """The same message, translated for the user in the active language."""
        figures = {
            "voters": self.voters,
            "needed": self.tps_needed,
            "capacity": self.capacity,
            "available": self.tps_available,
            "room": self.room,
        }
        if self._uniform:
            return (
                gettext(
                    "%(voters)d voters need at least %(needed)d TPS of at most %(capacity)d voters each, "
                    "but only %(available)d TPS are available."
                )
                % figures
            )
        return (
            gettext(
                "%(voters)d voters need at least %(needed)d TPS, but the %(available)d TPS available "
                "hold at most %(room)d voters together."
            )
            % figures
        )


def _check_capacity(capacity: int) -> None:
    if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
        raise ValueError(f"capacity must be a positive int, got {capacity!r}")


def tps_count(voters: int, capacity: int) -> int:
    """The fewest TPS that hold ``voters`` without any exceeding ``capacity``."""
    _check_capacity(capacity)
    if isinstance(voters, bool) or not isinstance(voters, int) or voters < 0:
        raise ValueError(f"voters must be a non-negative int, got {voters!r}")
    return -(-voters // capacity)


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


def _name_key(voter: PlanVoter) -> tuple[str, str, str]:
    """Alphabetical order as a reader expects it: case and accents ignored.

    The name as written and the key's repr break ties, so the order never
    depends on the order of the input.
    """
    decomposed = unicodedata.normalize("NFKD", voter.name)
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return (" ".join(plain.casefold().split()), voter.name, repr(voter.key))


class _Allocation:
    """Mutable working state of one planning run.

    Loads are compared relative to capacity (``len / capacity``, exact
    fractions): with equal capacities that is simply the number of voters.
    """

    def __init__(self, numbers: Sequence[str], capacities: Mapping[str, int]) -> None:
        self.numbers = list(numbers)
        self.order = {number: index for index, number in enumerate(numbers)}
        self.capacity = {number: capacities[number] for number in numbers}
        self.members: dict[str, list[PlanVoter]] = {number: [] for number in numbers}
        self.target: dict[str, int] = dict(self.capacity)
        # Blocks placed whole by this run with no members anywhere else: the
        # only voters the balancing pass may still move.
        self.movable: list[tuple[list[PlanVoter], str]] = []

    def size(self, number: str) -> int:
        return len(self.members[number])

    def room(self, number: str) -> int:
        return self.capacity[number] - self.size(number)

    def load(self, number: str) -> Fraction:
        return Fraction(self.size(number), self.capacity[number])

    def mates(self, number: str, block: str) -> int:
        return sum(1 for voter in self.members[number] if voter.cell_block == block)

    def set_targets(self, total: int) -> None:
        """Balanced sizes given the voters already fixed: the lowest common
        share ``s`` of capacity with ``sum(max(size, ceil(s * capacity))) >=
        total`` (water filling, each TPS up to its own capacity)."""
        if not self.numbers:
            return
        levels = sorted(
            {
                Fraction(step, capacity)
                for capacity in set(self.capacity.values())
                for step in range(capacity + 1)
            }
        )

        def targets(level: Fraction) -> dict[str, int]:
            return {
                number: max(self.size(number), -(-level.numerator * capacity // level.denominator))
                for number, capacity in self.capacity.items()
            }

        low, high = 0, len(levels) - 1
        while low < high:
            middle = (low + high) // 2
            if sum(targets(levels[middle]).values()) >= total:
                high = middle
            else:
                low = middle + 1
        self.target = targets(levels[low])

    def least_loaded(self, candidates: Iterable[str]) -> str:
        return min(candidates, key=lambda number: (self.load(number), self.order[number]))

    def place_block(self, block: str, group: list[PlanVoter]) -> None:
        size = len(group)
        with_mates = [
            number for number in self.numbers if self.mates(number, block) and self.room(number) >= size
        ]
        if with_mates:
            best = max(
                with_mates,
                key=lambda number: (
                    self.mates(number, block),
                    -self.load(number),
                    -self.order[number],
                ),
            )
            self.members[best].extend(group)
            return
        fitting = [number for number in self.numbers if self.room(number) >= size]
        if fitting:
            chosen = self.least_loaded(fitting)
            if not any(self.mates(number, block) for number in self.numbers):
                self.movable.append((group, chosen))
            self.members[chosen].extend(group)
            return
        self._split(sorted(group, key=_name_key))

    def _gain(self, count: int, home: str, there: str) -> Fraction:
        """How much moving ``count`` voters from ``home`` to ``there`` evens
        out the loads: the fall of ``sum(size**2 / capacity)``, which is
        smallest when every TPS is filled to the same share of its capacity."""
        home_size, there_size = self.size(home), self.size(there)
        return Fraction(2 * count * home_size - count * count, self.capacity[home]) - Fraction(
            2 * count * there_size + count * count, self.capacity[there]
        )

    def even_out_blocks(self) -> None:
        """Largest-first packing can leave whole blocks unevenly spread (80,
        50, 41 against 70, 60); move or swap whole blocks between two TPS
        while that evens out their loads.

        Each step strictly lowers ``sum(size**2 / capacity)``, so it ends; a
        step is taken only when the receiving TPS has room.
        """
        while True:
            # (gain, block index, destination, swap partner index or None)
            best: tuple[Fraction, int, str, int | None] | None = None
            for index, (group, home) in enumerate(self.movable):
                for there in self.numbers:
                    if there == home or len(group) > self.room(there):
                        continue
                    gain = self._gain(len(group), home, there)
                    if gain > 0 and (best is None or gain > best[0]):
                        best = (gain, index, there, None)
                for partner, (other, there) in enumerate(self.movable):
                    delta = len(group) - len(other)
                    if there == home or delta <= 0 or delta > self.room(there):
                        continue
                    gain = self._gain(delta, home, there)
                    if gain > 0 and (best is None or gain > best[0]):
                        best = (gain, index, there, partner)
            if best is None:
                return
            _gain, index, there, partner = best
            home = self.movable[index][1]
            self._move(index, there)
            if partner is not None:
                self._move(partner, home)

    def _move(self, index: int, to: str) -> None:
        group, home = self.movable[index]
        keys = {id(voter) for voter in group}
        self.members[home] = [voter for voter in self.members[home] if id(voter) not in keys]
        self.members[to].extend(group)
        self.movable[index] = (group, to)

    def _split(self, group: list[PlanVoter]) -> None:
        """Share out a block that fits nowhere whole: first up to the balanced
        target, then up to capacity, biggest gaps first."""
        remaining = list(group)
        for limits in (self.target, self.capacity):
            gaps = {number: limits[number] - self.size(number) for number in self.numbers}
            for number in sorted(self.numbers, key=lambda number: (-gaps[number], self.order[number])):
                take = min(gaps[number], len(remaining))
                if take > 0:
                    self.members[number].extend(remaining[:take])
                    remaining = remaining[take:]
            if not remaining:
                return
        raise AssertionError("capacity was checked before allocation")  # pragma: no cover

    def place_loose(self, voter: PlanVoter) -> None:
        open_tps = [number for number in self.numbers if self.room(number) > 0]
        self.members[self.least_loaded(open_tps)].append(voter)


def _keep_order(voters: list[PlanVoter]) -> list[PlanVoter]:
    """Order in which an over-full TPS keeps its voters: the biggest blocks
    first, so the fewest blocks are cut; voters without a block last."""
    counts = Counter(voter.cell_block for voter in voters if voter.cell_block is not None)
    return sorted(
        voters,
        key=lambda voter: (
            voter.cell_block is None,
            -counts[voter.cell_block] if voter.cell_block is not None else 0,
            voter.cell_block or "",
            _name_key(voter),
        ),
    )


def _even_shares(
    staying: dict[str, list[PlanVoter]], total: int, capacities: Mapping[str, int]
) -> dict[str, int]:
    """Shares proportional to capacity (with equal capacities: sizes differing
    by at most one); the units left over go to the TPS that already hold the
    most voters, so the fewest have to move."""
    if not staying:
        return {}
    room = sum(capacities[number] for number in staying)
    shares = {number: total * capacities[number] // room for number in staying}
    left = total - sum(shares.values())
    order = {number: index for index, number in enumerate(staying)}
    fullest = sorted(staying, key=lambda number: (-len(staying[number]), order[number]))
    while left > 0:
        for number in fullest:
            if left and shares[number] < capacities[number]:
                shares[number] += 1
                left -= 1
    return shares


def _numbers_for(
    total: int, capacity_of: Callable[[str], int], tps_numbers: Sequence[str] | None, start_number: int
) -> list[str]:
    """The given TPS numbers (checked), or the fewest numbered from ``start_number`` that hold ``total``."""
    if tps_numbers is None:
        if isinstance(start_number, bool) or not isinstance(start_number, int) or start_number < 0:
            raise ValueError(f"start_number must be a non-negative int, got {start_number!r}")
        numbers: list[str] = []
        room = 0
        while room < total:
            number = str(start_number + len(numbers))
            numbers.append(number)
            room += capacity_of(number)
        return numbers
    numbers = []
    for raw in tps_numbers:
        number = _clean(str(raw))
        if number is None:
            raise ValueError("TPS numbers cannot be blank")
        if number in numbers:
            raise ValueError(f"TPS numbers must be unique; {number!r} is repeated")
        numbers.append(number)
    return numbers


def plan(
    voters: Iterable[PlanVoter],
    capacity: int,
    tps_numbers: Sequence[str] | None = None,
    start_number: int = DEFAULT_START_NUMBER,
    *,
    rebalance: bool = False,
    capacities: Mapping[str, int] | None = None,
) -> Plan:
    """Propose TPS for ``voters``, none over its capacity.

    Every TPS holds ``capacity`` voters unless ``capacities`` gives its own
    (by number: a TPS the KPU set lower); each TPS is filled against its own
    capacity, so a small one does not limit the others.

    Without ``tps_numbers`` the plan has the fewest TPS that fit
    (``tps_count`` when all hold ``capacity``), numbered from
    ``start_number`` (``"901"``, ``"902"`` ..., the usual numbering of
    special-location TPS). With ``tps_numbers`` exactly those TPS are used,
    in that order (the KPU decides how many TPS a facility gets);
    ``CapacityError`` if they cannot hold everyone.

    A voter's ``current_tps`` is kept when that TPS is in the plan and has
    room. With ``rebalance=True`` it is kept only up to a share proportional
    to the TPS's capacity: the plan is balanced while moving as few voters
    as that allows.
    """
    _check_capacity(capacity)
    own = {}
    for raw_number, own_capacity in (capacities or {}).items():
        _check_capacity(own_capacity)
        number = _clean(str(raw_number))
        if number is not None:
            own[number] = own_capacity

    def capacity_of(number: str) -> int:
        return own.get(number, capacity)

    people = [
        PlanVoter(
            key=voter.key,
            name=voter.name,
            cell_block=_clean(voter.cell_block),
            current_tps=_clean(voter.current_tps),
        )
        for voter in voters
    ]
    repeated = [key for key, seen in Counter(voter.key for voter in people).items() if seen > 1]
    if repeated:
        raise ValueError(f"voter keys must be unique; repeated: {repeated!r}")

    total = len(people)
    numbers = _numbers_for(total, capacity_of, tps_numbers, start_number)
    limits = {number: capacity_of(number) for number in numbers}
    room = sum(limits.values())
    if room < total:
        raise CapacityError(voters=total, capacity=capacity, tps_available=len(numbers), room=room)

    allocation = _Allocation(numbers, limits)
    # Deterministic whatever the input order.
    people.sort(key=_name_key)
    pool: list[PlanVoter] = []
    staying: dict[str, list[PlanVoter]] = {number: [] for number in numbers}
    for voter in people:
        if voter.current_tps in staying:
            staying[voter.current_tps].append(voter)
        else:
            pool.append(voter)
    kept_up_to = _even_shares(staying, total, limits) if rebalance else limits
    for number, group in staying.items():
        kept = _keep_order(group)
        allocation.members[number].extend(kept[: kept_up_to[number]])
        pool.extend(kept[kept_up_to[number] :])

    allocation.set_targets(total)
    blocks: dict[str, list[PlanVoter]] = {}
    loose: list[PlanVoter] = []
    for voter in pool:
        if voter.cell_block is None:
            loose.append(voter)
        else:
            blocks.setdefault(voter.cell_block, []).append(voter)
    for block, group in sorted(blocks.items(), key=lambda item: (-len(item[1]), item[0])):
        allocation.place_block(block, group)
    allocation.even_out_blocks()
    for voter in sorted(loose, key=_name_key):
        allocation.place_loose(voter)

    return _build_plan(allocation, people, capacity)


def _build_plan(allocation: _Allocation, people: list[PlanVoter], capacity: int) -> Plan:
    planned: list[PlannedTps] = []
    tps_of: dict[Hashable, str] = {}
    block_tps: dict[str, set[str]] = {}
    for number in allocation.numbers:
        ordered = sorted(allocation.members[number], key=_name_key)
        assignments = tuple(
            Assignment(
                key=voter.key,
                name=voter.name,
                cell_block=voter.cell_block,
                tps_number=number,
                sequence=index,
            )
            for index, voter in enumerate(ordered, start=1)
        )
        planned.append(PlannedTps(number=number, voters=assignments, capacity=allocation.capacity[number]))
        for voter in ordered:
            tps_of[voter.key] = number
            if voter.cell_block is not None:
                block_tps.setdefault(voter.cell_block, set()).add(number)

    by_key = {assignment.key: assignment for tps in planned for assignment in tps.voters}
    moved = tuple(
        Move(key=voter.key, name=voter.name, from_tps=voter.current_tps, to_tps=tps_of[voter.key])
        for voter in people
        if voter.current_tps is not None and voter.current_tps != tps_of[voter.key]
    )
    added = tuple(by_key[voter.key] for voter in people if voter.current_tps is None)
    previous = {voter.current_tps for voter in people if voter.current_tps is not None}
    return Plan(
        capacity=capacity,
        tps=tuple(planned),
        moved=moved,
        added=added,
        added_tps=tuple(number for number in allocation.numbers if number not in previous),
        removed_tps=tuple(sorted(previous - set(allocation.numbers))),
        split_blocks=tuple(sorted(block for block, where in block_tps.items() if len(where) > 1)),
    )
