"""What the background job rows have in common (duplicate detection, eligibility, TPS runs)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class RunStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    RUNNING = "running", _("Running")
    DONE = "done", _("Finished")
    FAILED = "failed", _("Failed")


class StartedRunQuerySet(models.QuerySet):
    """Rows of a job with a ``started_by`` user."""

    def for_user(self, user) -> StartedRunQuerySet:
        """Admins see every run; others the runs they started (which cover only their scope)."""
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        if user.is_admin_role:
            return self.all()
        return self.filter(started_by=user)


class FacilityRunProgress:
    """``progress_percent`` of a run counting facilities (``processed`` of ``total``)."""

    @property
    def progress_percent(self) -> int:
        if self.status == RunStatus.DONE:
            return 100
        return int(100 * self.processed / self.total) if self.total else 0
