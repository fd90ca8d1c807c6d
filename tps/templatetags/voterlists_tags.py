"""Template tags of the lists feature: the projection panel of the facility page."""

from __future__ import annotations

from django import template
from django.utils import timezone

from tps import projection
from tps.models import Election, VoterList
from tps.services import voterlists as services

register = template.Library()

PANEL_ELECTIONS = 3


@register.inclusion_tag("tps/voterlists/projection_panel.html", takes_context=True)
def facility_projection_panel(context, facility):
    """Projection and list versions per election for ``facility`` (already scoped by its admin page).

    Upcoming elections are shown; when none is upcoming, the latest ones.
    """
    request = context["request"]
    today = timezone.localdate()
    elections = list(Election.objects.for_user(request.user).order_by("-voting_day")[:20])
    upcoming = sorted((e for e in elections if e.voting_day >= today), key=lambda e: e.voting_day)
    shown = (upcoming or elections)[:PANEL_ELECTIONS]
    lists = {}
    for voter_list in VoterList.objects.filter(facility=facility, election__in=shown).order_by("-version"):
        lists.setdefault(voter_list.election_id, []).append(voter_list)
    projections = projection.facility_projections(elections=shown, facility=facility, today=today)
    panels = [
        {"election": election, "projection": result, "lists": lists.get(election.pk, [])[:5]}
        for election, result in zip(shown, projections, strict=True)
    ]
    return {
        "facility": facility,
        "panels": panels,
        "today": today,
        "can_prepare": services.can_prepare(request.user, facility),
        "request": request,
        "csrf_token": context.get("csrf_token"),
    }
