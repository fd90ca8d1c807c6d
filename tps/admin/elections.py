"""Admin of elections: reference data that admins keep and everyone reads."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from tps.models import BallotType, Election
from tps.services.elections import election_save
from voterreg.scoping import ScopedHistoryAdmin


class ElectionAdminForm(forms.ModelForm):
    ballot_types = forms.MultipleChoiceField(
        label=_("ballot types"),
        choices=BallotType.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Leave empty for the defaults of the type: Pemilu PPWP, DPR, DPD, DPRD Provinsi, DPRD Kab/Kota; "
            "Pilkada Gubernur, Bupati/Wali Kota."
        ),
    )

    class Meta:
        model = Election
        fields = [
            "code",
            "name",
            "type",
            "voting_day",
            "max_voters_per_tps",
            "ballot_reserve_rate",
            "move_deadline",
            "detainee_move_deadline",
            "ballot_types",
        ]
        help_texts = {
            "move_deadline": _("Leave empty for H-30 (30 days before voting day)."),
            "detainee_move_deadline": _("Leave empty for H-7 (7 days before voting day)."),
        }

    def clean_ballot_types(self) -> list[str]:
        # Stored in the order of the choices, whatever order was ticked.
        chosen = set(self.cleaned_data.get("ballot_types") or [])
        return [code for code in BallotType.values if code in chosen]


@admin.register(Election)
class ElectionAdmin(ScopedHistoryAdmin):
    form = ElectionAdminForm
    list_display = [
        "name",
        "code",
        "type",
        "voting_day",
        "max_voters_per_tps",
        "reserve_display",
        "move_deadline",
        "detainee_move_deadline",
        "ballots_display",
    ]
    list_filter = ["type"]
    search_fields = ["code", "name"]
    ordering = ["-voting_day"]
    fieldsets = [
        (None, {"fields": ["code", "name", "type", "voting_day"]}),
        (_("TPS and ballots"), {"fields": ["max_voters_per_tps", "ballot_reserve_rate", "ballot_types"]}),
        (_("Deadlines"), {"fields": ["move_deadline", "detainee_move_deadline"]}),
    ]

    def get_prepopulated_fields(self, request, obj=None):
        return {} if obj else {"code": ["name"]}

    @admin.display(description=_("reserve"), ordering="ballot_reserve_rate")
    def reserve_display(self, obj: Election) -> str:
        return f"{(obj.ballot_reserve_rate * 100).normalize():f} %"

    @admin.display(description=_("ballot types"))
    def ballots_display(self, obj: Election):
        labels = dict(BallotType.choices)
        return format_html_join(", ", "{}", ((labels.get(code, code),) for code in obj.ballot_types or []))

    def save_model(self, request, obj, form, change):
        election_save(election=obj, user=request.user)
