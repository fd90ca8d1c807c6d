"""TPS Khusus inside a facility, who votes where, and the ballots each needs."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from inmates.models import Facility, Inmate, Region, User
from tps.models.elections import BallotType, Election


class TpsQuerySet(models.QuerySet):
    def for_user(self, user) -> TpsQuerySet:
        return self.filter(facility__in=Facility.objects.for_user(user))


class Tps(models.Model):
    """A polling station at a special location (TPS Lokasi Khusus)."""

    election = models.ForeignKey(
        Election, verbose_name=_("election"), on_delete=models.PROTECT, related_name="tps"
    )
    facility = models.ForeignKey(
        Facility, verbose_name=_("facility"), on_delete=models.PROTECT, related_name="tps"
    )
    number = models.CharField(_("number"), max_length=10, help_text=_("e.g. 901"))
    village = models.ForeignKey(
        Region,
        verbose_name=_("village"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"level": Region.Level.VILLAGE},
        help_text=_("The village (desa/kelurahan) where the TPS stands."),
    )
    capacity = models.PositiveIntegerField(_("capacity"), help_text=_("Defaults to the election's maximum."))
    # How many assignments the TPS holds, kept by the services in the same
    # transaction as every change to them: the check constraint below then
    # makes the database itself refuse a TPS over capacity, even if two
    # officers move voters at the same moment.
    voter_count = models.PositiveIntegerField(_("voters"), default=0, editable=False)
    logistics_fixed_at = models.DateTimeField(_("ballot logistics fixed at"), null=True, blank=True)

    history = HistoricalRecords()
    objects = TpsQuerySet.as_manager()

    class Meta:
        verbose_name = _("TPS")
        verbose_name_plural = _("TPS")
        ordering = ["election", "facility", "number"]
        constraints = [
            models.UniqueConstraint(fields=["election", "facility", "number"], name="tps_unique_number"),
            models.CheckConstraint(name="tps_positive_capacity", condition=Q(capacity__gt=0)),
            models.CheckConstraint(
                name="tps_voters_within_capacity", condition=Q(voter_count__lte=F("capacity"))
            ),
        ]

    def __str__(self) -> str:
        return f"TPS {self.number} · {self.facility}"

    def clean(self) -> None:
        super().clean()
        errors: dict[str, list] = {}
        number = (self.number or "").strip()
        if self.number is not None:
            self.number = number
        if number and not number.isdigit():
            errors.setdefault("number", []).append(_("Use digits only, e.g. 901."))
        election = self.election if self.election_id else None
        if self.capacity and election is not None and self.capacity > election.max_voters_per_tps:
            errors.setdefault("capacity", []).append(
                _("At most %(max)d voters per TPS in this election.") % {"max": election.max_voters_per_tps}
            )
        if self.capacity and self.voter_count and self.capacity < self.voter_count:
            errors.setdefault("capacity", []).append(
                _("The TPS already has %(count)d voters; move voters out before lowering its capacity.")
                % {"count": self.voter_count}
            )
        if self.village_id:
            if self.village.level != Region.Level.VILLAGE:
                errors.setdefault("village", []).append(_("Choose a village (desa/kelurahan)."))
            elif self.facility_id and not self.village_id.startswith(f"{self.facility.regency_id}."):
                errors.setdefault("village", []).append(
                    _("The village must lie in the facility's regency/city (%(regency)s).")
                    % {"regency": self.facility.regency}
                )
        if errors:
            raise ValidationError(errors)


class TpsAssignmentQuerySet(models.QuerySet):
    def for_user(self, user) -> TpsAssignmentQuerySet:
        return self.filter(tps__facility__in=Facility.objects.for_user(user))


class TpsAssignment(models.Model):
    """An inmate voting at a TPS, with their number on its list. One per inmate per election."""

    election = models.ForeignKey(
        Election, verbose_name=_("election"), on_delete=models.CASCADE, related_name="+"
    )
    tps = models.ForeignKey(Tps, verbose_name=_("TPS"), on_delete=models.CASCADE, related_name="assignments")
    inmate = models.ForeignKey(
        Inmate, verbose_name=_("inmate"), on_delete=models.CASCADE, related_name="tps_assignments"
    )
    order_number = models.PositiveIntegerField(_("number on the list"), default=0)
    category = models.CharField(_("category"), max_length=4, blank=True, help_text=_("DPT, DPTb or DPK"))
    manual = models.BooleanField(_("moved by hand"), default=False)

    history = HistoricalRecords()
    objects = TpsAssignmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("TPS assignment")
        verbose_name_plural = _("TPS assignments")
        ordering = ["tps", "order_number"]
        constraints = [
            models.UniqueConstraint(fields=["election", "inmate"], name="tps_assignment_one_per_election"),
        ]

    def __str__(self) -> str:
        return f"{self.order_number}. {self.inmate.full_name} @ {self.tps.number}"


class BallotAllocationQuerySet(models.QuerySet):
    def for_user(self, user) -> BallotAllocationQuerySet:
        return self.filter(tps__facility__in=Facility.objects.for_user(user))


class BallotAllocation(models.Model):
    """Ballots of one type fixed for delivery to a TPS: compared later to catch shortages."""

    tps = models.ForeignKey(
        Tps, verbose_name=_("TPS"), on_delete=models.CASCADE, related_name="ballot_allocations"
    )
    ballot_type = models.CharField(_("ballot type"), max_length=20, choices=BallotType.choices)
    voters = models.PositiveIntegerField(_("voters entitled"))
    reserve = models.PositiveIntegerField(_("reserve"))
    total = models.PositiveIntegerField(_("total to deliver"))
    fixed_by = models.ForeignKey(
        User, verbose_name=_("fixed by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    fixed_at = models.DateTimeField(_("fixed at"), auto_now=True)

    history = HistoricalRecords()
    objects = BallotAllocationQuerySet.as_manager()

    class Meta:
        verbose_name = _("ballot allocation")
        verbose_name_plural = _("ballot allocations")
        ordering = ["tps", "ballot_type"]
        constraints = [
            models.UniqueConstraint(fields=["tps", "ballot_type"], name="ballot_allocation_unique_type"),
        ]

    def __str__(self) -> str:
        return f"{self.tps} {self.ballot_type}: {self.total}"
