"""The dashboard page: one page for every role, showing the user's scope."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_GET

from tps.dashboard import chart_data, dashboard_data, default_election
from tps.models import BallotType, Election
from tps.views.stations import render
from voterreg.scoping import get_for_user_or_404, scoped


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    code = request.GET.get("election")
    election = get_for_user_or_404(Election, request.user, code=code) if code else default_election(today)
    data = dashboard_data(user=request.user, election=election, today=today)
    context = {
        "title": gettext("Dashboard"),
        "dashboard": data,
        "election": election,
        "elections": scoped(Election, request.user),
        "ballot_labels": [(code, BallotType(code).label) for code in data.ballot_types],
        "charts": chart_data(data),
    }
    return render(request, "tps/dashboard/index.html", context)
