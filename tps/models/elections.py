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

# Move deadlines before voting day (PKPU 7/2022, MK 20/PUU-XVII/2019).
MOVE_DEADLINE_DAYS = 30
DETAINEE_MOVE_DEADLINE_DAYS = 7


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

    def save(self, *args, **kwargs) -> None:
        super().save(*args, **kwargs)
        self._stored_voting_day = self.voting_day

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        # The voting day as stored, so clean() can tell that it changed.
        instance._stored_voting_day = instance.__dict__.get("voting_day")
        return instance

    @classmethod
    def ballot_types_of(cls, election_type: str) -> list[BallotType]:
        """The ballot types an election of ``election_type`` may have (and has by default)."""
        return list(PEMILU_BALLOTS if election_type == cls.Type.PEMILU else PILKADA_BALLOTS)

    def clean(self) -> None:
        super().clean()
        unknown = [code for code in self.ballot_types or [] if code not in BallotType.values]
        if unknown:
            raise ValidationError(
                {"ballot_types": _("Unknown ballot types: %(codes)s") % {"codes": ", ".join(unknown)}}
            )
        if not self.ballot_types:
            self.ballot_types = [str(code) for code in self.ballot_types_of(self.type)]
        errors: dict[str, list] = {}
        if self.type in self.Type.values:
            allowed = self.ballot_types_of(self.type)
            foreign = [code for code in self.ballot_types if code not in allowed]
            if foreign:
                labels = dict(BallotType.choices)
                errors["ballot_types"] = [
                    _("Ballot types %(codes)s do not belong to a %(type)s. Choose from: %(allowed)s.")
                    % {
                        "codes": ", ".join(str(labels[code]) for code in foreign),
                        "type": self.get_type_display(),
                        "allowed": ", ".join(str(code.label) for code in allowed),
                    }
                ]
        if self.voting_day:
            self._follow_voting_day()
            if self.move_deadline is None:
                self.move_deadline = self.voting_day - datetime.timedelta(days=MOVE_DEADLINE_DAYS)
            if self.detainee_move_deadline is None:
                self.detainee_move_deadline = self.voting_day - datetime.timedelta(
                    days=DETAINEE_MOVE_DEADLINE_DAYS
                )
            errors.update(self._deadline_errors())
        if errors:
            raise ValidationError(errors)

    def _follow_voting_day(self) -> None:
        """A deadline that was the default of the stored voting day moves with a new voting day.

        A deadline set by hand (any other date) stays as it is, and is then
        checked against the new voting day like any other.
        """
        old = getattr(self, "_stored_voting_day", None)
        if old is None or old == self.voting_day:
            return
        if self.move_deadline == old - datetime.timedelta(days=MOVE_DEADLINE_DAYS):
            self.move_deadline = self.voting_day - datetime.timedelta(days=MOVE_DEADLINE_DAYS)
        if self.detainee_move_deadline == old - datetime.timedelta(days=DETAINEE_MOVE_DEADLINE_DAYS):
            self.detainee_move_deadline = self.voting_day - datetime.timedelta(
                days=DETAINEE_MOVE_DEADLINE_DAYS
            )

    def _deadline_errors(self) -> dict[str, list]:
        errors: dict[str, list] = {}
        voting_day = self.voting_day.strftime("%d-%m-%Y")
        if self.move_deadline > self.voting_day:
            errors["move_deadline"] = [
                _(
                    "The move request deadline (H-30), %(deadline)s, cannot be after voting day "
                    "(%(voting_day)s). Leave it empty for 30 days before voting day."
                )
                % {"deadline": self.move_deadline.strftime("%d-%m-%Y"), "voting_day": voting_day}
            ]
        if self.detainee_move_deadline > self.voting_day:
            errors["detainee_move_deadline"] = [
                _(
                    "The detainee move deadline (H-7), %(deadline)s, cannot be after voting day "
                    "(%(voting_day)s). Leave it empty for 7 days before voting day."
                )
                % {"deadline": self.detainee_move_deadline.strftime("%d-%m-%Y"), "voting_day": voting_day}
            ]
        elif self.detainee_move_deadline < self.move_deadline and "move_deadline" not in errors:
            errors["detainee_move_deadline"] = [
                _(
                    "The detainee move deadline (H-7), %(detainee)s, cannot be before the move request "
                    "deadline (H-30), %(ordinary)s: detainees may still move after ordinary moves close."
                )
                % {
                    "detainee": self.detainee_move_deadline.strftime("%d-%m-%Y"),
                    "ordinary": self.move_deadline.strftime("%d-%m-%Y"),
                }
            ]
        return errors

    @property
    def h30(self) -> datetime.date:
        return self.move_deadline or self.voting_day - datetime.timedelta(days=MOVE_DEADLINE_DAYS)

    @property
    def h7(self) -> datetime.date:
        return self.detainee_move_deadline or self.voting_day - datetime.timedelta(
            days=DETAINEE_MOVE_DEADLINE_DAYS
        )


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
