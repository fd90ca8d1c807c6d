"""NIK and NKK: normalisation, decoding and the warnings a record deserves.

A NIK is 16 digits: province (2), regency (2), district (2) of first
registration, birth date as DDMMYY with 40 added to the day for women, and a
4-digit serial (PP 37/2007 art. 37). The region part is where the NIK was first
issued and the date part may predate a corrected birth date, so a disagreement
with the record is a *warning to review*, never a rejection. Only the shape
(16 digits) is an error.

Pure module: no ORM. Region lookups are passed in as a callable.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _

NIK_LENGTH = 16
_SEPARATORS = re.compile(r"[\s.\-_/]+")
_SCIENTIFIC = re.compile(r"^\d+([.,]\d+)?[eE][+]?\d+$")
# A number as a spreadsheet shows or exports it: thousands groups
# ("3.316.011.708.900.000", "3,316,011,708,900,000") or a decimal part of zeros
# ("3316011708900001.0"). Its 16th digit cannot be trusted.
_NUMBER_SHAPED = re.compile(r"^\d{1,3}([.,])\d{3}(\1\d{3}){3,}$|^\d+[.,]0+$")


class NikError(ValueError):
    """The value cannot be a NIK/NKK at all: the record must not keep it."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class NikWarning(models.TextChoices):
    """Reasons to review a NIK that is kept. Stored on the inmate record."""

    MISSING = "nik_missing", _("No NIK: follow up with Dukcapil")
    BIRTH_DATE_MISMATCH = "nik_birth_date_mismatch", _("NIK birth date differs from the recorded birth date")
    SEX_MISMATCH = "nik_sex_mismatch", _("NIK sex (day + 40 for women) differs from the recorded sex")
    INVALID_DATE = "nik_invalid_date", _("NIK date part is not a real date")
    UNKNOWN_REGION = "nik_unknown_region", _("NIK region code is not a known district")
    JUNK = "nik_junk", _("NIK looks like filler (repeated digits or a long run of zeros)")
    NKK_JUNK = "nkk_junk", _("NKK looks like filler (repeated digits or a long run of zeros)")


@dataclass(frozen=True)
class NikInfo:
    """What the 16 digits say about their holder."""

    nik: str
    province_code: str
    regency_code: str
    district_code: str
    birth_date: datetime.date | None
    sex: str  # "L" or "P"
    serial: str


def normalize(raw: object) -> str | None:
    """Return the 16-digit string, ``None`` for an empty value, or raise ``NikError``.

    Accepts the habits of real spreadsheets: spaces, dots or dashes between
    groups, a leading apostrophe (Excel's "store as text" marker), a CSV's
    ``="…"``. A value in scientific notation, with thousands separators or with
    a ``.0`` was typed as a number and has lost its 16th digit: it is refused
    with a message that says how to fix it.
    """
    if raw is None:
        return None
    if type(raw) is str and len(raw) == NIK_LENGTH and raw.isdigit() and raw.isascii():
        return raw  # already clean: the common case, checked first
    if isinstance(raw, bool):
        raise NikError("not_digits", str(_("NIK/NKK must contain 16 digits.")))
    if isinstance(raw, (int, float)):
        raise NikError("stored_as_number", str(STORED_AS_NUMBER_MESSAGE))
    value = str(raw).strip().lstrip("'").strip()
    if value.startswith('="') and value.endswith('"'):
        value = value[2:-1].strip()  # a CSV's ="…", which keeps a number as text
    if not value:
        return None
    if _SCIENTIFIC.match(value) or _NUMBER_SHAPED.match(value):
        raise NikError("stored_as_number", str(STORED_AS_NUMBER_MESSAGE))
    value = _SEPARATORS.sub("", value)
    if not value.isdigit() or not value.isascii():
        raise NikError("not_digits", str(_("NIK/NKK may contain digits only.")))
    if len(value) != NIK_LENGTH:
        raise NikError(
            "wrong_length",
            str(_("NIK/NKK must be exactly 16 digits; this one has %(count)d.") % {"count": len(value)}),
        )
    return value


STORED_AS_NUMBER_MESSAGE = _(
    "The NIK/NKK was stored as a number, so Excel dropped its last digit. "
    "Format the column as Text and type the number again."
)


def decode(nik: str) -> NikInfo:
    """Split a normalised NIK into its parts. The date may be invalid (``None``)."""
    day = int(nik[6:8])
    month = int(nik[8:10])
    year2 = int(nik[10:12])
    sex = "P" if day > 40 else "L"
    if day > 40:
        day -= 40
    birth_date = _date_from_parts(day, month, year2)
    return NikInfo(
        nik=nik,
        province_code=nik[0:2],
        regency_code=f"{nik[0:2]}.{nik[2:4]}",
        district_code=f"{nik[0:2]}.{nik[2:4]}.{nik[4:6]}",
        birth_date=birth_date,
        sex=sex,
        serial=nik[12:16],
    )


def _date_from_parts(day: int, month: int, year2: int) -> datetime.date | None:
    # A NIK carries a 2-digit year. The holder is an adult or child alive
    # today, so the century is the one that does not put the birth in the
    # future.
    this_year2 = datetime.date.today().year % 100
    century = 2000 if year2 <= this_year2 else 1900
    try:
        return datetime.date(century + year2, month, day)
    except ValueError:
        return None


def is_junk(value: str) -> bool:
    """Filler that real data is full of: all one digit, or a long run of zeros."""
    return len(set(value)) == 1 or "000000" in value[6:] or value.endswith("0000")


def warnings_for(
    nik: str | None,
    *,
    birth_date: datetime.date | None = None,
    sex: str | None = None,
    district_exists: Callable[[str], bool] | None = None,
    nkk: str | None = None,
) -> list[str]:
    """All the review warnings a record with this NIK deserves, as codes.

    ``district_exists`` is asked whether the NIK's district code is a known
    Kemendagri district; leave it out to skip that check.
    """
    found: list[str] = []
    if nkk and is_junk(nkk):
        found.append(NikWarning.NKK_JUNK.value)
    if not nik:
        found.insert(0, NikWarning.MISSING.value)
        return found
    if is_junk(nik):
        found.insert(0, NikWarning.JUNK.value)
        return found
    info = decode(nik)
    if info.birth_date is None:
        found.insert(0, NikWarning.INVALID_DATE.value)
    elif birth_date is not None and not _same_birth_date(info.birth_date, birth_date):
        found.insert(0, NikWarning.BIRTH_DATE_MISMATCH.value)
    if sex in ("L", "P") and info.sex != sex:
        found.insert(0, NikWarning.SEX_MISMATCH.value)
    if district_exists is not None and not district_exists(info.district_code):
        found.insert(0, NikWarning.UNKNOWN_REGION.value)
    return sorted(found, key=_ORDER.index)


def _same_birth_date(from_nik: datetime.date, recorded: datetime.date) -> bool:
    # The NIK only knows the year modulo 100.
    return (from_nik.day, from_nik.month, from_nik.year % 100) == (
        recorded.day,
        recorded.month,
        recorded.year % 100,
    )


_ORDER = [choice.value for choice in NikWarning]


def warning_label(code: str) -> str:
    """The user's-language label of a stored warning code (unknown codes pass through)."""
    try:
        return str(NikWarning(code).label)
    except ValueError:
        return code
