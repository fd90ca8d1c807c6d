"""Finding duplicate pairs in the database: the records, what to compare, and the scan.

The rules are ``inmates.matching``; this module feeds it from the database.
One blocking index is built over the inmates that can be part of a pair (the
*population*); then the inmates of the scope and, for the DPT cross-check,
every DPT row are probed against it. On PostgreSQL a large scan runs in
worker processes forked after the index is built: they share the index
copy-on-write, each probes its share of the inmates and reads its own ranges
of DPT rows over its own connection. Elsewhere (SQLite, small scans) the same
probes run in this process.
"""

from __future__ import annotations

import datetime
import gc
import hashlib
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, models
from django.db.models import Q, QuerySet

from inmates import matching, names
from inmates.matching import Match, MatchIndex, PersonRecord
from inmates.models import DptRecord, DuplicateCandidate, Inmate

Progress = Callable[[str, int, int], None]

INMATE_FIELDS = (
    "pk",
    "facility_id",
    "nik",
    "nkk",
    "full_name",
    "birth_date",
    "sex",
    "birth_place",
    "domicile_region_id",
)
DPT_FIELDS = ("pk", "nik", "nkk", "name", "birth_date", "sex", "birth_place", "region_code")

CHUNK = 20_000
# Below this many distinct candidate birth dates, the records to compare with
# are fetched by index (NIK, NKK, birth dates within a typo); above, the whole
# register is read once.
TARGETED_DATE_LIMIT = 4000
# Records without a birth date are read wholesale by a targeted lookup only
# while they are at most this many.
NO_BIRTH_DATE_LIMIT = 20_000
# Work (inmates probed + DPT rows) from which a PostgreSQL scan is spread over
# worker processes.
PARALLEL_MIN_WORK = 200_000
_TASKS_PER_WORKER = 8


def noop_progress(phase: str, done: int, total: int) -> None:
    return None


# =============================================================================
# Records as the matching rules see them
# =============================================================================


_shared: dict[object, object] = {}


def _share(value):
    """One object per distinct value for the few values that repeat across 300,000 records."""
    if value is None:
        return None
    found = _shared.get(value)
    if found is None:
        if len(_shared) > 200_000:
            _shared.clear()
        _shared[value] = found = value
    return found


def inmate_record(row: tuple) -> PersonRecord:
    """A ``values_list(*INMATE_FIELDS)`` row as a matching record (``ref`` is the inmate pk)."""
    pk, facility_id, nik, nkk, name, birth_date, sex, birth_place, domicile = row
    return PersonRecord(
        ref=pk,
        nik=nik,
        nkk=nkk or None,
        name=name,
        birth_date=_share(birth_date),
        sex=_share(sex or None),
        birth_place=_share(birth_place or None),
        domicile_code=_share(domicile),
        facility=_share(str(facility_id)),
    )


def inmate_record_of(inmate: Inmate) -> PersonRecord:
    return inmate_record(tuple(getattr(inmate, name) for name in INMATE_FIELDS))


def dpt_record(row: tuple) -> PersonRecord:
    """A ``values_list(*DPT_FIELDS)`` row as a matching record (``ref`` is the DPT record pk)."""
    pk, nik, nkk, name, birth_date, sex, birth_place, region_code = row
    return PersonRecord(
        ref=pk,
        nik=nik or None,
        nkk=nkk or None,
        name=name,
        birth_date=birth_date,
        sex=sex or None,
        birth_place=birth_place or None,
        domicile_code=region_code or None,
    )


def dpt_record_of(record: DptRecord) -> PersonRecord:
    return dpt_record(tuple(getattr(record, name) for name in DPT_FIELDS))


def _fingerprint_part(rec: PersonRecord) -> str:
    return "\x1f".join(
        [
            rec.nik or "",
            rec.nkk or "",
            rec.name,
            rec.birth_date.isoformat() if rec.birth_date else "",
            rec.sex or "",
            rec.birth_place or "",
            rec.domicile_code or "",
            rec.facility or "",
        ]
    )


def pair_fingerprint(a: PersonRecord, b: PersonRecord) -> str:
    """What both records looked like, as far as matching is concerned (64 hex digits)."""
    text = _fingerprint_part(a) + "\x1e" + _fingerprint_part(b)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class FoundPair:
    """One pair the rules proposed: two inmates (``b``) or an inmate and a DPT record (``dpt``)."""

    kind: str
    a: int
    b: int | None
    dpt: int | None
    score: float
    reasons: list[str]
    auto_merge_ok: bool
    fingerprint: str

    @property
    def key(self) -> tuple[int, int]:
        return (self.a, self.b if self.b is not None else self.dpt)  # type: ignore[return-value]


def inmate_pair(x: PersonRecord, y: PersonRecord, match: Match) -> FoundPair:
    # The lower pk is always "A", so a pair has one row whichever way it was found.
    if x.ref > y.ref:
        x, y = y, x
    return FoundPair(
        kind=DuplicateCandidate.Kind.INMATE_PAIR,
        a=x.ref,
        b=y.ref,
        dpt=None,
        score=float(match.score),
        reasons=list(match.reasons),
        auto_merge_ok=bool(match.auto_merge_ok) and "possible_twins" not in match.reasons,
        fingerprint=pair_fingerprint(x, y),
    )


def dpt_pair(inmate: PersonRecord, dpt: PersonRecord, match: Match) -> FoundPair:
    return FoundPair(
        kind=DuplicateCandidate.Kind.DPT,
        a=inmate.ref,
        b=None,
        dpt=dpt.ref,
        score=float(match.score),
        reasons=list(match.reasons),
        auto_merge_ok=False,
        fingerprint=pair_fingerprint(inmate, dpt),
    )


# =============================================================================
# Which records to compare
# =============================================================================


def nik_birth_date(nik: str | None) -> datetime.date | None:
    """The birth date a NIK encodes (day + 40 for women), if it is a real date."""
    value = matching.clean_id_number(nik)
    if value is None:
        return None
    day, month, year2 = int(value[6:8]), int(value[8:10]), int(value[10:12])
    if day > 40:
        day -= 40
    century = 2000 if year2 <= datetime.date.today().year % 100 else 1900
    try:
        return datetime.date(century + year2, month, day)
    except ValueError:
        return None


def _safe_date(year: int, month: int, day: int) -> datetime.date | None:
    try:
        return datetime.date(year, month, day)
    except ValueError:
        return None


def near_dates(day: datetime.date) -> set[datetime.date]:
    """Every birth date that matching counts as the same or "near" (a likely typo) to ``day``.

    Same date; day and month swapped; the same day and month with a year one
    apart or one digit different; the same year with the same day or the same
    month. Pairs whose birth dates are further apart only match on an
    identical NIK, which is looked up separately.
    """
    found = {day}
    swapped = _safe_date(day.year, day.day, day.month)
    if swapped:
        found.add(swapped)
    years = {day.year - 1, day.year + 1}
    digits = f"{day.year:04d}"
    for position in range(4):
        for digit in "0123456789":
            years.add(int(digits[:position] + digit + digits[position + 1 :]))
    for year in years:
        if 1800 <= year <= 2200 and (moved := _safe_date(year, day.month, day.day)):
            found.add(moved)
    for month in range(1, 13):
        if moved := _safe_date(day.year, month, day.day):
            found.add(moved)
    for other_day in range(1, 32):
        if moved := _safe_date(day.year, day.month, other_day):
            found.add(moved)
    return found


@dataclass
class Lookup:
    """What to fetch so that every possible match of some records is among the rows."""

    dates: set[datetime.date] = field(default_factory=set)
    niks: set[str] = field(default_factory=set)
    nkks: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, records: Iterable[PersonRecord], *, near: bool = True) -> Lookup:
        """``near=False`` looks up the exact birth dates only (and the NIK, NKK)."""
        lookup = cls()
        for rec in records:
            nik = matching.clean_id_number(rec.nik)
            if nik:
                lookup.niks.add(nik)
            nkk = matching.clean_id_number(rec.nkk)
            if nkk:
                lookup.nkks.add(nkk)
            day = rec.birth_date or nik_birth_date(rec.nik)
            if day:
                lookup.dates |= near_dates(day) if near else {day, nik_birth_date(rec.nik) or day}
        return lookup

    @property
    def too_wide(self) -> bool:
        return len(self.dates) > TARGETED_DATE_LIMIT

    def filters(self, queryset: QuerySet) -> Iterator[Q]:
        """Indexed conditions, in chunks that stay under every database's parameter limit."""
        for values, lookup in ((sorted(self.dates), "birth_date__in"), (sorted(self.niks), "nik__in")):
            for start in range(0, len(values), 900):
                yield Q(**{lookup: values[start : start + 900]})
        nkks = sorted(self.nkks)
        for start in range(0, len(nkks), 900):
            yield Q(nkk__in=nkks[start : start + 900])
        # Records without a birth date match through the date their NIK
        # encodes, which no index reaches: read them all while they are few.
        # (A DPT exported without birth dates is then matched on NIK here,
        # and fully by a detection run.)
        if not queryset.filter(birth_date__isnull=True)[
            NO_BIRTH_DATE_LIMIT : NO_BIRTH_DATE_LIMIT + 1
        ].exists():
            yield Q(birth_date__isnull=True)


def iter_values(queryset: QuerySet, fields: tuple[str, ...]) -> Iterator[tuple]:
    return queryset.order_by().values_list(*fields).iterator(chunk_size=CHUNK)


def load_inmates(queryset: QuerySet) -> list[PersonRecord]:
    return [inmate_record(row) for row in iter_values(queryset, INMATE_FIELDS)]


def targeted_inmates(records: list[PersonRecord]) -> list[PersonRecord] | None:
    """Active inmates that could match ``records``, fetched by index; None when that would be most of them."""
    lookup = Lookup.of(records)
    if lookup.too_wide:
        return None
    queryset = Inmate.objects.active()
    found: dict[int, PersonRecord] = {}
    for condition in lookup.filters(queryset):
        for row in iter_values(queryset.filter(condition), INMATE_FIELDS):
            found[row[0]] = inmate_record(row)
    return list(found.values())


def targeted_dpt(records: list[PersonRecord]) -> Iterator[PersonRecord]:
    """DPT rows sharing a NIK, NKK or birth date with ``records`` (every row when the records are many).

    Exact birth dates only: on a DPT of millions the dates within a typo
    would read thousands of rows for each record saved. A DPT match with a
    typo in the birth date (and no usable NIK) is left to a detection run.
    """
    lookup = Lookup.of(records, near=False)
    queryset = DptRecord.objects.all()
    if lookup.too_wide:
        yield from (dpt_record(row) for row in iter_values(queryset, DPT_FIELDS))
        return
    seen: set[int] = set()
    for condition in lookup.filters(queryset):
        for row in iter_values(queryset.filter(condition), DPT_FIELDS):
            if row[0] not in seen:
                seen.add(row[0])
                yield dpt_record(row)


# =============================================================================
# The scan
# =============================================================================


@dataclass
class Scan:
    """One index over ``population``, probed by ``scope`` (inmate pairs) and the DPT (matches).

    ``scope`` must be part of ``population``. Inmate pairs have at least one
    record in the scope; DPT matches only involve ``dpt_inmates`` (refs of the
    scope's inmates in custody). ``dpt_rows`` is None for no DPT check, a
    list/iterator of DPT records, or ``"all"`` for every DPT row in the
    database (read in parallel on PostgreSQL).
    """

    population: list[PersonRecord]
    scope: list[PersonRecord]
    threshold: float
    dpt_inmates: set[int] = field(default_factory=set)
    dpt_rows: Iterable[PersonRecord] | str | None = None
    dpt_total: int = 0

    def __post_init__(self) -> None:
        self.scope_refs = {rec.ref for rec in self.scope}

    # --- probes (run here or in a worker) ---------------------------------------------

    def probe_inmates(self, index: MatchIndex, records: Iterable[PersonRecord]) -> list[FoundPair]:
        found = []
        scope_refs = self.scope_refs
        for rec in records:
            for other, match in index.matches(rec, threshold=self.threshold):
                if other.ref == rec.ref:
                    continue
                # A pair inside the scope is met from both sides: keep one.
                if other.ref in scope_refs and other.ref < rec.ref:
                    continue
                found.append(inmate_pair(rec, other, match))
        return found

    def probe_dpt(self, index: MatchIndex, rows: Iterable[PersonRecord]) -> tuple[int, list[FoundPair]]:
        found = []
        wanted = self.dpt_inmates
        done = 0
        for rec in rows:
            for inmate, match in index.matches(rec, threshold=self.threshold):
                if inmate.ref in wanted:
                    found.append(dpt_pair(inmate, rec, match))
            done += 1
            if done % _TRIM_EVERY == 0:
                _trim_name_caches()
        return done, found

    # --- running ------------------------------------------------------------------------

    def run(self, progress: Progress = noop_progress) -> tuple[list[FoundPair], list[FoundPair]]:
        """(inmate pairs, DPT matches)."""
        if not self.scope:
            return [], []
        index = MatchIndex(self.population)
        workers = self._workers()
        if workers > 1:
            return self._run_parallel(index, workers, progress)
        progress("pairs", 0, len(self.scope))
        pairs = self.probe_inmates(index, self.scope)
        progress("pairs", len(self.scope), len(self.scope))
        matches: list[FoundPair] = []
        if self.dpt_rows is not None and self.dpt_inmates:
            rows = self.dpt_rows
            if rows == "all":
                rows = (dpt_record(row) for row in iter_values(DptRecord.objects.all(), DPT_FIELDS))
            progress("dpt", 0, self.dpt_total)
            done, matches = self.probe_dpt(index, rows)  # type: ignore[arg-type]
            progress("dpt", done, self.dpt_total)
        return pairs, matches

    def _workers(self) -> int:
        work = len(self.scope) + (self.dpt_total if self.dpt_rows == "all" else 0)
        if connection.vendor != "postgresql" or work < PARALLEL_MIN_WORK:
            return 1
        if "fork" not in multiprocessing.get_all_start_methods() or connection.in_atomic_block:
            return 1
        wanted = getattr(settings, "DEDUP_WORKERS", None) or os.cpu_count() or 1
        return max(1, int(wanted))

    def _tasks(self, workers: int) -> list[tuple[str, int, int]]:
        tasks: list[tuple[str, int, int]] = []
        if self.dpt_rows == "all" and self.dpt_inmates:
            bounds = DptRecord.objects.aggregate(low=models.Min("id"), high=models.Max("id"))
            if bounds["low"] is not None:
                low, high = bounds["low"], bounds["high"] + 1
                step = max(1, -(-(high - low) // (workers * _TASKS_PER_WORKER)))
                tasks += [("dpt", start, min(start + step, high)) for start in range(low, high, step)]
        size = len(self.scope)
        step = max(1, -(-size // (workers * _TASKS_PER_WORKER)))
        tasks += [("inmates", start, min(start + step, size)) for start in range(0, size, step)]
        return tasks

    def _run_parallel(
        self, index: MatchIndex, workers: int, progress: Progress
    ) -> tuple[list[FoundPair], list[FoundPair]]:
        """Share the tasks between ``workers - 1`` forked workers and this process.

        This process works too: its memory is the original, so only the other
        workers pay for the pages of the index they touch (copy-on-write).
        """
        tasks = self._tasks(workers)
        mine, theirs = tasks[::workers], [t for i, t in enumerate(tasks) if i % workers]
        _state.clear()
        _state.update(scan=self, index=index, db=dict(connection.settings_dict))
        # Objects made so far are never collected in the workers: a collection
        # would touch (and so copy) every page of the shared index.
        gc.collect()
        gc.freeze()
        pairs: list[FoundPair] = []
        matches: list[FoundPair] = []
        counts = {"dpt": 0, "inmates": 0}

        def collect(kind: str, count: int, found: list[FoundPair]) -> None:
            counts[kind] += count
            if kind == "dpt":
                matches.extend(found)
                progress("dpt", counts["dpt"], self.dpt_total)
            else:
                pairs.extend(found)
                progress("pairs", counts["inmates"], len(self.scope))

        try:
            context = multiprocessing.get_context("fork")
            with context.Pool(workers - 1) as pool:
                pending = pool.imap_unordered(_run_task, theirs)
                for task in mine:
                    collect(*_run_task(task))
                for result in pending:
                    collect(*result)
        finally:
            gc.unfreeze()
            own = _state.pop("connection", None)
            if own is not None:
                own.close()
            _state.clear()
        return pairs, matches


# Names on a DPT hardly repeat, so the name caches of the matching rules only
# grow while streaming one; emptied now and then, memory stays flat.
_TRIM_EVERY = 50_000


def _trim_name_caches() -> None:
    for function in (names.parse_name, getattr(matching, "_name_block_parts", None)):
        cache_clear = getattr(function, "cache_clear", None)
        if cache_clear is not None:
            cache_clear()


# State a forked worker inherits from the parent (set just before the fork).
_state: dict = {}


def _worker_connection():
    if "connection" not in _state:
        import psycopg2

        db = _state["db"]
        options = {k: v for k, v in (db.get("OPTIONS") or {}).items() if k.startswith("ssl")}
        _state["connection"] = psycopg2.connect(
            dbname=db["NAME"],
            user=db.get("USER") or None,
            password=db.get("PASSWORD") or None,
            host=db.get("HOST") or None,
            port=db.get("PORT") or None,
            **options,
        )
        _state["connection"].set_session(readonly=True)
    return _state["connection"]


def _dpt_rows_between(low: int, high: int) -> Iterator[PersonRecord]:
    """DPT rows with ``low <= id < high``, read over the worker's own connection."""
    columns = ", ".join(
        "id" if name == "pk" else DptRecord._meta.get_field(name).column for name in DPT_FIELDS
    )
    db = _worker_connection()
    with db.cursor(name=f"dedup_scan_{low}") as cursor:
        cursor.itersize = CHUNK
        cursor.execute(
            f"SELECT {columns} FROM {DptRecord._meta.db_table} WHERE id >= %s AND id < %s",  # noqa: S608 - fixed names
            [low, high],
        )
        for row in cursor:
            yield dpt_record(row)
    db.rollback()


def _run_task(task: tuple[str, int, int]) -> tuple[str, int, list[FoundPair]]:
    kind, start, end = task
    scan: Scan = _state["scan"]
    index: MatchIndex = _state["index"]
    if kind == "dpt":
        done, found = scan.probe_dpt(index, _dpt_rows_between(start, end))
        return kind, done, found
    return kind, end - start, scan.probe_inmates(index, scan.scope[start:end])
