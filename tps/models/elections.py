"""Elections, their ballot types, and electoral districts (dapil)."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from inmates.models import Region


class BallotType(models.TextChoices):
    PPWP = "PPWP", _("President and Vice President (PPWP)")
    DPR = "DPR", _("DPR")
    DPD = "DPD", _("DPD")
    DPRD_PROV = "DPRD_PROV", _("DPRD Provinsi")
    DPRD_KABKOTA = "DPRD_KABKOTA", _("DPRD Kabupaten/Kota")
    GUBERNUR = "GUBERNUR", _("Governor (Gubernur)")
    BUPATI_WALIKOTA = "BUPATI_WALIKOTA", _("Regent/Mayor (Bupati/Wali Kota)")


PEMILU_BALLOTS = [
    BallotType.PPWP,
    BallotType.DPR,
    BallotType.DPD,
    BallotType.DPRD_PROV,
    BallotType.DPRD_KABKOTA,
]
PILKADA_BALLOTS = [BallotType.GUBERNUR, BallotType.BUPATI_WALIKOTA]


class ElectionQuerySet(models.QuerySet):
    def for_user(self, user) -> ElectionQuerySet:
        # Elections are public reference data: every signed-in user reads them.
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        return self.all()


class Election(models.Model):
    class Type(models.TextChoices):
        PEMILU = "pemilu", _("General election (Pemilu)")
        PILKADA = "pilkada", _("Regional election (Pilkada)")

    code = models.SlugField(_("code"), max_length=50, unique=True, help_text=_("e.g. pemilu-2024"))
    name = models.CharField(_("name"), max_length=200)
    type = models.CharField(_("type"), max_length=10, choices=Type.choices)
    voting_day = models.DateField(_("voting day"))
    max_voters_per_tps = models.PositiveIntegerField(_("maximum voters per TPS"), default=300)
    ballot_reserve_rate = models.DecimalField(
        _("ballot reserve rate"),
        max_digits=5,
        decimal_places=4,
        default=Decimal("0.02"),
        help_text=_("Extra ballots per TPS as a fraction: 0.02 is 2 %."),
    )
    move_deadline = models.DateField(
        _("move request deadline (H-30)"), null=True, blank=True, help_text=_("Ordinary DPTb moves close.")
    )
    detainee_move_deadline = models.DateField(
        _("detainee move deadline (H-7)"), null=True, blank=True, help_text=_("Detainee DPTb moves close.")
    )
    ballot_types = models.JSONField(_("ballot types"), default=list)

    history = HistoricalRecords()
    objects = ElectionQuerySet.as_manager()

    class Meta:
        verbose_name = _("election")
        verbose_name_plural = _("elections")
        ordering = ["-voting_day"]
        constraints = [
            models.CheckConstraint(name="election_positive_tps_size", condition=Q(max_voters_per_tps__gt=0)),
            models.CheckConstraint(
                name="election_reserve_rate_range",
                condition=Q(ballot_reserve_rate__gte=0, ballot_reserve_rate__lt=1),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        unknown = [code for code in self.ballot_types or [] if code not in BallotType.values]
        if unknown:
            raise ValidationError(
                {"ballot_types": _("Unknown ballot types: %(codes)s") % {"codes": ", ".join(unknown)}}
            )
        if not self.ballot_types:
            self.ballot_types = list(PEMILU_BALLOTS if self.type == self.Type.PEMILU else PILKADA_BALLOTS)
        if self.voting_day:
            if self.move_deadline is None:
                self.move_deadline = self.voting_day - datetime.timedelta(days=30)
            if self.detainee_move_deadline is None:
                self.detainee_move_deadline = self.voting_day - datetime.timedelta(days=7)

    @property
    def h30(self) -> datetime.date:
        return self.move_deadline or self.voting_day - datetime.timedelta(days=30)

    @property
    def h7(self) -> datetime.date:
        return self.detainee_move_deadline or self.voting_day - datetime.timedelta(days=7)


class DapilQuerySet(models.QuerySet):
    def for_user(self, user) -> DapilQuerySet:
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        return self.all()


class Dapil(models.Model):
    """An electoral district of one contest: a set of regencies, or of districts for DPRD Kab/Kota."""

    class Contest(models.TextChoices):
        DPR = "DPR", _("DPR")
        DPRD_PROV = "DPRD_PROV", _("DPRD Provinsi")
        DPRD_KABKOTA = "DPRD_KABKOTA", _("DPRD Kabupaten/Kota")

    election = models.ForeignKey(
        Election, verbose_name=_("election"), on_delete=models.CASCADE, related_name="dapils"
    )
    contest = models.CharField(_("contest"), max_length=15, choices=Contest.choices)
    code = models.CharField(_("code"), max_length=50, help_text=_("e.g. JATENG III"))
    name = models.CharField(_("name"), max_length=200, blank=True)
    is_demo = models.BooleanField(_("demo data"), default=False, help_text=_("Illustrative, not official."))
    regions = models.ManyToManyField(
        Region,
        verbose_name=_("areas"),
        related_name="+",
        help_text=_("Regencies for DPR and DPRD Provinsi; districts (kecamatan) for DPRD Kab/Kota."),
    )

    history = HistoricalRecords()
    objects = DapilQuerySet.as_manager()

    class Meta:
        verbose_name = _("electoral district (dapil)")
        verbose_name_plural = _("electoral districts (dapil)")
        ordering = ["election", "contest", "code"]
        constraints = [
            models.UniqueConstraint(fields=["election", "contest", "code"], name="dapil_unique_code"),
        ]

    def __str__(self) -> str:
        demo = " (demo)" if self.is_demo else ""
        return f"{self.get_contest_display()} {self.code}{demo}"
