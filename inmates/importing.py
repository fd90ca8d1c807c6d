"""Importing inmates from an Excel or CSV file: the one service behind the
admin screens, the ``import_inmates`` command, the background job and the tests.

Two phases. *Checking* reads the whole file, parses every cell, applies the
register's rules and compares each row with the record of the same
(facility, registration number); it collects every error and warning with its
row, column, value and an Indonesian how-to-fix message. If there is any
error, or this is a preview, nothing is written. Otherwise *writing* runs in
one transaction: new records with ``bulk_create`` (their history rows and
admission events too), changed records with ``bulk_update`` (history rows
carry the user and the import as the reason), unchanged records untouched, so
importing the same file twice changes nothing.

The row-by-row path of django-import-export (one SELECT, one INSERT and one
history INSERT per row) cannot import 100,000 rows in seconds; see
docs/imports.md.
"""

from __future__ import annotations

import datetime
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from operator import itemgetter
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, OperationalError, connection, reset_queries, transaction
from django.db.models.base import ModelState
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.utils import bulk_update_with_history

from inmates import nik as nik_rules
from inmates import services
from inmates.audit import access_log_record
from inmates.dedup_hooks import SimilarSearch
from inmates.imports_bulk import BackgroundCopy, FastInsert, InsertSelect
from inmates.imports_columns import BY_FIELD, BY_KEY, DEFAULTS, FIELDS, MISSING, SPECS
from inmates.models import AccessLog, CustodyEvent, Facility, Inmate, Region, User
from voterreg.spreadsheets import CellError, HeaderMap, SheetRow, SpreadsheetError, normalize_key, read_rows

logger = logging.getLogger(__name__)

# Rows checked (and written) per database round trip.
CHUNK = 2000
# Problems kept in a report; the counts are always complete.
MAX_STORED_PROBLEMS = 10_000
ERROR, WARNING = "error", "warning"
CHECKING, WRITING = "checking", "writing"
VOTING_AGE = 17

Progress = Callable[[str, int, int], None]


class ImportRefused(PermissionDenied):
    """The user may not import into this facility (or at all)."""

    def __init__(self, message: Any) -> None:
        super().__init__(str(message))
        self.message = str(message)


# --- the report -------------------------------------------------------------------


@dataclass
class Problem:
    """One error or warning: where it is, what the cell held, how to fix it."""

    row: int | None
    column: str
    cell: str
    value: str
    level: str
    code: str
    message: str
    order: int = 0  # column position, to sort the problems of a row

    def as_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "column": self.column,
            "cell": self.cell,
            "value": self.value,
            "level": self.level,
            "code": self.code,
            "message": self.message,
        }


@dataclass
class ImportReport:
    """What an import found and did. ``as_dict`` is the JSON shape stored and printed."""

    filename: str
    facility: str
    dry_run: bool
    file_format: str = ""
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    error_rows: int = 0
    errors: int = 0
    warnings: int = 0
    written: bool = False
    columns: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def has_errors(self) -> bool:
        return self.errors > 0

    def add(self, problem: Problem) -> None:
        if problem.level == ERROR:
            self.errors += 1
        else:
            self.warnings += 1
        if len(self.problems) < MAX_STORED_PROBLEMS:
            self.problems.append(problem)

    def file_error(self, message: Any, code: str) -> None:
        self.add(Problem(None, "", "", "", ERROR, code, str(message)))

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.filename,
            "format": self.file_format,
            "facility": self.facility,
            "dry_run": self.dry_run,
            "written": self.written,
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "error_rows": self.error_rows,
            "errors": self.errors,
            "warnings": self.warnings,
            "columns": self.columns,
            "ignored_columns": self.ignored_columns,
            "problems": [problem.as_dict() for problem in self.problems],
            "problems_truncated": self.errors + self.warnings > len(self.problems),
        }


# --- scope ------------------------------------------------------------------------


def check_import_scope(*, user: User | None, facility: Facility) -> None:
    """Refuse a user who may not write this facility's register. ``None`` is the operator's command."""
    if user is None:
        return
    if not user.can_edit_register:
        raise ImportRefused(
            _("Your role cannot import inmates. Ask a Rutan/Lapas officer or an administrator.")
        )
    if not Facility.objects.for_user(user).filter(pk=facility.pk).exists():
        raise ImportRefused(
            _("You may import only into your own facility; %(facility)s is not yours.")
            % {"facility": facility.name}
        )


# --- the service ------------------------------------------------------------------


def inmates_import(
    *,
    source: str | Any | IO[bytes],
    filename: str,
    facility: Facility,
    user: User | None,
    dry_run: bool = False,
    progress: Progress | None = None,
    change_reason: str = "",
) -> ImportReport:
    """Check a whole file and, when it has no errors and this is not a dry run, write it.

    ``source`` is a path or a binary file; ``filename`` (as the user named it)
    decides the format. Raises ImportRefused when ``user`` may not import into
    ``facility``; everything wrong with the file is in the returned report.
    """
    check_import_scope(user=user, facility=facility)
    report = ImportReport(filename=filename, facility=facility.code, dry_run=dry_run)
    progress = progress or _no_progress
    reason = (change_reason or gettext("Import %(file)s") % {"file": filename})[:100]
    try:
        reader = read_rows(source, filename, columns=SPECS)
    except SpreadsheetError as exc:
        report.file_error(exc.message, exc.code)
        return report
    with reader:
        report.file_format = reader.file_format
        try:
            header = reader.match_headers(SPECS)
        except SpreadsheetError as exc:
            report.file_error(exc.message, exc.code)
            return report
        report.columns = [BY_KEY[key].label for key in header.indexes]
        report.ignored_columns = list(header.unmatched)
        checker = _Checker(facility=facility, user=user, header=header, report=report)
        total = reader.total_rows or 0
        writer = None if dry_run else _Writer(checker, reason=reason, progress=progress)
        try:
            if writer is not None and writer.can_stream and total > CHUNK:
                _check_and_write(reader, checker, writer, total)
            else:
                _check(reader, checker, progress, total)
                if report.has_errors or writer is None:
                    if report.rows:
                        checker.check_similar_people()
                    return report
                _write(checker, writer)
        except _NothingWritten:
            return report
        except OperationalError as exc:
            if not _is_collision(exc):
                raise
            return _collided(report, filename, facility)
        except IntegrityError:
            return _collided(report, filename, facility)
        finally:
            _sort_problems(report)
    report.written = True
    return report


# PostgreSQL's "deadlock detected" and "could not serialize access": the other
# transaction won; this one was rolled back whole.
_COLLISION_SQLSTATES = {"40P01", "40001"}


def _is_collision(exc: OperationalError) -> bool:
    return getattr(exc.__cause__, "pgcode", None) in _COLLISION_SQLSTATES


def _collided(report: ImportReport, filename: str, facility: Facility) -> ImportReport:
    logger.warning("Import of %s into %s collided with a concurrent change", filename, facility.code)
    report.file_error(
        _(
            "Someone changed this facility's register while the file was being imported, so nothing "
            "was written. Import the file again."
        ),
        "concurrent_change",
    )
    return report


class _NothingWritten(Exception):
    """The file has errors: the rows written so far are rolled back (streaming imports)."""


def _check(reader: Iterable[SheetRow], checker: _Checker, progress: Progress, total: int) -> None:
    """Phase one alone: every row checked, nothing written."""
    report = checker.report
    progress(CHECKING, 0, total)
    try:
        for chunk in _chunks(reader, CHUNK):
            checker.check_chunk(chunk)
            progress(CHECKING, report.rows, max(total, report.rows))
    except SpreadsheetError as exc:
        report.file_error(exc.message, exc.code)
    _require_rows(report)


def _require_rows(report: ImportReport) -> None:
    if report.rows == 0 and not report.has_errors:
        report.file_error(
            _("The file has column headers but no rows of data. Put one inmate per row below the headers."),
            "no_rows",
        )


def _write(checker: _Checker, writer: _Writer) -> None:
    """Phase two after phase one: the checked file written in one transaction."""
    writer.progress(WRITING, 0, writer.total)
    # Likely duplicates only warn: the rows are written while they are looked for.
    similar = checker.start_similar_people(background=True)
    try:
        with transaction.atomic(), writer:
            writer.write_new(report_progress=True)
            writer.write_changed(report_progress=True)
    finally:
        if similar is not None:
            similar.finish()


def _check_and_write(reader: Iterable[SheetRow], checker: _Checker, writer: _Writer, total: int) -> None:
    """Both phases at once (PostgreSQL, files of more than one chunk).

    One transaction: each chunk's new rows are sent to the database (a COPY
    in the background) as soon as the chunk is checked, so the server stores
    them while the next chunk is checked. The first error stops the writing;
    the rest of the file is still checked, so that the report is complete,
    and the transaction is rolled back: nothing is written. Changed records
    are written at the end, as in :func:`_write`.
    """
    report = checker.report
    progress = writer.progress
    similar = None
    try:
        with transaction.atomic():
            with writer:
                checker.before_query = writer.ready
                progress(WRITING, 0, total)
                try:
                    for chunk in _chunks(reader, CHUNK):
                        checker.check_chunk(chunk)
                        if not report.has_errors:
                            if checker.register is None and len(checker.new_rows) > writer.sent:
                                # Duplicate detection compares the new rows with the register as it
                                # was before the import: read it before the first one is written.
                                checker.read_register()
                            # Ids for the rest of the file are taken at once (unused ones are skipped).
                            writer.reserve = max(0, total - report.rows)
                            writer.write_new(report_progress=False)
                        progress(WRITING, report.rows, max(total, report.rows))
                except SpreadsheetError as exc:
                    report.file_error(exc.message, exc.code)
                _require_rows(report)
                if report.has_errors:
                    raise _NothingWritten
                writer.write_changed(report_progress=False)
            similar = checker.start_similar_people(background=True)
        # The matching ran while the transaction committed.
    finally:
        checker.before_query = _nothing
        if similar is not None:
            similar.finish()


def _sort_problems(report: ImportReport) -> None:
    report.problems.sort(key=lambda p: (p.row or 0, p.order, p.level != ERROR))


def _no_progress(phase: str, done: int, total: int) -> None:
    return None


def _nothing() -> None:
    return None


def _chunks(rows: Iterable[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime.datetime):
        value = value.strftime("%d-%m-%Y %H:%M")
    elif isinstance(value, datetime.date):
        value = value.strftime("%d-%m-%Y")
    text = " ".join(str(value).split())
    return text if len(text) <= 60 else text[:59] + "…"


_FIELD_VALUES = itemgetter(*FIELDS)


class _Row:
    """One data row while it is checked (a plain slotted class: 100,000 of them pass through)."""

    __slots__ = ("number", "cells", "values", "ok", "existing", "record", "changes", "nik_warnings")

    def __init__(self, number: int, cells: Sequence[Any]) -> None:
        self.number = number
        self.cells = cells
        self.values: dict[str, Any] = {}
        self.ok = True
        self.existing: tuple | None = None
        self.record: dict[str, Any] = {}
        self.changes: dict[str, Any] = {}
        self.nik_warnings: list[str] = []


class _Checker:
    """Phase one: every row parsed, checked and classified; what to write is kept."""

    def __init__(
        self, *, facility: Facility, user: User | None, header: HeaderMap, report: ImportReport
    ) -> None:
        self.facility = facility
        self.user = user
        self.report = report
        self.header = header
        self.order = {key: position for position, key in enumerate(BY_KEY)}
        # (key, field, parser, required, position) per column found in the file.
        self.plan: list[tuple[str, str, Any, bool, int]] = [
            (key, BY_KEY[key].field, BY_KEY[key].parse, BY_KEY[key].required, index)
            for key, index in header.indexes.items()
        ]
        self.today = timezone.localdate()
        self.facility_names = {normalize_key(facility.code), normalize_key(facility.name)}
        self.seen_registration: dict[str, int] = {}
        self.seen_nik: dict[str, int] = {}
        self.region_levels: dict[str, int | None] = {}
        self.districts = set(
            Region.objects.filter(level=Region.Level.DISTRICT).values_list("code", flat=True)
        )
        model_defaults = {name: Inmate._meta.get_field(name).get_default() for name in FIELDS}
        self.new_defaults = {**model_defaults, **DEFAULTS}
        # What phase two writes: new rows as value tuples in FIELDS order
        # (lean: 100,000 of them stay well under the memory budget), changed
        # rows as their primary key and only the changed fields.
        self.new_rows: list[tuple[int, tuple, list[str]]] = []
        self.changed_rows: list[tuple[int, dict[str, Any], list[str]]] = []
        # Called before each query: while an import streams, the connection
        # may be busy with a COPY in the background (_Writer.ready).
        self.before_query: Callable[[], None] = _nothing
        # The register as duplicate detection reads it, when read before any writing.
        self.register: list | None = None

    # -- problems

    def problem(self, row: _Row, key: str, level: str, code: str, message: Any, value: Any = None) -> None:
        if key in self.header.indexes:
            column = self.header.found[key]
            cell = f"{self.header.column_letter(key)}{row.number}"
        else:
            column = BY_KEY[key].label if key in BY_KEY else ""
            cell = ""
        self.report.add(
            Problem(
                row.number, column, cell, _shown(value), level, code, str(message), self.order.get(key, 99)
            )
        )
        if level == ERROR:
            row.ok = False

    def cell(self, row: _Row, key: str) -> Any:
        return self.header.get(row.cells, key)

    # -- phase one, per chunk

    def check_chunk(self, sheet_rows: list[SheetRow]) -> None:
        rows = [self.parse_row(sheet_row) for sheet_row in sheet_rows]
        self.report.rows += len(rows)
        self.check_regions(rows)
        existing = self.load_existing(rows)
        for row in rows:
            if row.ok:
                self.compare(row, existing.get(row.values["registration_number"]))
                self.check_rules(row)
            if row.ok:
                self.check_warnings(row)
            self.classify(row)

    def parse_row(self, sheet_row: SheetRow) -> _Row:
        cells = sheet_row.values
        row = _Row(sheet_row.number, cells)
        values = row.values
        width = len(cells)
        for key, name, parse, required, index in self.plan:
            raw = cells[index] if index < width else None
            try:
                value = parse(raw)
            except CellError as exc:
                self.problem(row, key, ERROR, exc.code, exc.message, raw)
                continue
            if required and (value is None or value == ""):
                self.problem(
                    row,
                    key,
                    ERROR,
                    "required",
                    _("%(column)s is empty. This column is required: fill it in.")
                    % {"column": BY_KEY[key].label},
                )
            elif name:
                values[name] = value
            elif value and normalize_key(value) not in self.facility_names:
                self.problem(
                    row,
                    key,
                    ERROR,
                    "other_facility",
                    _(
                        "This row belongs to facility %(value)s, but the file is being imported into "
                        "%(facility)s (%(code)s). Remove the row or import it into its own facility."
                    )
                    % {"value": value, "facility": self.facility.name, "code": self.facility.code},
                    raw,
                )
        number = values.get("registration_number")
        if number:
            first = self.seen_registration.setdefault(number, row.number)
            if first != row.number:
                self.problem(
                    row,
                    "registration_number",
                    ERROR,
                    "duplicate_registration_number",
                    _(
                        "Registration number %(number)s is also on row %(first)d. Each inmate may appear "
                        "only once in the file: remove or correct one of the rows."
                    )
                    % {"number": number, "first": first},
                    number,
                )
        birth_date = values.get("birth_date")
        if birth_date and birth_date > self.today:
            self.problem(
                row,
                "birth_date",
                ERROR,
                "birth_date_future",
                _("The birth date is in the future. Check the day, month and year."),
                birth_date,
            )
        return row

    def check_regions(self, rows: list[_Row]) -> None:
        wanted = {
            code
            for row in rows
            if row.ok and (code := row.values.get("domicile_region_id")) and code not in self.region_levels
        }
        if wanted:
            self.before_query()
            found = dict(Region.objects.filter(code__in=wanted).values_list("code", "level"))
            for code in wanted:
                self.region_levels[code] = found.get(code)
        for row in rows:
            code = row.values.get("domicile_region_id")
            if not row.ok or not code:
                continue
            level = self.region_levels[code]
            if level is None:
                self.problem(
                    row,
                    "domicile_region_id",
                    ERROR,
                    "region_unknown",
                    _(
                        "%(code)s is not a Kemendagri region code. Check the code of the village or "
                        "district (e.g. 33.16.01.2001 for a village in Blora)."
                    )
                    % {"code": code},
                    code,
                )
            elif level < Region.Level.DISTRICT:
                self.problem(
                    row,
                    "domicile_region_id",
                    ERROR,
                    "region_too_coarse",
                    _(
                        "%(code)s is a province or regency. Give the code of the village or at least "
                        "the district (kecamatan), e.g. 33.16.01."
                    )
                    % {"code": code},
                    code,
                )

    @cached_property
    def registered_numbers(self) -> frozenset[str]:
        """The facility's registration numbers, read once: a chunk of new rows then needs no query."""
        self.before_query()
        return frozenset(
            Inmate.objects.filter(facility=self.facility).values_list("registration_number", flat=True)
        )

    def load_existing(self, rows: list[_Row]) -> dict[str, tuple]:
        registered = self.registered_numbers
        numbers = [row.values["registration_number"] for row in rows if row.ok]
        numbers = [number for number in numbers if number in registered]
        if not numbers:
            return {}
        self.before_query()
        found = Inmate.objects.filter(facility=self.facility, registration_number__in=numbers).values_list(
            "registration_number", "pk", *FIELDS
        )
        return {values[0]: values[1:] for values in found}

    def compare(self, row: _Row, existing: tuple | None) -> None:
        """The record as it would be after the import, and what the file changes in it."""
        values = {name: value for name, value in row.values.items() if value is not MISSING}
        row.existing = existing
        if existing is None:
            row.record = {**self.new_defaults, **values}
            return
        current = dict(zip(FIELDS, existing[1:], strict=True))
        row.changes = {name: value for name, value in values.items() if current[name] != value}
        row.record = {**current, **values}

    def check_rules(self, row: _Row) -> None:
        """The register's own rules (Inmate.clean), for rows that would be created or changed."""
        if row.existing is not None and not row.changes:
            return
        inmate = _bare_inmate(self.facility, row.record)
        try:
            inmate.clean()
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                column = BY_FIELD.get(name)
                key = column.key if column else ""
                for message in messages:
                    self.problem(row, key, ERROR, "invalid", message, self.cell(row, key) if key else None)
        if row.ok and row.existing is not None and "admission_date" in row.changes:
            self.check_admission_move(row)

    def check_admission_move(self, row: _Row) -> None:
        """A new admission date moves the admission in the custody history, as the form does.

        Rare (a correction of an existing record), so one query per such row.
        """
        old = dict(zip(FIELDS, row.existing[1:], strict=True))["admission_date"]
        self.before_query()
        try:
            services.inmate_admission_event_to_correct(
                inmate=Inmate(pk=row.existing[0]), old=old, new=row.changes["admission_date"]
            )
        except ValidationError as exc:
            for message in exc.message_dict.get("admission_date", exc.messages):
                self.problem(
                    row,
                    "admission_date",
                    ERROR,
                    "admission_history",
                    message,
                    self.cell(row, "admission_date"),
                )

    def check_warnings(self, row: _Row) -> None:
        record = row.record
        nik = record["nik"]
        codes = nik_rules.warnings_for(
            nik,
            birth_date=record["birth_date"],
            sex=record["sex"],
            district_exists=self.districts.__contains__,
            nkk=record["nkk"] or None,
        )
        row.nik_warnings = codes
        for code in codes:
            key = "nkk" if code == nik_rules.NikWarning.NKK_JUNK else "nik"
            self.problem(row, key, WARNING, code, nik_rules.warning_label(code), self.cell(row, key))
        if nik:
            first = self.seen_nik.setdefault(nik, row.number)
            if first != row.number:
                self.problem(
                    row,
                    "nik",
                    WARNING,
                    "nik_twice_in_file",
                    _("The same NIK is also on row %(first)d. Check whether both rows are one person.")
                    % {"first": first},
                    nik,
                )
        birth_date = record["birth_date"]
        if birth_date and birth_date <= self.today:
            age = _age(birth_date, self.today)
            if age < VOTING_AGE:
                self.problem(
                    row,
                    "birth_date",
                    WARNING,
                    "under_17",
                    _(
                        "Under 17 today (age %(age)d): a voter only if married or ever married. "
                        "Check the birth date."
                    )
                    % {"age": age},
                    birth_date,
                )
        if record["citizenship"] == Inmate.Citizenship.WNA:
            self.problem(
                row,
                "citizenship",
                WARNING,
                "wna",
                _("Foreign citizen (WNA): kept in the register, but not a voter."),
                self.cell(row, "citizenship"),
            )

    def read_register(self) -> None:
        """Read the register for duplicate detection now, before the import writes anything."""
        self.before_query()
        self.register = SimilarSearch.read_register()

    def check_similar_people(self) -> None:
        """Rows about to be created that look like someone already registered (inmates/dedup_hooks.py)."""
        search = self.start_similar_people(background=False)
        if search is not None:
            search.finish()

    def start_similar_people(self, *, background: bool) -> _SimilarPeople | None:
        """Begin the duplicate check of the rows about to be created; ``finish()`` adds its warnings.

        Called once for the whole file: the register is read once. With
        ``background`` the matching itself (no queries) runs in a thread
        while the caller writes the rows; its warnings never block an import.
        """
        if not self.new_rows:
            return None
        keys = (
            "registration_number",
            "nik",
            "nkk",
            "full_name",
            "birth_date",
            "birth_place",
            "sex",
            "domicile_region_id",
        )
        positions = [FIELDS.index(key) for key in keys]
        candidates = [
            {key: values[i] for key, i in zip(keys, positions, strict=True)}
            for _n, values, _w in self.new_rows
        ]
        search = SimilarSearch.prepare(self.facility, candidates, register=self.register, new_records=True)
        if search is None:
            return None
        return _SimilarPeople(self, search, background=background)

    def _similar_problem(self, number: int, match: Any, visible: set[str] | None) -> Problem:
        if isinstance(match, str):
            message = match
        elif visible is not None and match.facility_code not in visible:
            message = str(
                _(
                    "Looks like a person registered in another facility; KPU will review the pair after the import."
                )
            )
        else:
            message = str(
                _(
                    "Looks like %(name)s (registration number %(number)s, %(facility)s): %(reasons)s. Check it is not the same person."
                )
                % {
                    "name": match.full_name,
                    "number": match.registration_number,
                    "facility": match.facility_code,
                    "reasons": ", ".join(str(label) for label in match.reason_labels) or "-",
                }
            )
        column = self.header.found.get("full_name", BY_KEY["full_name"].label)
        cell = (
            f"{self.header.column_letter('full_name')}{number}" if "full_name" in self.header.indexes else ""
        )
        return Problem(number, column, cell, "", WARNING, "similar_person", message, self.order["full_name"])

    def classify(self, row: _Row) -> None:
        report = self.report
        if not row.ok:
            report.error_rows += 1
            return
        warnings = row.nik_warnings
        if row.existing is None:
            record = row.record
            self.new_rows.append((row.number, _FIELD_VALUES(record), warnings))
            report.created += 1
            return
        if row.changes:
            self.changed_rows.append((row.existing[0], row.changes, warnings))
            report.updated += 1
        else:
            report.unchanged += 1


class _SimilarPeople:
    """The duplicate check of an import's new rows, running now or in a thread (``start_similar_people``)."""

    def __init__(self, checker: _Checker, search: SimilarSearch, *, background: bool) -> None:
        self.checker = checker
        self.search = search
        self.error: BaseException | None = None
        self.thread: threading.Thread | None = None
        if background:
            self.thread = threading.Thread(target=self._match, name="import-similar", daemon=True)
            self.thread.start()
        else:
            search.match()

    def _match(self) -> None:
        try:
            self.search.match()
        except BaseException as exc:  # noqa: BLE001 - raised again in the importing thread
            self.error = exc

    def finish(self) -> None:
        """Wait for the matching, then add a warning per likely match (queries: the importing thread)."""
        if self.thread is not None:
            self.thread.join()
            self.thread = None
            if self.error is not None:
                raise self.error
        checker = self.checker
        found = self.search.result()
        visible = None
        if checker.user is not None:
            visible = set(Facility.objects.for_user(checker.user).values_list("code", flat=True))
        for index, matches in found.items():
            number = checker.new_rows[index][0]
            for match in matches:
                checker.report.add(checker._similar_problem(number, match, visible))


def _bare_inmate(facility: Facility, values: dict[str, Any]) -> Inmate:
    """An Inmate carrying ``values`` for its clean(), built without Model.__init__.

    clean() reads plain attributes only; Model.__init__ (signals, descriptors,
    defaults for 30 fields) would cost more than the rules themselves.
    """
    inmate = Inmate.__new__(Inmate)
    inmate.__dict__.update(values, facility_id=facility.pk, _state=ModelState())
    return inmate


def _age(birth_date: datetime.date, today: datetime.date) -> int:
    return today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))


# --- phase two: writing -------------------------------------------------------------


class _Writer:
    """Writes what the checker found, in the caller's transaction.

    New records go in through FastInsert with their ids known before they are
    sent (from the id sequence on PostgreSQL, past the highest id on SQLite),
    so each record's history row and admission event are built with it, with
    no query in between. On PostgreSQL the COPY of a chunk runs in the
    background (BackgroundCopy) while the next chunk is prepared or checked;
    whoever needs the connection meanwhile calls :meth:`ready` first. Changed
    records go through simple-history's ``bulk_update_with_history``: their
    history rows carry the user and the import as the reason.
    """

    def __init__(self, checker: _Checker, *, reason: str, progress: Progress) -> None:
        self.checker = checker
        self.facility = checker.facility
        self.user = checker.user
        self.reason = reason
        self.progress = progress
        self.now = timezone.now()
        user_id = self.user.pk if self.user is not None else None
        # The server stores one chunk while Python works on the next: a check
        # may run beside the writing (_check_and_write).
        self.can_stream = connection.vendor == "postgresql"
        self.inmates = FastInsert(
            Inmate, ["id", "facility_id", *FIELDS, "nik_warnings", "created_at", "updated_at"]
        )
        # Each new record's history row and admission event are built by the database from the record.
        self.history = InsertSelect(
            Inmate.history.model,
            Inmate,
            from_source={field.attname: field.attname for field in Inmate._meta.concrete_fields},
            values={
                "history_date": self.now,
                "history_change_reason": reason,
                "history_type": "+",
                "history_user_id": user_id,
            },
        )
        self.events = InsertSelect(
            CustodyEvent,
            Inmate,
            from_source={"inmate_id": "id", "date": "admission_date"},
            values={
                "kind": CustodyEvent.Kind.ADMISSION.value,
                "created_by_id": user_id,
                "created_at": self.now,
            },
        )
        self.copier: BackgroundCopy | None = None
        self.ids: list[int] = []  # taken, not used yet
        self.reserve = 0  # ids worth taking beyond those needed now (rows of the file still to come)
        self.sent = 0  # checker.new_rows[:sent] are written
        self.written = 0  # new and changed, for the progress bar

    def __enter__(self) -> _Writer:
        if self.can_stream:
            self.copier = BackgroundCopy().__enter__()
        return self

    def __exit__(self, *exc_info) -> None:
        copier, self.copier = self.copier, None
        if copier is not None:
            copier.__exit__(*exc_info)

    def ready(self) -> None:
        """Wait until the connection is free (the COPY in the background has ended)."""
        if self.copier is not None:
            self.copier.wait()

    @property
    def total(self) -> int:
        return len(self.checker.new_rows) + len(self.checker.changed_rows)

    def write_new(self, *, report_progress: bool) -> None:
        """Write the checker's new rows that are not written yet."""
        pending = self.checker.new_rows[self.sent :]
        if not pending:
            return
        if len(self.ids) < len(pending):
            self.ids += self._take_ids(len(pending) - len(self.ids) + self.reserve)
        ids = iter(self.ids[: len(pending)])
        self.ids = self.ids[len(pending) :]
        now, facility_id = self.now, self.facility.pk
        for batch in _chunks(pending, CHUNK):
            pks = [next(ids) for _row in batch]
            # In the inserter's column order (FIELDS is the order of the checker's values).
            records = [
                (pk, facility_id, *values, warnings, now, now)
                for pk, (_number, values, warnings) in zip(pks, batch, strict=True)
            ]
            derived = [self.history.for_pks(pks), self.events.for_pks(pks)]
            if self.copier is not None:
                self.copier.send([(self.inmates, records)], then=derived)
            else:
                self.inmates.insert(records)
                with connection.cursor() as cursor:
                    for sql, params in derived:
                        cursor.execute(sql, params)
            self.sent += len(batch)
            self._written(len(batch), report_progress)

    def _take_ids(self, count: int) -> list[int]:
        """``count`` unused ids of Inmate, in increasing order."""
        self.ready()
        table = Inmate._meta.db_table
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                    [table, count],
                )
                return [row[0] for row in cursor.fetchall()]
            # SQLite: the import's transaction holds the database's write lock
            # (transaction_mode IMMEDIATE), so nobody else takes these ids; the
            # id of a deleted record (AUTOINCREMENT's sqlite_sequence) is not reused.
            cursor.execute(
                f"SELECT MAX(COALESCE((SELECT MAX(id) FROM {connection.ops.quote_name(table)}), 0), "  # noqa: S608
                "COALESCE((SELECT seq FROM sqlite_sequence WHERE name = %s), 0))",
                [table],
            )
            first = cursor.fetchone()[0] + 1
            return list(range(first, first + count))

    def move_admission(self, inmate: Inmate, old: datetime.date) -> None:
        """The custody history follows a changed admission date (checked in phase one)."""
        try:
            event = services.inmate_admission_event_to_correct(
                inmate=inmate, old=old, new=inmate.admission_date
            )
            if event is not None:
                services.custody_event_correct(event=event, date=inmate.admission_date, user=self.user)
        except ValidationError as exc:  # the history changed since the check
            raise IntegrityError(f"custody history of inmate {inmate.pk} changed during the import") from exc

    def write_changed(self, *, report_progress: bool) -> None:
        """Update the changed records (locked first: a concurrent edit waits, then is not lost)."""
        self.ready()
        now, user = self.now, self.user
        for batch in _chunks(self.checker.changed_rows, CHUNK):
            # Only the inmate rows (the default ordering joins the facility, whose
            # row would be locked too), in id order: two imports lock in the same
            # order and queue instead of deadlocking.
            current = (
                Inmate.objects.select_for_update(of=("self",))
                .order_by("pk")
                .in_bulk([pk for pk, _changes, _warnings in batch])
            )
            changed: list[Inmate] = []
            admissions_moved: list[tuple[Inmate, datetime.date]] = []
            fields = {"nik_warnings", "updated_at"}
            for pk, changes, warnings in batch:
                inmate = current.get(pk)
                if inmate is None:  # deleted since the check
                    raise IntegrityError(f"inmate {pk} disappeared during the import")
                if "admission_date" in changes:
                    admissions_moved.append((inmate, inmate.admission_date))
                for name, value in changes.items():
                    setattr(inmate, name, value)
                inmate.nik_warnings = warnings
                inmate.updated_at = now
                fields.update(changes)
                changed.append(inmate)
            bulk_update_with_history(
                changed,
                Inmate,
                fields=sorted(fields),
                batch_size=CHUNK,
                default_user=user,
                default_change_reason=self.reason,
                default_date=now,
            )
            for inmate, old_admission in admissions_moved:
                self.move_admission(inmate, old_admission)
            self._written(len(batch), report_progress)
        access_log_record(
            user=user,
            action=AccessLog.Action.IMPORT,
            target=self.reason,
            facility=self.facility,
            details={"created": len(self.checker.new_rows), "updated": len(self.checker.changed_rows)},
        )

    def _written(self, count: int, report_progress: bool) -> None:
        self.written += count
        if report_progress:
            self.progress(WRITING, self.written, self.total)
        _forget_queries()


def _forget_queries() -> None:
    # With DEBUG on, Django keeps every statement's SQL: at 100,000 rows that
    # is hundreds of MB of INSERT text. Nothing needs it here.
    if settings.DEBUG:
        reset_queries()
