"""A log of sensitive actions (full-NIK exports, merges, list acceptance) for admins to review."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from inmates.models.register import Facility, User


class AccessLogQuerySet(models.QuerySet):
    def for_user(self, user) -> AccessLogQuerySet:
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        return self.all() if user.is_admin_role else self.none()


class AccessLog(models.Model):
    class Action(models.TextChoices):
        EXPORT_FULL_NIK = "export_full_nik", _("Export with full NIK")
        EXPORT = "export", _("Export")
        MERGE = "merge", _("Duplicate merge")
        DISMISS = "dismiss", _("Duplicate dismissed")
        LIST_ACCEPTED = "list_accepted", _("Voter list accepted")
        LIST_RETURNED = "list_returned", _("Voter list returned")
        IMPORT = "import", _("Import")
        LOGIN_LOCKED = "login_locked", _("Login locked out")

    user = models.ForeignKey(
        User, verbose_name=_("user"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(_("action"), max_length=20, choices=Action.choices, db_index=True)
    facility = models.ForeignKey(
        Facility,
        verbose_name=_("facility"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    target = models.CharField(_("object"), max_length=255, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)

    objects = AccessLogQuerySet.as_manager()

    class Meta:
        verbose_name = _("sensitive-action log entry")
        verbose_name_plural = _("sensitive-action log")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.user} {self.get_action_display()}"
