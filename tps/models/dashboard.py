"""The national dashboard's figures, kept by the task worker."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from tps.models.elections import Election


class DashboardSnapshot(models.Model):
    """Every facility's dashboard figures for one election, computed in the background.

    Judging the whole register on every view of the admin's national page
    (hundreds of facilities, hundreds of thousands of people) takes tens of
    seconds; officers of one facility or one regency keep live figures. See
    ``tps.dashboard``.
    """

    election = models.OneToOneField(
        Election, verbose_name=_("election"), on_delete=models.CASCADE, related_name="dashboard_snapshot"
    )
    day = models.DateField(_("register as of"))
    computed_at = models.DateTimeField(_("computed at"))
    seconds = models.FloatField(_("seconds to compute"), default=0)
    # {facility id: {"in_custody", "eligible", ..., "ballots": {type: n}, "projection": [[key, day, n, n]]}}
    figures = models.JSONField(_("figures"), default=dict)
    refresh_requested_at = models.DateTimeField(_("refresh requested at"), null=True, blank=True)

    class Meta:
        verbose_name = _("dashboard snapshot")
        verbose_name_plural = _("dashboard snapshots")

    def __str__(self) -> str:
        return f"{self.election} @ {self.computed_at:%Y-%m-%d %H:%M}"
