"""Forms of the register."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from inmates import nik as nik_rules
from inmates.models import Inmate
from inmates.services import inmate_admission_event_to_correct


class NikField(forms.CharField):
    """Accepts what people paste (spaces, dots, a leading apostrophe) and keeps 16 digits."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("max_length", 40)
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.widget.attrs.update({"inputmode": "numeric", "autocomplete": "off", "size": 20})

    def to_python(self, value):
        value = super().to_python(value)
        try:
            return nik_rules.normalize(value)
        except nik_rules.NikError as exc:
            raise forms.ValidationError(exc.message, code=exc.code) from exc


class InmateAdminForm(forms.ModelForm):
    nik = NikField(label=_("NIK"), help_text=_("16 digits. Leave empty if the inmate has no NIK."))
    nkk = NikField(label=_("NKK"), help_text=_("16 digits of the family card (Kartu Keluarga)."))

    class Meta:
        model = Inmate
        fields = "__all__"  # noqa: DJ007 - the admin fieldsets choose what is shown

    def clean_nkk(self):
        return self.cleaned_data.get("nkk") or ""

    def clean(self):
        cleaned = super().clean()
        # A changed admission date moves the recorded admission with it; say
        # here, next to the field, when the custody history cannot follow.
        new = cleaned.get("admission_date")
        old = self.instance.admission_date if self.instance.pk else None
        if old and new and new != old:
            try:
                inmate_admission_event_to_correct(inmate=self.instance, old=old, new=new)
            except ValidationError as exc:
                self.add_error(None, exc)
        return cleaned
