"""Admin pages for imports and exports: the import jobs list, the inmate export
(current changelist filters, or the selected rows) wired into InmateAdmin.

The upload / preview / confirm pages themselves are in inmates/views/imports.py
and look like the admin; the "Impor" button on the inmate list leads there.
"""

from __future__ import annotations

from functools import partial

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from inmates.exporting import FORMATS
from inmates.models import ImportJob
from inmates.views.imports_export import export_response
from voterreg.scoping import ScopedAdminMixin


@admin.register(ImportJob)
class ImportJobAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Read-only list of uploads: each user sees their own, admins all."""

    list_display = [
        "original_name",
        "kind",
        "facility",
        "status",
        "progress_display",
        "counts_display",
        "created_by",
        "created_at",
        "open_link",
    ]
    list_filter = ["status", "kind"]
    list_select_related = ["facility", "created_by"]
    search_fields = ["original_name"]
    show_full_result_count = False
    fields = [
        "original_name",
        "kind",
        "facility",
        "status",
        "dry_run",
        "progress_display",
        "counts_display",
        "created_by",
        "created_at",
        "finished_at",
        "open_link",
    ]
    readonly_fields = fields

    @admin.display(description=_("progress"))
    def progress_display(self, obj: ImportJob) -> str:
        return f"{obj.processed_rows}/{obj.total_rows} ({obj.progress_percent}%)"

    @admin.display(description=_("result"))
    def counts_display(self, obj: ImportJob) -> str:
        report = obj.report or {}
        if not report:
            return "—"
        return str(
            _(
                "%(created)d new, %(updated)d updated, %(unchanged)d unchanged, %(errors)d errors, %(warnings)d warnings"
            )
            % {key: report.get(key, 0) for key in ("created", "updated", "unchanged", "errors", "warnings")}
        )

    @admin.display(description=_("page"))
    def open_link(self, obj: ImportJob) -> str:
        if obj.kind != ImportJob.Kind.INMATES:
            return "—"
        return format_html('<a href="{}">{}</a>', reverse("inmates:import_detail", args=[obj.pk]), _("Open"))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.can_edit_register and super().has_add_permission(request)

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context=None) -> HttpResponse:
        # Uploads go through the import pages (preview before anything is written).
        if not self.has_add_permission(request):
            raise PermissionDenied
        return redirect("inmates:import_upload")

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_superuser


# --- export from the inmate list --------------------------------------------------------


def export_changelist_view(
    request: HttpRequest, file_format: str, *, model_admin: admin.ModelAdmin, full: bool = False
) -> HttpResponse:
    """The inmate list as it is filtered and searched on screen, as a file."""
    if file_format not in FORMATS:
        raise Http404
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    try:
        changelist = model_admin.get_changelist_instance(request)
    except IncorrectLookupParameters:
        return HttpResponseRedirect(reverse("admin:inmates_inmate_changelist") + "?e=1")
    queryset = changelist.get_queryset(request)
    return export_response(request, queryset, file_format=file_format, full_requested=full)


def inmate_export_urls(model_admin: admin.ModelAdmin) -> list:
    """URLs InmateAdmin adds through get_urls: export/<format>/ and export/<format>/full/."""
    wrap = model_admin.admin_site.admin_view
    return [
        path(
            "export/<str:file_format>/",
            wrap(partial(export_changelist_view, model_admin=model_admin)),
            name="inmates_inmate_export",
        ),
        path(
            "export/<str:file_format>/full/",
            wrap(partial(export_changelist_view, model_admin=model_admin, full=True)),
            name="inmates_inmate_export_full",
        ),
    ]


@admin.action(description=_("Export selected to Excel (NIK masked)"))
def export_selected_xlsx(modeladmin, request, queryset):
    return export_response(request, queryset, file_format="xlsx", full_requested=False)


@admin.action(description=_("Export selected to CSV (NIK masked)"))
def export_selected_csv(modeladmin, request, queryset):
    return export_response(request, queryset, file_format="csv", full_requested=False)
