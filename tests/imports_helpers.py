"""Real spreadsheet files for the import/export tests, built cell by cell.

A row is a dict {header: value}; the value's Python type decides the cell
type in .xlsx (str -> text, int/float -> number, date -> date cell), the way
Excel users produce them.
"""

from __future__ import annotations

import csv
import datetime
import io
import zipfile
from pathlib import Path
from typing import Any

import xlsxwriter

from inmates.fake import make_nik

HEADERS = [
    "No. Registrasi",
    "NIK",
    "NKK",
    "Nama Lengkap",
    "Tempat Lahir",
    "Tanggal Lahir",
    "Jenis Kelamin",
    "Status Perkawinan",
    "Kewarganegaraan",
    "Alamat",
    "RT",
    "RW",
    "Kode Wilayah",
    "Status Penahanan",
    "Tanggal Masuk",
    "Perkiraan Tanggal Bebas",
    "Blok/Kamar",
]

_NAMES = ["Budi Santoso", "Slamet Riyadi", "Joko Susilo", "Agus Prasetyo", "Eko Wibowo", "Teguh Hidayat"]


def person(n: int = 1, **overrides: Any) -> dict[str, Any]:
    """A valid row: a man from Jati, Blora (33.16.01), born 1990 + n days, with a matching NIK."""
    birth_date = datetime.date(1990, 1, 1) + datetime.timedelta(days=37 * n)
    row = {
        "No. Registrasi": f"AI.{n:03d}/2023",
        "NIK": make_nik("33.16.01", birth_date, "L", n),
        "NKK": f"331601200515{n:04d}",
        "Nama Lengkap": f"{_NAMES[n % len(_NAMES)]} {n}",
        "Tempat Lahir": "Blora",
        "Tanggal Lahir": birth_date.strftime("%d-%m-%Y"),
        "Jenis Kelamin": "L",
        "Status Perkawinan": "Kawin",
        "Kewarganegaraan": "WNI",
        "Alamat": "Dk. Bangkleyan",
        "RT": "001",
        "RW": "002",
        "Kode Wilayah": "33.16.01.2001",
        "Status Penahanan": "Narapidana",
        "Tanggal Masuk": "01-03-2023",
        "Perkiraan Tanggal Bebas": "01-03-2025",
        "Blok/Kamar": "A",
    }
    row.update(overrides)
    return row


def people(count: int, **overrides: Any) -> list[dict[str, Any]]:
    return [person(n, **overrides) for n in range(1, count + 1)]


def write_xlsx(path: Path, rows: list[dict[str, Any]], headers: list[str] | None = None) -> Path:
    headers = headers or HEADERS
    workbook = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
    sheet = workbook.add_worksheet("Data")
    date_format = workbook.add_format({"num_format": "dd-mm-yyyy"})
    for col, header in enumerate(headers):
        sheet.write_string(0, col, header)
    for r, row in enumerate(rows, start=1):
        for col, header in enumerate(headers):
            value = row.get(header)
            if value is None:
                continue
            if isinstance(value, datetime.date):
                sheet.write_datetime(r, col, value, date_format)
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                sheet.write_number(r, col, value)
            else:
                sheet.write_string(r, col, str(value))
    workbook.close()
    return path


def write_csv(
    path: Path,
    rows: list[dict[str, Any]],
    headers: list[str] | None = None,
    *,
    delimiter: str = ",",
    bom: bool = False,
) -> Path:
    headers = headers or HEADERS
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(headers)
    for row in rows:
        writer.writerow(["" if row.get(h) is None else str(row.get(h)) for h in headers])
    path.write_bytes(("\ufeff" if bom else "").encode("utf-8") + buffer.getvalue().encode("utf-8"))
    return path


def xlsx_bytes_text(path_or_bytes: Path | bytes) -> str:
    """Every XML part of a workbook as one string: what the file really contains."""
    source = io.BytesIO(path_or_bytes) if isinstance(path_or_bytes, bytes) else path_or_bytes
    with zipfile.ZipFile(source) as archive:
        return "".join(archive.read(name).decode("utf-8", "replace") for name in archive.namelist())


def read_xlsx(path_or_bytes: Path | bytes, sheet: str | None = None) -> list[list[Any]]:
    """The cells of a sheet as calamine reads them."""
    from python_calamine import CalamineWorkbook

    if isinstance(path_or_bytes, bytes):
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(path_or_bytes))
    else:
        workbook = CalamineWorkbook.from_path(str(path_or_bytes))
    name = sheet or workbook.sheet_names[0]
    return workbook.get_sheet_by_name(name).to_python()
