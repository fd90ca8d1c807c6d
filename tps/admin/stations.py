"""Admin of TPS, their voters, the ballots fixed for delivery and the dapil.

Every write goes through ``tps.services.stations``: a TPS is saved with
``tps_save``, a voter moves with ``tps_move_voter`` (capacity enforced, the
error shown on the page), planning and logistics run as actions, and dapils
are saved or imported with their checks. Planning and moves are for KPU
officers and admins (``can_manage_tps``); Rutan staff read.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from inmates.models import Facility
from tps.models import BallotAllocation, Dapil, Election, Tps, TpsAssignment
from tps.services import stations as services
from voterreg.paginators import EstimatedCountPaginator
from voterreg.scoping import ScopedHistoryAdmin, scoped


def _errors(exc: ValidationError) -> list[str]:
    return [str(message) for message in exc.messages]


# --- TPS ------------------------------------------------------------------------


class TpsAssignmentInline(admin.TabularInline):
    """The TPS's list, read-only: voters move through the move form or action."""

    model = TpsAssignment
    fk_name = "tps"
    extra = 0
    fields = ["order_number", "inmate", "category", "manual", "move_link"]
    readonly_fields = fields
    can_delete = False
    show_change_link = False
    ordering = ["order_number"]
    verbose_name = _("voter")
    verbose_name_plural = _("voters on this TPS (move one with its link)")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("inmate")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("move"))
    def move_link(self, obj: TpsAssignment):
        url = reverse("admin:tps_tpsassignment_change", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, gettext("Move to another TPS"))


class TpsAdminForm(forms.ModelForm):
    class Meta:
        model = Tps
        fields = ["election", "facility", "number", "village", "capacity"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "capacity" in self.fields:
            self.fields["capacity"].required = False
            self.fields["capacity"].help_text = _("Leave empty for the election's maximum.")


@admin.register(Tps)
class TpsAdmin(ScopedHistoryAdmin):
    form = TpsAdminForm
    list_display = [
        "number",
        "facility",
        "election",
        "village",
        "fill_display",
        "logistics_fixed_at",
        "page_link",
    ]
    # Only the facilities in the user's scope appear in the filter.
    list_filter = ["election", ("facility", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["facility", "election", "village"]
    search_fields = ["number", "facility__name", "facility__code"]
    autocomplete_fields = ["village"]
    readonly_fields = ["voter_count", "logistics_fixed_at"]
    inlines = [TpsAssignmentInline]
    actions = ["plan_again", "fix_logistics"]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            # Moving a TPS to another facility or election would strand its voters.
            fields += ["election", "facility"]
        return fields

    @admin.display(description=_("voters / capacity"), ordering="voter_count")
    def fill_display(self, obj: Tps):
        css = "color:#ba2121;font-weight:bold" if obj.voter_count >= obj.capacity else ""
        return format_html('<span style="{}">{} / {}</span>', css, obj.voter_count, obj.capacity)

    @admin.display(description=_("page"))
    def page_link(self, obj: Tps):
        url = reverse("tps:stations_tps", args=[obj.election.code, obj.facility.code, obj.number])
        return format_html('<a href="{}">{}</a>', url, gettext("List and exports"))

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) or services.can_manage_tps(request.user)

    def has_add_permission(self, request):
        return services.can_manage_tps(request.user)

    def has_change_permission(self, request, obj=None):
        return services.can_manage_tps(request.user)

    def has_delete_permission(self, request, obj=None):
        if not services.can_manage_tps(request.user):
            return False
        # A TPS with voters is emptied by planning or moves first.
        return obj is None or not obj.assignments.exists()

    def save_model(self, request, obj, form, change):
        services.tps_save(tps=obj, user=request.user)

    def _pairs(self, queryset) -> list[tuple[Election, object]]:
        seen = {}
        for tps in queryset.select_related("election", "facility"):
            seen.setdefault((tps.election_id, tps.facility_id), (tps.election, tps.facility))
        return list(seen.values())

    @admin.action(description=_("Plan the TPS of these facilities again"))
    def plan_again(self, request, queryset):
        if not services.can_manage_tps(request.user):
            raise PermissionDenied
        for election, facility in self._pairs(queryset):
            try:
                result = services.tps_plan(election=election, facility=facility, user=request.user)
            except ValidationError as exc:
                for message in _errors(exc):
                    self.message_user(request, f"{facility}: {message}", messages.ERROR)
                continue
            except ValueError as exc:
                # CapacityError carries the message in the user's language.
                message = getattr(exc, "user_message", None) or str(exc)
                self.message_user(request, f"{facility}: {message}", messages.ERROR)
                continue
            self.message_user(
                request,
                gettext(
                    "%(facility)s: %(tps)d TPS, %(moved)d voters moved, %(added)d added, %(removed)d removed."
                )
                % {
                    "facility": facility,
                    "tps": len(result.plan.tps),
                    "moved": len(result.moved),
                    "added": len(result.added),
                    "removed": len(result.removed),
                },
                messages.SUCCESS,
            )
            for shortage in result.shortages:
                self.message_user(request, shortage.message, messages.WARNING)

    @admin.action(description=_("Fix the ballot logistics of these facilities"))
    def fix_logistics(self, request, queryset):
        if not services.can_manage_tps(request.user):
            raise PermissionDenied
        for election, facility in self._pairs(queryset):
            try:
                saved = services.logistics_fix(election=election, facility=facility, user=request.user)
            except ValidationError as exc:
                for message in _errors(exc):
                    self.message_user(request, f"{facility}: {message}", messages.ERROR)
                continue
            self.message_user(
                request,
                ngettext(
                    "%(facility)s: %(count)d ballot allocation fixed.",
                    "%(facility)s: %(count)d ballot allocations fixed.",
                    len(saved),
                )
                % {"facility": facility, "count": len(saved)},
                messages.SUCCESS,
            )


# --- voters on a TPS --------------------------------------------------------------


class MoveForm(forms.ModelForm):
    """The change form of an assignment: only its TPS can change, within capacity."""

    class Meta:
        model = TpsAssignment
        fields = ["tps"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        instance = self.instance
        if instance.pk and "tps" in self.fields:
            self.fields["tps"].queryset = Tps.objects.filter(
                election_id=instance.election_id, facility_id=instance.tps.facility_id
            ).order_by("number")
            self.fields["tps"].label_from_instance = lambda tps: (
                gettext("TPS %(number)s (%(count)d of %(capacity)d voters)")
                % {"number": tps.number, "count": tps.voter_count, "capacity": tps.capacity}
            )

    def clean_tps(self):
        target = self.cleaned_data["tps"]
        if self.instance.pk and target.pk != self.instance.tps_id and services.tps_room(target) <= 0:
            raise ValidationError(
                gettext(
                    "TPS %(number)s is full: %(count)d of %(capacity)d voters. Choose another TPS or move someone out first."
                )
                % {
                    "number": target.number,
                    "count": target.capacity - services.tps_room(target),
                    "capacity": target.capacity,
                }
            )
        return target


class VoterFacilityFilter(admin.SimpleListFilter):
    """The facilities in the user's scope, without reading 300,000 voters to find them."""

    title = _("facility")
    # The parameter of Django's related-field filter, so existing links keep working.
    parameter_name = "tps__facility__id__exact"

    def lookups(self, request, model_admin):
        return list(Facility.objects.for_user(request.user).order_by("name").values_list("pk", "name"))

    def queryset(self, request, queryset):
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(tps__facility_id=value)
        return queryset


class VoterCategoryFilter(admin.SimpleListFilter):
    """DPT/DPTb/DPK: the known values (Django's own filter would read every row for them)."""

    title = _("category")
    parameter_name = "category__exact"

    def lookups(self, request, model_admin):
        return [(category, category) for category in services.CATEGORIES]

    def queryset(self, request, queryset):
        if self.value() in services.CATEGORIES:
            return queryset.filter(category=self.value())
        return queryset


class MoveActionForm(forms.Form):
    to_tps = forms.ModelChoiceField(label=_("Move to"), queryset=Tps.objects.none())


@admin.register(TpsAssignment)
class TpsAssignmentAdmin(ScopedHistoryAdmin):
    form = MoveForm
    list_display = ["order_number", "inmate_name", "registration_number", "tps", "category", "manual"]
    list_display_links = ["order_number", "inmate_name"]
    list_filter = ["election", VoterFacilityFilter, VoterCategoryFilter, "manual"]
    list_select_related = ["inmate", "tps", "tps__facility"]
    # Every voter of the country for an admin: no exact COUNT(*) per page.
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    search_fields = ["inmate__full_name", "inmate__registration_number", "tps__number"]
    readonly_fields = ["election", "inmate", "order_number", "category", "manual"]
    fields = ["election", "inmate", "tps", "order_number", "category", "manual"]
    actions = ["move_to_tps"]
    ordering = ["tps__facility", "tps__number", "order_number"]

    @admin.display(description=_("name"), ordering="inmate__full_name")
    def inmate_name(self, obj: TpsAssignment) -> str:
        return obj.inmate.full_name

    @admin.display(description=_("registration number"), ordering="inmate__registration_number")
    def registration_number(self, obj: TpsAssignment) -> str:
        return obj.inmate.registration_number

    def has_add_permission(self, request):
        return False  # voters get a TPS by planning

    def has_delete_permission(self, request, obj=None):
        return False  # and leave it by planning, when no longer projected

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) or services.can_manage_tps(request.user)

    def has_change_permission(self, request, obj=None):
        return services.can_manage_tps(request.user)

    def save_model(self, request, obj, form, change):
        target = obj.tps
        original = TpsAssignment.objects.get(pk=obj.pk)
        if target.pk == original.tps_id:
            return
        try:
            services.tps_move_voter(assignment=original, to_tps=target, user=request.user)
        except ValidationError as exc:
            # Lost a race for the last place after the form was checked.
            request._tps_move_errors = _errors(exc)

    def log_change(self, request, obj, message):
        if getattr(request, "_tps_move_errors", None):
            return None
        return super().log_change(request, obj, message)

    def response_change(self, request, obj):
        errors = getattr(request, "_tps_move_errors", None)
        if errors:
            for error in errors:
                self.message_user(request, error, messages.ERROR)
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)

    @admin.action(description=_("Move the selected voters to another TPS"))
    def move_to_tps(self, request, queryset):
        if not services.can_manage_tps(request.user):
            raise PermissionDenied
        selected = list(queryset.select_related("tps", "inmate"))
        pairs = {(item.election_id, item.tps.facility_id) for item in selected}
        if len(pairs) != 1:
            self.message_user(
                request,
                gettext("Select voters of one facility and one election to move them together."),
                messages.ERROR,
            )
            return None
        election_id, facility_id = pairs.pop()
        targets = (
            scoped(Tps, request.user)
            .filter(election_id=election_id, facility_id=facility_id)
            .order_by("number")
        )
        form = MoveActionForm(request.POST if "apply" in request.POST else None)
        form.fields["to_tps"].queryset = targets
        form.fields["to_tps"].label_from_instance = lambda tps: (
            gettext("TPS %(number)s (%(count)d of %(capacity)d voters)")
            % {"number": tps.number, "count": tps.voter_count, "capacity": tps.capacity}
        )
        if "apply" in request.POST and form.is_valid():
            target = form.cleaned_data["to_tps"]
            moved = 0
            for assignment in selected:
                if assignment.tps_id == target.pk:
                    continue
                try:
                    services.tps_move_voter(assignment=assignment, to_tps=target, user=request.user)
                except ValidationError as exc:
                    for error in _errors(exc):
                        self.message_user(request, f"{assignment.inmate.full_name}: {error}", messages.ERROR)
                    continue
                moved += 1
            if moved:
                self.message_user(
                    request,
                    ngettext(
                        "%(count)d voter moved to TPS %(number)s.",
                        "%(count)d voters moved to TPS %(number)s.",
                        moved,
                    )
                    % {"count": moved, "number": target.number},
                    messages.SUCCESS,
                )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Move voters to another TPS"),
            "opts": self.model._meta,
            "form": form,
            "selected": selected,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/tps/tpsassignment/move.html", context)


# --- ballots fixed for delivery -----------------------------------------------------


@admin.register(BallotAllocation)
class BallotAllocationAdmin(ScopedHistoryAdmin):
    """What was fixed for delivery: changed only by fixing the logistics again."""

    list_display = [
        "tps_number",
        "facility",
        "election",
        "ballot_type",
        "voters",
        "reserve",
        "total",
        "fixed_by",
        "fixed_at",
    ]
    list_filter = ["tps__election", "ballot_type", ("tps__facility", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["tps", "tps__facility", "tps__election", "fixed_by"]
    search_fields = ["tps__number", "tps__facility__name"]
    ordering = ["tps__facility", "tps__number", "ballot_type"]

    @admin.display(description=_("TPS"), ordering="tps__number")
    def tps_number(self, obj: BallotAllocation) -> str:
        return obj.tps.number

    @admin.display(description=_("facility"), ordering="tps__facility__name")
    def facility(self, obj: BallotAllocation):
        return obj.tps.facility

    @admin.display(description=_("election"))
    def election(self, obj: BallotAllocation):
        return obj.tps.election

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) or services.can_manage_tps(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- dapil ------------------------------------------------------------------------


class DapilAdminForm(forms.ModelForm):
    class Meta:
        model = Dapil
        fields = ["election", "contest", "code", "name", "is_demo", "regions"]

    def clean(self):
        cleaned = super().clean()
        election, contest, code = cleaned.get("election"), cleaned.get("contest"), cleaned.get("code")
        regions = cleaned.get("regions")
        if election and contest and code and regions is not None:
            problems = services.dapil_problems(
                election=election, contest=contest, code=code, regions=regions, exclude_pk=self.instance.pk
            )
            if problems:
                self.add_error("regions", problems)
        return cleaned


class DapilImportForm(forms.Form):
    election = forms.ModelChoiceField(label=_("Election"), queryset=Election.objects.none())
    file = forms.FileField(
        label=_("File (CSV or XLSX)"),
        help_text=_("Columns: Kontestasi, Kode Dapil, Nama, Wilayah (codes separated by ;)."),
    )
    is_demo = forms.BooleanField(label=_("Demo data (not official)"), required=False)


@admin.register(Dapil)
class DapilAdmin(ScopedHistoryAdmin):
    form = DapilAdminForm
    list_display = ["code", "name", "contest", "election", "is_demo", "areas_display"]
    list_filter = ["election", "contest", "is_demo"]
    list_select_related = ["election"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["regions"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("regions")

    @admin.display(description=_("areas"))
    def areas_display(self, obj: Dapil) -> str:
        return ", ".join(region.name for region in obj.regions.all())

    def save_model(self, request, obj, form, change):
        services.dapil_save(dapil=obj, regions=form.cleaned_data["regions"], user=request.user)

    def save_related(self, request, form, formsets, change):
        # The areas were saved with the dapil by the service.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def get_urls(self):
        urls = [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="tps_dapil_import",
            )
        ]
        return urls + super().get_urls()

    def import_view(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = DapilImportForm(request.POST or None, request.FILES or None)
        form.fields["election"].queryset = scoped(Election, request.user)
        errors: list[str] = []
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                result = services.dapil_import(
                    election=form.cleaned_data["election"],
                    file=upload,
                    filename=upload.name,
                    user=request.user,
                    is_demo=form.cleaned_data["is_demo"],
                )
            except ValidationError as exc:
                errors = _errors(exc)
            else:
                self.message_user(
                    request,
                    gettext("Dapil imported: %(created)d new, %(updated)d updated.")
                    % {"created": result.created, "updated": result.updated},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:tps_dapil_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Import dapil"),
            "opts": self.model._meta,
            "form": form,
            "errors": errors,
        }
        return TemplateResponse(request, "admin/tps/dapil/import.html", context)


__all__ = ["BallotAllocationAdmin", "DapilAdmin", "TpsAdmin", "TpsAssignmentAdmin"]
