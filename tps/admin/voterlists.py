"""Admin of potential-voter lists: the list of versions, and the hand-over audit.

A list's own page (review, edits, submit, accept, return, differences) is the
review page in tps/views/voterlists.py, styled like the admin: a list can
have thousands of rows, which an admin inline cannot page. The admin's change
URL leads there, and refuses a POST (nothing is changed through a model form).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from tps.models import VoterList, VoterListEvent
from tps.services import voterlists as services
from voterreg.scoping import ScopedAdminMixin


@admin.register(VoterList)
class VoterListAdmin(ScopedAdminMixin, admin.ModelAdmin):
    change_list_template = "admin/tps/voterlist/change_list.html"
    list_display = [
        "facility",
        "election",
        "version_link",
        "status",
        "eligible_count",
        "not_eligible_count",
        "needs_data_count",
        "register_date",
        "created_by",
        "created_at",
    ]
    list_display_links = None
    # Only the facilities the user sees appear as filter choices.
    list_filter = ["status", "election", ("facility", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["facility", "election", "created_by"]
    search_fields = ["facility__name", "facility__code", "election__name", "election__code"]
    ordering = ["election", "facility", "-version"]
    actions = ["submit_selected", "accept_selected"]

    def get_queryset(self, request):
        status = "entries__status"
        return (
            super()
            .get_queryset(request)
            .annotate(
                _eligible=Count("entries", filter=Q(**{status: "eligible"})),
                _not_eligible=Count("entries", filter=Q(**{status: "not_eligible"})),
                _needs_data=Count("entries", filter=Q(**{status: "needs_data"})),
            )
        )

    @admin.display(description=_("version"), ordering="version")
    def version_link(self, obj: VoterList):
        return format_html(
            '<a href="{}">v{}</a>', reverse("tps:voterlist_detail", args=[obj.pk]), obj.version
        )

    @admin.display(description=_("eligible"), ordering="_eligible")
    def eligible_count(self, obj: VoterList) -> int:
        return obj._eligible

    @admin.display(description=_("not eligible (TMS)"), ordering="_not_eligible")
    def not_eligible_count(self, obj: VoterList) -> int:
        return obj._not_eligible

    @admin.display(description=_("needs data"), ordering="_needs_data")
    def needs_data_count(self, obj: VoterList) -> int:
        return obj._needs_data

    def has_add_permission(self, request) -> bool:
        # Lists are generated from the register (the "Generate" button), never typed in.
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def changelist_view(self, request, extra_context=None):
        extra_context = extra_context or {}
        extra_context["generate_url"] = reverse("tps:voterlist_generate")
        extra_context["can_generate"] = request.user.is_admin_role or request.user.role == "rutan"
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        voter_list = self.get_object(request, admin.utils.unquote(object_id))
        if voter_list is None:
            raise Http404
        if request.method != "GET":
            raise PermissionDenied
        return HttpResponseRedirect(reverse("tps:voterlist_detail", args=[voter_list.pk]))

    def _run(self, request, queryset, step, done_message) -> None:
        done, refused = 0, []
        for voter_list in queryset.select_related("facility", "election"):
            try:
                step(voter_list=voter_list, user=request.user)
            except (PermissionDenied, ValidationError) as exc:
                refused.append(f"{voter_list}: {' '.join(getattr(exc, 'messages', [str(exc)]))}")
            else:
                done += 1
        if done:
            self.message_user(request, done_message(done), messages.SUCCESS)
        for line in refused:
            self.message_user(request, line, messages.ERROR)

    @admin.action(description=_("Submit the selected lists to KPU"), permissions=["change"])
    def submit_selected(self, request, queryset):
        self._run(
            request,
            queryset,
            services.voterlist_submit,
            lambda n: (
                ngettext("%(count)d list submitted to KPU.", "%(count)d lists submitted to KPU.", n)
                % {"count": n}
            ),
        )

    @admin.action(description=_("Accept the selected lists"), permissions=["change"])
    def accept_selected(self, request, queryset):
        self._run(
            request,
            queryset,
            services.voterlist_accept,
            lambda n: ngettext("%(count)d list accepted.", "%(count)d lists accepted.", n) % {"count": n},
        )


@admin.register(VoterListEvent)
class VoterListEventAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """The hand-over audit: who generated, edited, submitted, returned or accepted which list, when."""

    list_display = ["at", "action", "list_link", "user", "comment_short"]
    list_filter = [
        "action",
        "voter_list__election",
        ("voter_list__facility", admin.RelatedOnlyFieldListFilter),
    ]
    list_select_related = ["voter_list__facility", "voter_list__election", "user"]
    search_fields = ["comment", "user__username"]
    ordering = ["-at", "-pk"]
    show_full_result_count = False

    @admin.display(description=_("list"), ordering="voter_list")
    def list_link(self, obj: VoterListEvent):
        return format_html(
            '<a href="{}">{}</a>',
            reverse("tps:voterlist_detail", args=[obj.voter_list_id]),
            str(obj.voter_list),
        )

    @admin.display(description=_("comment"))
    def comment_short(self, obj: VoterListEvent) -> str:
        return obj.comment if len(obj.comment) <= 120 else obj.comment[:117] + "…"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
