"""Admin screens of the register: the main user interface for every role."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from inmates import dedup_hooks, services
from inmates.admin import imports as imports_admin
from inmates.forms import InmateAdminForm
from inmates.models import CustodyEvent, Facility, Inmate, Region, User
from inmates.nik import NikWarning
from voterreg.paginators import EstimatedCountPaginator
from voterreg.scale_search import IndexedSearchMixin
from voterreg.scoping import ScopedHistoryAdmin

admin.site.site_header = _("voterreg: inmate voter register")
admin.site.site_title = _("voterreg")
admin.site.index_title = _("Inmate voter register")


def _autocomplete_for(request, model_name: str, field_name: str) -> bool:
    """Whether ``request`` is the admin autocomplete of ``model_name.field_name`` (an inmates model)."""
    params = request.GET
    return (
        params.get("app_label") == "inmates"
        and params.get("model_name") == model_name
        and params.get("field_name") == field_name
    )


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "level"]
    list_filter = ["level"]
    search_fields = ["code", "name"]
    show_full_result_count = False

    def get_search_results(self, request, queryset, search_term):
        if _autocomplete_for(request, "inmate", "domicile_region"):
            # A home address is a village or district (Inmate.clean refuses coarser codes).
            queryset = queryset.filter(level__gte=Region.Level.DISTRICT)
        # Codes are typed with or without dots: "3316" finds "33.16".
        term = search_term.strip()
        digits = term.replace(".", "")
        if digits.isdigit() and len(digits) >= 2:
            parts = [digits[0:2], digits[2:4], digits[4:6], digits[6:10]]
            dotted = ".".join(p for p in parts if p)
            return queryset.filter(code__startswith=dotted), False
        return super().get_search_results(request, queryset, search_term)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Facility)
class FacilityAdmin(ScopedHistoryAdmin):
    list_display = ["name", "code", "type", "facility_class", "regency"]
    list_filter = ["type"]
    list_select_related = ["regency"]
    search_fields = ["name", "code"]
    autocomplete_fields = ["regency"]
    prepopulated_fields = {"code": ["name"]}


class CustodyEventInline(admin.TabularInline):
    model = CustodyEvent
    fk_name = "inmate"
    extra = 0
    fields = [
        "kind",
        "date",
        "from_facility",
        "to_facility",
        "note",
        "correction",
        "created_by",
        "created_at",
    ]
    readonly_fields = ["correction", "created_by", "created_at"]
    can_delete = False
    verbose_name = _("custody event")
    verbose_name_plural = _("custody history (append only)")

    def get_queryset(self, request):
        # Everything recorded, corrected events included: the history shows
        # what was recorded, by whom, and what replaced it.
        queryset = CustodyEvent.recorded.select_related(
            "from_facility", "to_facility", "created_by", "corrects", "corrected_by"
        ).order_by("date", "pk")
        if not self.has_view_or_change_permission(request):
            queryset = queryset.none()
        return queryset

    def has_change_permission(self, request, obj=None):
        # Events are never edited; a correction is a new event.
        return False

    @admin.display(description=_("correction"))
    def correction(self, obj: CustodyEvent):
        corrected_by = getattr(obj, "corrected_by", None) if obj.pk else None
        if corrected_by is not None:
            return format_html(
                '<span class="custody-corrected">{}</span>',
                _("Corrected by %(event)s (no longer counts)") % {"event": corrected_by},
            )
        if obj.corrects_id:
            return _("Corrects %(event)s") % {"event": obj.corrects}
        return "—"

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name in ("from_facility", "to_facility"):
            # A transfer may name any facility in the country.
            kwargs["queryset"] = Facility.objects.order_by("name")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class WarningFilter(admin.SimpleListFilter):
    title = _("data warnings")
    parameter_name = "warning"

    def lookups(self, request, model_admin):
        return [("any", _("Any warning")), *NikWarning.choices]

    def queryset(self, request, queryset):
        if self.value() == "any":
            return queryset.exclude(nik_warnings=[])
        if self.value() in NikWarning.values:
            if self.value() == NikWarning.MISSING:
                return queryset.filter(nik__isnull=True)
            return queryset.filter(nik_warnings__icontains=self.value())
        return queryset


class ScopedFacilityFilter(admin.SimpleListFilter):
    """The facilities the user sees (Django's own filter would list every facility in the country)."""

    title = _("facility")
    # The parameter of Django's related-field filter, so existing links keep working.
    parameter_name = "facility__id__exact"

    def lookups(self, request, model_admin):
        return list(Facility.objects.for_user(request.user).order_by("name").values_list("pk", "name"))

    def queryset(self, request, queryset):
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(facility_id=value)
        return queryset


class DuplicateFilter(admin.SimpleListFilter):
    title = _("duplicate")
    parameter_name = "duplicate"

    def lookups(self, request, model_admin):
        return [("no", _("Active records")), ("yes", _("Marked as duplicate"))]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(duplicate_of__isnull=True)
        if self.value() == "yes":
            return queryset.filter(duplicate_of__isnull=False)
        return queryset


@admin.register(Inmate)
class InmateAdmin(IndexedSearchMixin, ScopedHistoryAdmin):
    form = InmateAdminForm
    # "Impor", template and export buttons (inmates/admin/imports.py).
    change_list_template = "admin/inmates/inmate/change_list.html"
    actions = [imports_admin.export_selected_xlsx, imports_admin.export_selected_csv]
    list_display = [
        "full_name",
        "registration_number",
        "nik",
        "birth_date",
        "sex",
        "facility",
        "custody_type",
        "custody_status",
        "warnings_display",
    ]
    list_filter = [
        "custody_status",
        "custody_type",
        "sex",
        "citizenship",
        WarningFilter,
        DuplicateFilter,
        ScopedFacilityFilter,
    ]
    list_select_related = ["facility"]
    # Shows the search box; how words match (NIK exact, names by trigram
    # index, registration numbers) is voterreg.scale_search.
    search_fields = ["full_name", "=nik", "=nkk", "registration_number"]
    search_nik_fields = ["nik", "nkk"]
    search_name_fields = ["full_name"]
    search_number_fields = ["registration_number"]
    # No exact COUNT(*) over the whole register on every page.
    paginator = EstimatedCountPaginator
    autocomplete_fields = ["domicile_region"]
    readonly_fields = ["custody_status", "warnings_display", "duplicate_of", "created_at", "updated_at"]
    inlines = [CustodyEventInline]
    show_full_result_count = False
    list_per_page = 50
    date_hierarchy = None
    fieldsets = [
        (
            _("Identity"),
            {
                "fields": [
                    "facility",
                    "registration_number",
                    ("nik", "nkk"),
                    "full_name",
                    ("birth_place", "birth_date"),
                    ("sex", "marital_status", "citizenship"),
                    "warnings_display",
                ]
            },
        ),
        (_("Domicile"), {"fields": ["address", ("rt", "rw"), "domicile_region"]}),
        (
            _("Custody"),
            {
                "fields": [
                    ("custody_type", "custody_status"),
                    ("admission_date", "expected_release_date"),
                    "cell_block",
                ]
            },
        ),
        (
            _("Voter data"),
            {
                "fields": [
                    ("disability", "ktp_el_status"),
                    "is_tni_polri",
                    ("voting_right_revoked", "revocation_decision"),
                    "duplicate_of",
                    "notes",
                ]
            },
        ),
        (_("Record"), {"classes": ["collapse"], "fields": [("created_at", "updated_at")]}),
    ]

    @admin.display(description=_("warnings"))
    def warnings_display(self, obj: Inmate):
        if not obj.nik_warnings:
            return "—"
        return format_html(
            '<ul class="nik-warnings">{}</ul>',
            format_html_join("", '<li class="warning">{}</li>', ((label,) for label in obj.warning_labels)),
        )

    def get_urls(self):
        return imports_admin.inmate_export_urls(self) + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        # The list filters on the stored custody status: if the nightly refresh
        # was missed, ask the task worker for it (one small query otherwise).
        # Only when the list is opened: a POSTed action changes what it says, nothing else.
        if request.method == "GET":
            services.custody_refresh_request()
        return super().changelist_view(request, extra_context)

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        if request.user.facility_id and "facility" not in initial:
            initial["facility"] = request.user.facility_id
        return initial

    def save_model(self, request, obj, form, change):
        services.inmate_save(inmate=obj, user=request.user)
        # Prevention at entry: a record that looks like someone already
        # registered (or on a DPT) is queued for review and the user warned.
        dedup_hooks.warn_after_save(request, obj)

    def save_formset(self, request, form, formset, change):
        if formset.model is not CustodyEvent:
            return super().save_formset(request, form, formset, change)
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for event_form in formset.forms:
            if event_form.instance.pk or not event_form.has_changed():
                continue
            data = event_form.cleaned_data
            event = services.custody_event_record(
                inmate=form.instance,
                kind=data["kind"],
                date=data["date"],
                from_facility=data.get("from_facility"),
                to_facility=data.get("to_facility"),
                note=data.get("note", ""),
                user=request.user,
            )
            formset.new_objects.append(event)
        return None

    def has_delete_permission(self, request, obj=None):
        # Records leave the register through custody events, not deletion:
        # the voter list must be able to say why someone is gone.
        return request.user.is_superuser and super().has_delete_permission(request, obj)


@admin.register(User)
class UserAdmin(ScopedHistoryAdmin, DjangoUserAdmin):
    list_display = ["username", "first_name", "last_name", "role", "facility", "regency", "is_active"]
    list_filter = ["role", "is_active", "facility"]
    list_select_related = ["facility", "regency"]
    autocomplete_fields = ["facility", "regency"]
    fieldsets = [
        *DjangoUserAdmin.fieldsets,
        (_("Role and scope"), {"fields": ["role", "facility", "regency"]}),
    ]
    add_fieldsets = [
        *DjangoUserAdmin.add_fieldsets,
        (_("Role and scope"), {"fields": ["role", "facility", "regency", "first_name", "last_name"]}),
    ]

    def save_model(self, request, obj, form, change):
        # Everyone works in the admin; the role's group carries the rest.
        obj.is_staff = True
        obj.full_clean(exclude=["password"])
        super().save_model(request, obj, form, change)
