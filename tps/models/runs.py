"""TPS planning and DPT exports over many facilities, done by the task worker (``StationRun``).

A run is a job row, like ``EligibilityRun``: the facilities are fixed when it
starts, the worker goes through them one at a time and writes its progress
(facilities done, voters planned or rows exported, per-facility figures)
after each, so the page can show it while the job runs.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from inmates.models import Region, User
from inmates.models.runs import FacilityRunProgress, RunStatus, StartedRunQuerySet
from tps.models.elections import Election


class StationRun(FacilityRunProgress, models.Model):
    """TPS planning or a DPT export for every facility of a user's scope (or of one regency)."""

    class Kind(models.TextChoices):
        PLAN = "plan", _("TPS planning")
        EXPORT = "export", _("DPT export")

    class Format(models.TextChoices):
        XLSX = "xlsx", "XLSX"
        CSV = "csv", "CSV"
        PDF = "pdf", "PDF"

    Status = RunStatus

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    election = models.ForeignKey(
        Election, verbose_name=_("election"), on_delete=models.CASCADE, related_name="+"
    )
    # The regency the user narrowed the run to (empty: the whole scope).
    regency = models.ForeignKey(
        Region,
        verbose_name=_("regency/city"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Codes of the facilities in scope when the run started, in the order worked through.
    facility_codes = models.JSONField(_("facilities"), default=list, blank=True)
    fmt = models.CharField(_("format"), max_length=4, choices=Format.choices, blank=True)
    full_nik = models.BooleanField(_("full NIK and NKK"), default=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    processed = models.PositiveIntegerField(_("facilities done"), default=0)
    total = models.PositiveIntegerField(_("facilities"), default=0)
    rows = models.PositiveIntegerField(_("voters"), default=0)
    # plan:   {code: {"name", "tps", "voters", "moved", "added", "removed", "created_tps", "shortages"}}
    # export: {code: {"name", "rows", "files": [name, ...]}}
    # either: {code: {"name", "error"}} for a facility that could not be done
    result = models.JSONField(_("result"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    output = models.FileField(_("file"), upload_to="station_runs/", blank=True)
    task_id = models.CharField(_("task id"), max_length=64, blank=True)
    started_by = models.ForeignKey(
        User, verbose_name=_("started by"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("started at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    objects = StartedRunQuerySet.as_manager()

    class Meta:
        verbose_name = _("TPS run")
        verbose_name_plural = _("TPS runs")
        ordering = ["-created_at", "-pk"]
        constraints = [
            # A plan has no file format and never full numbers; an export always has a format,
            # and the PDF (for posting at the TPS) is always masked.
            models.CheckConstraint(
                condition=Q(kind="plan", fmt="", full_nik=False)
                | Q(kind="export", fmt__in=["xlsx", "csv"])
                | Q(kind="export", fmt="pdf", full_nik=False),
                name="station_run_kind_format",
            ),
            models.CheckConstraint(
                condition=Q(processed__lte=models.F("total")), name="station_run_progress"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.election} ({self.get_status_display()})"

    @property
    def is_running(self) -> bool:
        return self.status in (self.Status.PENDING, self.Status.RUNNING)
