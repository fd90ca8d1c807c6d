"""The voter list of a TPS (DPT per TPS) as XLSX, CSV, a printable A4 page and a PDF.

Columns as on KPU's worksheets, in this order and spelled exactly so:
No, NKK, NIK, Nama, Tempat Lahir, Tanggal Lahir, Usia, L/P, Status
Perkawinan, Alamat, RT, RW, Desa/Kelurahan, Kecamatan, Kab/Kota, Disabilitas,
Kategori, Keterangan. They are KPU's own headers, so they are not translated.

Masking (PKPU 7/2022 draft art. 86(3)): anything meant for posting at the TPS
(the A4 page, the PDF) always masks NIK and NKK, keeping the 6-digit area
code. XLSX and CSV are masked too unless full values are asked for
explicitly, and only a user whose role may see them
(``User.can_see_full_nik``) may ask. ``user=None`` is the operator at the
shell (``manage.py export_dpt``), who has the database anyway.

Values: "No" is the voter's number on the TPS list (alphabetical); "Usia"
the age on voting day; "Status Perkawinan" KPU's letters B (belum kawin),
S (sudah kawin), P (pernah kawin); "Disabilitas" the official code 1-6;
"Kategori" DPT/DPTb/DPK from the latest accepted potential-voter list
(DPT when it does not say); "Keterangan" the KTP-el status (S/B) and, for a
DPTb voter, the home TPS.
"""

from __future__ import annotations

import datetime
import io
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import IO, Any

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext

from inmates.audit import access_log_record
from inmates.models import AccessLog, Facility, Inmate, Region, User
from tps.eligibility import age_on
from tps.models import Election, Tps, TpsAssignment
from tps.services import stations
from voterreg.masking import mask_nik, mask_nkk
from voterreg.xlsx_writer import Sheet, write_csv, write_xlsx

COLUMNS: tuple[str, ...] = (
    "No",
    "NKK",
    "NIK",
    "Nama",
    "Tempat Lahir",
    "Tanggal Lahir",
    "Usia",
    "L/P",
    "Status Perkawinan",
    "Alamat",
    "RT",
    "RW",
    "Desa/Kelurahan",
    "Kecamatan",
    "Kab/Kota",
    "Disabilitas",
    "Kategori",
    "Keterangan",
)
FORMATS = ("xlsx", "csv", "pdf")
MARITAL_LETTERS = {
    Inmate.MaritalStatus.NOT_MARRIED: "B",
    Inmate.MaritalStatus.MARRIED: "S",
    Inmate.MaritalStatus.DIVORCED: "P",
    Inmate.MaritalStatus.WIDOWED: "P",
}


class ExportError(ValueError):
    """The export cannot be made as asked (the message says why, for the user)."""


@dataclass(frozen=True)
class TpsList:
    """One TPS and the rows of its list, ready to write."""

    tps: Tps
    rows: list[list[Any]]

    @property
    def title(self) -> str:
        return f"TPS {self.tps.number}"


def check_full_nik(user: User | None, full_nik: bool) -> None:
    """Refuse full NIK/NKK to a user whose role may not see them."""
    if full_nik and user is not None and not getattr(user, "can_see_full_nik", False):
        raise PermissionDenied(gettext("Your role may not export full NIK and NKK."))


def _region_names(codes: Iterable[str]) -> dict[str, str]:
    wanted: set[str] = set()
    for code in codes:
        parts = code.split(".")
        wanted.update(".".join(parts[: index + 1]) for index in range(1, len(parts)))
    return dict(Region.objects.filter(code__in=wanted).values_list("code", "name"))


def _place(code: str | None, names: dict[str, str]) -> tuple[str, str, str]:
    """(village, district, regency) names of a domicile code of any level."""
    if not code:
        return "", "", ""
    parts = code.split(".")

    def name(level: int) -> str:
        return names.get(".".join(parts[:level]), "") if len(parts) >= level else ""

    return name(4), name(3), name(2)


def _stations(election: Election, facility: Facility, tps_number: str | None) -> list[Tps]:
    queryset = Tps.objects.filter(election=election, facility=facility).select_related("village", "facility")
    if tps_number is not None:
        queryset = queryset.filter(number=str(tps_number).strip())
    found = sorted(queryset, key=lambda tps: stations.number_key(tps.number))
    if not found:
        if tps_number is not None:
            raise ExportError(
                gettext("TPS %(number)s does not exist at this facility.") % {"number": tps_number}
            )
        raise ExportError(gettext("This facility has no TPS for the election yet: plan them first."))
    return found


def tps_lists(
    *, election: Election, facility: Facility, tps_number: str | None = None, mask: bool = True
) -> list[TpsList]:
    """The list of each TPS (or of one), with NIK/NKK masked unless ``mask`` is False."""
    found = _stations(election, facility, tps_number)
    categories = stations.voter_categories(election=election, facility=facility)
    home_tps = stations.home_tps_notes(election=election, facility=facility)
    assignments = list(
        TpsAssignment.objects.filter(tps__in=found)
        .select_related("inmate")
        .order_by("tps_id", "order_number")
    )
    names = _region_names(a.inmate.domicile_region_id for a in assignments if a.inmate.domicile_region_id)
    by_tps: dict[int, list[list[Any]]] = {tps.pk: [] for tps in found}
    for assignment in assignments:
        inmate = assignment.inmate
        village, district, regency = _place(inmate.domicile_region_id, names)
        category = categories.get(inmate.pk, stations.DEFAULT_CATEGORY)
        notes = [f"KTP-el {inmate.ktp_el_status}"] if inmate.ktp_el_status else []
        if category == "DPTb" and home_tps.get(inmate.pk):
            notes.append(gettext("from %(home)s") % {"home": home_tps[inmate.pk]})
        nik = inmate.nik or ""
        nkk = inmate.nkk or ""
        by_tps[assignment.tps_id].append(
            [
                assignment.order_number,
                mask_nkk(nkk) if mask else nkk,
                mask_nik(nik) if mask else nik,
                inmate.full_name,
                inmate.birth_place,
                inmate.birth_date,
                age_on(inmate.birth_date, election.voting_day)
                if inmate.birth_date and inmate.birth_date <= election.voting_day
                else None,
                inmate.sex,
                MARITAL_LETTERS.get(inmate.marital_status, ""),
                inmate.address,
                inmate.rt,
                inmate.rw,
                village,
                district,
                regency,
                inmate.disability,
                category,
                "; ".join(notes),
            ]
        )
    return [TpsList(tps=tps, rows=by_tps[tps.pk]) for tps in found]


def _mask_note(mask: bool) -> str:
    if mask:
        return gettext("NIK and NKK masked: only the first 6 digits are shown.")
    return gettext("Contains full NIK and NKK: personal data, do not publish.")


def write_dpt_xlsx(
    target: str | os.PathLike[str] | IO[bytes], lists: Sequence[TpsList], *, mask: bool
) -> int:
    """One worksheet per TPS; NIK and NKK are text cells. Returns the number of voters."""
    first, *others = lists
    write_xlsx(
        target,
        COLUMNS,
        first.rows,
        sheet_name=first.title,
        text_columns={"NIK", "NKK", "RT", "RW"},
        extra_sheets=[
            Sheet(item.title, COLUMNS, item.rows, text_columns={"NIK", "NKK", "RT", "RW"}) for item in others
        ],
        note=_mask_note(mask),
    )
    return sum(len(item.rows) for item in lists)


def write_dpt_csv(target: str | os.PathLike[str] | IO[Any], lists: Sequence[TpsList]) -> int:
    """CSV holds one TPS (it has no TPS column, exactly as KPU's worksheet)."""
    if len(lists) != 1:
        raise ExportError(
            gettext("A CSV file holds the list of one TPS: choose one of %(numbers)s.")
            % {"numbers": ", ".join(item.tps.number for item in lists)}
        )
    return write_csv(target, COLUMNS, lists[0].rows)


def _print_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.date):
        return value.strftime("%d-%m-%Y")
    return str(value)


def print_rows(lists: Sequence[TpsList]) -> list[dict[str, Any]]:
    """For the A4 page: every value as display text (masked lists only)."""
    return [
        {"tps": item.tps, "rows": [[_print_value(value) for value in row] for row in item.rows]}
        for item in lists
    ]


def heading(election: Election, facility: Facility, tps: Tps) -> str:
    place = ""
    if tps.village_id:
        village = tps.village
        names = _region_names([village.code])
        _village, district, regency = _place(village.code, names)
        place = f" · {village.name}, {district}, {regency}"
    return f"{election.name} · TPS {tps.number} · {facility.name}{place}"


# PDF column widths in points for A4 landscape (842 pt wide, 24 pt margins).
_PDF_WIDTHS = (20, 62, 62, 94, 48, 42, 22, 18, 34, 82, 18, 18, 58, 52, 52, 30, 34, 47)


def write_dpt_pdf(
    target: str | os.PathLike[str] | IO[bytes],
    lists: Sequence[TpsList],
    *,
    election: Election,
    facility: Facility,
) -> int:
    """A4 landscape pages for posting at the TPS, NIK and NKK masked (the rows must be masked)."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    cell = ParagraphStyle("cell", parent=styles["Normal"], fontSize=6.5, leading=7.5)
    title_style = ParagraphStyle("title", parent=styles["Heading2"], fontSize=12, spaceAfter=2)
    note_style = ParagraphStyle("note", parent=styles["Normal"], fontSize=7.5, textColor=colors.grey)
    header_cells = [Paragraph(f"<b>{name}</b>", cell) for name in COLUMNS]
    footer = _mask_note(True)
    doc_title = gettext("Voter list") + f" · {facility.name}"

    def on_page(canvas: Any, document: Any) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 7)
        canvas.drawString(24, 14, footer)
        canvas.drawRightString(landscape(A4)[0] - 24, 14, gettext("Page %(page)d") % {"page": document.page})
        canvas.restoreState()

    story: list[Any] = []
    for index, item in enumerate(lists):
        if index:
            story.append(PageBreak())
        story.append(
            Paragraph(
                _escape(gettext("VOTER LIST (DPT) OF TPS %(number)s") % {"number": item.tps.number}),
                title_style,
            )
        )
        story.append(Paragraph(_escape(heading(election, facility, item.tps)), note_style))
        story.append(Spacer(1, 6))
        data = [header_cells]
        for row in item.rows:
            data.append(
                [
                    _pdf_cell(_print_value(value), width, cell)
                    for value, width in zip(row, _PDF_WIDTHS, strict=True)
                ]
            )
        if len(data) == 1:
            data.append(
                [Paragraph(_escape(gettext("No voters on this TPS.")), cell)] + [""] * (len(COLUMNS) - 1)
            )
        table = Table(data, colWidths=_PDF_WIDTHS, repeatRows=1)
        table.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#D9E1F2")),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("FONT", (0, 1), (-1, -1), "Helvetica", _PDF_FONT_SIZE),
                    ("LEFTPADDING", (0, 0), (-1, -1), 2),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 2),
                ]
            )
        )
        story.append(table)
    doc = SimpleDocTemplate(
        target if not isinstance(target, os.PathLike) else os.fspath(target),
        pagesize=landscape(A4),
        leftMargin=24,
        rightMargin=24,
        topMargin=24,
        bottomMargin=28,
        title=doc_title,
        author="voterreg",
    )
    doc.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return sum(len(item.rows) for item in lists)


_PDF_FONT_SIZE = 6.5
_PDF_PADDING = 4


def _pdf_cell(text: str, width: float, style: Any) -> Any:
    """Plain text draws fast; only text wider than its column is wrapped (a Paragraph)."""
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.platypus import Paragraph

    if stringWidth(text, "Helvetica", _PDF_FONT_SIZE) <= width - _PDF_PADDING:
        return text
    return Paragraph(_escape(text), style)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def export_dpt(
    *,
    election: Election,
    facility: Facility,
    fmt: str,
    target: str | os.PathLike[str] | IO[Any],
    tps_number: str | None = None,
    full_nik: bool = False,
    user: User | None = None,
    request: Any = None,
    via: str | None = None,
) -> int:
    """Write the DPT of the facility's TPS (or of one) in ``fmt``; returns the number of voters.

    ``full_nik`` is refused for PDF (meant for posting) and for a user whose
    role may not see full numbers. Each export is recorded in the access log,
    with ``via`` saying where it came from (default: "web" with a request,
    else "command"; a background job passes its own).
    """
    if fmt not in FORMATS:
        raise ExportError(gettext("Unknown format %(format)s: use xlsx, csv or pdf.") % {"format": fmt})
    if full_nik and fmt == "pdf":
        raise ExportError(gettext("The PDF is for posting at the TPS: NIK and NKK are always masked."))
    check_full_nik(user, full_nik)
    lists = tps_lists(election=election, facility=facility, tps_number=tps_number, mask=not full_nik)
    if fmt == "xlsx":
        count = write_dpt_xlsx(target, lists, mask=not full_nik)
    elif fmt == "csv":
        count = write_dpt_csv(target, lists)
    else:
        count = write_dpt_pdf(target, lists, election=election, facility=facility)
    # Every DPT that leaves the system is in the access log; full numbers are
    # a separate action so an admin can review exactly those.
    access_log_record(
        user=user,
        action=AccessLog.Action.EXPORT_FULL_NIK if full_nik else AccessLog.Action.EXPORT,
        target=filename_for(
            election=election, facility=facility, fmt=fmt, tps_number=tps_number, full_nik=full_nik
        ),
        facility=facility,
        details={
            "kind": "dpt",
            "election": election.code,
            "tps": [item.tps.number for item in lists],
            "format": fmt,
            "voters": count,
            "via": via or ("web" if request is not None else "command"),
        },
        request=request,
    )
    return count


def export_bytes(**kwargs: Any) -> bytes:
    """``export_dpt`` into memory, for a download."""
    buffer = io.BytesIO()
    export_dpt(target=buffer, **kwargs)
    return buffer.getvalue()


def filename_for(
    *, election: Election, facility: Facility, fmt: str, tps_number: str | None, full_nik: bool
) -> str:
    tps_part = f"-tps{tps_number}" if tps_number else ""
    masked = "" if full_nik else "-disamarkan"
    return f"dpt-{election.code}-{facility.code}{tps_part}{masked}.{fmt}"


__all__ = [
    "COLUMNS",
    "FORMATS",
    "ExportError",
    "TpsList",
    "check_full_nik",
    "export_bytes",
    "export_dpt",
    "filename_for",
    "print_rows",
    "tps_lists",
    "write_dpt_csv",
    "write_dpt_pdf",
    "write_dpt_xlsx",
]
