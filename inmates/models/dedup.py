"""Data ganda: KPU's DPT records and the candidate pairs that may be one person."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from inmates.models.register import Inmate, Region, User
from inmates.models.runs import RunStatus, StartedRunQuerySet


class DptFileQuerySet(models.QuerySet):
    def for_user(self, user) -> DptFileQuerySet:
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        if user.is_admin_role:
            return self.all()
        if user.role == User.Role.KPU and user.regency_id:
            return self.filter(regency_id=user.regency_id)
        return self.none()


class DptFile(models.Model):
    """A DPT export from KPU's system, loaded for one regency."""

    name = models.CharField(_("file name"), max_length=255)
    regency = models.ForeignKey(
        Region, verbose_name=_("regency/city"), on_delete=models.PROTECT, related_name="+"
    )
    row_count = models.PositiveIntegerField(_("rows"), default=0)
    loaded_by = models.ForeignKey(User, verbose_name=_("loaded by"), null=True, on_delete=models.SET_NULL)
    loaded_at = models.DateTimeField(_("loaded at"), auto_now_add=True)

    objects = DptFileQuerySet.as_manager()

    class Meta:
        verbose_name = _("DPT file")
        verbose_name_plural = _("DPT files")
        ordering = ["-loaded_at"]

    def __str__(self) -> str:
        return self.name


class DptRecordQuerySet(models.QuerySet):
    def for_user(self, user) -> DptRecordQuerySet:
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        if user.is_admin_role:
            return self.all()
        if user.role == User.Role.KPU and user.regency_id:
            return self.filter(regency_code=user.regency_id)
        return self.none()


class DptRecord(models.Model):
    """One voter of KPU's DPT, kept with the file and line it came from."""

    dpt_file = models.ForeignKey(
        DptFile, verbose_name=_("DPT file"), on_delete=models.CASCADE, related_name="records"
    )
    line = models.PositiveIntegerField(_("line"))
    regency_code = models.CharField(_("regency code"), max_length=5, db_index=True)
    nkk = models.CharField(_("NKK"), max_length=16, blank=True)
    nik = models.CharField(_("NIK"), max_length=16, blank=True, db_index=True)
    name = models.CharField(_("name"), max_length=150)
    birth_place = models.CharField(_("birth place"), max_length=100, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True, db_index=True)
    sex = models.CharField(_("sex"), max_length=1, blank=True)
    marital_status = models.CharField(_("marital status"), max_length=12, blank=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    rt = models.CharField(_("RT"), max_length=3, blank=True)
    rw = models.CharField(_("RW"), max_length=3, blank=True)
    region_code = models.CharField(_("region code"), max_length=13, blank=True)
    tps = models.CharField(_("TPS"), max_length=10, blank=True)

    objects = DptRecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("DPT record")
        verbose_name_plural = _("DPT records")
        ordering = ["dpt_file", "line"]
        constraints = [models.UniqueConstraint(fields=["dpt_file", "line"], name="dpt_record_unique_line")]

    def __str__(self) -> str:
        return f"{self.name} ({self.dpt_file.name}:{self.line})"


class DuplicateCandidateQuerySet(models.QuerySet):
    def for_user(self, user) -> DuplicateCandidateQuerySet:
        """Rutan staff: pairs inside their facility. KPU: pairs touching their regency."""
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        if user.is_admin_role:
            return self.all()
        if user.role == User.Role.RUTAN and user.facility_id:
            return self.filter(
                inmate_a__facility_id=user.facility_id,
                inmate_b__facility_id=user.facility_id,
                kind="inmate_pair",
            )
        if user.role == User.Role.KPU and user.regency_id:
            # Subqueries, not an OR across three joins: PostgreSQL answers
            # them from the regency's rows (indexes) instead of joining every
            # pair of the country to its inmates and DPT records.
            inmates = Inmate.objects.filter(facility__regency_id=user.regency_id).values("pk")
            dpt = DptRecord.objects.filter(regency_code=user.regency_id).values("pk")
            return self.filter(Q(inmate_a__in=inmates) | Q(inmate_b__in=inmates) | Q(dpt_record__in=dpt))
        return self.none()

    def inside_scope(self, user) -> DuplicateCandidateQuerySet:
        """The pairs whose every record lies inside the user's scope: those the user may decide.

        A KPU officer also sees pairs that only touch their regency (their
        inmate registered again in another regency, or on another regency's
        DPT): those are "cross-scope", shown without the other side's personal
        data and decided by an admin. The admin decides everything.
        """
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        if user.is_admin_role:
            return self.all()
        if user.role == User.Role.RUTAN and user.facility_id:
            return self.for_user(user)
        if user.role == User.Role.KPU and user.regency_id:
            inmates = Inmate.objects.filter(facility__regency_id=user.regency_id).values("pk")
            dpt = DptRecord.objects.filter(regency_code=user.regency_id).values("pk")
            return self.filter(
                Q(inmate_a__in=inmates),
                Q(inmate_b__isnull=True) | Q(inmate_b__in=inmates),
                Q(dpt_record__isnull=True) | Q(dpt_record__in=dpt),
            )
        return self.none()

    def open(self) -> DuplicateCandidateQuerySet:
        return self.filter(status=DuplicateCandidate.Status.OPEN)


class DuplicateCandidate(models.Model):
    """A pair that may be one person: two inmates, or an inmate and a DPT record."""

    class Kind(models.TextChoices):
        INMATE_PAIR = "inmate_pair", _("Two inmate records")
        DPT = "dpt", _("Inmate on a home DPT")

    class Status(models.TextChoices):
        OPEN = "open", _("To review")
        CONFIRMED = "confirmed", _("Confirmed duplicate")
        DISMISSED = "dismissed", _("Not a duplicate")

    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.INMATE_PAIR)
    inmate_a = models.ForeignKey(
        Inmate, verbose_name=_("inmate A"), on_delete=models.CASCADE, related_name="+"
    )
    inmate_b = models.ForeignKey(
        Inmate, verbose_name=_("inmate B"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    dpt_record = models.ForeignKey(
        DptRecord,
        verbose_name=_("DPT record"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    score = models.FloatField(_("score"))
    reasons = models.JSONField(_("reasons"), default=list)
    auto_merge_ok = models.BooleanField(
        _("safe to merge unseen"),
        default=False,
        help_text=_("Same NIK with agreeing name, birth date and sex: may be merged in bulk."),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    # What the records looked like when decided: a dismissal holds only while
    # neither record changes.
    fingerprint = models.CharField(_("fingerprint"), max_length=64, blank=True)
    decided_by = models.ForeignKey(
        User, verbose_name=_("decided by"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    created_at = models.DateTimeField(_("found at"), auto_now_add=True)

    history = HistoricalRecords()
    objects = DuplicateCandidateQuerySet.as_manager()

    class Meta:
        verbose_name = _("duplicate candidate")
        verbose_name_plural = _("duplicate candidates")
        ordering = ["-score", "pk"]
        indexes = [models.Index(fields=["status", "kind", "-score"], name="dup_status_kind_score_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["inmate_a", "inmate_b"],
                condition=Q(inmate_b__isnull=False),
                name="dup_unique_inmate_pair",
            ),
            models.UniqueConstraint(
                fields=["inmate_a", "dpt_record"],
                condition=Q(dpt_record__isnull=False),
                name="dup_unique_dpt_pair",
            ),
            models.CheckConstraint(
                name="dup_has_exactly_one_other",
                condition=(Q(inmate_b__isnull=False) & Q(dpt_record__isnull=True))
                | (Q(inmate_b__isnull=True) & Q(dpt_record__isnull=False)),
            ),
        ]

    def __str__(self) -> str:
        # No names: the admin writes this on every row of the queue (the checkbox's label) and
        # in the history, where one side of a pair may lie outside the reader's scope.
        return f"#{self.pk} ({self.get_kind_display()}, {self.score:.2f})"

    def sides_in_scope(self, user) -> tuple[bool, bool]:
        """Whether record A, and the other record (inmate B or the DPT record), lie in the user's scope.

        Reads the records' facilities (``select_related`` them: the queue and
        the comparison page do, so a page of pairs costs no query per row).
        A pair with a side outside is "cross-scope": that side is shown without
        personal data and only an admin decides the pair.
        """
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return False, False
        if user.is_admin_role:
            return True, True
        if user.role == User.Role.RUTAN and user.facility_id:

            def inside(inmate: Inmate) -> bool:
                return inmate.facility_id == user.facility_id

        elif user.role == User.Role.KPU and user.regency_id:

            def inside(inmate: Inmate) -> bool:
                return inmate.facility.regency_id == user.regency_id

        else:
            return False, False
        if self.inmate_b_id:
            return inside(self.inmate_a), inside(self.inmate_b)
        return inside(self.inmate_a), (
            user.role == User.Role.KPU and self.dpt_record.regency_code == user.regency_id
        )

    def is_cross_scope(self, user) -> bool:
        """A side of the pair lies outside the user's scope (never for an admin)."""
        return not all(self.sides_in_scope(user))


class DedupRun(models.Model):
    """One run of duplicate detection, started from the admin and done by the task worker."""

    Status = RunStatus

    facility = models.ForeignKey(
        "inmates.Facility",
        verbose_name=_("facility"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
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
    against_dpt = models.BooleanField(_("check against the DPT"), default=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    phase = models.CharField(_("step"), max_length=40, blank=True)
    processed = models.PositiveBigIntegerField(_("processed"), default=0)
    total = models.PositiveBigIntegerField(_("total"), default=0)
    result = models.JSONField(_("result"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    task_id = models.CharField(_("task id"), max_length=64, blank=True)
    started_by = models.ForeignKey(
        User, verbose_name=_("started by"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("started at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    objects = StartedRunQuerySet.as_manager()

    class Meta:
        verbose_name = _("duplicate detection run")
        verbose_name_plural = _("duplicate detection runs")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.scope_label} ({self.get_status_display()})"

    @property
    def scope_label(self) -> str:
        if self.facility_id:
            return str(self.facility)
        if self.regency_id:
            return str(self.regency)
        return str(_("All facilities"))

    @property
    def progress_percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.total:
            return 0
        return min(99, round(100 * self.processed / self.total))
