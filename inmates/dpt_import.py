"""Loading KPU's DPT (final voter list) of one regency, as exported from KPU's system.

One code path for ``python manage.py import_dpt FILE --regency CODE`` and the
admin upload. The file is read as a stream in two passes over one read:

1. every row is parsed and checked (NIK, name, TPS, dates, sex, region code
   inside the regency …); good rows go to a temporary file in PostgreSQL's
   COPY text format, bad rows are collected with their line number;
2. only if no row is bad, the temporary file is loaded in one transaction:
   ``COPY … FROM STDIN`` on PostgreSQL, batched ``bulk_create`` elsewhere.

So a file with any bad row writes nothing, and a crash half-way leaves
nothing behind either (the load is one transaction). Memory stays flat: rows
are never all held at once (CSV is read line by line; an .xlsx sheet is
read by python-calamine).

Loading a file with the same name for the same regency again replaces the
earlier load (a newer export of the same list); decisions already taken on
its records (dismissed or confirmed matches) move to the same person's
record in the new load.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from inmates.models import DptFile, DptRecord, DuplicateCandidate, Region, User
from voterreg import spreadsheets as sheets
from voterreg.spreadsheets import CellError, ColumnSpec, SheetRow, SpreadsheetError, TableReader

MAX_REPORTED_ERRORS = 1000
BATCH = 5000
UPLOAD_MAX_BYTES = 20 * 1024 * 1024  # the admin upload; larger files go through the command

COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("nkk", "NKK", synonyms=("No KK", "Nomor KK", "No. KK", "Nomor Kartu Keluarga")),
    ColumnSpec("nik", "NIK", synonyms=("No NIK", "Nomor NIK", "Nomor Induk Kependudukan"), required=True),
    ColumnSpec("name", "Nama", synonyms=("Nama Lengkap", "Nama Pemilih"), required=True),
    ColumnSpec("birth_place", "Tempat Lahir", synonyms=("Tmp Lahir", "Tempat Lhr")),
    ColumnSpec("birth_date", "Tanggal Lahir", synonyms=("Tgl Lahir", "Tgl. Lahir", "Tanggal Lhr")),
    ColumnSpec("sex", "Jenis Kelamin", synonyms=("L/P", "JK", "Kelamin", "Jns Kelamin")),
    ColumnSpec("marital_status", "Status Kawin", synonyms=("Status Perkawinan", "Kawin", "Sts Kawin")),
    ColumnSpec("address", "Alamat"),
    ColumnSpec("rt", "RT"),
    ColumnSpec("rw", "RW"),
    ColumnSpec(
        "region_code", "Kode Wilayah", synonyms=("Kode Desa", "Kode Kelurahan", "Kode Wil", "Kode Desa/Kel")
    ),
    ColumnSpec("tps", "TPS", synonyms=("No TPS", "Nomor TPS", "No. TPS"), required=True),
)

# KPU's codes: B belum kawin, S sudah kawin, P pernah kawin.
MARITAL_CHOICES = sheets.build_choices(
    {
        "B": ("B", "Belum", "Belum Kawin", "Belum Menikah", "BK"),
        "S": ("S", "Sudah", "Kawin", "Sudah Kawin", "Menikah", "SK"),
        "P": ("P", "Pernah", "Pernah Kawin", "Cerai", "Cerai Hidup", "Cerai Mati", "Janda", "Duda"),
    }
)

COPY_COLUMNS = (
    "dpt_file_id",
    "line",
    "regency_code",
    "nkk",
    "nik",
    "name",
    "birth_place",
    "birth_date",
    "sex",
    "marital_status",
    "address",
    "rt",
    "rw",
    "region_code",
    "tps",
)
_FIELDS = COPY_COLUMNS[1:]

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class RowError:
    line: int
    column: str
    value: str
    message: str

    def __str__(self) -> str:
        where = gettext("line %(line)d") % {"line": self.line}
        if self.column:
            where += f", {self.column}"
        shown = f' "{self.value}"' if self.value else ""
        return f"{where}{shown}: {self.message}"


@dataclass
class DptImportError(Exception):
    """The file was not loaded; ``errors`` say why, row by row (or ``file_error`` for the whole file)."""

    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    rows: int = 0
    file_error: str = ""

    def __str__(self) -> str:
        if self.file_error:
            return self.file_error
        return gettext("%(count)d of %(rows)d rows have errors; nothing was loaded.") % {
            "count": self.error_count,
            "rows": self.rows,
        }


@dataclass(frozen=True)
class DptImportResult:
    dpt_file: DptFile
    rows: int
    replaced: int  # records of an earlier load of the same file that were replaced
    decisions_kept: int


def _noop(phase: str, done: int, total: int) -> None:
    return None


# =============================================================================
# Reading
# =============================================================================


def _sniff_encoding(head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"


def _sniff_delimiter(sample: str) -> str:
    lines = [line for line in sample.splitlines()[:20] if line.strip()]
    best, best_score = ",", -1
    for delimiter in (",", ";", "\t", "|"):
        counts = [line.count(delimiter) for line in lines]
        if not counts or max(counts) == 0:
            continue
        # The delimiter that splits most lines into the same number of cells.
        score = max(counts.count(c) for c in set(counts)) * 1000 + max(counts)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _csv_stream(path: Path, filename: str) -> Iterator[SheetRow]:
    with open(path, "rb") as raw:
        head = raw.read(65536)
    if not head.strip(b" \t\r\n\x00" + codecs.BOM_UTF8):
        raise SpreadsheetError(
            _("The file is empty. Choose the file again; it may not have been saved."), code="empty"
        )
    if head.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise SpreadsheetError(
            _('"%(filename)s" is an Excel workbook, not a CSV file. Upload it with the .xlsx extension.'),
            code="workbook_named_csv",
            params={"filename": filename},
        )
    encoding = _sniff_encoding(head)
    with open(path, encoding=encoding, newline="") as handle:
        sample = handle.read(65536)
        handle.seek(0)
        delimiter = _sniff_delimiter(sample)
        reader = csv.reader(handle, delimiter=delimiter)
        number = 0
        while True:
            number += 1
            try:
                values = next(reader)
            except StopIteration:
                return
            except UnicodeDecodeError as exc:
                raise SpreadsheetError(
                    _("Row %(row)d has characters that are not text. Save the file again as CSV UTF-8."),
                    code="encoding",
                    params={"row": number},
                ) from exc
            except csv.Error as exc:
                raise SpreadsheetError(
                    _("Row %(row)d of the CSV file cannot be read: a quotation mark is not closed."),
                    code="csv_malformed",
                    params={"row": number},
                ) from exc
            if any(value.strip() for value in values):
                yield SheetRow(number, values)


def open_table(path: Path, filename: str) -> TableReader:
    """The rows of a DPT file (.csv streamed line by line, or .xlsx), positioned after the header."""
    extension = os.path.splitext(filename)[1].lower()
    if extension == ".csv":
        return TableReader(
            filename=filename,
            file_format="csv",
            rows=_csv_stream(path, filename),
            columns=COLUMNS,
            pad_rows=True,
        )
    return sheets.read_rows(path, filename, columns=COLUMNS)


# =============================================================================
# Checking one row
# =============================================================================


class _RowChecker:
    def __init__(self, regency: Region, header_map: sheets.HeaderMap) -> None:
        self.regency = regency.code
        self.prefix = regency.code + "."
        self.map = header_map
        self.labels = {spec.key: str(spec.label) for spec in COLUMNS}
        self.known_regions = set(
            Region.objects.filter(code__startswith=self.prefix).values_list("code", flat=True)
        )
        self.index = {key: header_map.indexes.get(key) for key in (spec.key for spec in COLUMNS)}

    def _cell(self, values: list, key: str):
        index = self.index[key]
        if index is None or index >= len(values):
            return None
        return values[index]

    def check(self, row: SheetRow) -> tuple[tuple | None, list[RowError]]:
        values = row.values
        errors: list[RowError] = []
        clean: dict[str, object] = {}

        failed: set[str] = set()

        def parse(key: str, parser, *args, **kwargs):
            raw = self._cell(values, key)
            try:
                return parser(raw, *args, **kwargs)
            except CellError as exc:
                shown = "" if raw is None else str(raw)[:40]
                errors.append(RowError(row.number, self.labels[key], shown, exc.message))
                failed.add(key)
                return None

        def required(key: str, value) -> None:
            if value in (None, "") and key not in failed:
                errors.append(RowError(row.number, self.labels[key], "", gettext("This value is required.")))

        clean["nik"] = parse("nik", sheets.parse_nik)
        required("nik", clean["nik"])
        clean["nkk"] = parse("nkk", sheets.parse_nkk) or ""
        clean["name"] = parse("name", sheets.parse_text, max_length=150) or ""
        required("name", clean["name"])
        clean["birth_place"] = parse("birth_place", sheets.parse_text, max_length=100) or ""
        clean["birth_date"] = parse("birth_date", sheets.parse_date)
        clean["sex"] = parse("sex", sheets.parse_sex) or ""
        clean["marital_status"] = (
            parse("marital_status", sheets.parse_choice, MARITAL_CHOICES, labels=("B", "S", "P")) or ""
        )
        clean["address"] = parse("address", sheets.parse_text, max_length=255) or ""
        for key in ("rt", "rw"):
            text = parse(key, sheets.parse_text) or ""
            if text and not (text.isdigit() and len(text) <= 3):
                errors.append(
                    RowError(row.number, self.labels[key], text[:40], gettext("Use digits only, e.g. 003."))
                )
                text = ""
            clean[key] = text.zfill(3) if text else ""
        region = parse("region_code", sheets.parse_region_code) or ""
        if region and not (region == self.regency or region.startswith(self.prefix)):
            errors.append(
                RowError(
                    row.number,
                    self.labels["region_code"],
                    region,
                    gettext("This region is not in the regency %(regency)s being loaded.")
                    % {"regency": self.regency},
                )
            )
        elif region and region != self.regency and region not in self.known_regions:
            errors.append(
                RowError(
                    row.number, self.labels["region_code"], region, gettext("Unknown Kemendagri region code.")
                )
            )
        clean["region_code"] = region
        tps = parse("tps", sheets.parse_text) or ""
        if tps.upper().startswith("TPS"):
            tps = tps[3:].strip(" .:-")
        if tps.isdigit():
            tps = tps.zfill(3)
        if len(tps) > 10:
            errors.append(
                RowError(
                    row.number,
                    self.labels["tps"],
                    tps[:40],
                    gettext("A TPS number has at most 10 characters."),
                )
            )
        clean["tps"] = tps
        required("tps", tps)
        if errors:
            return None, errors
        return (
            row.number,
            self.regency,
            clean["nkk"],
            clean["nik"],
            clean["name"],
            clean["birth_place"],
            clean["birth_date"],
            clean["sex"],
            clean["marital_status"],
            clean["address"],
            clean["rt"],
            clean["rw"],
            clean["region_code"],
            clean["tps"],
        ), []


# =============================================================================
# COPY text format
# =============================================================================

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_line(values: tuple) -> str:
    cells = []
    for value in values:
        if value is None:
            cells.append("\\N")
        elif isinstance(value, str):
            cells.append(value.translate(_ESCAPES))
        else:
            cells.append(value.isoformat() if hasattr(value, "isoformat") else str(value))
    return "\t".join(cells) + "\n"


def _parse_copy_line(line: str) -> list[str | None]:
    cells: list[str | None] = []
    for cell in line.rstrip("\n").split("\t"):
        if cell == "\\N":
            cells.append(None)
            continue
        if "\\" in cell:
            cell = (
                cell.replace("\\\\", "\x00").replace("\\t", "\t").replace("\\n", "\n").replace("\\r", "\r")
            ).replace("\x00", "\\")
        cells.append(cell)
    return cells


class _Prefixed(io.RawIOBase):
    """A text file of COPY lines read as bytes with ``prefix`` in front of each line."""

    def __init__(self, handle: IO[str], prefix: str) -> None:
        self.handle = handle
        self.prefix = prefix
        self.buffer = b""

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        size = 1 << 16 if size is None or size < 0 else size
        while len(self.buffer) < size:
            lines = self.handle.readlines(1 << 16)
            if not lines:
                break
            self.buffer += "".join(self.prefix + line for line in lines).encode("utf-8")
        chunk, self.buffer = self.buffer[:size], self.buffer[size:]
        return chunk

    def readline(self, size: int = -1) -> bytes:
        line = self.handle.readline()
        return (self.prefix + line).encode("utf-8") if line else b""


# =============================================================================
# The service
# =============================================================================


def _validate(path: Path, filename: str, regency: Region, spool: IO[str], progress: Progress) -> int:
    try:
        with open_table(path, filename) as table:
            header_map = table.match_headers(COLUMNS)
            checker = _RowChecker(regency, header_map)
            errors: list[RowError] = []
            error_count = rows = 0
            total = table.total_rows or 0
            for row in table:
                rows += 1
                values, row_errors = checker.check(row)
                if row_errors:
                    error_count += 1
                    if len(errors) < MAX_REPORTED_ERRORS:
                        errors.extend(row_errors[: MAX_REPORTED_ERRORS - len(errors)])
                elif not error_count:
                    spool.write(_copy_line(values))
                if rows % 50_000 == 0:
                    progress("checking", rows, total)
    except SpreadsheetError as exc:
        raise DptImportError(file_error=exc.message) from exc
    if error_count:
        raise DptImportError(errors=errors, error_count=error_count, rows=rows)
    if not rows:
        raise DptImportError(file_error=gettext("The file has no voter rows below its header."))
    progress("checking", rows, rows)
    return rows


def _load_postgresql(dpt_file: DptFile, spool: IO[str]) -> None:
    table = DptRecord._meta.db_table
    sql = f"COPY {table} ({', '.join(COPY_COLUMNS)}) FROM STDIN WITH (FORMAT text)"  # noqa: S608 - fixed names
    with connection.cursor() as cursor:
        raw = cursor.cursor
        source = _Prefixed(spool, f"{dpt_file.pk}\t")
        if hasattr(raw, "copy_expert"):  # psycopg2
            raw.copy_expert(sql, source, size=1 << 16)
        else:  # psycopg 3
            with raw.copy(sql) as copy:
                while chunk := source.read(1 << 16):
                    copy.write(chunk)
        cursor.execute(f"ANALYZE {table}")


def _load_batched(dpt_file: DptFile, spool: IO[str]) -> None:
    batch: list[DptRecord] = []
    for line in spool:
        cells = _parse_copy_line(line)
        record = DptRecord(dpt_file=dpt_file, **dict(zip(_FIELDS, cells, strict=True)))
        record.line = int(cells[0])  # type: ignore[arg-type]
        batch.append(record)
        if len(batch) >= BATCH:
            DptRecord.objects.bulk_create(batch)
            batch = []
    if batch:
        DptRecord.objects.bulk_create(batch)


def _delete_records(dpt_file: DptFile) -> int:
    """Delete a load's records in one statement (the ORM would fetch millions of rows to cascade)."""
    DuplicateCandidate.objects.filter(dpt_record__dpt_file=dpt_file).delete()
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {DptRecord._meta.db_table} WHERE dpt_file_id = %s", [dpt_file.pk])  # noqa: S608
        return cursor.rowcount


def _carry_decisions(old: DptFile, new: DptFile) -> int:
    """Point decided matches on an earlier load at the same person's record in the new one."""
    moved = 0
    decided = DuplicateCandidate.objects.filter(dpt_record__dpt_file=old).exclude(
        status=DuplicateCandidate.Status.OPEN
    )
    for candidate in decided.select_related("dpt_record"):
        previous = candidate.dpt_record
        same = (
            DptRecord.objects.filter(
                dpt_file=new, nik=previous.nik, name=previous.name, birth_date=previous.birth_date
            )
            .order_by("line")
            .first()
        )
        if (
            same is None
            or DuplicateCandidate.objects.filter(inmate_a_id=candidate.inmate_a_id, dpt_record=same).exists()
        ):
            continue
        candidate.dpt_record = same
        candidate._change_reason = f"DPT reloaded: {new.name} line {same.line}"
        candidate.save()
        moved += 1
    return moved


def resolve_regency(code: str) -> Region:
    """A regency/city by its Kemendagri code, with or without the dot ("3316" or "33.16")."""
    digits = code.strip().replace(".", "")
    dotted = f"{digits[:2]}.{digits[2:]}" if len(digits) == 4 and digits.isdigit() else code.strip()
    region = Region.objects.filter(code=dotted, level=Region.Level.REGENCY).first()
    if region is None:
        raise ValidationError(
            _("%(code)s is not a regency/city code (write it like 33.16)."),
            code="regency",
            params={"code": code},
        )
    return region


def dpt_import(
    *,
    path: str | os.PathLike[str],
    regency: Region,
    user: User | None,
    filename: str | None = None,
    progress: Progress | None = None,
) -> DptImportResult:
    """Load one DPT file for ``regency``: all rows or, if any row is bad, none (:class:`DptImportError`).

    ``filename`` is the name kept with every record (defaults to the file's
    own name); it decides the format too (.csv or .xlsx).
    """
    progress = progress or _noop
    path = Path(path)
    filename = filename or path.name
    if os.path.splitext(filename)[1].lower() not in (".csv", ".xlsx"):
        raise DptImportError(
            file_error=gettext("A DPT file must be .csv or .xlsx, not %(name)s.") % {"name": filename}
        )
    with tempfile.TemporaryFile("w+", encoding="utf-8", newline="\n") as spool:
        rows = _validate(path, filename, regency, spool, progress)
        spool.seek(0)
        progress("loading", 0, rows)
        with transaction.atomic():
            dpt_file = DptFile.objects.create(
                name=filename[:255], regency=regency, row_count=rows, loaded_by=user
            )
            if connection.vendor == "postgresql":
                _load_postgresql(dpt_file, spool)
            else:
                _load_batched(dpt_file, spool)
            replaced = kept = 0
            for old in DptFile.objects.filter(name=dpt_file.name, regency=regency).exclude(pk=dpt_file.pk):
                kept += _carry_decisions(old, dpt_file)
                replaced += _delete_records(old)
                old.delete()
        progress("loading", rows, rows)
    return DptImportResult(dpt_file=dpt_file, rows=rows, replaced=replaced, decisions_kept=kept)


@transaction.atomic
def dpt_file_delete(*, dpt_file: DptFile, user: User | None) -> int:
    """Remove a load with its records and the matches found on them; returns the records removed."""
    removed = _delete_records(dpt_file)
    dpt_file.delete()
    return removed
