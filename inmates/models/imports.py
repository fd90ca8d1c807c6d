"""Upload jobs: an inmate or DPT file from preview to result."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from inmates.models.register import Facility, Region, User


class ImportJobQuerySet(models.QuerySet):
    def for_user(self, user) -> ImportJobQuerySet:
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        if user.is_admin_role:
            return self.all()
        return self.filter(created_by=user)


class ImportJob(models.Model):
    """One upload (inmates or DPT) from preview to result, run by the task worker."""

    class Kind(models.TextChoices):
        INMATES = "inmates", _("Inmates")
        DPT = "dpt", _("KPU DPT")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Running")
        PREVIEW = "preview", _("Preview ready")
        FAILED = "failed", _("Has errors")
        DONE = "done", _("Imported")
        CANCELLED = "cancelled", _("Cancelled")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.INMATES)
    facility = models.ForeignKey(
        Facility,
        verbose_name=_("facility"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    regency = models.ForeignKey(
        Region,
        verbose_name=_("regency/city"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    file = models.FileField(_("file"), upload_to="imports/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=255)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    dry_run = models.BooleanField(_("preview only"), default=True)
    # What a running job is doing now, for the progress page ("checking", "writing").
    phase = models.CharField(_("phase"), max_length=10, blank=True)
    # The uploader's language: the background job writes the report's messages in it.
    language = models.CharField(_("language"), max_length=10, blank=True)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    processed_rows = models.PositiveIntegerField(_("rows processed"), default=0)
    report = models.JSONField(_("report"), default=dict, blank=True)
    task_id = models.CharField(_("task id"), max_length=64, blank=True)
    created_by = models.ForeignKey(User, verbose_name=_("uploaded by"), null=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    objects = ImportJobQuerySet.as_manager()

    class Meta:
        verbose_name = _("import job")
        verbose_name_plural = _("import jobs")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.get_status_display()})"

    @property
    def progress_percent(self) -> int:
        if not self.total_rows:
            return 100 if self.status in (self.Status.PREVIEW, self.Status.DONE, self.Status.FAILED) else 0
        return min(100, round(100 * self.processed_rows / self.total_rows))
