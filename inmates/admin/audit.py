"""The access log, read-only, for admins."""

from django.contrib import admin

from inmates.models import AccessLog
from voterreg.scoping import ScopedAdminMixin


@admin.register(AccessLog)
class AccessLogAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["at", "user", "action", "facility", "target", "ip_address"]
    list_filter = ["action", "facility"]
    list_select_related = ["user", "facility"]
    search_fields = ["target", "user__username"]
    date_hierarchy = "at"
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
