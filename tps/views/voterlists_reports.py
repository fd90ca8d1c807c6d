"""Reports around the lists: differences between versions, the PDPB change report,
the list as a workbook and the projection of a facility. Read-only pages,
scoped like everything else.
"""

from __future__ import annotations

import datetime
import io

from django import forms
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from inmates.audit import access_log_record
from inmates.models import AccessLog, Facility
from tps import changes, projection
from tps.eligibility import Reason
from tps.models import Election, VoterList
from tps.services import voterlists as services
from tps.views.voterlists import _admin_context, _list_or_404
from voterreg.scoping import get_for_user_or_404, scoped
from voterreg.xlsx_writer import write_xlsx

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _xlsx_response(
    write, filename: str, *, request: HttpRequest, facility: Facility, kind: str
) -> HttpResponse:
    """The workbook as a download; it holds full NIKs, so it goes into the access log."""
    buffer = io.BytesIO()
    write(buffer)
    access_log_record(
        user=request.user,
        action=AccessLog.Action.EXPORT_FULL_NIK,
        target=filename,
        facility=facility,
        details={"kind": kind, "format": "xlsx", "query": request.GET.urlencode()[:500]},
        request=request,
    )
    response = HttpResponse(buffer.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@staff_member_required
@require_GET
def version_changes(request: HttpRequest, pk: int) -> HttpResponse:
    """What changed in this version since the last accepted one (or since ?against=<version>)."""
    voter_list = _list_or_404(request, pk)
    old = voter_list.previous_accepted
    against = request.GET.get("against", "")
    if against.isdigit():
        old = get_for_user_or_404(
            VoterList,
            request.user,
            election=voter_list.election,
            facility=voter_list.facility,
            version=int(against),
        )
    report = changes.changes_between_versions(old=old, new=voter_list)
    if request.GET.get("format") == "xlsx":
        name = f"perubahan-{voter_list.facility.code}-{voter_list.election.code}-v{voter_list.version}.xlsx"
        return _xlsx_response(
            lambda target: changes.write_xlsx_report(report, target),
            name,
            request=request,
            facility=voter_list.facility,
            kind="list_changes",
        )
    return render(
        request,
        "tps/voterlists/changes.html",
        _admin_context(
            request,
            _("Changes: %(list)s") % {"list": voter_list},
            voter_list=voter_list,
            old=old,
            report=report,
            versions=VoterList.objects.filter(
                election=voter_list.election, facility=voter_list.facility, version__lt=voter_list.version
            ).order_by("-version"),
        ),
    )


def write_voterlist_xlsx(voter_list: VoterList, target) -> int:
    """One list version as a workbook: every row with status, reasons, category and move form."""
    headers = [
        _("No."),
        _("Registration number"),
        _("Full name"),
        _("NIK"),
        _("Birth date"),
        _("Sex"),
        _("Domicile region code"),
        _("Status"),
        _("Reasons"),
        _("Category"),
        _("Home TPS"),
        _("Move form number"),
        _("Move form date"),
    ]
    rows = (
        [
            number,
            entry.registration_number,
            entry.full_name,
            entry.nik,
            entry.birth_date,
            entry.sex,
            entry.domicile_code,
            entry.get_status_display(),
            "; ".join(str(Reason(code).label) for code in entry.reasons if code in Reason.values),
            entry.category,
            entry.home_tps,
            entry.move_form_number,
            entry.move_form_date,
        ]
        for number, entry in enumerate(
            voter_list.entries.order_by("status", "full_name", "registration_number").iterator(), start=1
        )
    )
    note = _("%(list)s · status: %(status)s · judged for %(day)s") % {
        "list": voter_list,
        "status": voter_list.get_status_display(),
        "day": voter_list.judged_on.strftime("%d-%m-%Y"),
    }
    return write_xlsx(
        target,
        headers,
        rows,
        sheet_name=_("Potential voters"),
        text_columns={_("NIK"), _("Registration number"), _("Domicile region code")},
        note=note,
    )


@staff_member_required
@require_GET
def export(request: HttpRequest, pk: int) -> HttpResponse:
    voter_list = _list_or_404(request, pk)
    name = f"daftar-{voter_list.facility.code}-{voter_list.election.code}-v{voter_list.version}.xlsx"
    return _xlsx_response(
        lambda target: write_voterlist_xlsx(voter_list, target),
        name,
        request=request,
        facility=voter_list.facility,
        kind="voter_list",
    )


class ChangeReportForm(forms.Form):
    start = forms.DateField(label=gettext_lazy("from"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=gettext_lazy("to"), widget=forms.DateInput(attrs={"type": "date"}))
    election = forms.ModelChoiceField(
        label=gettext_lazy("judge age for the voting day of"),
        queryset=Election.objects.all(),
        required=False,
        help_text=gettext_lazy("Empty: each voter is judged on the day itself."),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("start") and cleaned.get("end") and cleaned["end"] < cleaned["start"]:
            raise forms.ValidationError(_("The end date cannot be before the start date."))
        return cleaned


@staff_member_required
@require_GET
def facility_changes(request: HttpRequest, pk: int) -> HttpResponse:
    """The PDPB change report of a facility between two dates (default: the last 90 days)."""
    facility = get_for_user_or_404(Facility.objects.select_related("regency"), request.user, pk=pk)
    today = timezone.localdate()
    data = request.GET if "start" in request.GET else None
    form = ChangeReportForm(data, initial={"start": today - datetime.timedelta(days=90), "end": today})
    form.fields["election"].queryset = scoped(Election, request.user).order_by("-voting_day")
    report = None
    if form.is_bound and form.is_valid():
        report = changes.changes_between_dates(
            facility=facility,
            start=form.cleaned_data["start"],
            end=form.cleaned_data["end"],
            election=form.cleaned_data["election"],
        )
        if request.GET.get("format") == "xlsx":
            name = f"pdpb-{facility.code}-{report.start:%Y%m%d}-{report.end:%Y%m%d}.xlsx"
            return _xlsx_response(
                lambda target: changes.write_xlsx_report(report, target),
                name,
                request=request,
                facility=facility,
                kind="change_report",
            )
    return render(
        request,
        "tps/voterlists/facility_changes.html",
        _admin_context(
            request,
            _("Change report (PDPB): %(facility)s") % {"facility": facility},
            facility=facility,
            form=form,
            report=report,
        ),
    )


@staff_member_required
@require_GET
def facility_projection(request: HttpRequest, pk: int, election_pk: int) -> HttpResponse:
    """The projection of one facility for one election, with the people past their release date."""
    facility = get_for_user_or_404(Facility.objects.select_related("regency"), request.user, pk=pk)
    election = get_for_user_or_404(Election, request.user, pk=election_pk)
    result = projection.facility_projection(election=election, facility=facility, today=timezone.localdate())
    return render(
        request,
        "tps/voterlists/projection.html",
        _admin_context(
            request,
            _("Projection: %(facility)s, %(election)s") % {"facility": facility, "election": election},
            facility=facility,
            election=election,
            projection=result,
            can_prepare=services.can_prepare(request.user, facility),
        ),
    )
