"""Reading uploaded spreadsheets (.xlsx, .csv) and parsing their cells.

Pure module: no ORM. Importers call :func:`read_rows`, map the header with
:func:`match_headers` (or :meth:`TableReader.match_headers`) and run one cell
parser per column. Every problem with the file as a whole is a
:class:`SpreadsheetError`; every problem with one cell is a :class:`CellError`.
Both carry an Indonesian message (via gettext) that tells the user how to fix
the file, and a stable ``code`` for programs and tests.

Sections: errors, column headers, reading, cell parsers.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import io
import itertools
import os
import re
import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any, NamedTuple

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

# A cell as delivered by the reader: calamine gives str/float/int/bool/date/
# datetime/time/timedelta ('' for an empty cell); CSV gives str.
CellValue = Any

# --- Limits -----------------------------------------------------------------
# 100,000 rows x 19 columns written by XlsxWriter unpack to about 100 MB of
# XML with a compression ratio near 10; a zip bomb reaches ratios near 1000.
MAX_FILE_BYTES = 256 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 256 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200
RATIO_CHECK_MIN_BYTES = 1024 * 1024
MAX_ZIP_MEMBERS = 2000
# How many non-blank rows may precede the header (a title, a blank line).
HEADER_SCAN_ROWS = 10
# Sheets picked before the first one, compared after normalize_key().
PREFERRED_SHEET_NAMES = ("data", "wbp", "datawbp", "dpt")
SUPPORTED_EXTENSIONS = (".xlsx", ".csv")

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # .xls, and also every password-protected .xlsx
_MB = 1024 * 1024


# =============================================================================
# Errors
# =============================================================================


class _UserMessageError(Exception):
    """An error whose message is shown to the user, rendered when read.

    ``message`` may be lazy; with ``params`` it is a %-format template. It is
    rendered on each access so that it follows the active language.
    """

    def __init__(self, message: Any, *, code: str, params: Mapping[str, Any] | None = None) -> None:
        self.template = message
        self.code = code
        self.params = dict(params) if params else {}
        super().__init__(code)

    @property
    def message(self) -> str:
        if self.params:
            return str(self.template % self.params)
        return str(self.template)

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"


class SpreadsheetError(_UserMessageError):
    """The file as a whole cannot be read (wrong type, damaged, unsafe, missing columns)."""

    def __init__(
        self, message: Any, *, code: str = "invalid", params: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(message, code=code, params=params)


class CellError(_UserMessageError, ValueError):
    """One cell holds a value that cannot be used; the message says how to fix it."""

    def __init__(self, code: str, message: Any, params: Mapping[str, Any] | None = None) -> None:
        super().__init__(message, code=code, params=params)


def _unreadable(filename: str) -> SpreadsheetError:
    return SpreadsheetError(
        _(
            '"%(filename)s" could not be read. Open it in Excel, save it again as '
            "Excel Workbook (.xlsx) or CSV UTF-8, and upload it again."
        ),
        code="unreadable",
        params={"filename": filename},
    )


def _is_fatal(exc: BaseException) -> bool:
    return isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit))


# =============================================================================
# Column headers
# =============================================================================

_NON_ALNUM_RE = re.compile(r"[^0-9a-z]+")
_BRACKETED_RE = re.compile(r"\([^)]*\)|\[[^\]]*\]")


def normalize_key(value: Any) -> str:
    """Lower-case ASCII letters and digits only: "Laki-laki" -> "lakilaki", "L/P" -> "lp"."""
    text = str(value).lower()
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _NON_ALNUM_RE.sub("", text)


def normalize_header(value: Any) -> str:
    """Like normalize_key, and drops hints in brackets: "Tanggal Lahir (dd-mm-yyyy)" -> "tanggallahir"."""
    text = str(value)
    if "(" in text or "[" in text:
        stripped = normalize_key(_BRACKETED_RE.sub(" ", text))
        if stripped:
            return stripped
    return normalize_key(text)


@dataclass(frozen=True)
class ColumnSpec:
    """One column an importer understands.

    ``label`` is the Indonesian header written in templates and exports;
    ``key``, ``label`` and every synonym are accepted in uploaded files,
    compared by :func:`normalize_header` (case, spaces, punctuation ignored).
    """

    key: str
    label: str
    synonyms: Sequence[str] = ()
    required: bool = False
    help_text: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "synonyms", tuple(self.synonyms))  # keeps the spec hashable

    def names(self) -> Iterator[str]:
        yield self.key
        yield str(self.label)
        yield from self.synonyms


def column_letter(index: int) -> str:
    """0 -> "A", 25 -> "Z", 26 -> "AA"."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


@dataclass(frozen=True)
class HeaderMap:
    """Where each known column sits in the rows of one file."""

    indexes: Mapping[str, int]
    found: Mapping[str, str]  # key -> the header text as written in the file
    unmatched: tuple[str, ...] = ()  # headers in the file that no spec knows
    column_offset: int = 0  # column of rows[i][0] in the sheet (data starting at column B -> 1)

    def __contains__(self, key: object) -> bool:
        return key in self.indexes

    def get(self, row: Sequence[CellValue], key: str, default: Any = None) -> CellValue:
        """The raw cell of ``key`` in ``row``; ``default`` if the column is absent or the row short."""
        index = self.indexes.get(key)
        if index is None or index >= len(row):
            return default
        return row[index]

    def extract(self, row: Sequence[CellValue]) -> dict[str, CellValue]:
        """{key: raw cell} for every matched column (None past the end of a short row)."""
        size = len(row)
        return {key: (row[index] if index < size else None) for key, index in self.indexes.items()}

    def column_letter(self, key: str) -> str:
        """Spreadsheet column letter of ``key`` ("C"), for messages that point at a cell."""
        return column_letter(self.indexes[key] + self.column_offset)


def _header_text(value: CellValue) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).split())


def _spec_lookup(columns: Sequence[ColumnSpec]) -> dict[str, ColumnSpec]:
    lookup: dict[str, ColumnSpec] = {}
    for spec in columns:
        for name in spec.names():
            normalized = normalize_header(name)
            if not normalized:
                continue
            other = lookup.setdefault(normalized, spec)
            if other.key != spec.key:
                raise ValueError(f"Header name {name!r} is claimed by both {other.key!r} and {spec.key!r}")
    return lookup


def match_headers(
    header_row: Sequence[CellValue], columns: Sequence[ColumnSpec], *, column_offset: int = 0
) -> HeaderMap:
    """Map each ColumnSpec to its position in ``header_row``.

    Extra columns are ignored (listed in ``unmatched``). A column that appears
    twice, or any missing required column, raises SpreadsheetError; all missing
    required columns are named in one message.
    """
    lookup = _spec_lookup(columns)
    indexes: dict[str, int] = {}
    found: dict[str, str] = {}
    unmatched: list[str] = []
    for index, cell in enumerate(header_row):
        text = _header_text(cell)
        if not text:
            continue
        spec = lookup.get(normalize_header(text))
        if spec is None:
            unmatched.append(text)
            continue
        if spec.key in indexes:
            letters = [column_letter(indexes[spec.key] + column_offset), column_letter(index + column_offset)]
            raise SpreadsheetError(
                _(
                    'The column "%(label)s" appears more than once (columns %(letters)s). '
                    "Delete or rename the extra column."
                ),
                code="duplicate_column",
                params={"label": spec.label, "letters": ", ".join(letters)},
            )
        indexes[spec.key] = index
        found[spec.key] = text
    missing = [str(spec.label) for spec in columns if spec.required and spec.key not in indexes]
    if missing:
        present = [text for text in (_header_text(cell) for cell in header_row) if text]
        shown = ", ".join(present[:25]) + (", …" if len(present) > 25 else "")
        raise SpreadsheetError(
            ngettext_lazy(
                "Required column missing: %(columns)s. Columns found in the file: %(found)s. "
                "Add the column or rename its header, or use the template.",
                "Required columns missing: %(columns)s. Columns found in the file: %(found)s. "
                "Add the columns or rename their headers, or use the template.",
                "count",
            ),
            code="missing_columns",
            params={"count": len(missing), "columns": ", ".join(missing), "found": shown or "-"},
        )
    return HeaderMap(indexes=indexes, found=found, unmatched=tuple(unmatched), column_offset=column_offset)


def _count_matches(row: Sequence[CellValue], lookup: Mapping[str, ColumnSpec]) -> int:
    keys = {lookup[n].key for n in (normalize_header(_header_text(c)) for c in row) if n in lookup}
    return len(keys)


# =============================================================================
# Reading
# =============================================================================


class SheetRow(NamedTuple):
    number: int  # 1-based row number as the spreadsheet shows it
    values: list[CellValue]


def _is_blank(values: Sequence[CellValue]) -> bool:
    for value in values:
        if value is None or value == "":
            continue
        if type(value) is str and not value.strip():
            continue
        return False
    return True


_NUMBERING_CELL_RE = re.compile(r"\(?(\d{1,3})\)?")


def _is_numbering_row(values: Sequence[CellValue]) -> bool:
    """A row of column numbers "1 2 3 ..." or "(1) (2) ..." under the header, as on KPU forms."""
    expected = 1
    for value in values:
        if value is None or value == "":
            continue
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if value != expected:
                return False
        else:
            match = _NUMBERING_CELL_RE.fullmatch(str(value).strip())
            if not match or int(match.group(1)) != expected:
                return False
        expected += 1
    return expected > 3  # at least three numbered columns


class TableReader:
    """Rows of one table (a worksheet or a CSV file), after its header.

    Iterating yields :class:`SheetRow` for each non-blank data row, lazily.
    ``header`` is the header row as text, ``header_row`` its 1-based number.
    Cell values are raw ('' or None for empty cells); CSV rows are padded with
    '' to the header width. Reading errors are SpreadsheetError, also while
    iterating.
    """

    def __init__(
        self,
        *,
        filename: str,
        file_format: str,
        rows: Iterator[SheetRow],
        columns: Sequence[ColumnSpec] | None = None,
        sheet_name: str | None = None,
        column_offset: int = 0,
        last_row: int | None = None,
        encoding: str | None = None,
        delimiter: str | None = None,
        pad_rows: bool = False,
    ) -> None:
        self.filename = filename
        self.file_format = file_format
        self.sheet_name = sheet_name
        self.column_offset = column_offset
        self.encoding = encoding
        self.delimiter = delimiter
        self._pad_rows = pad_rows
        self._rows = _guarded(rows, filename)
        header, pending = self._find_header(columns)
        self.header_row = header.number
        self.header: list[str] = [_header_text(value) for value in header.values]
        if not pending:
            pending = list(itertools.islice(self._rows, 1))
        if pending and _is_numbering_row(pending[0].values):
            pending.pop(0)
        self._pending = pending
        # Upper bound of the data rows, for progress bars (blank rows included).
        self.total_rows: int | None = None if last_row is None else max(0, last_row - self.header_row)
        self._consumed = False

    def _find_header(self, columns: Sequence[ColumnSpec] | None) -> tuple[SheetRow, list[SheetRow]]:
        candidates: list[SheetRow] = []
        for row in self._rows:
            candidates.append(row)
            if columns is None or len(candidates) >= HEADER_SCAN_ROWS:
                break
        if not candidates:
            where = self.sheet_name or self.filename
            raise SpreadsheetError(
                _(
                    'No data found in "%(where)s". Put the column headers in the first row '
                    "and one person per row below them."
                ),
                code="no_data",
                params={"where": where},
            )
        best = 0
        if columns:
            lookup = _spec_lookup(columns)
            scores = [_count_matches(row.values, lookup) for row in candidates]
            best = max(range(len(scores)), key=lambda i: (scores[i], -i))
        return candidates[best], candidates[best + 1 :]

    def __iter__(self) -> Iterator[SheetRow]:
        if self._consumed:
            raise RuntimeError("A TableReader can be iterated only once")
        self._consumed = True
        width = len(self.header)
        pad = self._pad_rows
        for row in self._chain():
            if pad and len(row.values) < width:
                row.values.extend([""] * (width - len(row.values)))
            yield row

    def _chain(self) -> Iterator[SheetRow]:
        pending, self._pending = self._pending, []
        yield from pending
        yield from self._rows

    def match_headers(self, columns: Sequence[ColumnSpec]) -> HeaderMap:
        return match_headers(self.header, columns, column_offset=self.column_offset)

    def close(self) -> None:
        self._pending = []
        self._rows.close()

    def __enter__(self) -> TableReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _guarded(rows: Iterator[SheetRow], filename: str) -> Iterator[SheetRow]:
    """Re-raise anything but SpreadsheetError from the row source as SpreadsheetError."""
    try:
        yield from rows
    except SpreadsheetError:
        raise
    except BaseException as exc:
        if _is_fatal(exc):
            raise
        raise _unreadable(filename) from exc


def read_rows(
    path_or_file: str | os.PathLike[str] | IO[bytes] | bytes,
    filename: str,
    *,
    columns: Sequence[ColumnSpec] | None = None,
    sheet_name: str | None = None,
) -> TableReader:
    """Open an uploaded .xlsx or .csv file and position it after its header row.

    ``path_or_file`` is a path, a binary file object (a Django UploadedFile)
    or bytes; ``filename`` (the name the user gave the file) decides the format.
    ``columns``, when given, lets the header sit below a title: the first of
    the first HEADER_SCAN_ROWS non-blank rows that names the most known
    columns is the header. Without it the first non-blank row is the header.
    For .xlsx, ``sheet_name`` picks a sheet; otherwise a sheet named like
    "Data"/"WBP", else the first visible worksheet.
    Raises SpreadsheetError for anything the user has to fix.
    """
    extension = os.path.splitext(filename or "")[1].lower()
    if isinstance(path_or_file, (bytes, bytearray, memoryview)):
        path_or_file = io.BytesIO(path_or_file)
    if extension == ".xls":
        raise SpreadsheetError(
            _(
                "Old Excel 97-2003 files (.xls) are not supported. Open the file in Excel, "
                "choose Save As, pick Excel Workbook (.xlsx), and upload that file."
            ),
            code="xls_unsupported",
        )
    if extension not in SUPPORTED_EXTENSIONS:
        raise SpreadsheetError(
            _(
                'Files of type "%(extension)s" cannot be imported. Upload an Excel workbook (.xlsx) '
                "or a CSV file (.csv)."
            ),
            code="unsupported_extension",
            params={"extension": extension or filename},
        )
    try:
        if extension == ".csv":
            return _open_csv(path_or_file, filename, columns)
        return _open_xlsx(path_or_file, filename, columns, sheet_name)
    except SpreadsheetError:
        raise
    except BaseException as exc:
        if _is_fatal(exc):
            raise
        raise _unreadable(filename) from exc


def _empty_file() -> SpreadsheetError:
    return SpreadsheetError(
        _("The file is empty. Choose the file again; it may not have been saved."), code="empty"
    )


def _too_large(limit: int) -> SpreadsheetError:
    return SpreadsheetError(
        _("The file is too large to import (more than %(limit)d MB). Split it into several files."),
        code="too_large",
        params={"limit": limit // _MB},
    )


def _read_head(source: str | os.PathLike[str] | IO[bytes], size: int) -> bytes:
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as handle:
            return handle.read(size)
    head = source.read(size)
    source.seek(0)
    return head if isinstance(head, bytes) else bytes(head or b"")


def _file_size(source: str | os.PathLike[str] | IO[bytes]) -> int:
    if isinstance(source, (str, os.PathLike)):
        return os.path.getsize(source)
    size = source.seek(0, io.SEEK_END)
    source.seek(0)
    return size


def _seekable(fileobj: IO[bytes]) -> IO[bytes]:
    """Rewind an upload; copy a non-seekable stream into memory (size-capped)."""
    try:
        if fileobj.seekable():
            fileobj.seek(0)
            return fileobj
    except (AttributeError, OSError, ValueError):
        pass
    data = fileobj.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise _too_large(MAX_FILE_BYTES)
    return io.BytesIO(data)


# --- xlsx ---------------------------------------------------------------------


def _open_xlsx(
    path_or_file: str | os.PathLike[str] | IO[bytes],
    filename: str,
    columns: Sequence[ColumnSpec] | None,
    sheet_name: str | None,
) -> TableReader:
    from python_calamine import CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

    source = path_or_file if isinstance(path_or_file, (str, os.PathLike)) else _seekable(path_or_file)
    size = _file_size(source)
    if size == 0:
        raise _empty_file()
    if size > MAX_FILE_BYTES:
        raise _too_large(MAX_FILE_BYTES)
    head = _read_head(source, 8)
    if head.startswith(_OLE_MAGIC):
        raise SpreadsheetError(
            _(
                '"%(filename)s" is password-protected or is an old .xls file. Remove the password '
                "(File > Info > Protect Workbook), save it as Excel Workbook (.xlsx) and upload it again."
            ),
            code="encrypted_or_xls",
            params={"filename": filename},
        )
    if not head.startswith(_ZIP_MAGIC):
        raise _not_a_workbook(filename)
    _check_xlsx_zip(source, filename)
    if isinstance(source, (str, os.PathLike)):
        workbook = CalamineWorkbook.from_path(source)
    else:
        source.seek(0)
        workbook = CalamineWorkbook.from_filelike(source)
    with workbook:
        sheets = [
            meta.name
            for meta in workbook.sheets_metadata
            if meta.typ == SheetTypeEnum.WorkSheet and meta.visible == SheetVisibleEnum.Visible
        ] or list(workbook.sheet_names)
        if not sheets:
            raise _no_sheet()
        chosen = _choose_sheet(sheets, sheet_name)
        sheet = workbook.get_sheet_by_name(chosen)
    start, end = sheet.start, sheet.end
    if start is None or end is None:
        raise SpreadsheetError(
            _(
                'No data found in "%(where)s". Put the column headers in the first row '
                "and one person per row below them."
            ),
            code="no_data",
            params={"where": chosen},
        )
    return TableReader(
        filename=filename,
        file_format="xlsx",
        rows=_xlsx_rows(sheet),
        columns=columns,
        sheet_name=chosen,
        # calamine drops empty leading columns, but keeps empty leading rows.
        column_offset=start[1],
        last_row=end[0] + 1,
    )


def _xlsx_rows(sheet: Any) -> Iterator[SheetRow]:
    # python-calamine's iter_rows() yields padding rows for the empty area
    # above the data, so enumerating from 1 gives the spreadsheet row number
    # (pinned by test_header_below_title_keeps_row_numbers).
    for number, values in enumerate(sheet.iter_rows(), start=1):
        if not _is_blank(values):
            yield SheetRow(number, values)


def _choose_sheet(sheets: Sequence[str], requested: str | None) -> str:
    if requested is not None:
        wanted = normalize_key(requested)
        for name in sheets:
            if normalize_key(name) == wanted:
                return name
        raise SpreadsheetError(
            _('The workbook has no sheet named "%(sheet)s". Sheets found: %(sheets)s.'),
            code="sheet_not_found",
            params={"sheet": requested, "sheets": ", ".join(sheets)},
        )
    for preferred in PREFERRED_SHEET_NAMES:
        for name in sheets:
            if normalize_key(name) == preferred:
                return name
    return sheets[0]


def _no_sheet() -> SpreadsheetError:
    return SpreadsheetError(
        _("The workbook has no worksheet. Put the data on the first sheet, with the headers in row 1."),
        code="no_sheet",
    )


def _not_a_workbook(filename: str) -> SpreadsheetError:
    return SpreadsheetError(
        _(
            '"%(filename)s" is not a valid Excel workbook: it is damaged, or another kind of file '
            "was renamed to .xlsx. Open it in Excel and save it as Excel Workbook (.xlsx), or upload a CSV file."
        ),
        code="not_a_workbook",
        params={"filename": filename},
    )


def _unsafe_workbook() -> SpreadsheetError:
    return SpreadsheetError(
        _(
            "The workbook was not opened because it unpacks to far more data than its size, "
            "which is a sign of a damaged or malicious file. Save it again from Excel, or export it as CSV."
        ),
        code="zip_bomb",
    )


def _too_large_unpacked() -> SpreadsheetError:
    return SpreadsheetError(
        _(
            "The workbook is too large to import: it unpacks to more than %(limit)d MB. "
            "Split it into several files."
        ),
        code="too_large_unpacked",
        params={"limit": MAX_UNCOMPRESSED_BYTES // _MB},
    )


def _check_xlsx_zip(source: str | os.PathLike[str] | IO[bytes], filename: str) -> None:
    """Refuse zip bombs and non-xlsx zips before calamine sees the file.

    The declared sizes are checked first (cheap), then every member is
    inflated once and counted, because the sizes in a zip header can lie;
    Python's zipfile stops at the declared size and then fails the CRC check.
    """
    try:
        with zipfile.ZipFile(source) as archive:
            members = archive.infolist()
            if len(members) > MAX_ZIP_MEMBERS:
                raise _unsafe_workbook()
            names = {member.filename for member in members}
            if "xl/workbook.xml" not in names:
                raise SpreadsheetError(
                    _(
                        '"%(filename)s" is not an Excel .xlsx workbook (it may be a Word, .xlsb or '
                        "OpenDocument file). Open it in Excel and save it as Excel Workbook (.xlsx)."
                    ),
                    code="not_xlsx",
                    params={"filename": filename},
                )
            if sum(member.file_size for member in members) > MAX_UNCOMPRESSED_BYTES:
                raise _too_large_unpacked()
            for member in members:
                if (
                    member.file_size > RATIO_CHECK_MIN_BYTES
                    and member.file_size > MAX_COMPRESSION_RATIO * max(member.compress_size, 1)
                ):
                    raise _unsafe_workbook()
            total = 0
            for member in members:
                if member.is_dir():
                    continue
                with archive.open(member) as stream:
                    while chunk := stream.read(_MB):
                        total += len(chunk)
                        if total > MAX_UNCOMPRESSED_BYTES:
                            raise _too_large_unpacked()
    except SpreadsheetError:
        raise
    except (
        zipfile.BadZipFile,
        zlib.error,
        EOFError,
        OSError,
        ValueError,
        RuntimeError,
        NotImplementedError,
    ) as exc:
        # RuntimeError: an encrypted member; NotImplementedError: unknown compression.
        raise _not_a_workbook(filename) from exc
    finally:
        if not isinstance(source, (str, os.PathLike)):
            source.seek(0)


# --- csv ----------------------------------------------------------------------

_CSV_DELIMITERS = (",", ";", "\t")
_CONTROL_CHARS_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SEP_LINE_RE = re.compile(r'"?sep=(.)"?\s*')


def _read_bytes(path_or_file: str | os.PathLike[str] | IO[bytes]) -> bytes:
    if isinstance(path_or_file, (str, os.PathLike)):
        if os.path.getsize(path_or_file) > MAX_FILE_BYTES:
            raise _too_large(MAX_FILE_BYTES)
        with open(path_or_file, "rb") as handle:
            return handle.read()
    try:
        if path_or_file.seekable():
            path_or_file.seek(0)
    except (AttributeError, OSError, ValueError):
        pass
    data = path_or_file.read(MAX_FILE_BYTES + 1)
    if isinstance(data, str):  # a text stream was passed
        data = data.encode("utf-8")
    if len(data) > MAX_FILE_BYTES:
        raise _too_large(MAX_FILE_BYTES)
    return bytes(data)


def _decode(data: bytes, filename: str) -> tuple[str, str]:
    if data.startswith(codecs.BOM_UTF8):
        candidates: tuple[str, ...] = ("utf-8-sig",)
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ("utf-16",)  # Excel's "Unicode Text"
    else:
        candidates = ("utf-8", "cp1252", "latin-1")
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        break
    else:
        raise _not_text(filename)
    # Binary data decodes as latin-1 too; real CSV has next to no control characters.
    controls = len(_CONTROL_CHARS_RE.findall(text, 0, 100_000)) if "\x00" not in text else len(text)
    if controls > max(2, min(len(text), 100_000) // 100):
        raise _not_text(filename)
    return text, encoding


def _not_text(filename: str) -> SpreadsheetError:
    return SpreadsheetError(
        _(
            '"%(filename)s" is not a text CSV file. In Excel choose Save As and pick '
            '"CSV UTF-8 (Comma delimited)", or upload the .xlsx workbook instead.'
        ),
        code="not_text",
        params={"filename": filename},
    )


def _detect_delimiter(text: str) -> str:
    """The delimiter that splits the first lines into the most rows of equal width (',' on a tie)."""
    lines = text[:65536].splitlines()[:50]
    best, best_score = ",", (0, 0)
    for delimiter in _CSV_DELIMITERS:
        widths: dict[int, int] = {}
        try:
            for row in csv.reader(lines, delimiter=delimiter):
                if len(row) > 1:
                    widths[len(row)] = widths.get(len(row), 0) + 1
        except csv.Error:
            continue
        if not widths:
            continue
        width, count = max(widths.items(), key=lambda item: (item[1], item[0]))
        if (count, width) > best_score:
            best, best_score = delimiter, (count, width)
    return best


def _open_csv(
    path_or_file: str | os.PathLike[str] | IO[bytes],
    filename: str,
    columns: Sequence[ColumnSpec] | None,
) -> TableReader:
    data = _read_bytes(path_or_file)
    if not data.strip(b" \t\r\n\x00" + codecs.BOM_UTF8):
        raise _empty_file()
    if data.startswith(_ZIP_MAGIC) or data.startswith(_OLE_MAGIC):
        raise SpreadsheetError(
            _(
                '"%(filename)s" is an Excel workbook, not a CSV file. Upload it with the .xlsx '
                "extension, or save it from Excel as CSV."
            ),
            code="workbook_named_csv",
            params={"filename": filename},
        )
    text, encoding = _decode(data, filename)
    del data
    first_number = 1
    sep_line = _SEP_LINE_RE.match(text[:12])
    if sep_line and "\n" in text[: sep_line.end() + 2]:
        # Excel's "sep=;" hint line: Excel hides it, so row numbers start after it.
        delimiter = sep_line.group(1)
        text = text[text.index("\n") + 1 :]
    else:
        delimiter = _detect_delimiter(text)
    return TableReader(
        filename=filename,
        file_format="csv",
        rows=_csv_rows(text, delimiter, first_number),
        columns=columns,
        last_row=text.count("\n") + 1,
        encoding=encoding,
        delimiter=delimiter,
        pad_rows=True,
    )


def _csv_rows(text: str, delimiter: str, first_number: int) -> Iterator[SheetRow]:
    # strict: an unclosed quotation mark is an error instead of silently
    # swallowing every row after it into one cell.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    number = first_number - 1
    while True:
        number += 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise SpreadsheetError(
                _(
                    "Row %(row)d of the CSV file cannot be read: a quotation mark is not closed or a cell "
                    "is too long. Check that row, or save the file again from Excel."
                ),
                code="csv_malformed",
                params={"row": number},
            ) from exc
        if values and not _is_blank(values):
            yield SheetRow(number, values)


# =============================================================================
# Cell parsers
# =============================================================================
#
# Each parser takes one raw cell and returns a clean value, None for an empty
# cell (parse_text returns ""), or raises CellError. Already-clean strings
# take a fast path; regexes are compiled once.


def _is_empty(value: CellValue) -> bool:
    return value is None or value == "" or (type(value) is str and not value.strip())


def _show(value: CellValue, limit: int = 40) -> str:
    text = str(value).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _is_number(value: CellValue) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _clean_str(value: str) -> str:
    """Strip whitespace (NBSP too) and the apostrophe Excel users type to force text."""
    text = value.strip()
    if text[:1] in ("'", "\u2018", "\u2019"):
        text = text[1:].strip()
    return text


# --- NIK / NKK ------------------------------------------------------------------

_SCIENTIFIC_RE = re.compile(r"[+-]?\d+(?:[.,]\d*)?[eE][+-]?\d+")
_FLOAT_TEXT_RE = re.compile(r"\d{10,}[.,]0+")
_ID_SEPARATORS_RE = re.compile(r"[\s.\-_]+")


def _numeric_id_error(column: str, shown: str) -> CellError:
    return CellError(
        "nik_numeric",
        _(
            "%(column)s is stored as a number (%(shown)s). Excel keeps only 15 digits, so the last "
            "digit may already be lost. Format the %(column)s column as Text and type the number again."
        ),
        {"column": column, "shown": shown},
    )


def _parse_id16(value: CellValue, column: str) -> str | None:
    if type(value) is str:
        if len(value) == 16 and value.isascii() and value.isdigit():
            return value  # fast path: already clean
        text = _clean_str(value)
        if not text:
            return None
    elif value is None:
        return None
    elif _is_number(value):
        # Excel stores every number as a double with 15 significant digits, so
        # no 16-digit NIK/NKK survives being a number: reject all numeric
        # cells, whatever their digit count, and ask for a Text column.
        raise _numeric_id_error(column, f"{float(value):.5E}")
    else:
        text = _clean_str(str(value))
    if _SCIENTIFIC_RE.fullmatch(text) or _FLOAT_TEXT_RE.fullmatch(text):
        raise _numeric_id_error(column, text)
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    digits = _ID_SEPARATORS_RE.sub("", text)
    if not (digits.isascii() and digits.isdigit()):
        raise CellError(
            "nik_characters",
            _('%(column)s may contain only digits, but "%(value)s" has other characters. Remove them.'),
            {"column": column, "value": _show(text)},
        )
    if len(digits) != 16:
        raise CellError(
            "nik_length",
            _("%(column)s must have 16 digits; this one has %(count)d. Check it against the KTP or KK."),
            {"column": column, "count": len(digits)},
        )
    return digits


def parse_nik(value: CellValue, *, column: str = "NIK") -> str | None:
    """16 digits as text; spaces, dots, dashes and a leading apostrophe are dropped.

    Numeric cells (and text such as "3.31601E+15") are refused: see _parse_id16.
    Plausibility (region, birth date, junk such as 3333333333333333) is checked
    elsewhere (inmates/nik.py). Empty -> None.
    """
    return _parse_id16(value, column)


def parse_nkk(value: CellValue, *, column: str = "NKK") -> str | None:
    """Like parse_nik, for the 16-digit family card number."""
    return _parse_id16(value, column)


# --- dates --------------------------------------------------------------------

_TIME_SUFFIX = r"(?:[ T]\d{1,2}[:.]\d{2}(?:[:.]\d{2}(?:\.\d+)?)?)?"
_DMY_RE = re.compile(r"(\d{1,2})([-/.])(\d{1,2})\2(\d{4})" + _TIME_SUFFIX)
_YMD_RE = re.compile(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})" + _TIME_SUFFIX)
_DMY_SHORT_YEAR_RE = re.compile(r"\d{1,2}([-/.])\d{1,2}\1(\d{2})")
_DAY_MONTH_NAME_RE = re.compile(r"(\d{1,2})[\s\-/.,]*([^\W\d_]+)\.?[\s\-/.,]*(\d+)")
_MONTH_NAME_DAY_RE = re.compile(r"([^\W\d_]+)\.?[\s\-]+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d+)")
_WEEKDAY_PREFIX_RE = re.compile(r"^[^\W\d_]+,\s*(?=\d)")

MONTHS: dict[str, int] = {}
for _number, _names in enumerate(
    (
        "januari jan january",
        "februari feb pebruari peb february",
        "maret mar mrt march",
        "april apr",
        "mei may",
        "juni jun june",
        "juli jul july",
        "agustus agu agt ags agst agus august aug",
        "september sep sept",
        "oktober okt october oct",
        "november nov nop nopember",
        "desember des december dec",
    ),
    start=1,
):
    for _name in _names.split():
        MONTHS[_name] = _number
del _number, _names, _name

_EXCEL_EPOCH = datetime.date(1899, 12, 30)
_MAX_EXCEL_SERIAL = 2958465  # 31-12-9999


def _date_format_error(value: CellValue) -> CellError:
    return CellError(
        "date_format",
        _(
            '"%(value)s" is not a date. Use a date cell, or write it as DD-MM-YYYY (17-08-1985), '
            "DD/MM/YYYY, YYYY-MM-DD or with the month in words (17 Agustus 1985)."
        ),
        {"value": _show(value)},
    )


def _two_digit_year_error(value: CellValue) -> CellError:
    return CellError(
        "date_two_digit_year",
        _('The year in "%(value)s" has only 2 digits. Write the full year, e.g. 17-08-1985.'),
        {"value": _show(value)},
    )


def _make_date(
    year: int, month: int, day: int, raw: CellValue, min_year: int, max_year: int
) -> datetime.date:
    try:
        result = datetime.date(year, month, day)
    except ValueError:
        raise CellError(
            "date_invalid",
            _(
                '"%(value)s" is not a real calendar date. Dates are read day first (DD-MM-YYYY): '
                "check the day and the month."
            ),
            {"value": _show(raw)},
        ) from None
    return _check_year(result, min_year, max_year)


def _check_year(result: datetime.date, min_year: int, max_year: int) -> datetime.date:
    if not min_year <= result.year <= max_year:
        raise CellError(
            "date_range",
            _("The year %(year)d is outside %(min)d-%(max)d. Check the date."),
            {"year": result.year, "min": min_year, "max": max_year},
        )
    return result


def _from_excel_serial(value: float, min_year: int, max_year: int) -> datetime.date:
    serial = int(value)
    if serial == value and 1900 <= serial <= 2100:
        raise CellError(
            "date_year_only",
            _("%(value)s looks like a year, not a date. Enter the full date, e.g. 17-08-1985."),
            {"value": serial},
        )
    if not 1 <= serial <= _MAX_EXCEL_SERIAL or serial == 60:  # 60 is Excel's 29-02-1900
        raise _date_format_error(value)
    # Excel counts a non-existent 29-02-1900, so serials before it are one day off.
    epoch = _EXCEL_EPOCH if serial > 60 else _EXCEL_EPOCH + datetime.timedelta(days=1)
    return _check_year(epoch + datetime.timedelta(days=serial), min_year, max_year)


def parse_date(value: CellValue, *, min_year: int = 1900, max_year: int = 2100) -> datetime.date | None:
    """A date from a date cell, an Excel serial number, or text.

    Text forms: DD-MM-YYYY, DD/MM/YYYY, DD.MM.YYYY (always day first),
    YYYY-MM-DD, and the month in Indonesian or English words or abbreviations
    ("17 Agustus 1985", "17 Agt 1985", "17-Agu-1985", "August 17, 1985").
    A time part after the date is ignored. Two-digit years are refused.
    Empty -> None.
    """
    if type(value) is str:
        match = _DMY_RE.fullmatch(value)  # fast path: the common clean form
        if match:
            return _make_date(int(match[4]), int(match[3]), int(match[1]), value, min_year, max_year)
        text = _clean_str(value)
        if not text:
            return None
        return _parse_date_text(text, value, min_year, max_year)
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        return _check_year(value.date(), min_year, max_year)
    if isinstance(value, datetime.date):
        return _check_year(value, min_year, max_year)
    if _is_number(value):
        if value != value or value in (float("inf"), float("-inf")):
            raise _date_format_error(value)
        return _from_excel_serial(value, min_year, max_year)
    raise _date_format_error(value)


def _parse_date_text(text: str, raw: CellValue, min_year: int, max_year: int) -> datetime.date:
    text = " ".join(text.split())
    match = _DMY_RE.fullmatch(text)
    if match:
        return _make_date(int(match[4]), int(match[3]), int(match[1]), raw, min_year, max_year)
    match = _YMD_RE.fullmatch(text)
    if match:
        return _make_date(int(match[1]), int(match[3]), int(match[4]), raw, min_year, max_year)
    if _DMY_SHORT_YEAR_RE.fullmatch(text):
        raise _two_digit_year_error(raw)
    text = _WEEKDAY_PREFIX_RE.sub("", text, count=1)
    match = _DAY_MONTH_NAME_RE.fullmatch(text)
    if match:
        day, month_name, year = match[1], match[2], match[3]
    else:
        match = _MONTH_NAME_DAY_RE.fullmatch(text)
        if not match:
            raise _date_format_error(raw)
        month_name, day, year = match[1], match[2], match[3]
    month = MONTHS.get(normalize_key(month_name))
    if month is None:
        raise _date_format_error(raw)
    if len(year) == 2:
        raise _two_digit_year_error(raw)
    if len(year) != 4:
        raise _date_format_error(raw)
    return _make_date(int(year), month, int(day), raw, min_year, max_year)


# --- choices --------------------------------------------------------------------


def build_choices(options: Mapping[str, Iterable[str]]) -> dict[str, str]:
    """{value: synonyms} -> {normalized synonym: value}; each value also matches itself."""
    result: dict[str, str] = {}
    for value, synonyms in options.items():
        for name in (value, *synonyms):
            normalized = normalize_key(name)
            if normalized:
                result[normalized] = value
    return result


SEX_CHOICES = build_choices(
    {
        "L": ("L", "LK", "Laki", "Laki-laki", "Laki Laki", "Lelaki", "Pria", "M", "Male", "Man"),
        "P": ("P", "PR", "Perempuan", "Wanita", "W", "F", "Female", "Woman"),
    }
)
BOOL_CHOICES = {
    **dict.fromkeys(("ya", "y", "iya", "yes", "true", "1", "benar"), "1"),
    **dict.fromkeys(("tidak", "t", "tdk", "no", "n", "false", "0", "salah"), "0"),
}


def _choice_key(value: CellValue) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return normalize_key(value)


def parse_sex(value: CellValue) -> str | None:
    """Sex as "L" or "P", from L/P, Laki-laki, Lelaki, Pria, Perempuan, Wanita, M/F, Male/Female. Empty -> None."""
    if value == "L" or value == "P":
        return value
    if _is_empty(value):
        return None
    result = SEX_CHOICES.get(_choice_key(value))
    if result is None:
        raise CellError(
            "sex_invalid",
            _('"%(value)s" is not a sex. Write L (laki-laki) or P (perempuan).'),
            {"value": _show(value)},
        )
    return result


def parse_choice(
    value: CellValue, choices: Mapping[str, str], *, labels: Iterable[str] | None = None
) -> str | None:
    """Look ``value`` up by normalize_key() in ``choices`` ({normalized synonym: value}, see build_choices).

    ``labels`` are the values listed in the error message (default: the distinct values).
    Empty -> None.
    """
    if _is_empty(value):
        return None
    result = choices.get(_choice_key(value))
    if result is None:
        shown = list(labels) if labels is not None else list(dict.fromkeys(choices.values()))
        raise CellError(
            "choice_invalid",
            _('"%(value)s" is not an accepted value. Use one of: %(choices)s.'),
            {"value": _show(value), "choices": ", ".join(str(label) for label in shown)},
        )
    return result


def parse_bool(value: CellValue) -> bool | None:
    """Ya/Tidak, Y/T, Yes/No, 1/0, true/false (and boolean cells). Empty -> None."""
    if type(value) is bool:
        return value
    if _is_empty(value):
        return None
    result = BOOL_CHOICES.get(_choice_key(value))
    if result is None:
        raise CellError(
            "bool_invalid",
            _('"%(value)s" is not a yes/no answer. Write Ya or Tidak.'),
            {"value": _show(value)},
        )
    return result == "1"


# --- region codes -------------------------------------------------------------

_REGION_DOTTED_RE = re.compile(r"\d{2}(?:\.\d{2}(?:\.\d{2}(?:\.\d{4})?)?)?")
_REGION_SEPARATORS_RE = re.compile(r"\s*[.\-/_ ]\s*")
_REGION_SPLITS = {2: (2,), 4: (2, 2), 6: (2, 2, 2), 10: (2, 2, 2, 4)}


def _dotted(digits: str) -> str | None:
    parts = _REGION_SPLITS.get(len(digits))
    if parts is None:
        return None
    pieces, start = [], 0
    for size in parts:
        pieces.append(digits[start : start + size])
        start += size
    return ".".join(pieces)


def _region_format_error(value: CellValue) -> CellError:
    return CellError(
        "region_format",
        _(
            '"%(value)s" is not a Kemendagri region code. Write it like 33, 33.16, 33.16.01 or '
            "33.16.01.2001 (the dots may be left out)."
        ),
        {"value": _show(value)},
    )


def parse_region_code(value: CellValue) -> str | None:
    """A Kemendagri region code in dotted form ("3316012001" -> "33.16.01.2001").

    Only the shape is checked (2, 2.2, 2.2.2 or 2.2.2.4 digits), not that the
    region exists. Whole-number cells are accepted; a number with a fraction
    (Excel turned "33.10" into 33.1) is refused. Empty -> None.
    """
    if type(value) is str:
        if _REGION_DOTTED_RE.fullmatch(value):
            return value  # fast path
        text = _clean_str(value)
        if not text:
            return None
    elif value is None:
        return None
    elif _is_number(value):
        if isinstance(value, float) and not value.is_integer():
            raise CellError(
                "region_numeric",
                _(
                    "The region code is stored as a number (%(shown)s), which drops zeros after the dot. "
                    "Format the column as Text and type the code again, e.g. 33.10."
                ),
                {"shown": _show(value)},
            )
        text = str(int(value))
    else:
        raise _region_format_error(value)
    if text.isascii() and text.isdigit():
        dotted = _dotted(text)
        if dotted is not None:
            return dotted
        raise _region_format_error(value)
    text = _REGION_SEPARATORS_RE.sub(".", text)
    if text.isascii() and _REGION_DOTTED_RE.fullmatch(text):
        return text
    raise _region_format_error(value)


# --- text and numbers ------------------------------------------------------------

_WHITESPACE_RE = re.compile(r"\s+")
# Control and zero-width characters that are not whitespace (whitespace becomes one space).
_INVISIBLE_RE = re.compile(r"[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\u200b-\u200d\u2060\ufeff]")
_INT_RE = re.compile(r"[+-]?\d{1,18}")
_INT_WITH_ZERO_FRACTION_RE = re.compile(r"([+-]?\d{1,18})[.,]0+")


def _text_of(value: CellValue) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime):
        return value.strftime("%d-%m-%Y %H:%M") if value.time() else value.strftime("%d-%m-%Y")
    if isinstance(value, datetime.date):
        return value.strftime("%d-%m-%Y")
    if type(value) is bool:
        return "TRUE" if value else "FALSE"
    return str(value)


def parse_text(value: CellValue, max_length: int | None = None) -> str:
    """Trimmed text with inner whitespace (line breaks too) collapsed to one space.

    A leading apostrophe (Excel's force-text mark, also added by our exports)
    is dropped. Empty -> "" (the Django convention for text fields).
    """
    if value is None:
        return ""
    text = value if type(value) is str else _text_of(value)
    text = text.strip()
    if text and (not text.isprintable() or "  " in text):
        text = _WHITESPACE_RE.sub(" ", _INVISIBLE_RE.sub("", text)).strip()
    if text[:1] == "'":
        text = text[1:].lstrip()
    if max_length is not None and len(text) > max_length:
        raise CellError(
            "text_too_long",
            _("The text is too long: %(length)d characters, at most %(max)d are allowed. Shorten it."),
            {"length": len(text), "max": max_length},
        )
    return text


def parse_int(value: CellValue, *, min_value: int | None = None, max_value: int | None = None) -> int | None:
    """A whole number from a number cell or digits ("5", "+5", "5.0"). Empty -> None."""
    if type(value) is int:
        number = value
    elif _is_empty(value):
        return None
    elif type(value) is float and value.is_integer():
        number = int(value)
    elif type(value) is str:
        text = _clean_str(value)
        match = _INT_RE.fullmatch(text) or _INT_WITH_ZERO_FRACTION_RE.fullmatch(text)
        if not match:
            raise _int_error(value)
        number = int(match[1] if match.re is _INT_WITH_ZERO_FRACTION_RE else match[0])
    else:
        raise _int_error(value)
    if min_value is not None and number < min_value:
        raise CellError(
            "int_too_small",
            _("%(value)d is too small: the smallest allowed number is %(min)d."),
            {"value": number, "min": min_value},
        )
    if max_value is not None and number > max_value:
        raise CellError(
            "int_too_large",
            _("%(value)d is too large: the largest allowed number is %(max)d."),
            {"value": number, "max": max_value},
        )
    return number


def _int_error(value: CellValue) -> CellError:
    return CellError(
        "int_invalid",
        _('"%(value)s" is not a whole number. Write digits only, e.g. 12.'),
        {"value": _show(value)},
    )


# Type of a cell parser, for importers that keep one per column.
CellParser = Callable[[CellValue], Any]

__all__ = [
    "BOOL_CHOICES",
    "MONTHS",
    "SEX_CHOICES",
    "CellError",
    "CellParser",
    "CellValue",
    "ColumnSpec",
    "HeaderMap",
    "SheetRow",
    "SpreadsheetError",
    "TableReader",
    "build_choices",
    "column_letter",
    "match_headers",
    "normalize_header",
    "normalize_key",
    "parse_bool",
    "parse_choice",
    "parse_date",
    "parse_int",
    "parse_nik",
    "parse_nkk",
    "parse_region_code",
    "parse_sex",
    "parse_text",
    "read_rows",
]
