"""The review queue (duplicate candidates): bringing it in line with what a run found.

Written by ``inmates.dedup`` only. New pairs are created open; open ones get
their new score; dismissed ones stay dismissed while their fingerprint holds
and reopen when it does not; confirmed ones are left alone; open ones no
longer found are removed. On PostgreSQL every writer of the queue takes one
advisory lock first, so a run, a merge and a dismissal never interleave.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from inmates.dedup_scan import FoundPair
from inmates.models import DuplicateCandidate, User

BATCH = 1000
# From this many new candidates on PostgreSQL, they and their first history
# rows are written with COPY instead of INSERT.
COPY_MIN_ROWS = 2000
# Serialises writers of the review queue on PostgreSQL (runs, merges, dismissals).
_ADVISORY_LOCK_KEY = 0x64656475  # "dedu"


@dataclass
class DetectionResult:
    """What a run found and what it did to the review queue."""

    pairs: list[FoundPair] = field(default_factory=list)  # proposed: open after the run
    created: int = 0
    updated: int = 0
    reopened: int = 0
    unchanged: int = 0
    kept_dismissed: int = 0
    kept_confirmed: int = 0
    removed: int = 0
    inmates: int = 0
    dpt_records: int = 0

    def counts(self) -> dict[str, int]:
        return {
            "inmates": self.inmates,
            "dpt_records": self.dpt_records,
            "inmate_pairs": sum(1 for p in self.pairs if p.kind == DuplicateCandidate.Kind.INMATE_PAIR),
            "dpt_pairs": sum(1 for p in self.pairs if p.kind == DuplicateCandidate.Kind.DPT),
            "created": self.created,
            "updated": self.updated,
            "reopened": self.reopened,
            "unchanged": self.unchanged,
            "kept_dismissed": self.kept_dismissed,
            "kept_confirmed": self.kept_confirmed,
            "removed": self.removed,
        }


def lock_queue() -> None:
    """Writers of the review queue take turns (PostgreSQL; SQLite serialises writes itself)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ADVISORY_LOCK_KEY])


def save_pairs(
    found: Iterable[FoundPair],
    existing: QuerySet,
    *,
    kind: str,
    user: User | None,
    result: DetectionResult,
) -> None:
    """Bring the candidates in ``existing`` (those the run was responsible for) in line with ``found``.

    New pairs are created open; open ones get the new score; dismissed ones
    stay dismissed while their fingerprint holds and reopen when it does not;
    confirmed ones are left alone; open ones no longer found are removed.
    """
    other = "inmate_b_id" if kind == DuplicateCandidate.Kind.INMATE_PAIR else "dpt_record_id"
    current = {
        (c.inmate_a_id, getattr(c, other)): c for c in existing.filter(kind=kind).iterator(chunk_size=20_000)
    }
    seen: set[tuple[int, int]] = set()
    to_create: list[FoundPair] = []
    to_update: list[DuplicateCandidate] = []
    reopened: list[DuplicateCandidate] = []
    for pair in found:
        if pair.kind != kind or pair.key in seen:
            continue
        seen.add(pair.key)
        candidate = current.get(pair.key)
        if candidate is None:
            to_create.append(pair)
            result.pairs.append(pair)
            continue
        if candidate.status == DuplicateCandidate.Status.CONFIRMED:
            result.kept_confirmed += 1
            continue
        if candidate.status == DuplicateCandidate.Status.DISMISSED:
            if candidate.fingerprint == pair.fingerprint:
                result.kept_dismissed += 1
                continue
            candidate.status = DuplicateCandidate.Status.OPEN
            candidate.decided_by = None
            candidate.decided_at = None
            reopened.append(candidate)
        elif (
            candidate.score == pair.score
            and candidate.reasons == pair.reasons
            and candidate.fingerprint == pair.fingerprint
            and candidate.auto_merge_ok == pair.auto_merge_ok
        ):
            result.unchanged += 1
            result.pairs.append(pair)
            continue
        else:
            to_update.append(candidate)
        candidate.score = pair.score
        candidate.reasons = pair.reasons
        candidate.auto_merge_ok = pair.auto_merge_ok
        candidate.fingerprint = pair.fingerprint
        result.pairs.append(pair)
    stale = [
        c.pk for key, c in current.items() if key not in seen and c.status == DuplicateCandidate.Status.OPEN
    ]
    if to_create:
        _create(to_create, kind, user)
    fields = ["score", "reasons", "auto_merge_ok", "fingerprint", "status", "decided_by", "decided_at"]
    if to_update:
        bulk_update_with_history(to_update, DuplicateCandidate, fields, batch_size=BATCH, default_user=user)
    if reopened:
        bulk_update_with_history(
            reopened,
            DuplicateCandidate,
            fields,
            batch_size=BATCH,
            default_user=user,
            default_change_reason="reopened: a record changed since it was dismissed",
        )
    for start in range(0, len(stale), BATCH):
        DuplicateCandidate.objects.filter(pk__in=stale[start : start + BATCH]).delete()
    result.created += len(to_create)
    result.updated += len(to_update)
    result.reopened += len(reopened)
    result.removed += len(stale)


def _create(pairs: list[FoundPair], kind: str, user: User | None) -> None:
    """Insert new candidates (open) with their first history row."""
    if connection.vendor != "postgresql" or len(pairs) < COPY_MIN_ROWS:
        candidates = [
            DuplicateCandidate(
                kind=kind,
                inmate_a_id=pair.a,
                inmate_b_id=pair.b,
                dpt_record_id=pair.dpt,
                score=pair.score,
                reasons=pair.reasons,
                auto_merge_ok=pair.auto_merge_ok,
                fingerprint=pair.fingerprint,
            )
            for pair in pairs
        ]
        bulk_create_with_history(candidates, DuplicateCandidate, batch_size=BATCH, default_user=user)
        return
    table = DuplicateCandidate._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [table, len(pairs)],
        )
        ids = [row[0] for row in cursor.fetchall()]
    now = timezone.now()

    def values(pk: int, pair: FoundPair) -> dict:
        return {
            "id": pk,
            "kind": kind,
            "inmate_a_id": pair.a,
            "inmate_b_id": pair.b,
            "dpt_record_id": pair.dpt,
            "score": pair.score,
            "reasons": pair.reasons,
            "auto_merge_ok": pair.auto_merge_ok,
            "status": DuplicateCandidate.Status.OPEN.value,
            "fingerprint": pair.fingerprint,
            "decided_by_id": None,
            "decided_at": None,
            "created_at": now,
        }

    rows = [values(pk, pair) for pk, pair in zip(ids, pairs, strict=True)]
    _copy(DuplicateCandidate, rows)
    history = {
        "history_date": now,
        "history_type": "+",
        "history_change_reason": None,
        "history_user_id": user.pk if user else None,
    }
    for row in rows:
        row.update(history)
    _copy(DuplicateCandidate.history.model, rows)


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _cell(value: object) -> str:
    """One value in PostgreSQL's COPY text format."""
    if value is None:
        return "\\N"
    kind = type(value)
    if kind is str:
        text = value
    elif kind is bool:
        return "t" if value else "f"
    elif kind is int or kind is float:
        return repr(value)
    elif kind is list or kind is dict:
        text = json.dumps(value)
    elif hasattr(value, "isoformat"):
        return value.isoformat()  # type: ignore[union-attr]
    else:
        text = str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        return text.translate(_COPY_ESCAPES)
    return text


def _copy(model, rows: list[dict]) -> None:
    """``COPY table FROM STDIN`` for rows given as {attname: value}; other columns take their default."""
    fields = [f for f in model._meta.concrete_fields if not (f.primary_key and f.attname not in rows[0])]
    names = [f.attname for f in fields]
    defaults = {f.attname: _cell(f.get_default()) for f in fields if f.attname not in rows[0]}
    buffer = io.StringIO()
    write = buffer.write
    for row in rows:
        write("\t".join([_cell(row[name]) if name in row else defaults[name] for name in names]))
        write("\n")
    buffer.seek(0)
    columns = ", ".join(f.column for f in fields)
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(
            f"COPY {model._meta.db_table} ({columns}) FROM STDIN WITH (FORMAT text)", buffer
        )


def remove_orphans() -> int:
    """Open candidates touching a record merged away meanwhile: nothing left to decide."""
    stale = DuplicateCandidate.objects.open().filter(
        Q(inmate_a__duplicate_of__isnull=False) | Q(inmate_b__duplicate_of__isnull=False)
    )
    removed, _detail = stale.delete()
    return removed
