"""Exporting inmates to XLSX and CSV, with the import template's headers.

The columns and the spelling of every value are those of the import
(inmates/imports_columns.py), so a file exported with full NIKs re-imports
without a single change. NIK and NKK are masked (first 6 digits kept, the
rest ``*``) unless the user's role may see them and full values were asked
for; the file says which (a "Catatan" sheet and the page header in XLSX, a
first line in CSV). Cells a spreadsheet would run as formulas are neutralised
by voterreg.xlsx_writer. Rows stream from the database into the writer, so
memory stays flat however many rows there are.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from typing import IO, Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from inmates.imports_columns import BY_KEY, COLUMNS, FIELDS, HEADERS, TEXT_KEYS, export_unchanged
from inmates.models import Inmate, User
from voterreg.masking import mask_nik, mask_nkk
from voterreg.xlsx_writer import stream_csv, write_csv, write_xlsx

CHUNK = 2000
FORMATS = ("xlsx", "csv")
CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}
TEXT_HEADERS = [BY_KEY[key].label for key in TEXT_KEYS]
_NIK = HEADERS.index("NIK")
_NKK = HEADERS.index("NKK")


def may_export_full_nik(user: User | None) -> bool:
    """Full NIK/NKK only for roles allowed to see them (``None``: the operator's command)."""
    return user is None or bool(getattr(user, "can_see_full_nik", False))


def full_nik_for(user: User | None, *, requested: bool) -> bool:
    """Full values only when asked for *and* allowed; masked otherwise."""
    return requested and may_export_full_nik(user)


def export_rows(queryset: QuerySet[Inmate], *, full_nik: bool) -> Iterator[list[Any]]:
    """The inmates of ``queryset`` as rows of cells in the template's column order, streamed."""
    # Only the columns whose stored value differs from the written one (labels,
    # None -> "") are transformed; the rest pass through as fetched.
    transforms = [
        (position, column.export)
        for position, column in enumerate(COLUMNS)
        if position and column.export is not export_unchanged
    ]
    values = queryset.values_list("facility__code", *FIELDS).iterator(chunk_size=CHUNK)
    for record in values:
        row = list(record)
        for position, export in transforms:
            row[position] = export(row[position])
        if not full_nik:
            row[_NIK] = mask_nik(row[_NIK])
            row[_NKK] = mask_nkk(row[_NKK])
        yield row


def export_note(*, full_nik: bool, user: User | None = None) -> str:
    """The sentence that tells a reader of the file whether NIK/NKK are masked."""
    if full_nik:
        note = gettext("NIK and NKK are shown in full. Personal data: do not publish or pass this file on.")
    else:
        note = gettext(
            "NIK and NKK are masked: only the first 6 digits are shown (the rest is *). "
            "This file cannot be used to re-import NIK or NKK."
        )
    who = user.get_username() if user is not None else gettext("the command line")
    stamp = timezone.localtime().strftime("%d-%m-%Y %H:%M")
    return note + " " + gettext("Exported by %(user)s on %(when)s.") % {"user": who, "when": stamp}


def export_filename(*, scope: str, file_format: str, full_nik: bool) -> str:
    suffix = "nik-lengkap" if full_nik else "nik-disamarkan"
    return f"wbp_{scope}_{timezone.localdate():%Y%m%d}_{suffix}.{file_format}"


def inmates_export(
    *,
    queryset: QuerySet[Inmate],
    target: str | os.PathLike[str] | IO[Any],
    file_format: str,
    full_nik: bool,
    user: User | None = None,
) -> int:
    """Write the inmates of ``queryset`` (already scoped to the user) to ``target``; return the row count."""
    if file_format not in FORMATS:
        raise ValueError(f"unknown export format {file_format!r}")
    note = export_note(full_nik=full_nik, user=user)
    rows = export_rows(queryset, full_nik=full_nik)
    if file_format == "xlsx":
        return write_xlsx(target, HEADERS, rows, sheet_name="Data", text_columns=TEXT_HEADERS, note=note)
    # The note goes first; the importer finds the header row below it.
    return write_csv(target, [note], itertools.chain([HEADERS], rows)) - 1


def stream_inmates_csv(
    queryset: QuerySet[Inmate], *, full_nik: bool, user: User | None = None
) -> Iterator[str]:
    """CSV text in chunks for a StreamingHttpResponse, note line first."""
    note = export_note(full_nik=full_nik, user=user)
    return stream_csv([note], itertools.chain([HEADERS], export_rows(queryset, full_nik=full_nik)))
