"""TPS planning and DPT exports over a regency (or the whole scope) as background jobs.

The start page offers what the per-facility pages allow: planning to KPU
officers and admins (``can_manage_tps``), the export to everyone who sees the
facilities, full NIK/NKK only to a role that may see them. A run is seen only
by its starter and admins (``StationRun.objects.for_user``; 404 otherwise),
and so is its ZIP; each download is written to the access log.
"""

from __future__ import annotations

from pathlib import Path

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from inmates.audit import access_log_record
from inmates.models import AccessLog, User
from tps import dpt_export
from tps.models import Election, StationRun
from tps.services.runs import scope_regencies, station_run_kinds, station_run_start
from tps.views.stations import render
from voterreg.scoping import get_for_user_or_404, scoped


class StationRunForm(forms.Form):
    kind = forms.ChoiceField(label=_("Job"), widget=forms.RadioSelect)
    regency = forms.ChoiceField(label=_("Regency/City"), required=False)
    fmt = forms.ChoiceField(
        label=_("Format"), choices=StationRun.Format.choices, initial=StationRun.Format.XLSX, required=False
    )
    full_nik = forms.BooleanField(
        label=_("Full NIK and NKK"),
        required=False,
        help_text=_("XLSX and CSV only; every export is written to the access log."),
    )

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        kinds = station_run_kinds(user)
        self.fields["kind"].choices = [(kind, StationRun.Kind(kind).label) for kind in kinds]
        if kinds:
            self.fields["kind"].initial = kinds[0]
        self.fields["regency"].choices = [
            ("", _("Every facility I see")),
            *((region.code, str(region)) for region in scope_regencies(user)),
        ]
        if not getattr(user, "can_see_full_nik", False):
            del self.fields["full_nik"]


@login_required
@require_http_methods(["GET", "POST"])
def station_runs(request: HttpRequest, election_code: str) -> HttpResponse:
    """GET: the form and the earlier runs of this election. POST: start a run and show it."""
    election = get_for_user_or_404(Election, request.user, code=election_code)
    kinds = station_run_kinds(request.user)
    form = StationRunForm(request.POST if request.method == "POST" else None, user=request.user)
    if request.method == "POST":
        if not kinds:
            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            export = data["kind"] == StationRun.Kind.EXPORT
            try:
                run = station_run_start(
                    kind=data["kind"],
                    election=election,
                    user=request.user,
                    regency=data["regency"] or None,
                    fmt=(data["fmt"] or None) if export else None,
                    full_nik=bool(data.get("full_nik")) if export else False,
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, gettext("The job has started; this page shows its progress."))
                return redirect("tps:station_run", pk=run.pk)
    runs = (
        scoped(StationRun, request.user)
        .filter(election=election)
        .select_related("started_by", "regency")[:10]
    )
    context = {
        "title": gettext("Planning and exports for %(election)s") % {"election": election.name},
        "election": election,
        "form": form,
        "kinds": kinds,
        "runs": runs,
        "leaf": gettext("Planning and exports"),
    }
    return render(request, "tps/stations/runs.html", context)


def _run_or_404(request: HttpRequest, pk: int, **lookup) -> StationRun:
    return get_for_user_or_404(
        StationRun.objects.select_related("election", "started_by", "regency"), request.user, pk=pk, **lookup
    )


@login_required
@require_GET
def station_run(request: HttpRequest, pk: int) -> HttpResponse:
    """Status and progress of a run (refreshing itself every 2 s while it runs) and its per-facility result."""
    run = _run_or_404(request, pk)
    rows = [{"code": code, **figures} for code, figures in sorted(run.result.items())]
    context = {
        "title": str(run),
        "run": run,
        "election": run.election,
        "rows": rows,
        "running": run.is_running,
        "leaf": run.get_kind_display(),
    }
    return render(request, "tps/stations/run.html", context)


@login_required
@require_GET
def station_run_download(request: HttpRequest, pk: int) -> FileResponse:
    """The ZIP of a finished export, for its starter and admins only."""
    run = _run_or_404(request, pk, kind=StationRun.Kind.EXPORT, status=StationRun.Status.DONE)
    if not run.output:
        raise Http404
    dpt_export.check_full_nik(request.user, run.full_nik)
    try:
        handle = run.output.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    filename = Path(run.output.name).name
    # The files were logged one by one when written; the download is where they leave the system.
    access_log_record(
        user=request.user,
        action=AccessLog.Action.EXPORT_FULL_NIK if run.full_nik else AccessLog.Action.EXPORT,
        target=filename,
        details={
            "kind": "dpt_run",
            "run": run.pk,
            "election": run.election.code,
            "format": run.fmt,
            "facilities": len(run.result),
            "voters": run.rows,
            "via": "web",
        },
        request=request,
    )
    response = FileResponse(handle, as_attachment=True, filename=filename, content_type="application/zip")
    response["Cache-Control"] = "no-store"
    return response
