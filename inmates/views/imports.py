"""Pages of the inmate import: upload, preview with every problem, confirm, progress, result.

Every page reads the job through ``ImportJob.objects.for_user``: another
user's job is a 404. Uploading and confirming need a role that keeps the
register (Rutan/Lapas officer, admin).
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from inmates.importing import ImportRefused
from inmates.imports_jobs import (
    ImportJobError,
    import_job_cancel,
    import_job_confirm,
    import_job_create,
    import_job_dispatch,
)
from inmates.models import Facility, ImportJob, Inmate
from voterreg.scoping import get_for_user_or_404
from voterreg.xlsx_writer import stream_csv

PROBLEMS_PER_PAGE = 200


class ImportUploadForm(forms.Form):
    facility = forms.ModelChoiceField(label=_("Facility"), queryset=Facility.objects.none(), empty_label=None)
    file = forms.FileField(
        label=_("File"),
        help_text=_(
            "Excel workbook (.xlsx) or CSV (comma or semicolon, UTF-8). Use the template for the headers."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )

    def __init__(self, *args, facilities, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["facility"].queryset = facilities


def _require_importer(user) -> None:
    if not (user.can_edit_register and user.has_perm("inmates.add_importjob")):
        raise PermissionDenied


def _jobs():
    return ImportJob.objects.filter(kind=ImportJob.Kind.INMATES).select_related("facility", "created_by")


def _upload_form(request: HttpRequest, data=None, files=None) -> ImportUploadForm:
    facilities = Facility.objects.for_user(request.user).order_by("name")
    form = ImportUploadForm(data, files, facilities=facilities)
    if request.user.facility_id:
        form.fields["facility"].initial = request.user.facility_id
    return form


@login_required
def import_upload(request: HttpRequest) -> HttpResponse:
    """Choose the facility and the file; the preview follows."""
    _require_importer(request.user)
    form = _upload_form(request, request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = import_job_create(
                user=request.user,
                facility=form.cleaned_data["facility"],
                upload=form.cleaned_data["file"],
                language=getattr(request, "LANGUAGE_CODE", ""),
            )
        except (ImportRefused, ImportJobError) as exc:
            form.add_error("file", exc.message)
        else:
            import_job_dispatch(job=job)
            return redirect("inmates:import_detail", pk=job.pk)
    recent = _jobs().for_user(request.user)[:10]
    return render(
        request,
        "inmates/imports/upload.html",
        {"title": gettext("Import inmates"), "form": form, "recent_jobs": recent, **_admin_context(request)},
    )


@login_required
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One job: progress while it runs, then the preview (or errors), then the result."""
    job = get_for_user_or_404(_jobs(), request.user, pk=pk)
    report = job.report or {}
    problems = report.get("problems", [])
    page = Paginator(problems, PROBLEMS_PER_PAGE).get_page(request.GET.get("page"))
    running = job.status in (ImportJob.Status.PENDING, ImportJob.Status.RUNNING)
    context = {
        "title": gettext("Import of %(file)s") % {"file": job.original_name},
        "job": job,
        "report": report,
        "problems": page,
        "running": running,
        "has_errors": bool(report.get("errors")),
        "can_confirm": job.status == ImportJob.Status.PREVIEW and request.user.can_edit_register,
        "can_cancel": job.status == ImportJob.Status.PREVIEW and request.user.can_edit_register,
        "upload_form": _upload_form(request)
        if job.status == ImportJob.Status.FAILED and request.user.can_edit_register
        else None,
        "status_url": reverse("inmates:import_status", args=[job.pk]),
        "inmate_list_url": reverse("admin:inmates_inmate_changelist")
        + f"?facility__id__exact={job.facility_id}",
        **_admin_context(request),
    }
    return render(request, "inmates/imports/detail.html", context)


def _progress_message(job: ImportJob) -> str:
    values = {
        "done": number_format(job.processed_rows, force_grouping=True),
        "total": number_format(job.total_rows, force_grouping=True),
    }
    if job.status == ImportJob.Status.PENDING:
        return gettext("Waiting for the background worker…")
    if job.phase == "writing":
        return gettext("Saving records: %(done)s of %(total)s") % values
    if job.status == ImportJob.Status.RUNNING:
        return gettext("Checking rows: %(done)s of about %(total)s") % values
    return job.get_status_display()


@login_required
def import_status(request: HttpRequest, pk: int) -> JsonResponse:
    """Progress for the progress bar (polled every second)."""
    job = get_for_user_or_404(_jobs(), request.user, pk=pk)
    return JsonResponse(
        {
            "id": job.pk,
            "status": job.status,
            "phase": job.phase,
            "processed_rows": job.processed_rows,
            "total_rows": job.total_rows,
            "percent": job.progress_percent,
            "finished": job.status not in (ImportJob.Status.PENDING, ImportJob.Status.RUNNING),
            "message": _progress_message(job),
            "url": reverse("inmates:import_detail", args=[job.pk]),
        }
    )


@require_POST
@login_required
def import_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """Import a previewed file for real."""
    job = get_for_user_or_404(_jobs(), request.user, pk=pk)
    _require_importer(request.user)
    try:
        job = import_job_confirm(job=job, user=request.user)
    except (ImportRefused, ImportJobError) as exc:
        messages.error(request, exc.message)
    else:
        if job.status == ImportJob.Status.DONE:
            messages.success(request, _done_message(job))
    return redirect("inmates:import_detail", pk=job.pk)


def _done_message(job: ImportJob) -> str:
    report = job.report
    return gettext("Imported: %(created)d new, %(updated)d updated, %(unchanged)d unchanged.") % {
        "created": report.get("created", 0),
        "updated": report.get("updated", 0),
        "unchanged": report.get("unchanged", 0),
    }


@require_POST
@login_required
def import_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_for_user_or_404(_jobs(), request.user, pk=pk)
    _require_importer(request.user)
    try:
        import_job_cancel(job=job, user=request.user)
    except ImportJobError as exc:
        messages.error(request, exc.message)
    else:
        messages.info(request, gettext("The import was cancelled; nothing was written."))
    return redirect("inmates:import_upload")


@login_required
def import_problems_csv(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    """Every problem of a job as CSV, to work through in a spreadsheet."""
    job = get_for_user_or_404(_jobs(), request.user, pk=pk)
    headers = [
        gettext("Row"),
        gettext("Column"),
        gettext("Cell"),
        gettext("Value"),
        gettext("Level"),
        gettext("Message"),
    ]
    levels = {"error": gettext("Error"), "warning": gettext("Warning")}
    rows = (
        [
            p.get("row") or "",
            p.get("column", ""),
            p.get("cell", ""),
            p.get("value", ""),
            levels.get(p.get("level"), ""),
            p.get("message", ""),
        ]
        for p in (job.report or {}).get("problems", [])
    )
    response = StreamingHttpResponse(
        (chunk.encode("utf-8") for chunk in stream_csv(headers, rows)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="masalah_impor_{job.pk}.csv"'
    return response


def _admin_context(request: HttpRequest) -> dict:
    from django.contrib import admin

    return {
        **admin.site.each_context(request),
        "opts": Inmate._meta,
        "job_opts": ImportJob._meta,
    }
