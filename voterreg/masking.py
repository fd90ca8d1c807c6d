"""Masking NIK and NKK for anything meant to be posted or shared.

KPU publishes voter lists with 10 of the 16 digits replaced by asterisks,
keeping the 6-digit area code (province, regency, district):
"3316010101900001" -> "331601**********" (DOMAIN.md, "Publishing lists").
"""

from __future__ import annotations

from typing import Any

NIK_LENGTH = 16
VISIBLE_DIGITS = 6
MASK_CHAR = "*"
_SEPARATORS = str.maketrans("", "", " .-_'\u00a0")


def mask_number(value: Any, *, visible: int = VISIBLE_DIGITS, length: int = NIK_LENGTH) -> str:
    """Keep the first ``visible`` digits and mask the rest, always ``length`` characters long.

    The output length does not depend on the input, so a malformed number
    (15 digits, junk text) does not show that it is malformed, and nothing
    but leading digits is ever shown: if the value does not start with
    ``visible`` digits, every character is masked. None or "" -> "".
    """
    if value is None:
        return ""
    text = str(value).strip().translate(_SEPARATORS)
    if not text:
        return ""
    head = text[:visible]
    if len(head) < visible or not (head.isascii() and head.isdigit()):
        head = ""
    return head + MASK_CHAR * (length - len(head))


def mask_nik(value: str | None) -> str:
    """Mask a NIK for publication: 3316010101900001 -> 331601**********; None or "" -> ""."""
    return mask_number(value)


def mask_nkk(value: str | None) -> str:
    """Same masking as mask_nik, for the family card number."""
    return mask_number(value)


__all__ = ["MASK_CHAR", "VISIBLE_DIGITS", "mask_nik", "mask_nkk", "mask_number"]
