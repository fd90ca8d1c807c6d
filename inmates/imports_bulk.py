"""Fast inserts for the import's new records, their history rows and admission events.

Django's ``bulk_create`` prepares every value of every row through its
field's ``get_db_prep_save`` and needs model instances (simple-history's
``bulk_history_create`` builds a second instance per row); at 100,000 rows
that is most of the import's time. Here:

* a row is a tuple of the values of the columns the caller names, in that
  order; the other columns take the model's default (computed once);
* only dates, date-times and JSON are adapted for the database, and each
  distinct value once (an import repeats few dates and one timestamp);
* PostgreSQL receives the rows through ``COPY ... FROM STDIN`` (CSV format,
  sent from a helper thread: :class:`BackgroundCopy`), SQLite through
  ``executemany``, other databases through multi-row INSERTs;
* rows that are copies of rows just inserted (history rows, admission events)
  are built by the database itself: ``INSERT ... SELECT`` (:class:`InsertSelect`).

The columns come from the model's ``_meta``, so a field added to Inmate later
is written with its default without touching this module.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from django.db import connection as default_connection
from django.db import models

# Multi-row INSERTs: parameters per statement (PostgreSQL allows 65,535).
MAX_PARAMS = 60_000
MAX_ROWS_PER_STATEMENT = 1000
_ADAPTED = (models.DateField, models.DateTimeField, models.JSONField, models.DecimalField, models.UUIDField)
# The NULL marker of the COPY: a text value "\\N" would read as NULL, and the
# importer never produces one (it is not a name, code or date anyone types).
_COPY_NULL = "\\N"


class FastInsert:
    """INSERT rows of one model; each row a sequence of the ``given`` attnames' values, in that order."""

    def __init__(self, model: type[models.Model], given: Sequence[str], *, connection=None) -> None:
        self.connection = connection or default_connection
        self.model = model
        # An automatic primary key is left to the database unless the caller gives it.
        fields = {
            field.attname: field
            for field in model._meta.concrete_fields
            if field.attname in given
            or not (field.primary_key and isinstance(field, models.AutoField | models.BigAutoField))
        }
        unknown = set(given) - set(fields)
        if unknown:
            raise ValueError(f"{model.__name__} has no columns {sorted(unknown)}")
        rest = [name for name in fields if name not in given]
        missing = [name for name in rest if not _has_default(fields[name])]
        if missing:
            raise ValueError(f"{model.__name__}.{missing} need a value: add them to the given columns")
        # Given columns first, then the defaulted ones: a row's values are row + tail.
        self.fields = [fields[name] for name in (*given, *rest)]
        self.width = len(given)
        self.tail_raw = [fields[name].get_default() for name in rest]
        self.tail = [
            self._adapt(fields[name])(value) for name, value in zip(rest, self.tail_raw, strict=True)
        ]
        self.adapters = [
            (position, self._adapt(fields[name]))
            for position, name in enumerate(given)
            if _needs_adapting(fields[name])
        ]
        quote = self.connection.ops.quote_name
        self.table = quote(model._meta.db_table)
        self.columns = ", ".join(quote(field.column) for field in self.fields)

    def _adapt(self, field: models.Field) -> Callable[[Any], Any]:
        if not _needs_adapting(field):
            return _same
        connection = self.connection
        if type(field) is models.DateField:
            # Cheap and many distinct values (birth dates): no cache.
            return connection.ops.adapt_datefield_value
        # An import writes one timestamp and a handful of warning lists:
        # adapt each distinct value once.
        cache: dict[Any, Any] = {}

        def adapt(value: Any) -> Any:
            if value is None:
                return None
            key = (type(value), tuple(value) if isinstance(value, list) else value)
            try:
                return cache[key]
            except KeyError:
                adapted = cache[key] = field.get_db_prep_save(value, connection)
                return adapted
            except TypeError:  # unhashable (a dict): adapt every time
                return field.get_db_prep_save(value, connection)

        return adapt

    def params(self, row: Sequence[Any]) -> list[Any]:
        values = [*row, *self.tail]
        for position, adapt in self.adapters:
            values[position] = adapt(values[position])
        return values

    def insert(self, rows: Iterable[Sequence[Any]]) -> int:
        """INSERT now (PostgreSQL's COPY goes through :class:`BackgroundCopy`)."""
        params = [self.params(row) for row in rows]
        if not params:
            return 0
        one_row = "(" + ", ".join(["%s"] * len(self.fields)) + ")"
        with self.connection.cursor() as cursor:
            if self.connection.vendor == "sqlite":
                cursor.executemany(f"INSERT INTO {self.table} ({self.columns}) VALUES {one_row}", params)  # noqa: S608
            else:
                per_statement = max(1, min(MAX_ROWS_PER_STATEMENT, MAX_PARAMS // len(self.fields)))
                for start in range(0, len(params), per_statement):
                    batch = params[start : start + per_statement]
                    rows_sql = ", ".join([one_row] * len(batch))
                    sql = f"INSERT INTO {self.table} ({self.columns}) VALUES {rows_sql}"  # noqa: S608
                    cursor.execute(sql, [value for row in batch for value in row])
        return len(params)

    # -- PostgreSQL COPY (sent by BackgroundCopy) --------------------------------------

    @property
    def copy_sql(self) -> str:
        return f"COPY {self.table} ({self.columns}) FROM STDIN WITH (FORMAT csv, NULL '\\N')"

    def copy_data(self, rows: Iterable[Sequence[Any]]) -> tuple[int, io.StringIO]:
        """(row count, the rows as COPY CSV): pure Python, no database.

        Dates and date-times are written by str() (ISO 8601 with the offset),
        booleans as True/False, JSON through json.dumps.
        """
        json_positions = [
            i for i, field in enumerate(self.fields[: self.width]) if isinstance(field, models.JSONField)
        ]
        dump = _json_dumper()
        tail = [
            _COPY_NULL if value is None else dump(value) if isinstance(field, models.JSONField) else value
            for field, value in zip(self.fields[self.width :], self.tail_raw, strict=True)
        ]
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        count = 0
        for row in rows:
            values = [_COPY_NULL if value is None else value for value in row]
            for position in json_positions:
                if values[position] is not _COPY_NULL:
                    values[position] = dump(values[position])
            values.extend(tail)
            writer.writerow(values)
            count += 1
        buffer.seek(0)
        return count, buffer


class InsertSelect:
    """``INSERT INTO target SELECT ... FROM source WHERE ...``: rows derived from rows already inserted.

    ``from_source`` maps target attnames to source attnames (the source row's
    values), ``values`` gives target attnames a constant (one value for every
    row); the target's other columns take their defaults. No row passes
    through Python.
    """

    def __init__(
        self,
        target: type[models.Model],
        source: type[models.Model],
        *,
        from_source: Mapping[str, str],
        values: Mapping[str, Any],
        connection=None,
    ) -> None:
        self.connection = connection = connection or default_connection
        quote = connection.ops.quote_name
        source_columns = {field.attname: field.column for field in source._meta.concrete_fields}
        columns, expressions, self.params = [], [], []
        for field in target._meta.concrete_fields:
            name = field.attname
            if name in from_source:
                expression = f"{quote(source._meta.db_table)}.{quote(source_columns[from_source[name]])}"
            elif name in values:
                expression = "%s"
                self.params.append(field.get_db_prep_save(values[name], connection))
            elif field.primary_key and isinstance(field, models.AutoField | models.BigAutoField):
                continue
            elif _has_default(field):
                expression = "%s"
                self.params.append(field.get_db_prep_save(field.get_default(), connection))
            else:
                raise ValueError(f"{target.__name__}.{name} needs a value: map it or give it")
            columns.append(quote(field.column))
            expressions.append(expression)
        self.sql = (
            f"INSERT INTO {quote(target._meta.db_table)} ({', '.join(columns)}) "  # noqa: S608
            f"SELECT {', '.join(expressions)} FROM {quote(source._meta.db_table)}"
        )
        self.pk_column = f"{quote(source._meta.db_table)}.{quote(source._meta.pk.column)}"

    def for_pks(self, pks: Sequence[int]) -> tuple[str, list[Any]]:
        """The statement and its parameters for the source rows with these primary keys."""
        if self.connection.vendor == "postgresql":
            return f"{self.sql} WHERE {self.pk_column} = ANY(%s)", [*self.params, list(pks)]
        first, last = min(pks), max(pks)
        if last - first + 1 == len(pks):  # a range (ids taken together): no parameter per row
            return f"{self.sql} WHERE {self.pk_column} BETWEEN %s AND %s", [*self.params, first, last]
        marks = ", ".join(["%s"] * len(pks))
        return f"{self.sql} WHERE {self.pk_column} IN ({marks})", [*self.params, *pks]


def _send_copy(raw_cursor: Any, sql: str, buffer: io.StringIO) -> None:
    if hasattr(raw_cursor, "copy_expert"):  # psycopg2
        # All the data in one read: psycopg2 takes the GIL for each read, and
        # in a background thread (BackgroundCopy) each wait for the GIL can
        # last a whole switch interval while the main thread computes.
        size = buffer.seek(0, io.SEEK_END)
        buffer.seek(0)
        raw_cursor.copy_expert(sql, buffer, size=max(size, 8192))
    else:  # psycopg 3
        with raw_cursor.copy(sql) as copy:
            copy.write(buffer.getvalue())


class BackgroundCopy:
    """Sends COPY data (PostgreSQL) from a helper thread, in order, while the caller prepares the next.

    The server's work on one chunk (parsing, constraints, a dozen indexes)
    then overlaps with the Python work on the next: psycopg2 releases the GIL
    while it waits for the server. The thread uses the caller's own database
    connection, so every row lands in the caller's transaction; the caller
    must not use that connection between ``send`` and ``wait`` (leaving the
    ``with`` block waits). An error of the COPY is raised, as Django's
    ``DatabaseError``, by the next ``send``, ``wait`` or the end of the block.
    """

    def __init__(self, connection=None) -> None:
        self.connection = connection or default_connection
        self.connection.ensure_connection()
        self.raw = self.connection.connection
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-copy")
        self.pending: Future | None = None

    def send(
        self,
        parts: Sequence[tuple[FastInsert, Iterable[Sequence[Any]]]],
        then: Sequence[tuple[str, Sequence[Any]]] = (),
    ) -> None:
        """COPY each (inserter, rows) in order, then run the ``then`` statements, in the background.

        The CSV is built here, now; the statements take psycopg2's parameters (``%s``).
        """
        data = [(inserter.copy_sql, *inserter.copy_data(rows)) for inserter, rows in parts]
        self.wait()
        self.pending = self.pool.submit(
            self._copy_all, [(sql, buffer) for sql, count, buffer in data if count], list(then)
        )

    def _copy_all(self, data: list[tuple[str, io.StringIO]], then: list[tuple[str, Sequence[Any]]]) -> None:
        with self.raw.cursor() as cursor:
            for sql, buffer in data:
                _send_copy(cursor, sql, buffer)
            for sql, params in then:
                cursor.execute(sql, params)

    def wait(self) -> None:
        pending, self.pending = self.pending, None
        if pending is not None:
            with self.connection.wrap_database_errors:
                pending.result()

    def __enter__(self) -> BackgroundCopy:
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        try:
            if exc_type is None:
                self.wait()
            elif self.pending is not None:
                # Let the running COPY end before the transaction is rolled back;
                # the caller's own error is the one to report.
                with contextlib.suppress(Exception):
                    self.pending.result()
        finally:
            self.pool.shutdown(wait=True)


def _same(value: Any) -> Any:
    return value


def _has_default(field: models.Field) -> bool:
    return field.has_default() or field.null or (field.empty_strings_allowed and not field.is_relation)


def _needs_adapting(field: models.Field) -> bool:
    return isinstance(field, _ADAPTED)


def _json_dumper() -> Callable[[Any], str]:
    cache: dict[Any, str] = {}

    def dump(value: Any) -> str:
        key = tuple(value) if isinstance(value, list) else None
        if key is None:
            return json.dumps(value)
        try:
            return cache[key]
        except KeyError:
            text = cache[key] = json.dumps(value)
            return text
        except TypeError:
            return json.dumps(value)

    return dump
