"""Eligibility of every facility in the user's scope, judged in the background with progress."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from tps.eligibility import Reason
from tps.models import Election
from tps.models.voterlists import EligibilityRun
from tps.services.elections import eligibility_run_start
from tps.views.voterlists import _admin_context
from voterreg.scoping import get_for_user_or_404, scoped


@staff_member_required
@require_http_methods(["GET", "POST"])
def election_eligibility(request: HttpRequest, pk: int) -> HttpResponse:
    """Start a run for an election, and see the earlier ones."""
    election = get_for_user_or_404(Election, request.user, pk=pk)
    if request.method == "POST":
        run = eligibility_run_start(election=election, user=request.user)
        messages.success(request, _("The eligibility run has started; this page shows its progress."))
        return redirect("tps:eligibility_run", pk=run.pk)
    runs = scoped(EligibilityRun, request.user).filter(election=election).select_related("started_by")[:10]
    return render(
        request,
        "tps/voterlists/eligibility_runs.html",
        _admin_context(
            request, _("Eligibility for %(election)s") % {"election": election}, election=election, runs=runs
        ),
    )


@staff_member_required
@require_GET
def eligibility_run(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_for_user_or_404(
        EligibilityRun.objects.select_related("election", "started_by"), request.user, pk=pk
    )
    rows = [
        {
            "code": code,
            **counts,
            "reasons": [
                (str(Reason(reason).label), count) for reason, count in counts.get("reasons", {}).items()
            ],
        }
        for code, counts in sorted(run.result.items())
    ]
    return render(
        request,
        "tps/voterlists/eligibility_run.html",
        _admin_context(
            request,
            str(run),
            run=run,
            rows=rows,
            running=run.status in (EligibilityRun.Status.PENDING, EligibilityRun.Status.RUNNING),
        ),
    )
