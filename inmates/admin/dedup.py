"""Admin pages of the duplicate review (data ganda) and of KPU's DPT loads.

The review queue is the changelist of duplicate candidates, scoped by
``DuplicateCandidate.objects.for_user``: Rutan/Lapas staff see pairs inside
their facility, KPU officers pairs touching their regency. A pair opens on
the side-by-side comparison page (``inmates:duplicate_compare``) where it is
merged or dismissed.

A cross-scope pair (one record in the KPU officer's regency, the other in
another regency or on its DPT) is listed with the other side as "outside your
area" only: no name, number or facility; the search looks only at records in
the user's scope; only an admin merges it (the bulk action leaves it).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from inmates import dedup
from inmates.dpt_import import dpt_file_delete
from inmates.models import DptFile, DptRecord, DuplicateCandidate, Facility, Inmate
from inmates.models.dedup import DedupRun
from voterreg.paginators import EstimatedCountPaginator
from voterreg.scale_search import IndexedSearchMixin, search_words, word_filter
from voterreg.scoping import ScopedAdminMixin, ScopedHistoryAdmin


class FacilityFilter(admin.SimpleListFilter):
    title = _("facility")
    parameter_name = "facility"

    def lookups(self, request, model_admin):
        return list(Facility.objects.for_user(request.user).order_by("name").values_list("pk", "name"))

    def queryset(self, request, queryset):
        value = self.value()
        if not value or not value.isdigit():
            return queryset
        if not Facility.objects.for_user(request.user).filter(pk=value).exists():
            # Filtering on a facility outside the scope would tell where the other side of
            # a cross-scope pair is kept.
            return queryset.none()
        return queryset.filter(Q(inmate_a__facility_id=value) | Q(inmate_b__facility_id=value))


class ReasonFilter(admin.SimpleListFilter):
    title = _("reason")
    parameter_name = "reason"
    CODES = (
        "nik_exact",
        "nik_one_digit",
        "nik_transposition",
        "nik_missing",
        "nik_differs",
        "possible_twins",
    )

    def lookups(self, request, model_admin):
        return [(code, dedup.reason_labels([code])[0]) for code in self.CODES]

    def queryset(self, request, queryset):
        if self.value() in self.CODES:
            # JSON list of codes: the quoted code is unambiguous.
            return queryset.filter(reasons__icontains=f'"{self.value()}"')
        return queryset


@admin.action(description=_("Merge the selected pairs that are safe to merge unseen (same NIK)"))
def merge_safe_pairs(modeladmin, request, queryset):
    # Pairs with a record outside the user's scope are the admin's to decide.
    inside = queryset.inside_scope(request.user)
    outside = queryset.exclude(pk__in=inside.values("pk")).count()
    if outside:
        modeladmin.message_user(
            request,
            ngettext(
                "%(count)d pair with a record outside your area was left for the admin.",
                "%(count)d pairs with a record outside your area were left for the admin.",
                outside,
            )
            % {"count": outside},
            level=messages.WARNING,
        )
    merged, skipped = dedup.duplicates_auto_merge(candidates=list(inside), user=request.user)
    modeladmin.message_user(
        request,
        ngettext("%(count)d pair merged.", "%(count)d pairs merged.", merged) % {"count": merged}
        + " "
        + ngettext(
            "%(count)d pair left for review (not safe unseen, e.g. possible twins).",
            "%(count)d pairs left for review (not safe unseen, e.g. possible twins).",
            skipped,
        )
        % {"count": skipped},
    )


class DuplicateChangeList(ChangeList):
    """The queue's page of pairs, each told which of its sides lie in the viewer's scope.

    Worked out in memory from the facilities the page selected anyway
    (``list_select_related``): no query per row.
    """

    def get_results(self, request):
        super().get_results(request)
        for candidate in self.result_list:  # evaluates the page once; the template reuses it
            candidate.scope_sides = candidate.sides_in_scope(request.user)


def _sides(obj: DuplicateCandidate) -> tuple[bool, bool]:
    # Not worked out (a page other than the queue): show nothing of either side.
    return getattr(obj, "scope_sides", (False, False))


def _outside() -> str:
    return format_html('<em class="dedup-outside">{}</em>', _("Outside your area (another regency/city)"))


@admin.register(DuplicateCandidate)
class DuplicateCandidateAdmin(ScopedHistoryAdmin):
    change_list_template = "admin/inmates/duplicatecandidate/change_list.html"
    list_display = [
        "score_display",
        "record_a",
        "record_b",
        "facilities",
        "reasons_display",
        "status",
    ]
    list_display_links = None
    list_filter = ["status", "kind", FacilityFilter, ReasonFilter]
    list_select_related = ["inmate_a__facility", "inmate_b__facility", "dpt_record__dpt_file"]
    search_fields = [
        "inmate_a__full_name",
        "inmate_b__full_name",
        "=inmate_a__nik",
        "=inmate_b__nik",
        "=dpt_record__nik",
    ]
    actions = [merge_safe_pairs]
    # No exact COUNT(*) over the whole queue on every page.
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    list_per_page = 50

    def get_search_results(self, request, queryset, search_term):
        """Each word finds the inmates and DPT records it names (a full NIK exactly, names by
        substring: ``voterreg.scale_search``), then the pairs holding one of them.

        The pairs come from a UNION of three index lookups (by first record,
        second record, DPT record), not an OR over three joins: the latter
        made PostgreSQL read and join every pair of the country for a search.
        """
        # Only records in the user's scope are searched: a word naming the other side of a
        # cross-scope pair (its name, NIK, number) finds nothing.
        scoped_inmates = Inmate.objects.for_user(request.user)
        scoped_dpt = DptRecord.objects.for_user(request.user)
        for word in search_words(search_term):
            inmates = scoped_inmates.filter(
                word_filter(
                    word,
                    nik_fields=["nik", "nkk"],
                    name_fields=["full_name"],
                    number_fields=["registration_number"],
                )
            ).values("pk")
            dpt = scoped_dpt.filter(word_filter(word, nik_fields=["nik"], name_fields=["name"])).values("pk")
            pairs = DuplicateCandidate.objects.order_by()
            holding = (
                pairs.filter(inmate_a__in=inmates)
                .values("pk")
                .union(
                    pairs.filter(inmate_b__in=inmates).values("pk"),
                    pairs.filter(dpt_record__in=dpt).values("pk"),
                )
            )
            queryset = queryset.filter(pk__in=holding)
        # The rest of the chain (the scope rule) with nothing left to search.
        return super().get_search_results(request, queryset, "")

    @admin.display(description=_("score"), ordering="score")
    def score_display(self, obj: DuplicateCandidate):
        return format_html(
            '<a href="{}" class="dedup-score">{}</a>',
            reverse("inmates:duplicate_compare", args=[obj.pk]),
            f"{obj.score:.2f}",
        )

    @admin.display(description=_("record A"))
    def record_a(self, obj: DuplicateCandidate):
        url = reverse("inmates:duplicate_compare", args=[obj.pk])
        if not _sides(obj)[0]:
            return format_html('<a href="{}">{}</a>', url, _outside())
        return format_html(
            '<a href="{}">{}</a><br><span class="quiet">{}</span>',
            url,
            obj.inmate_a.full_name,
            obj.inmate_a.registration_number,
        )

    @admin.display(description=_("record B / DPT"))
    def record_b(self, obj: DuplicateCandidate):
        if not _sides(obj)[1]:
            return _outside()
        if obj.inmate_b_id:
            return format_html(
                '{}<br><span class="quiet">{}</span>',
                obj.inmate_b.full_name,
                obj.inmate_b.registration_number,
            )
        record = obj.dpt_record
        return format_html(
            '{}<br><span class="quiet">TPS {} · {}:{}</span>',
            record.name,
            record.tps,
            record.dpt_file.name,
            record.line,
        )

    @admin.display(description=_("facilities"))
    def facilities(self, obj: DuplicateCandidate):
        inside_a, inside_b = _sides(obj)
        if not (inside_a and inside_b):
            codes = [obj.inmate_a.facility.code if inside_a else None]
            if obj.inmate_b_id:
                codes.append(obj.inmate_b.facility.code if inside_b else None)
            return format_html_join(" / ", "{}", [(code or _("another regency/city"),) for code in codes])
        if obj.inmate_b_id and obj.inmate_b.facility_id != obj.inmate_a.facility_id:
            return format_html("{} / {}", obj.inmate_a.facility.code, obj.inmate_b.facility.code)
        return obj.inmate_a.facility.code

    @admin.display(description=_("reasons"))
    def reasons_display(self, obj: DuplicateCandidate):
        # The telling reasons first (NIK, twins, name); all of them on hover.
        labels = dedup.reason_labels(obj.reasons)
        shown = dedup.reason_labels(
            [code for code in obj.reasons if code.startswith(("nik_", "possible_", "name_"))]
        )
        return format_html(
            '<span class="dedup-reasons-short" title="{}">{}</span>',
            " · ".join(labels),
            " · ".join(shown[:3]),
        )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # The comparison page is the place to look at and decide a pair.
        candidate = self.get_object(request, admin.utils.unquote(object_id))
        if candidate is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        return HttpResponseRedirect(reverse("inmates:duplicate_compare", args=[candidate.pk]))

    def get_changelist(self, request, **kwargs):
        return DuplicateChangeList

    def _cross_scope(self, request, object_id) -> DuplicateCandidate | None:
        """The pair, when a side of it lies outside the (officer) user's scope."""
        if request.user.is_admin_role or not str(object_id).isdigit():
            return None  # a malformed id: Django's own view answers it (404 or redirect)
        candidate = (
            self.get_queryset(request)
            .select_related("inmate_a__facility", "inmate_b__facility", "dpt_record")
            .filter(pk=object_id)
            .first()
        )
        return candidate if candidate is not None and candidate.is_cross_scope(request.user) else None

    def history_view(self, request, object_id, extra_context=None):
        # The history pages name both records; the comparison page shows a cross-scope pair's
        # history without the other side.
        object_id = admin.utils.unquote(object_id)
        candidate = self._cross_scope(request, object_id)
        if candidate is not None:
            return HttpResponseRedirect(reverse("inmates:duplicate_compare", args=[candidate.pk]))
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        candidate = self._cross_scope(request, admin.utils.unquote(object_id))
        if candidate is not None:
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "title": _("Possible duplicates"),
            "can_run": request.user.has_perm("inmates.change_duplicatecandidate"),
            "can_check_dpt": request.user.is_admin_role or request.user.role == "kpu",
            "recent_runs": DedupRun.objects.for_user(request.user)[:3],
        }
        return super().changelist_view(request, extra_context)


class DptFileFilter(admin.SimpleListFilter):
    title = _("DPT file")
    parameter_name = "dpt_file"

    def lookups(self, request, model_admin):
        return [(f.pk, f"{f.name} ({f.regency_id})") for f in DptFile.objects.for_user(request.user)[:200]]

    def queryset(self, request, queryset):
        if self.value() and self.value().isdigit():
            return queryset.filter(dpt_file_id=self.value())
        return queryset


@admin.register(DptFile)
class DptFileAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "regency", "row_count", "loaded_by", "loaded_at", "records_link"]
    list_select_related = ["regency", "loaded_by"]
    search_fields = ["name"]
    readonly_fields = ["name", "regency", "row_count", "loaded_by", "loaded_at"]

    @admin.display(description=_("records"))
    def records_link(self, obj: DptFile):
        url = reverse("admin:inmates_dptrecord_changelist") + f"?dpt_file={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, _("Show records"))

    def add_view(self, request, form_url="", extra_context=None):
        # Loading a file is an import, not a form: the upload page does it.
        return HttpResponseRedirect(reverse("inmates:dpt_upload"))

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return request.user.is_admin_role and super().has_delete_permission(request, obj)

    def delete_model(self, request, obj):
        dpt_file_delete(dpt_file=obj, user=request.user)

    def delete_queryset(self, request, queryset):
        for dpt_file in queryset:
            dpt_file_delete(dpt_file=dpt_file, user=request.user)


@admin.register(DptRecord)
class DptRecordAdmin(IndexedSearchMixin, ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "nik", "birth_date", "sex", "tps", "region_code", "dpt_file", "line"]
    list_filter = [DptFileFilter]
    list_select_related = ["dpt_file"]
    search_fields = ["=nik", "name"]
    # A full NIK exactly (B-tree), names by substring (trigram index on PostgreSQL).
    search_nik_fields = ["nik"]
    search_name_fields = ["name"]
    # Millions of rows: no exact COUNT(*) on every page.
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    list_per_page = 100
    readonly_fields = [f.name for f in DptRecord._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
