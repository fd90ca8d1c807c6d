"""Downloads: the import template and inmate exports (XLSX, CSV) as HTTP responses."""

from __future__ import annotations

import io
import tempfile

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils.text import slugify
from django.utils.translation import gettext

from inmates.audit import access_log_record
from inmates.exporting import (
    CONTENT_TYPES,
    export_filename,
    full_nik_for,
    inmates_export,
    stream_inmates_csv,
)
from inmates.imports_columns import COLUMNS, DATE_KEYS, SPECS, TEXT_KEYS
from inmates.models import AccessLog, Facility, Inmate
from voterreg.xlsx_writer import write_template


def template_instructions() -> list[str]:
    required = ", ".join(column.label for column in COLUMNS if column.required)
    return [
        gettext("Fill in one inmate per row on the Data sheet, from row 2. Keep the headers of row 1."),
        gettext("Columns with a coloured header are required: %(columns)s.") % {"columns": required},
        gettext(
            "NIK and NKK: 16 digits in the columns formatted as Text. Never type them as numbers: "
            "Excel drops the 16th digit, and such a cell is refused."
        ),
        gettext(
            "Dates: a date cell, or 17-08-1985, 17/08/1985, 1985-08-17 or 17 Agustus 1985 "
            "(month names in Indonesian or English, also abbreviated)."
        ),
        gettext("Kode Wilayah: the Kemendagri code of the home village or district, e.g. 33.16.01.2001."),
        gettext(
            "Rows are matched on the registration number within the facility: importing the same "
            "file again changes nothing, and a changed row updates that record."
        ),
        gettext(
            "After the upload you see a preview with every problem (row, column, how to fix it). "
            "Errors block the import and nothing is saved; warnings do not block."
        ),
        gettext("Extra columns are ignored. A CSV file may use commas or semicolons."),
    ]


@login_required
def import_template(request: HttpRequest) -> HttpResponse:
    """The empty workbook to fill in: headers, drop-downs, NIK/NKK columns as text, instructions."""
    if not request.user.has_perm("inmates.view_inmate"):
        raise PermissionDenied
    choices = {column.key: column.choices for column in COLUMNS if column.choices}
    codes = list(Facility.objects.for_user(request.user).order_by("code").values_list("code", flat=True))
    if codes:
        choices["facility"] = codes
    buffer = io.BytesIO()
    write_template(
        buffer,
        SPECS,
        choices,
        template_instructions(),
        TEXT_KEYS,
        date_columns=DATE_KEYS,
        exact_lengths={"nik": 16, "nkk": 16},
    )
    buffer.seek(0)
    return FileResponse(
        buffer, as_attachment=True, filename="templat_impor_wbp.xlsx", content_type=CONTENT_TYPES["xlsx"]
    )


def export_response(
    request: HttpRequest, queryset: QuerySet[Inmate], *, file_format: str, full_requested: bool
) -> HttpResponse:
    """The inmates of ``queryset`` (scoped and filtered by the caller) as a download."""
    user = request.user
    full_nik = full_nik_for(user, requested=full_requested)
    if full_requested and not full_nik:
        raise PermissionDenied
    facilities = list(Facility.objects.for_user(user).values_list("code", flat=True)[:2])
    scope = facilities[0] if len(facilities) == 1 else slugify(user.get_username()) or "semua"
    filename = export_filename(scope=scope, file_format=file_format, full_nik=full_nik)
    access_log_record(
        user=user,
        action=AccessLog.Action.EXPORT_FULL_NIK if full_nik else AccessLog.Action.EXPORT,
        target=filename,
        facility=user.facility if getattr(user, "facility_id", None) else None,
        details={"format": file_format, "filters": request.GET.urlencode()[:500]},
        request=request,
    )
    if file_format == "csv":
        chunks = stream_inmates_csv(queryset, full_nik=full_nik, user=user)
        response = StreamingHttpResponse(
            (chunk.encode("utf-8") for chunk in chunks), content_type=CONTENT_TYPES["csv"]
        )
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
    # xlsxwriter needs a seekable target: a temporary file, deleted when the response closes.
    handle = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    inmates_export(queryset=queryset, target=handle, file_format="xlsx", full_nik=full_nik, user=user)
    handle.seek(0)
    return FileResponse(handle, as_attachment=True, filename=filename, content_type=CONTENT_TYPES["xlsx"])
