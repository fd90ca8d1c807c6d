"""Pages of TPS planning: the facilities, a facility's TPS and ballots, the plan
preview, fixing logistics, a TPS's list, the DPT exports and the recap.

Everything is read through ``for_user`` (a facility outside the user's scope
is a 404); planning and logistics need ``can_manage_tps`` (KPU, admin);
full NIK/NKK in XLSX/CSV need ``can_see_full_nik`` and an explicit request.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from inmates.models import Facility
from tps import dpt_export, recap
from tps.dashboard import default_election
from tps.models import Election, Tps, TpsAssignment
from tps.services import stations as services
from voterreg.masking import mask_nik, mask_nkk
from voterreg.scoping import get_for_user_or_404, scoped


def render(request: HttpRequest, template: str, context: dict) -> TemplateResponse:
    """A page with the admin's header, navigation and colours (``admin/base_site.html``)."""
    return TemplateResponse(request, template, {**admin.site.each_context(request), **context})


def _election_and_facility(
    request: HttpRequest, election_code: str, facility_code: str
) -> tuple[Election, Facility]:
    election = get_for_user_or_404(Election, request.user, code=election_code)
    facility = get_for_user_or_404(
        Facility.objects.select_related("regency"), request.user, code=facility_code
    )
    return election, facility


def _require_manager(request: HttpRequest) -> None:
    if not services.can_manage_tps(request.user):
        raise PermissionDenied


def _chosen_election(request: HttpRequest) -> Election | None:
    code = request.GET.get("election")
    if code:
        return get_for_user_or_404(Election, request.user, code=code)
    return default_election(timezone.localdate())


@login_required
@require_GET
def stations_index(request: HttpRequest) -> HttpResponse:
    """The facilities of the user's scope with their TPS for one election."""
    election = _chosen_election(request)
    facilities = scoped(Facility, request.user).select_related("regency").order_by("regency_id", "name")
    rows = []
    if election is not None:
        counts = {
            row["facility_id"]: row
            for row in Tps.objects.filter(election=election, facility__in=facilities)
            .values("facility_id")
            .annotate(
                tps=Count("pk", distinct=True),
                voters=Count("assignments"),
                fixed=Count("pk", filter=Q(logistics_fixed_at__isnull=False), distinct=True),
            )
        }
        for facility in facilities:
            found = counts.get(facility.pk, {})
            rows.append(
                {
                    "facility": facility,
                    "tps": found.get("tps", 0),
                    "voters": found.get("voters", 0),
                    "fixed": found.get("fixed", 0),
                }
            )
    context = {
        "title": gettext("TPS planning"),
        "election": election,
        "elections": scoped(Election, request.user),
        "rows": rows,
        "can_manage": services.can_manage_tps(request.user),
    }
    return render(request, "tps/stations/index.html", context)


@login_required
@require_GET
def stations_facility(request: HttpRequest, election_code: str, facility_code: str) -> HttpResponse:
    """A facility's TPS: voters, ballots per type, undecided ballots, a plan out
    of date, shortages, exports."""
    election, facility = _election_and_facility(request, election_code, facility_code)
    check = services.logistics_check(election=election, facility=facility)
    ballots = check.ballots
    problems_by_voter: dict[int, dict] = {}
    for problem in ballots.problems:
        entry = problems_by_voter.setdefault(
            problem.inmate_id,
            {
                "name": problem.name,
                "registration_number": problem.registration_number,
                "tps": problem.tps_number,
                "items": [],
            },
        )
        entry["items"].append(f"{problem.ballot_label}: {problem.label}")
    context = {
        "title": f"{facility.name} · {election.name}",
        "election": election,
        "facility": facility,
        "ballots": ballots,
        "ballot_types": ballots.ballot_types,
        "totals": ballots.totals(),
        "problems": list(problems_by_voter.values()),
        "drift": check.drift,
        "shortages": check.shortages,
        "can_manage": services.can_manage_tps(request.user),
        "can_full_nik": getattr(request.user, "can_see_full_nik", False),
    }
    return render(request, "tps/stations/facility.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def stations_plan(request: HttpRequest, election_code: str, facility_code: str) -> HttpResponse:
    """GET: the plan as it would be now (nothing saved). POST: save it."""
    election, facility = _election_and_facility(request, election_code, facility_code)
    _require_manager(request)
    rebalance = request.POST.get("rebalance") == "1" or request.GET.get("rebalance") == "1"
    if request.method == "POST":
        try:
            result = services.tps_plan(
                election=election, facility=facility, user=request.user, rebalance=rebalance
            )
        except (ValidationError, ValueError) as exc:
            messages.error(request, str(getattr(exc, "user_message", None) or exc))
            return redirect("tps:stations_facility", election.code, facility.code)
        messages.success(
            request,
            gettext("Plan saved: %(tps)d TPS, %(moved)d voters moved, %(added)d added, %(removed)d removed.")
            % {
                "tps": len(result.plan.tps),
                "moved": len(result.moved),
                "added": len(result.added),
                "removed": len(result.removed),
            },
        )
        for shortage in result.shortages:
            messages.warning(request, shortage.message)
        return redirect("tps:stations_facility", election.code, facility.code)
    try:
        result = services.tps_plan(
            election=election, facility=facility, user=request.user, dry_run=True, rebalance=rebalance
        )
    except (ValidationError, ValueError) as exc:
        messages.error(request, str(getattr(exc, "user_message", None) or exc))
        return redirect("tps:stations_facility", election.code, facility.code)
    context = {
        "title": gettext("Plan preview"),
        "election": election,
        "facility": facility,
        "result": result,
        "rebalance": rebalance,
    }
    return render(request, "tps/stations/plan.html", context)


@login_required
@require_POST
def stations_fix_logistics(request: HttpRequest, election_code: str, facility_code: str) -> HttpResponse:
    election, facility = _election_and_facility(request, election_code, facility_code)
    _require_manager(request)
    try:
        saved = services.logistics_fix(
            election=election,
            facility=facility,
            user=request.user,
            allow_undecided=request.POST.get("allow_undecided") == "1",
        )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(
            request, gettext("Ballot logistics fixed: %(count)d allocations.") % {"count": len(saved)}
        )
    return redirect("tps:stations_facility", election.code, facility.code)


@login_required
@require_GET
def stations_tps(request: HttpRequest, election_code: str, facility_code: str, number: str) -> HttpResponse:
    """One TPS's list on screen (NIK and NKK masked)."""
    election, facility = _election_and_facility(request, election_code, facility_code)
    tps = get_for_user_or_404(
        Tps.objects.select_related("village"),
        request.user,
        election=election,
        facility=facility,
        number=number,
    )
    categories = services.voter_categories(election=election, facility=facility)
    voters = [
        {
            "order_number": assignment.order_number,
            "name": assignment.inmate.full_name,
            "registration_number": assignment.inmate.registration_number,
            "nik": mask_nik(assignment.inmate.nik),
            "nkk": mask_nkk(assignment.inmate.nkk),
            "sex": assignment.inmate.sex,
            "cell_block": assignment.inmate.cell_block,
            "category": categories.get(assignment.inmate_id, services.DEFAULT_CATEGORY),
            "manual": assignment.manual,
            "pk": assignment.pk,
        }
        for assignment in TpsAssignment.objects.filter(tps=tps)
        .select_related("inmate")
        .order_by("order_number")
    ]
    context = {
        "title": f"TPS {tps.number} · {facility.name}",
        "election": election,
        "facility": facility,
        "tps": tps,
        "voters": voters,
        "can_manage": services.can_manage_tps(request.user),
        "can_full_nik": getattr(request.user, "can_see_full_nik", False),
    }
    return render(request, "tps/stations/tps.html", context)


_CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
    "pdf": "application/pdf",
}


@login_required
@require_GET
def stations_export(request: HttpRequest, election_code: str, facility_code: str, fmt: str) -> HttpResponse:
    """The DPT as a download: ``?tps=NUMBER`` for one TPS, ``?full_nik=1`` for full numbers (XLSX/CSV)."""
    election, facility = _election_and_facility(request, election_code, facility_code)
    if fmt not in dpt_export.FORMATS:
        raise Http404
    tps_number = request.GET.get("tps") or None
    full_nik = request.GET.get("full_nik") == "1"
    dpt_export.check_full_nik(request.user, full_nik)
    try:
        content = dpt_export.export_bytes(
            election=election,
            facility=facility,
            fmt=fmt,
            tps_number=tps_number,
            full_nik=full_nik,
            user=request.user,
            request=request,
        )
    except dpt_export.ExportError as exc:
        messages.error(request, str(exc))
        return redirect("tps:stations_facility", election.code, facility.code)
    response = HttpResponse(content, content_type=_CONTENT_TYPES[fmt])
    filename = dpt_export.filename_for(
        election=election, facility=facility, fmt=fmt, tps_number=tps_number, full_nik=full_nik
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def stations_print(request: HttpRequest, election_code: str, facility_code: str) -> HttpResponse:
    """The A4 page for posting at the TPS: NIK and NKK always masked."""
    election, facility = _election_and_facility(request, election_code, facility_code)
    try:
        lists = dpt_export.tps_lists(
            election=election, facility=facility, tps_number=request.GET.get("tps") or None, mask=True
        )
    except dpt_export.ExportError as exc:
        messages.error(request, str(exc))
        return redirect("tps:stations_facility", election.code, facility.code)
    pages = [
        {"heading": dpt_export.heading(election, facility, item["tps"]), **item}
        for item in dpt_export.print_rows(lists)
    ]
    context = {
        "title": gettext("Voter list") + f" · {facility.name}",
        "election": election,
        "facility": facility,
        "columns": dpt_export.COLUMNS,
        "pages": pages,
    }
    return TemplateResponse(request, "tps/stations/dpt_print.html", context)


@login_required
@require_GET
def stations_recap(request: HttpRequest, election_code: str) -> HttpResponse:
    """Rekapitulasi of the user's scope: per TPS, facility and regency."""
    election = get_for_user_or_404(Election, request.user, code=election_code)
    summary = recap.recap(election=election, user=request.user)

    def line(row: recap.RecapRow) -> dict:
        return {
            "level": row.level,
            "label": row.label,
            "tps_count": row.tps_count,
            "voters": row.voters,
            "counts": [
                *row.sex_counts(),
                *row.disability_counts(),
                *row.category_counts(),
                *row.ballot_counts(summary.ballot_types),
            ],
        }

    lines = []
    for regency in summary.regencies:
        for facility in regency.facilities:
            lines.extend(line(row) for row in facility.tps)
            lines.append(line(facility.row))
        lines.append(line(regency.row))
    context = {
        "title": gettext("Recap") + f" · {election.name}",
        "election": election,
        "recap": summary,
        "lines": lines,
        "total": line(summary.total),
        "ballot_types": summary.ballot_types,
        "sexes": recap.SEXES,
        "disabilities": [code for code in recap.DISABILITIES if code],
        "categories": recap.CATEGORIES,
    }
    return render(request, "tps/stations/recap.html", context)
