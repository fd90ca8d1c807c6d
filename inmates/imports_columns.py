"""The inmate spreadsheet: its columns, how each cell is read, how each value is written.

One definition serves the import (header matching, cell parsing), the
downloadable template (headers, drop-downs, text columns) and the export
(same headers and the same value spellings, so an export re-imports
unchanged).

The headers and the values in the cells (``Kawin``, ``Narapidana``, ``Ya``)
are the file format, in Indonesian as the issue asks, and do not follow the
interface language; English synonyms are accepted on import. Help texts and
messages are translated.

Pure module: no ORM.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext_lazy as _

from voterreg.spreadsheets import (
    CellError,
    CellValue,
    ColumnSpec,
    build_choices,
    normalize_key,
    parse_bool,
    parse_choice,
    parse_date,
    parse_nik,
    parse_nkk,
    parse_region_code,
    parse_sex,
    parse_text,
)


class _Missing:
    """An empty cell in a column whose field has a default: keep what is there."""

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()

# Export spellings of the model's choices; the import accepts them and the
# synonyms after them.
MARITAL_LABELS = {
    "belum_kawin": "Belum Kawin",
    "kawin": "Kawin",
    "cerai_hidup": "Cerai Hidup",
    "cerai_mati": "Cerai Mati",
}
MARITAL_CHOICES = build_choices(
    {
        "belum_kawin": ("Belum Kawin", "B", "BK", "Belum Menikah", "Lajang", "Single", "Not married"),
        "kawin": ("Kawin", "K", "S", "Sudah Kawin", "Menikah", "Sudah Menikah", "Married"),
        # KPU worksheets write B/S/P: "pernah kawin" (ever married) counts as
        # a divorce, which keeps the ever-married rule of eligibility right.
        "cerai_hidup": ("Cerai Hidup", "CH", "Cerai", "P", "Pernah Kawin", "Divorced"),
        "cerai_mati": ("Cerai Mati", "CM", "Widowed"),
    }
)
CITIZENSHIP_CHOICES = build_choices(
    {
        "WNI": ("WNI", "Indonesia", "Warga Negara Indonesia", "IDN"),
        "WNA": ("WNA", "Asing", "Warga Negara Asing", "Foreign"),
    }
)
CUSTODY_LABELS = {"tahanan": "Tahanan", "narapidana": "Narapidana"}
CUSTODY_CHOICES = build_choices(
    {
        "tahanan": ("Tahanan", "T", "Detainee"),
        "narapidana": ("Narapidana", "Napi", "N", "Sentenced"),
    }
)
DISABILITY_LABELS = {
    "1": "1 Fisik",
    "2": "2 Intelektual",
    "3": "3 Mental",
    "4": "4 Sensorik Wicara",
    "5": "5 Sensorik Rungu",
    "6": "6 Sensorik Netra",
}
DISABILITY_CHOICES = build_choices(
    {
        "1": ("1 Fisik", "Fisik", "Physical", "Tuna Daksa"),
        "2": ("2 Intelektual", "Intelektual", "Intellectual", "Tuna Grahita"),
        "3": ("3 Mental", "Mental"),
        "4": ("4 Sensorik Wicara", "4 Wicara", "Wicara", "Sensorik Wicara", "Tuna Wicara", "Speech"),
        "5": ("5 Sensorik Rungu", "5 Rungu", "Rungu", "Sensorik Rungu", "Tuna Rungu", "Hearing"),
        "6": ("6 Sensorik Netra", "6 Netra", "Netra", "Sensorik Netra", "Tuna Netra", "Visual"),
        "": ("Tidak Ada", "Tidak", "Bukan", "0", "None"),
    }
)
KTP_CHOICES = build_choices(
    {
        "S": ("S", "Sudah", "Ada", "Ya", "Punya", "Yes"),
        "B": ("B", "Belum", "Tidak", "Tidak Ada", "Belum Ada", "No"),
    }
)
BOOL_LABELS = {True: "Ya", False: "Tidak"}


_MEMO_LIMIT = 2000


def _memo(parser: Callable[[CellValue], Any]) -> Callable[[CellValue], Any]:
    """Remember the parsed value of each distinct cell: choice columns repeat a handful of values
    (``Kawin``, ``WNI``, ``Narapidana``) on every row. Errors are not remembered."""
    cache: dict[tuple[type, Any], Any] = {}

    def parse(value: CellValue) -> Any:
        key = (type(value), value)
        try:
            return cache[key]
        except KeyError:
            result = parser(value)
            if len(cache) < _MEMO_LIMIT:
                cache[key] = result
            return result
        except TypeError:  # an unhashable cell value
            return parser(value)

    return parse


def _text(max_length: int | None) -> Callable[[CellValue], str]:
    def parse(value: CellValue) -> str:
        return parse_text(value, max_length)

    return parse


def _or_missing(parser: Callable[[CellValue], Any]) -> Callable[[CellValue], Any]:
    def parse(value: CellValue) -> Any:
        result = parser(value)
        return MISSING if result is None else result

    return parse


def _choice(choices: Mapping[str, str], labels: list[str]) -> Callable[[CellValue], Any]:
    def parse(value: CellValue) -> Any:
        return parse_choice(value, choices, labels=labels)

    return parse


def _parse_nkk(value: CellValue) -> str:
    return parse_nkk(value) or ""


def _parse_code_text(max_length: int) -> Callable[[CellValue], str]:
    # RT/RW typed as numbers arrive as 1.0: keep the digits, not "1.0".
    def parse(value: CellValue) -> str:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return parse_text(value, max_length)

    return parse


def _parse_disability(value: CellValue) -> str:
    if isinstance(value, str) and not normalize_key(value):
        return ""  # "-", "" and the like: no disability recorded
    result = parse_choice(value, DISABILITY_CHOICES, labels=list(DISABILITY_LABELS.values()))
    return result or ""


def _parse_region(value: CellValue) -> str | None:
    return parse_region_code(value)


def _parse_date(value: CellValue) -> datetime.date | None:
    return parse_date(value, min_year=1900, max_year=2100)


def export_unchanged(value: Any) -> Any:
    return value


def _export_none_as_empty(value: Any) -> Any:
    return "" if value is None else value


def _export_label(labels: Mapping[Any, str]) -> Callable[[Any], Any]:
    def export(value: Any) -> Any:
        return labels.get(value, value if value is not None else "")

    return export


@dataclass(frozen=True)
class Column:
    """One column of the inmate spreadsheet and the model field behind it."""

    spec: ColumnSpec
    field: str  # Inmate attname; "" for the facility column, which selects rather than sets
    parse: Callable[[CellValue], Any]
    export: Callable[[Any], Any] = export_unchanged
    choices: list[str] = field(default_factory=list)
    is_text: bool = False
    is_date: bool = False
    length: int | None = None

    @property
    def key(self) -> str:
        return self.spec.key

    @property
    def label(self) -> str:
        return str(self.spec.label)

    @property
    def required(self) -> bool:
        return self.spec.required


def _column(
    key: str,
    label: str,
    synonyms: tuple[str, ...],
    help_text: Any,
    *,
    field_name: str | None = None,
    required: bool = False,
    **kwargs: Any,
) -> Column:
    spec = ColumnSpec(key=key, label=label, synonyms=synonyms, required=required, help_text=help_text)
    return Column(spec=spec, field=key if field_name is None else field_name, **kwargs)


COLUMNS: list[Column] = [
    _column(
        "facility",
        "Kode Rutan/Lapas",
        ("Rutan/Lapas", "Kode UPT", "UPT", "Kode Fasilitas", "Facility", "Facility Code"),
        _("Optional. The code of the facility (e.g. rutan-blora). A row naming another facility is refused."),
        field_name="",
        parse=_text(200),
        is_text=True,
    ),
    _column(
        "registration_number",
        "No. Registrasi",
        (
            "Nomor Registrasi",
            "No Reg",
            "Noreg",
            "Nomor Register",
            "No Register",
            "Registration Number",
            "Nomor Induk WBP",
            "No Induk",
        ),
        _("Required. The facility's register number, e.g. AI.123/2023. Each number once per file."),
        required=True,
        parse=_text(50),
        is_text=True,
    ),
    _column(
        "nik",
        "NIK",
        ("No NIK", "Nomor NIK", "Nomor Induk Kependudukan", "No KTP", "Nomor KTP"),
        _("16 digits, typed in a Text column. Leave empty if the inmate has no NIK."),
        parse=parse_nik,
        export=_export_none_as_empty,
        is_text=True,
        length=16,
    ),
    _column(
        "nkk",
        "NKK",
        ("No KK", "Nomor KK", "Nomor Kartu Keluarga", "No NKK"),
        _("16 digits of the family card, typed in a Text column."),
        parse=_parse_nkk,
        is_text=True,
        length=16,
    ),
    _column(
        "full_name",
        "Nama Lengkap",
        ("Nama", "Nama WBP", "Nama Tahanan", "Nama Narapidana", "Full Name", "Name"),
        _("Required. The name as on the KTP-el."),
        required=True,
        parse=_text(150),
    ),
    _column(
        "birth_place",
        "Tempat Lahir",
        ("Tmp Lahir", "Tempat Lhr", "Birth Place", "Place of Birth"),
        _("Town or regency of birth."),
        parse=_text(100),
    ),
    _column(
        "birth_date",
        "Tanggal Lahir",
        ("Tgl Lahir", "Tgl Lhr", "Birth Date", "Date of Birth"),
        _("A date cell, or DD-MM-YYYY, or e.g. 17 Agustus 1985."),
        parse=_parse_date,
        export=_export_none_as_empty,
        is_date=True,
    ),
    _column(
        "sex",
        "Jenis Kelamin",
        ("L/P", "JK", "Kelamin", "Sex", "Gender"),
        _("Required. L (laki-laki) or P (perempuan)."),
        required=True,
        parse=_memo(parse_sex),
        choices=["L", "P"],
    ),
    _column(
        "marital_status",
        "Status Perkawinan",
        ("Status Kawin", "Sts Kawin", "Kawin", "Status Nikah", "Marital Status", "Perkawinan"),
        _("Belum Kawin, Kawin, Cerai Hidup or Cerai Mati (B/S/P accepted). Empty: not changed."),
        parse=_memo(_or_missing(_choice(MARITAL_CHOICES, list(MARITAL_LABELS.values())))),
        export=_export_label(MARITAL_LABELS),
        choices=list(MARITAL_LABELS.values()),
    ),
    _column(
        "citizenship",
        "Kewarganegaraan",
        ("WNI/WNA", "Warga Negara", "Citizenship"),
        _("WNI or WNA. Empty: WNI for a new record."),
        parse=_memo(_or_missing(_choice(CITIZENSHIP_CHOICES, ["WNI", "WNA"]))),
        choices=["WNI", "WNA"],
    ),
    _column(
        "address",
        "Alamat",
        ("Alamat Domisili", "Alamat Rumah", "Alamat Asal", "Address"),
        _("Home address (street, hamlet)."),
        parse=_text(255),
    ),
    _column("rt", "RT", (), _("Digits, e.g. 001."), parse=_parse_code_text(3), is_text=True),
    _column("rw", "RW", (), _("Digits, e.g. 002."), parse=_parse_code_text(3), is_text=True),
    _column(
        "domicile_region_id",
        "Kode Wilayah (Desa/Kecamatan)",
        (
            "Kode Wilayah",
            "Kode Desa",
            "Kode Desa/Kelurahan",
            "Kode Kelurahan",
            "Kode Kecamatan",
            "Kode Wilayah Domisili",
            "Kode Kemendagri",
            "Region Code",
            "domicile_region",
        ),
        _(
            "Kemendagri code of the home village or district, with or without dots: 33.16.01.2001 or 3316012001."
        ),
        parse=_memo(_parse_region),
        export=_export_none_as_empty,
        is_text=True,
    ),
    _column(
        "custody_type",
        "Status Penahanan",
        (
            "Tahanan/Narapidana",
            "Jenis Penahanan",
            "Status WBP",
            "Jenis WBP",
            "Status Hukum",
            "Custody Type",
        ),
        _("Required. Tahanan (not yet sentenced) or Narapidana (sentenced)."),
        required=True,
        parse=_memo(_choice(CUSTODY_CHOICES, list(CUSTODY_LABELS.values()))),
        export=_export_label(CUSTODY_LABELS),
        choices=list(CUSTODY_LABELS.values()),
    ),
    _column(
        "admission_date",
        "Tanggal Masuk",
        ("Tgl Masuk", "Tanggal Penahanan", "Tgl Penahanan", "Admission Date"),
        _("Required. The date the inmate entered the facility."),
        required=True,
        parse=_parse_date,
        is_date=True,
    ),
    _column(
        "expected_release_date",
        "Perkiraan Tanggal Bebas",
        (
            "Tanggal Bebas",
            "Tgl Bebas",
            "Ekspirasi",
            "Tanggal Ekspirasi",
            "Tgl Ekspirasi",
            "Expected Release Date",
        ),
        _("Narapidana only; leave empty for a tahanan."),
        parse=_parse_date,
        export=_export_none_as_empty,
        is_date=True,
    ),
    _column(
        "cell_block",
        "Blok/Kamar",
        ("Blok", "Kamar", "Blok Hunian", "Kamar Hunian", "Cell Block"),
        _("Block or cell, e.g. A."),
        parse=_text(50),
    ),
    _column(
        "disability",
        "Jenis Disabilitas",
        ("Disabilitas", "Penyandang Disabilitas", "Disability"),
        _(
            "Empty for none, or the KPU code: 1 physical, 2 intellectual, 3 mental, 4 speech, 5 hearing, 6 visual."
        ),
        parse=_memo(_parse_disability),
        export=_export_label(DISABILITY_LABELS),
        choices=list(DISABILITY_LABELS.values()),
    ),
    _column(
        "ktp_el_status",
        "KTP-el",
        ("KTP Elektronik", "Status KTP-el", "e-KTP", "KTP", "Status KTP"),
        _("S (has a KTP-el) or B (not yet). Empty: not changed."),
        parse=_memo(_or_missing(_choice(KTP_CHOICES, ["S", "B"]))),
        choices=["S", "B"],
    ),
    _column(
        "is_tni_polri",
        "TNI/Polri Aktif",
        ("TNI/Polri", "Anggota TNI/Polri"),
        _("Ya or Tidak. Empty: not changed (Tidak for a new record)."),
        parse=_memo(_or_missing(parse_bool)),
        export=_export_label(BOOL_LABELS),
        choices=["Ya", "Tidak"],
    ),
    _column(
        "voting_right_revoked",
        "Hak Pilih Dicabut",
        ("Pencabutan Hak Pilih", "Dicabut Hak Pilih"),
        _("Ya only when a court decision revoked the right to vote; then fill in the decision number."),
        parse=_memo(_or_missing(parse_bool)),
        export=_export_label(BOOL_LABELS),
        choices=["Ya", "Tidak"],
    ),
    _column(
        "revocation_decision",
        "Nomor Putusan Pencabutan",
        ("No Putusan", "Nomor Putusan", "Putusan Pengadilan"),
        _("The court decision number that revoked the right to vote."),
        parse=_text(100),
    ),
    _column("notes", "Keterangan", ("Catatan", "Ket", "Notes"), _("Anything else."), parse=_text(None)),
]

SPECS: list[ColumnSpec] = [column.spec for column in COLUMNS]
BY_KEY: dict[str, Column] = {column.key: column for column in COLUMNS}
# Inmate fields an import may set, in column order.
FIELDS: list[str] = [column.field for column in COLUMNS if column.field]
BY_FIELD: dict[str, Column] = {column.field: column for column in COLUMNS if column.field}
# Fields whose empty cell leaves the record as it is (MISSING), with the default for a new record.
DEFAULTS: dict[str, Any] = {
    "marital_status": "belum_kawin",
    "citizenship": "WNI",
    "ktp_el_status": "B",
    "is_tni_polri": False,
    "voting_right_revoked": False,
}
HEADERS: list[str] = [column.label for column in COLUMNS]
TEXT_KEYS: list[str] = [column.key for column in COLUMNS if column.is_text]
DATE_KEYS: list[str] = [column.key for column in COLUMNS if column.is_date]


def export_row(facility_code: str, values: Mapping[str, Any]) -> list[Any]:
    """One inmate as a row of cells, in COLUMNS order (``values`` keyed by field)."""
    row: list[Any] = [facility_code]
    for column in COLUMNS[1:]:
        row.append(column.export(values[column.field]))
    return row


__all__ = [
    "BY_FIELD",
    "BY_KEY",
    "COLUMNS",
    "DATE_KEYS",
    "DEFAULTS",
    "FIELDS",
    "HEADERS",
    "MISSING",
    "SPECS",
    "TEXT_KEYS",
    "CellError",
    "Column",
    "export_row",
    "export_unchanged",
]
