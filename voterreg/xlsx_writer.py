"""Writing exports (.xlsx, .csv) and import templates with flat memory.

Pure module: no ORM. Rows are any iterable of sequences, consumed once, so a
queryset's ``.iterator()`` or a generator streams through: XlsxWriter runs in
``constant_memory`` mode (each row goes to a temporary file as soon as the
next one starts) and CSV is produced line by line.

Every string that a spreadsheet program would run as a formula is
neutralised with a leading apostrophe (OWASP "CSV injection"); the importer
(voterreg.spreadsheets.parse_text / parse_nik) drops that apostrophe again, so
an export can be re-imported as it is.
"""

from __future__ import annotations

import csv
import datetime
import decimal
import io
import math
import os
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any

import xlsxwriter
from django.utils import timezone
from django.utils.translation import gettext, pgettext

from voterreg.spreadsheets import ColumnSpec

# Characters that make Excel, LibreOffice or Google Sheets treat a cell as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
DATE_FORMAT = "dd-mm-yyyy"
DATETIME_FORMAT = "dd-mm-yyyy hh:mm"
CSV_DATE_FORMAT = "%d-%m-%Y"
CSV_DATETIME_FORMAT = "%d-%m-%Y %H:%M"
CSV_TRUE, CSV_FALSE = "Ya", "Tidak"
TEXT_FORMAT = "@"
# Rows covered by the data validation and formats of a template.
TEMPLATE_ROWS = 100_000
# Excel refuses a validation list whose comma-joined source is longer.
_MAX_INLINE_LIST = 255
_EXCEL_MAX_STRING = 32767
_INVALID_SHEET_CHARS = str.maketrans({c: " " for c in "[]:*?/\\"})


def neutralise(value: Any) -> Any:
    """Prefix an apostrophe to a string that a spreadsheet would run as a formula.

    "=HYPERLINK(...)" -> "'=HYPERLINK(...)"; "+62812..." -> "'+62812...". A
    lone "-" (a common "no value" mark) is left alone: no program evaluates it.
    Anything that is not a string is returned unchanged.
    """
    if isinstance(value, str) and len(value) > 1 and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


@dataclass(frozen=True)
class Sheet:
    """An additional worksheet for write_xlsx."""

    name: str
    headers: Sequence[str]
    rows: Iterable[Sequence[Any]]
    text_columns: Collection[int | str] = ()


def _sheet_name(name: str) -> str:
    cleaned = " ".join(str(name).translate(_INVALID_SHEET_CHARS).split()).strip("'")
    return (cleaned or "Sheet")[:31]


def _text_indexes(headers: Sequence[Any], text_columns: Collection[int | str]) -> frozenset[int]:
    """Column indexes from a mix of indexes and header labels."""
    labels = {str(label): index for index, label in enumerate(headers)}
    indexes = set()
    for column in text_columns:
        if isinstance(column, int):
            indexes.add(column)
        elif str(column) in labels:
            indexes.add(labels[str(column)])
        else:
            raise ValueError(f"Text column {column!r} is not one of the headers")
    return frozenset(indexes)


def _naive_local(value: datetime.datetime) -> datetime.datetime:
    if timezone.is_aware(value):
        return timezone.make_naive(value)
    return value


class _Formats:
    def __init__(self, workbook: xlsxwriter.Workbook) -> None:
        self.header = workbook.add_format(
            {"bold": True, "bg_color": "#D9E1F2", "border": 1, "text_wrap": True, "valign": "top"}
        )
        self.required_header = workbook.add_format(
            {"bold": True, "bg_color": "#F8CBAD", "border": 1, "text_wrap": True, "valign": "top"}
        )
        self.text = workbook.add_format({"num_format": TEXT_FORMAT})
        self.date = workbook.add_format({"num_format": DATE_FORMAT})
        self.datetime = workbook.add_format({"num_format": DATETIME_FORMAT})
        self.title = workbook.add_format({"bold": True, "font_size": 13})
        self.wrap = workbook.add_format({"text_wrap": True, "valign": "top"})


def _column_width(header: Any, is_text: bool) -> int:
    width = min(max(len(str(header)) + 2, 10), 40)
    return max(width, 20) if is_text else width


def _write_table(
    worksheet: Any,
    formats: _Formats,
    headers: Sequence[Any],
    rows: Iterable[Sequence[Any]],
    text_indexes: frozenset[int],
) -> int:
    """Header in row 1, then the rows; returns the number of data rows."""
    for col, header in enumerate(headers):
        is_text = col in text_indexes
        worksheet.set_column(col, col, _column_width(header, is_text), formats.text if is_text else None)
        worksheet.write_string(0, col, str(header), formats.header)
    worksheet.freeze_panes(1, 0)
    worksheet.repeat_rows(0)

    text_fmt, date_fmt, datetime_fmt = formats.text, formats.date, formats.datetime
    write_string, write_number = worksheet.write_string, worksheet.write_number
    row_index = 0
    for row_index, row in enumerate(rows, start=1):
        for col, value in enumerate(row):
            if value is None or value == "":
                continue
            kind = type(value)
            if col in text_indexes:
                # Text columns (NIK, NKK) always hold text, whatever the value's type.
                write_string(row_index, col, csv_cell(value)[:_EXCEL_MAX_STRING], text_fmt)
            elif kind is str:
                write_string(row_index, col, neutralise(value)[:_EXCEL_MAX_STRING])
            elif kind is int or kind is float or kind is decimal.Decimal:
                if math.isfinite(value):
                    write_number(row_index, col, float(value) if kind is decimal.Decimal else value)
                else:
                    write_string(row_index, col, str(value))
            elif kind is bool:
                worksheet.write_boolean(row_index, col, value)
            elif kind is datetime.datetime:
                worksheet.write_datetime(row_index, col, _naive_local(value), datetime_fmt)
            elif kind is datetime.date:
                worksheet.write_datetime(row_index, col, value, date_fmt)
            else:
                write_string(row_index, col, neutralise(str(value))[:_EXCEL_MAX_STRING])
    if headers:
        worksheet.autofilter(0, 0, max(row_index, 1), len(headers) - 1)
    return row_index


def _print_setup(worksheet: Any, note: str | None) -> None:
    worksheet.set_landscape()
    worksheet.set_paper(9)  # A4
    worksheet.fit_to_pages(1, 0)
    if note:
        # '&' starts a header control code; Excel caps the header at 255 characters.
        worksheet.set_header("&L" + str(note).replace("&", "&&")[:200])
    worksheet.set_footer("&R&P / &N")


def write_xlsx(
    fileobj_or_path: str | os.PathLike[str] | IO[bytes],
    headers: Sequence[Any],
    rows: Iterable[Sequence[Any]],
    *,
    sheet_name: str = "Data",
    text_columns: Collection[int | str] = frozenset(),
    extra_sheets: Iterable[Sheet | tuple[str, Sequence[str], Iterable[Sequence[Any]]]] | None = None,
    note: str | None = None,
) -> int:
    """Write one table (and optional extra sheets) to an .xlsx file; return the data row count.

    ``text_columns`` (indexes or header labels, e.g. {"NIK", "NKK"}) get the
    Text format '@' and their values are written as text, so Excel never turns
    a NIK into 3.31601E+15. Dates become real date cells (DD-MM-YYYY); aware
    datetimes are converted to local time. ``note`` (e.g. "NIK disamarkan") is
    printed in the page header and written on a "Catatan" sheet.
    """
    workbook = xlsxwriter.Workbook(
        _target(fileobj_or_path),
        {"constant_memory": True, "strings_to_numbers": False, "strings_to_formulas": False},
    )
    try:
        formats = _Formats(workbook)
        worksheet = workbook.add_worksheet(_sheet_name(sheet_name))
        _print_setup(worksheet, note)
        count = _write_table(worksheet, formats, headers, rows, _text_indexes(headers, text_columns))
        for extra in extra_sheets or ():
            if not isinstance(extra, Sheet):
                extra = Sheet(*extra)
            extra_ws = workbook.add_worksheet(_sheet_name(extra.name))
            _print_setup(extra_ws, note)
            _write_table(
                extra_ws, formats, extra.headers, extra.rows, _text_indexes(extra.headers, extra.text_columns)
            )
        if note:
            note_ws = workbook.add_worksheet(_sheet_name(pgettext("spreadsheet", "Note")))
            note_ws.set_column(0, 0, 100, formats.wrap)
            note_ws.write_string(0, 0, neutralise(str(note)), formats.wrap)
    finally:
        workbook.close()
    return count


def _target(target: str | os.PathLike[str] | IO[bytes]) -> str | IO[bytes]:
    return os.fspath(target) if isinstance(target, os.PathLike) else target


# --- CSV ------------------------------------------------------------------------


class StreamingCsvBuffer:
    """A file-like object whose write() returns what it was given.

    csv.writer(StreamingCsvBuffer()).writerow(row) then returns the encoded
    line instead of storing it: the "Echo" pattern from the Django docs for
    StreamingHttpResponse.
    """

    def write(self, value: str) -> str:
        return value


def csv_cell(value: Any) -> str:
    """One value as CSV text: neutralised strings, DD-MM-YYYY dates, Ya/Tidak booleans."""
    if value is None:
        return ""
    kind = type(value)
    if kind is str:
        return neutralise(value)
    if kind is int or kind is decimal.Decimal:
        return str(value)
    if kind is float:
        return str(int(value)) if value.is_integer() else repr(value)
    if kind is bool:
        return CSV_TRUE if value else CSV_FALSE
    if kind is datetime.datetime:
        return _naive_local(value).strftime(CSV_DATETIME_FORMAT)
    if kind is datetime.date:
        return value.strftime(CSV_DATE_FORMAT)
    return neutralise(str(value))


def stream_csv(
    headers: Sequence[Any],
    rows: Iterable[Sequence[Any]],
    *,
    delimiter: str = ",",
    bom: bool = True,
    chunk_size: int = 64 * 1024,
) -> Iterator[str]:
    """Yield CSV text in chunks of about ``chunk_size`` characters, for StreamingHttpResponse.

    The first chunk starts with a UTF-8 byte order mark (when ``bom``) so
    Excel opens the file as UTF-8. Lines end in CRLF as in RFC 4180.
    """
    writer = csv.writer(StreamingCsvBuffer(), delimiter=delimiter)
    parts: list[str] = ["\ufeff" if bom else "", writer.writerow([neutralise(str(h)) for h in headers])]
    size = 0
    for row in rows:
        line = writer.writerow([csv_cell(value) for value in row])
        parts.append(line)
        size += len(line)
        if size >= chunk_size:
            yield "".join(parts)
            parts, size = [], 0
    if parts:
        yield "".join(parts)


def write_csv(
    fileobj_or_path: str | os.PathLike[str] | IO[Any],
    headers: Sequence[Any],
    rows: Iterable[Sequence[Any]],
    *,
    delimiter: str = ",",
    bom: bool = True,
) -> int:
    """Write a CSV file (UTF-8, with BOM by default) and return the data row count.

    Accepts a path, a binary file (bytes are written) or a text file opened
    with newline="".
    """
    counter = _Counter(rows)
    chunks = stream_csv(headers, counter, delimiter=delimiter, bom=bom)
    if isinstance(fileobj_or_path, (str, os.PathLike)):
        with open(fileobj_or_path, "w", encoding="utf-8", newline="") as handle:
            for chunk in chunks:
                handle.write(chunk)
    elif _is_text_stream(fileobj_or_path):
        for chunk in chunks:
            fileobj_or_path.write(chunk)
    else:
        for chunk in chunks:
            fileobj_or_path.write(chunk.encode("utf-8"))
    return counter.count


def _is_text_stream(fileobj: IO[Any]) -> bool:
    return isinstance(fileobj, io.TextIOBase) or "b" not in getattr(fileobj, "mode", "b")


class _Counter:
    def __init__(self, rows: Iterable[Sequence[Any]]) -> None:
        self._rows = rows
        self.count = 0

    def __iter__(self) -> Iterator[Sequence[Any]]:
        for row in self._rows:
            self.count += 1
            yield row


# --- Templates ------------------------------------------------------------------


def write_template(
    fileobj: str | os.PathLike[str] | IO[bytes],
    columns: Sequence[ColumnSpec],
    choices: Mapping[str, Sequence[str]],
    instructions: Sequence[str],
    text_columns: Collection[str] = (),
    *,
    date_columns: Collection[str] = (),
    exact_lengths: Mapping[str, int] | None = None,
    sheet_name: str = "Data",
) -> None:
    """An empty import workbook: a data sheet with headers, then an instructions sheet.

    Per column key: ``text_columns`` get the Text format for the whole column
    (so typed NIKs stay text), ``date_columns`` the DD-MM-YYYY format,
    ``choices`` a drop-down list (long lists live on a hidden "Pilihan"
    sheet), ``exact_lengths`` a length check (e.g. {"nik": 16}). Required
    headers are coloured and carry their help text as a comment.
    """
    exact_lengths = exact_lengths or {}
    keys = {spec.key for spec in columns}
    for name, given in (
        ("choices", choices),
        ("text_columns", text_columns),
        ("date_columns", date_columns),
        ("exact_lengths", exact_lengths),
    ):
        unknown = set(given) - keys
        if unknown:
            raise ValueError(f"{name} names unknown column keys: {sorted(unknown)}")
    workbook = xlsxwriter.Workbook(
        _target(fileobj),
        {"strings_to_numbers": False, "strings_to_formulas": False},
    )
    try:
        formats = _Formats(workbook)
        data = workbook.add_worksheet(_sheet_name(sheet_name))
        guide = workbook.add_worksheet(_sheet_name(pgettext("spreadsheet", "Instructions")))
        lists = None
        last_row = TEMPLATE_ROWS
        for col, spec in enumerate(columns):
            is_text = spec.key in text_columns
            column_format = formats.text if is_text else formats.date if spec.key in date_columns else None
            data.set_column(col, col, _column_width(spec.label, is_text), column_format)
            data.write_string(
                0, col, str(spec.label), formats.required_header if spec.required else formats.header
            )
            if spec.help_text:
                data.write_comment(0, col, str(spec.help_text), {"x_scale": 2, "y_scale": 1.5})
            values = [str(v) for v in choices.get(spec.key, ())]
            if values:
                inline = ",".join(values)
                if len(inline) <= _MAX_INLINE_LIST and not any("," in v or '"' in v for v in values):
                    source: Any = values
                else:
                    if lists is None:
                        lists = workbook.add_worksheet(_sheet_name(pgettext("spreadsheet", "Choices")))
                        lists.hide()
                    lists.write_string(0, col, str(spec.label), formats.header)
                    for row, value in enumerate(values, start=1):
                        lists.write_string(row, col, value)
                    letter = xlsxwriter.utility.xl_col_to_name(col)
                    source = f"='{lists.get_name()}'!${letter}$2:${letter}${len(values) + 1}"
                data.data_validation(
                    1,
                    col,
                    last_row,
                    col,
                    {
                        "validate": "list",
                        "source": source,
                        "error_title": gettext("Value not in the list"),
                        "error_message": gettext("Choose one of the values in the drop-down list."),
                    },
                )
            elif spec.key in exact_lengths:
                length = exact_lengths[spec.key]
                data.data_validation(
                    1,
                    col,
                    last_row,
                    col,
                    {
                        "validate": "length",
                        "criteria": "==",
                        "value": length,
                        "input_title": str(spec.label)[:32],
                        "input_message": gettext("Exactly %(length)d characters, typed as text.")
                        % {"length": length},
                        "error_title": gettext("Wrong length"),
                        "error_message": gettext("%(label)s must have exactly %(length)d characters.")
                        % {"label": spec.label, "length": length},
                    },
                )
        data.freeze_panes(1, 0)
        data.activate()
        _write_instructions(guide, formats, columns, choices, instructions)
    finally:
        workbook.close()


def _write_instructions(
    worksheet: Any,
    formats: _Formats,
    columns: Sequence[ColumnSpec],
    choices: Mapping[str, Sequence[str]],
    instructions: Sequence[str],
) -> None:
    worksheet.set_column(0, 0, 28, formats.wrap)
    worksheet.set_column(1, 1, 10, formats.wrap)
    worksheet.set_column(2, 3, 60, formats.wrap)
    worksheet.write_string(0, 0, gettext("How to fill in this workbook"), formats.title)
    row = 1
    for number, line in enumerate(instructions, start=1):
        text = f"{number}. {line}"
        worksheet.merge_range(row, 0, row, 3, neutralise(text), formats.wrap)
        # Excel does not grow merged rows to fit wrapped text: about 150 characters fit on a line.
        worksheet.set_row(row, 15 * max(1, math.ceil(len(text) / 150)))
        row += 1
    row += 1
    for col, title in enumerate(
        (
            pgettext("spreadsheet", "Column"),
            pgettext("spreadsheet", "Required"),
            pgettext("spreadsheet", "Description"),
            pgettext("spreadsheet", "Accepted values"),
        )
    ):
        worksheet.write_string(row, col, title, formats.header)
    for spec in columns:
        row += 1
        worksheet.write_string(row, 0, str(spec.label))
        worksheet.write_string(
            row, 1, pgettext("spreadsheet", "Yes") if spec.required else pgettext("spreadsheet", "No")
        )
        worksheet.write_string(row, 2, neutralise(str(spec.help_text)))
        values = [str(v) for v in choices.get(spec.key, ())]
        separator = "; " if any("," in v for v in values) else ", "
        worksheet.write_string(row, 3, neutralise(separator.join(values)))


__all__ = [
    "CSV_DATE_FORMAT",
    "DATE_FORMAT",
    "FORMULA_PREFIXES",
    "Sheet",
    "StreamingCsvBuffer",
    "csv_cell",
    "neutralise",
    "stream_csv",
    "write_csv",
    "write_template",
    "write_xlsx",
]
