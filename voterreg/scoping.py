"""Scope enforcement shared by every admin page and view.

Models that belong to a facility or regency expose ``for_user(user)`` on their
queryset. This module wires that one rule into the admin (lists, change pages,
history pages, foreign-key choices, autocomplete) and into plain views, and
turns "not yours" into a 404 rather than a page or a redirect that would
confirm the record exists.
"""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import Http404
from django.shortcuts import get_object_or_404
from simple_history.admin import SimpleHistoryAdmin


def scoped(model_or_queryset, user) -> models.QuerySet:
    """The objects of a model that ``user`` may see (models without a rule are refused)."""
    queryset = (
        model_or_queryset
        if isinstance(model_or_queryset, models.QuerySet)
        else model_or_queryset._default_manager.all()
    )
    for_user = getattr(queryset, "for_user", None)
    if for_user is None:
        raise TypeError(f"{queryset.model.__name__} has no for_user() scope rule")
    return for_user(user)


def get_for_user_or_404(model_or_queryset, user, **lookup):
    """One access-checked getter: 404 when the object is outside the user's scope."""
    return get_object_or_404(scoped(model_or_queryset, user), **lookup)


class ScopedAdminMixin:
    """Admin pages that only ever show what ``for_user`` allows."""

    def get_queryset(self, request):
        return scoped(super().get_queryset(request), request.user)

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        # Django's admin redirects with "doesn't exist"; for a record of
        # another facility that is still a page. A plain 404 says nothing.
        raise Http404

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        related = db_field.related_model
        if hasattr(related._default_manager.all(), "for_user"):
            kwargs["queryset"] = scoped(related, request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_search_results(self, request, queryset, search_term):
        # Autocomplete calls this on the *related* admin with its own
        # queryset: keep it scoped whichever way we are reached.
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        return scoped(queryset, request.user), may_have_duplicates


class ScopedHistoryAdmin(ScopedAdminMixin, SimpleHistoryAdmin):
    """SimpleHistoryAdmin whose history pages obey the scope too.

    simple-history falls back to the historical rows when the object is not in
    the admin queryset, which would show another facility's data: check first.
    """

    def _ensure_visible(self, request, object_id) -> None:
        try:
            visible = self.get_queryset(request).filter(pk=object_id).exists()
        except (ValueError, ValidationError):  # a malformed id in the URL
            visible = False
        if not visible:
            raise Http404

    def history_view(self, request, object_id, extra_context=None):
        self._ensure_visible(request, admin.utils.unquote(object_id))
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        self._ensure_visible(request, admin.utils.unquote(object_id))
        if request.method != "GET":
            # simple-history saves a POSTed old version without asking for the
            # change permission or going through our services: never allow it.
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)
