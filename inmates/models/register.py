"""The inmate register: regions, facilities, users with their scope, inmates
and their custody history.

Scoping lives here, once per model, as ``for_user(user)`` queryset methods.
Every view, admin page, export and command that acts for a user reads through
them.
"""

from __future__ import annotations

import datetime

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import OuterRef, Q, Subquery
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from inmates import nik as nik_rules


class Region(models.Model):
    """A Kemendagri administrative area, keyed by its dotted code (``33.16``)."""

    class Level(models.IntegerChoices):
        PROVINCE = 1, _("Province")
        REGENCY = 2, _("Regency/City")
        DISTRICT = 3, _("District")
        VILLAGE = 4, _("Village")

    code = models.CharField(_("code"), max_length=13, primary_key=True)
    name = models.CharField(_("name"), max_length=100)
    level = models.PositiveSmallIntegerField(_("level"), choices=Level.choices, db_index=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @staticmethod
    def level_of(code: str) -> int:
        return code.count(".") + 1

    @property
    def regency_code(self) -> str | None:
        return ".".join(self.code.split(".")[:2]) if self.level >= self.Level.REGENCY else None

    @property
    def province_code(self) -> str:
        return self.code.split(".")[0]

    def ancestors_codes(self) -> list[str]:
        parts = self.code.split(".")
        return [".".join(parts[: i + 1]) for i in range(len(parts))]


class FacilityQuerySet(models.QuerySet):
    def for_user(self, user) -> FacilityQuerySet:
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        if user.is_superuser or user.role == User.Role.ADMIN:
            return self.all()
        if user.role == User.Role.RUTAN and user.facility_id:
            return self.filter(pk=user.facility_id)
        if user.role == User.Role.KPU and user.regency_id:
            return self.filter(regency_id=user.regency_id)
        return self.none()


class Facility(models.Model):
    """A UPT Pemasyarakatan: Rutan, Lapas, LPKA …"""

    class Type(models.TextChoices):
        RUTAN = "rutan", _("Rutan (detention centre)")
        LAPAS = "lapas", _("Lapas (prison)")
        LPKA = "lpka", _("LPKA (juvenile)")
        LAPAS_PEREMPUAN = "lapas_perempuan", _("Lapas Perempuan (women's prison)")
        OTHER = "other", _("Other")

    code = models.SlugField(
        _("code"), max_length=50, unique=True, help_text=_("Short name, e.g. rutan-blora.")
    )
    name = models.CharField(_("name"), max_length=200)
    type = models.CharField(_("type"), max_length=20, choices=Type.choices, default=Type.RUTAN)
    facility_class = models.CharField(_("class"), max_length=20, blank=True, help_text=_("e.g. Kelas IIB"))
    regency = models.ForeignKey(
        Region,
        verbose_name=_("regency/city"),
        on_delete=models.PROTECT,
        related_name="facilities",
        limit_choices_to={"level": Region.Level.REGENCY},
    )
    address = models.TextField(_("address"), blank=True)

    history = HistoricalRecords()
    objects = FacilityQuerySet.as_manager()

    class Meta:
        verbose_name = _("facility")
        verbose_name_plural = _("facilities")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class UserQuerySet(models.QuerySet):
    def for_user(self, user) -> UserQuerySet:
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        if user.is_superuser or user.role == User.Role.ADMIN:
            return self.all()
        return self.filter(pk=user.pk)


class ScopedUserManager(UserManager.from_queryset(UserQuerySet)):
    pass


class User(AbstractUser):
    """A person who signs in. The role says what they may do, the scope where."""

    class Role(models.TextChoices):
        ADMIN = "admin", _("Administrator")
        KPU = "kpu", _("KPU Kabupaten/Kota officer")
        RUTAN = "rutan", _("Rutan/Lapas officer")

    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.RUTAN)
    facility = models.ForeignKey(
        Facility,
        verbose_name=_("facility"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="staff",
        help_text=_("For Rutan/Lapas officers: the only facility they see."),
    )
    regency = models.ForeignKey(
        Region,
        verbose_name=_("regency/city"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"level": Region.Level.REGENCY},
        help_text=_("For KPU officers: the regency whose facilities they see."),
    )

    history = HistoricalRecords(excluded_fields=["password", "last_login"])
    objects = ScopedUserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                name="user_rutan_has_facility",
                condition=~Q(role="rutan") | Q(facility__isnull=False) | Q(is_superuser=True),
            ),
            models.CheckConstraint(
                name="user_kpu_has_regency",
                condition=~Q(role="kpu") | Q(regency__isnull=False) | Q(is_superuser=True),
            ),
        ]

    def clean(self) -> None:
        super().clean()
        if self.role == self.Role.RUTAN and not self.facility_id and not self.is_superuser:
            raise ValidationError({"facility": _("A Rutan/Lapas officer needs a facility.")})
        if self.role == self.Role.KPU and not self.regency_id and not self.is_superuser:
            raise ValidationError({"regency": _("A KPU officer needs a regency.")})

    @property
    def is_admin_role(self) -> bool:
        return self.is_superuser or self.role == self.Role.ADMIN

    @property
    def can_edit_register(self) -> bool:
        """Rutan staff keep their register; admins may correct anything; KPU reads."""
        return self.is_active and (self.is_admin_role or self.role == self.Role.RUTAN)

    @property
    def can_see_full_nik(self) -> bool:
        """Whether this user may ask for full NIK/NKK in exports (an explicit choice each time).

        Every active officer works with the full numbers of their own scope: Rutan
        staff enter them, KPU officers match them against the DPT. Exports are
        masked unless full numbers are asked for, each such export is in the
        access log, and anything meant for posting (the printable DPT, PDF) is
        always masked, whoever asks.
        """
        return self.is_active and (self.is_admin_role or self.role in (self.Role.RUTAN, self.Role.KPU))


class CustodyStatus(models.TextChoices):
    IN_CUSTODY = "in_custody", _("In custody")
    TRANSFERRED = "transferred", _("Transferred out")
    RELEASED = "released", _("Released")
    DECEASED = "deceased", _("Deceased")


class InmateQuerySet(models.QuerySet):
    def for_user(self, user) -> InmateQuerySet:
        if getattr(user, "is_authenticated", False) and user.is_active and user.is_admin_role:
            return self.all()  # not "facility IN (every facility)": that subquery slows the admin's searches
        return self.filter(facility__in=Facility.objects.for_user(user))

    def active(self) -> InmateQuerySet:
        """Records that count: not marked as a duplicate of another record."""
        return self.filter(duplicate_of__isnull=True)

    def in_custody(self) -> InmateQuerySet:
        return self.filter(custody_status=CustodyStatus.IN_CUSTODY)

    def in_custody_on(self, day: datetime.date) -> InmateQuerySet:
        """Inmates whose latest custody event on or before ``day`` puts them inside."""
        latest = (
            CustodyEvent.objects.filter(inmate=OuterRef("pk"), date__lte=day)
            .order_by("-date", "-pk")
            .values("kind")[:1]
        )
        return self.annotate(_kind_on_day=Subquery(latest)).filter(
            _kind_on_day__in=CustodyEvent.ENTERING_KINDS
        )

    def missing_nik(self) -> InmateQuerySet:
        return self.filter(nik__isnull=True)


class Inmate(models.Model):
    """A WBP (warga binaan pemasyarakatan) in one facility's register."""

    class Sex(models.TextChoices):
        MALE = "L", _("Male (L)")
        FEMALE = "P", _("Female (P)")

    class MaritalStatus(models.TextChoices):
        NOT_MARRIED = "belum_kawin", _("Not married (belum kawin)")
        MARRIED = "kawin", _("Married (kawin)")
        DIVORCED = "cerai_hidup", _("Divorced (cerai hidup)")
        WIDOWED = "cerai_mati", _("Widowed (cerai mati)")

    class Citizenship(models.TextChoices):
        WNI = "WNI", _("Indonesian citizen (WNI)")
        WNA = "WNA", _("Foreign citizen (WNA)")

    class CustodyType(models.TextChoices):
        TAHANAN = "tahanan", _("Detainee (tahanan)")
        NARAPIDANA = "narapidana", _("Sentenced (narapidana)")

    class Disability(models.TextChoices):
        # Official codes on KPU worksheets: 1 physical … 6 visual.
        NONE = "", _("None")
        PHYSICAL = "1", _("1 Physical")
        INTELLECTUAL = "2", _("2 Intellectual")
        MENTAL = "3", _("3 Mental")
        SPEECH = "4", _("4 Speech")
        HEARING = "5", _("5 Hearing")
        VISUAL = "6", _("6 Visual")

    class KtpStatus(models.TextChoices):
        HAS = "S", _("Has KTP-el (S)")
        HAS_NOT = "B", _("No KTP-el yet (B)")

    # No index of its own: the unique (facility, registration number) and the
    # indexes in Meta lead with it. Each index the register carries is paid for
    # on every imported row (docs/imports.md).
    facility = models.ForeignKey(
        Facility, verbose_name=_("facility"), on_delete=models.PROTECT, related_name="inmates", db_index=False
    )
    registration_number = models.CharField(
        _("registration number"), max_length=50, help_text=_("Facility register number, e.g. AI.123/2023.")
    )
    # NULL, not "": an absent NIK is "unknown", and never equal to another absent one.
    nik = models.CharField(_("NIK"), max_length=16, null=True, blank=True, db_index=True)  # noqa: DJ001
    nkk = models.CharField(_("NKK"), max_length=16, blank=True)
    full_name = models.CharField(_("full name"), max_length=150)
    birth_place = models.CharField(_("birth place"), max_length=100, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True, db_index=True)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    marital_status = models.CharField(
        _("marital status"), max_length=12, choices=MaritalStatus.choices, default=MaritalStatus.NOT_MARRIED
    )
    citizenship = models.CharField(_("citizenship"), max_length=3, choices=Citizenship.choices, default="WNI")
    address = models.CharField(_("domicile address"), max_length=255, blank=True)
    rt = models.CharField(_("RT"), max_length=3, blank=True)
    rw = models.CharField(_("RW"), max_length=3, blank=True)
    domicile_region = models.ForeignKey(
        Region,
        verbose_name=_("domicile region"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # indexed in Meta: no pattern (LIKE) index, nothing searches codes by prefix
        help_text=_("Village or district code of the home address (Kemendagri)."),
    )
    custody_type = models.CharField(_("custody type"), max_length=10, choices=CustodyType.choices)
    admission_date = models.DateField(_("admission date"))
    expected_release_date = models.DateField(_("expected release date"), null=True, blank=True)
    cell_block = models.CharField(_("cell block"), max_length=50, blank=True)
    disability = models.CharField(
        _("disability"), max_length=1, choices=Disability.choices, blank=True, default=""
    )
    ktp_el_status = models.CharField(
        _("KTP-el status"), max_length=1, choices=KtpStatus.choices, default=KtpStatus.HAS_NOT
    )
    is_tni_polri = models.BooleanField(_("active TNI/Polri"), default=False)
    voting_right_revoked = models.BooleanField(_("voting right revoked"), default=False)
    revocation_decision = models.CharField(
        _("court decision number"),
        max_length=100,
        blank=True,
        help_text=_("Required when the right is revoked."),
    )
    notes = models.TextField(_("notes"), blank=True)
    custody_status = models.CharField(
        _("custody status"),
        max_length=12,
        choices=CustodyStatus.choices,
        default=CustodyStatus.IN_CUSTODY,
        editable=False,
        help_text=_("Derived from the custody events."),
    )
    nik_warnings = models.JSONField(_("data warnings"), default=list, blank=True, editable=False)
    duplicate_of = models.ForeignKey(
        "self",
        verbose_name=_("duplicate of"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="duplicates",
        editable=False,
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    # The history table is written for every imported row and read by record
    # (``id``) and date only: copying the register's search indexes onto it
    # would slow every import for queries nobody runs.
    history = HistoricalRecords(
        no_db_index=["nik", "full_name", "birth_date", "custody_status", "domicile_region", "duplicate_of"]
    )
    objects = InmateQuerySet.as_manager()

    class Meta:
        verbose_name = _("inmate (WBP)")
        verbose_name_plural = _("inmates (WBP)")
        ordering = ["facility", "full_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["facility", "registration_number"], name="inmate_unique_registration_number"
            ),
            models.CheckConstraint(
                name="inmate_revocation_has_decision",
                condition=Q(voting_right_revoked=False) | ~Q(revocation_decision=""),
            ),
            models.CheckConstraint(
                name="inmate_release_after_admission",
                condition=Q(expected_release_date__isnull=True)
                | Q(expected_release_date__gte=models.F("admission_date")),
            ),
        ]
        # Plain B-tree indexes: db_index on a CharField would add a pattern
        # (LIKE) index on PostgreSQL, which no query here uses. Name searches
        # use the trigram indexes of migration 0005.
        indexes = [
            models.Index(fields=["facility", "custody_status"], name="inmate_facility_status_idx"),
            models.Index(fields=["full_name"], name="inmate_full_name_idx"),
            models.Index(fields=["custody_status"], name="inmate_custody_status_idx"),
            models.Index(fields=["domicile_region"], name="inmate_domicile_region_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.registration_number})"

    def clean(self) -> None:
        super().clean()
        errors: dict[str, list] = {}
        if self.nik is not None:
            try:
                self.nik = nik_rules.normalize(self.nik)
            except nik_rules.NikError as exc:
                errors.setdefault("nik", []).append(exc.message)
        if self.nkk:
            try:
                self.nkk = nik_rules.normalize(self.nkk) or ""
            except nik_rules.NikError as exc:
                errors.setdefault("nkk", []).append(exc.message)
        if self.voting_right_revoked and not self.revocation_decision.strip():
            errors.setdefault("revocation_decision", []).append(
                _("Enter the court decision that revoked the voting right.")
            )
        if (
            self.expected_release_date
            and self.admission_date
            and self.expected_release_date < self.admission_date
        ):
            errors.setdefault("expected_release_date", []).append(
                _("The expected release date cannot be before the admission date.")
            )
        if self.custody_type == self.CustodyType.TAHANAN and self.expected_release_date:
            errors.setdefault("expected_release_date", []).append(
                _("A detainee (tahanan) has no release date yet; leave it empty or change the custody type.")
            )
        for code_field in ("rt", "rw"):
            value = getattr(self, code_field)
            if value and not value.isdigit():
                errors.setdefault(code_field, []).append(_("Use digits only, e.g. 003."))
        # From the code, not the Region row: the importer calls clean() on bare
        # records, without a query per row. A province or regency cannot place
        # the voter in a DPRD Kab/Kota dapil (the importer refuses it too).
        if self.domicile_region_id and Region.level_of(self.domicile_region_id) < Region.Level.DISTRICT:
            errors.setdefault("domicile_region", []).append(
                ValidationError(
                    _(
                        "%(code)s is a province or regency. Give the code of the village or at least "
                        "the district (kecamatan), e.g. 33.16.01."
                    ),
                    code="domicile_too_coarse",
                    params={"code": self.domicile_region_id},
                )
            )
        if errors:
            raise ValidationError(errors)

    def refresh_warnings(self) -> list[str]:
        """Recompute the NIK review warnings; the caller saves."""
        self.nik_warnings = nik_rules.warnings_for(
            self.nik,
            birth_date=self.birth_date,
            sex=self.sex,
            district_exists=_district_exists,
            nkk=self.nkk or None,
        )
        return self.nik_warnings

    @property
    def warning_labels(self) -> list[str]:
        return [nik_rules.warning_label(code) for code in self.nik_warnings]

    def custody_status_on(self, day: datetime.date) -> str | None:
        """The custody status on ``day`` from the events (``None`` before admission)."""
        from inmates.custody import status_on

        events = [(event.kind, event.date) for event in self.custody_events.all()]
        return status_on(events, day)


def _district_exists(code: str) -> bool:
    return Region.objects.filter(code=code).exists()


class AppendOnlyError(Exception):
    """A write that would change or remove recorded custody history."""


def _append_only_error() -> AppendOnlyError:
    return AppendOnlyError(
        _("Custody events cannot be changed or deleted; record a new event (or a correction) instead.")
    )


class CustodyEventQuerySet(models.QuerySet):
    """Custody events: readable, addable, never updated or deleted in bulk."""

    def for_user(self, user) -> CustodyEventQuerySet:
        return self.filter(inmate__in=Inmate.objects.for_user(user))

    def update(self, **kwargs):
        raise _append_only_error()

    def bulk_update(self, objs, fields, batch_size=None):
        # Refused before Django opens its transaction, so a caller's stays usable.
        raise _append_only_error()

    def delete(self):
        raise _append_only_error()

    delete.queryset_only = True

    def bulk_create(self, objs, *args, **kwargs):
        if kwargs.get("update_conflicts"):
            raise _append_only_error()
        return super().bulk_create(objs, *args, **kwargs)


class _CustodyEventManager(models.Manager.from_queryset(CustodyEventQuerySet)):
    pass


class EffectiveCustodyEventManager(_CustodyEventManager):
    """The events that count: a corrected event is replaced by its correction.

    The default manager, so every reader of the history (status, voter lists,
    projections, ``inmate.custody_events``) sees the corrected history without
    knowing about corrections. ``CustodyEvent.recorded`` shows everything.
    """

    def get_queryset(self) -> CustodyEventQuerySet:
        corrections = CustodyEvent.recorded.filter(corrects=OuterRef("pk"))
        return super().get_queryset().filter(~models.Exists(corrections))


class UncheckedCustodyEventManager(models.Manager):
    """Every event, with plain ``update()``/``delete()``: erasure and test fixtures only.

    Erasing a person's data (the record and its whole history) and fixtures
    that need a record without history are the only users; never record or
    correct custody through it.
    """


class CustodyEvent(models.Model):
    """One step in an inmate's custody history.

    Append-only: ``save()`` of a stored event, ``delete()`` and the querysets'
    ``update()``/``delete()`` raise :class:`AppendOnlyError`. A wrong event is
    corrected by a new one that names it in ``corrects``; the wrong one stays
    on record (``CustodyEvent.recorded``) but no longer counts
    (``CustodyEvent.objects``). ``created_by``/``created_at`` say who recorded
    each event and when.

    ``CustodyEvent._unchecked`` is a plain manager for erasing personal data
    (a whole record with its history) and for test fixtures that need a record
    without history. Nothing that records custody may use it.
    """

    class Kind(models.TextChoices):
        ADMISSION = "admission", _("Admission")
        TRANSFER_IN = "transfer_in", _("Transfer in")
        TRANSFER_OUT = "transfer_out", _("Transfer out")
        RELEASE = "release", _("Release")
        DEATH = "death", _("Death")

    ENTERING_KINDS = (Kind.ADMISSION, Kind.TRANSFER_IN)

    inmate = models.ForeignKey(
        Inmate, verbose_name=_("inmate"), on_delete=models.PROTECT, related_name="custody_events"
    )
    kind = models.CharField(_("kind"), max_length=15, choices=Kind.choices)
    date = models.DateField(_("date"))
    from_facility = models.ForeignKey(
        Facility,
        verbose_name=_("from facility"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    to_facility = models.ForeignKey(
        Facility,
        verbose_name=_("to facility"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    note = models.CharField(_("note"), max_length=255, blank=True)
    corrects = models.OneToOneField(
        "self",
        verbose_name=_("corrects"),
        null=True,
        blank=True,
        # Only erasure deletes events (``_unchecked``): a correction goes with
        # the event it corrects.
        on_delete=models.CASCADE,
        related_name="corrected_by",
        editable=False,
        help_text=_("The recorded event this one replaces."),
    )
    created_by = models.ForeignKey(
        User,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    objects = EffectiveCustodyEventManager()
    recorded = _CustodyEventManager()
    _unchecked = UncheckedCustodyEventManager()

    class Meta:
        verbose_name = _("custody event")
        verbose_name_plural = _("custody events")
        default_manager_name = "objects"
        ordering = ["inmate", "date", "pk"]
        indexes = [models.Index(fields=["inmate", "date"], name="custody_event_inmate_date_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.date:%d-%m-%Y}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise _append_only_error()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise _append_only_error()

    def clean(self) -> None:
        super().clean()
        if self.corrects_id and self.corrects.inmate_id != self.inmate_id:
            raise ValidationError(_("A correction must belong to the same inmate as the event it corrects."))
        if self.kind == self.Kind.TRANSFER_OUT and not self.to_facility_id and not self.note:
            raise ValidationError(
                {"to_facility": _("Say where the inmate was transferred to (facility or note).")}
            )
        if self.kind == self.Kind.TRANSFER_IN and not self.from_facility_id and not self.note:
            raise ValidationError({"from_facility": _("Say where the inmate came from (facility or note).")})


class CustodyStatusRefresh(models.Model):
    """When the stored custody statuses were last brought up to date (one row, ``pk=1``).

    The stored ``Inmate.custody_status`` is today's status; an event recorded
    ahead of its date takes effect only when the daily refresh runs
    (``inmates.services.custody_statuses_refresh``). This row lets the task
    worker schedule that refresh itself and lets pages ask for a missed one once.
    """

    day = models.DateField(_("statuses current for"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    changed = models.PositiveIntegerField(_("statuses changed"), default=0)
    requested_at = models.DateTimeField(_("refresh requested at"), null=True, blank=True)
    next_run_at = models.DateTimeField(_("next scheduled run"), null=True, blank=True)

    class Meta:
        verbose_name = _("custody status refresh")
        verbose_name_plural = _("custody status refreshes")

    def __str__(self) -> str:
        return f"{self.day or '-'}"

    @classmethod
    def current(cls) -> CustodyStatusRefresh:
        state, _created = cls.objects.get_or_create(pk=1)
        return state
