"""Forms of the duplicate review pages: the merge choices, starting a run, the DPT upload."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from inmates.dedup import MERGE_FIELDS
from inmates.dpt_import import UPLOAD_MAX_BYTES
from inmates.models import Inmate, Region

SIDES = [("a", "A"), ("b", "B")]


def merge_field_name(key: str) -> str:
    return f"value_{key}"


class MergeForm(forms.Form):
    """Which record survives and, for each value that differs, which side wins."""

    survivor = forms.ChoiceField(
        label=_("Record that stays"),
        choices=SIDES,
        widget=forms.RadioSelect,
        help_text=_("The other record stays in the register, marked as a duplicate of this one."),
    )
    fingerprint = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, differing: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.differing = differing
        for key in differing:
            self.fields[merge_field_name(key)] = forms.ChoiceField(
                label=key, choices=SIDES, widget=forms.RadioSelect, required=True
            )

    def values(self) -> dict[str, str]:
        return {key: self.cleaned_data[merge_field_name(key)] for key in self.differing}


def differing_keys(a: Inmate, b: Inmate) -> list[str]:
    """The merge keys whose values differ between the two records."""
    keys = []
    for key, fields in MERGE_FIELDS:
        if any(getattr(a, name) != getattr(b, name) for name in fields):
            keys.append(key)
    return keys


class RunForm(forms.Form):
    against_dpt = forms.BooleanField(label=_("Also check against the loaded DPT"), required=False)


class DptUploadForm(forms.Form):
    regency = forms.ModelChoiceField(
        label=_("Regency/city"), queryset=Region.objects.none(), empty_label=None
    )
    file = forms.FileField(
        label=_("DPT file"),
        help_text=_(
            "CSV or XLSX as exported from KPU's system (columns such as NKK, NIK, Nama, Tempat Lahir, "
            "Tanggal Lahir, Jenis Kelamin, Status Kawin, Alamat, RT, RW, Kode Wilayah, TPS). Up to 20 MB here; "
            "larger files are loaded with the import_dpt command."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )

    def __init__(self, *args, regencies, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["regency"].queryset = regencies

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > UPLOAD_MAX_BYTES:
            raise forms.ValidationError(
                _(
                    "The file is larger than 20 MB. Load it with: python manage.py import_dpt FILE --regency CODE"
                )
            )
        name = upload.name.lower()
        if not (name.endswith(".csv") or name.endswith(".xlsx")):
            raise forms.ValidationError(_("Upload a .csv or .xlsx file."))
        return upload
