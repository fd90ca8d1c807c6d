"""Pages of the duplicate review: side-by-side comparison, merge, dismiss, runs and the DPT upload.

Every page reads through ``for_user``: a pair outside the user's scope is a
404 (on GET and POST alike). Deciding needs the change permission on
duplicate candidates (Rutan/Lapas officers and KPU officers have it).

A cross-scope pair (a KPU officer's inmate that may be registered in another
regency, or on its DPT) is shown with the side outside the user's scope
reduced to a note and, per field, whether it matches (computed here; the
values never reach the page). Only an admin merges, dismisses or confirms it:
for officers the POSTs are a 403 and write nothing.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.contrib import admin, messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats
from django.utils.text import capfirst
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from inmates import dedup
from inmates.dpt_import import DptImportError, dpt_import
from inmates.models import DptFile, DptRecord, DuplicateCandidate, Facility, Inmate, Region, User
from inmates.models.dedup import DedupRun
from inmates.tasks_dedup import dedup_run_start
from inmates.views.dedup_forms import DptUploadForm, MergeForm, RunForm, differing_keys, merge_field_name
from voterreg.scoping import get_for_user_or_404

VIEW_PERM = "inmates.view_duplicatecandidate"
DECIDE_PERM = "inmates.change_duplicatecandidate"

# Rows of the comparison of two inmate records: (field, merge key or None).
INMATE_ROWS: tuple[tuple[str, str | None], ...] = (
    ("facility", None),
    ("registration_number", None),
    ("nik", "nik"),
    ("nkk", "nkk"),
    ("full_name", "full_name"),
    ("birth_place", "birth_place"),
    ("birth_date", "birth_date"),
    ("sex", "sex"),
    ("marital_status", "marital_status"),
    ("citizenship", "citizenship"),
    ("address", "address"),
    ("rt", "rt"),
    ("rw", "rw"),
    ("domicile_region", "domicile_region"),
    ("disability", "disability"),
    ("ktp_el_status", "ktp_el_status"),
    ("is_tni_polri", "is_tni_polri"),
    ("voting_right_revoked", "voting_right_revoked"),
    ("revocation_decision", None),
    ("custody_type", None),
    ("custody_status", None),
    ("admission_date", None),
    ("expected_release_date", None),
)
# An inmate next to a DPT record: (label, inmate field, DPT field).
DPT_ROWS: tuple[tuple[str, str, str], ...] = (
    ("NIK", "nik", "nik"),
    ("NKK", "nkk", "nkk"),
    (_("Name"), "full_name", "name"),
    (_("Birth place"), "birth_place", "birth_place"),
    (_("Birth date"), "birth_date", "birth_date"),
    (_("Sex"), "sex", "sex"),
    (_("Address"), "address", "address"),
    ("RT", "rt", "rt"),
    ("RW", "rw", "rw"),
    (_("Region (domicile / Kode Wilayah)"), "domicile_region_id", "region_code"),
)


@dataclass(frozen=True)
class Row:
    label: str
    a: str
    b: str
    differs: bool
    key: str | None = None  # merge key when the values can be chosen
    field_name: str = ""
    selected: str = ""  # "a" or "b": the side currently chosen in the merge form
    # A cross-scope pair: the side outside the user's scope ("a" or "b"), whose cell shows
    # only how its value compares with the other side's ("same", "different", "empty", or
    # "hidden" for a value that is not compared), never the value.
    hidden: str = ""
    match: str = ""


# What the side of a cross-scope pair outside the user's scope shows instead of its values.
def _match_labels() -> dict[str, str]:
    return {
        "same": pgettext("duplicate match", "same"),
        "different": pgettext("duplicate match", "different"),
        "empty": pgettext("duplicate match", "empty"),
        "hidden": pgettext("duplicate match", "not shown"),
    }


def outside_note(kind: str) -> str:
    """The note on the side of a pair that lies outside the user's scope."""
    if kind == DuplicateCandidate.Kind.DPT:
        return gettext("DPT record outside your area (another regency/city): handled by the admin")
    return gettext("Inmate outside your area (another regency/city): handled by the admin")


def _match(shown, hidden) -> str:
    """How the hidden side's value compares with the shown side's: computed here, never sent."""
    if hidden is None or hidden == "":
        return "empty"
    return "same" if _comparable(shown) == _comparable(hidden) else "different"


def _masked(row: Row, hidden: str, match: str) -> Row:
    """``row`` with the cell of the ``hidden`` side replaced by a match indicator."""
    label = _match_labels()[match]
    differs = row.differs and match != "hidden"  # not even whether a hidden value differs
    return dataclasses.replace(
        row, differs=differs, key=None, field_name="", hidden=hidden, match=match, **{hidden: label}
    )


def _show(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    if isinstance(value, datetime.datetime):
        return formats.date_format(value, "d-m-Y H:i")
    if isinstance(value, datetime.date):
        return formats.date_format(value, "d-m-Y")
    return str(value)


def _inmate_value(inmate: Inmate, name: str) -> str:
    field = Inmate._meta.get_field(name)
    if getattr(field, "choices", None):
        return _show(
            getattr(inmate, f"get_{name}_display")() if getattr(inmate, name) not in (None, "") else None
        )
    return _show(getattr(inmate, name))


def _comparable(value) -> str:
    return " ".join(str(value or "").split()).casefold()


# Rows of a pair that say where a record is kept rather than who the person is: on the side
# outside the user's scope they are not compared, only hidden.
_NOT_COMPARED = {"facility", "registration_number"}


def inmate_rows(a: Inmate, b: Inmate, *, hidden: str = "") -> list[Row]:
    """The comparison of two inmate records; ``hidden`` ("a" or "b"): that side lies outside the
    user's scope and shows only whether each value matches the other side's."""
    rows = []
    for name, key in INMATE_ROWS:
        field = Inmate._meta.get_field(name)
        attname = field.attname
        value_a, value_b = getattr(a, attname), getattr(b, attname)
        differs = _comparable(value_a) != _comparable(value_b)
        if hidden:
            shown_value, hidden_value = (value_b, value_a) if hidden == "a" else (value_a, value_b)
            match = "hidden" if name in _NOT_COMPARED else _match(shown_value, hidden_value)
            shown = _inmate_value(b if hidden == "a" else a, name)
            row = Row(label=capfirst(field.verbose_name), a=shown, b=shown, differs=differs)
            rows.append(_masked(row, hidden, match))
            continue
        rows.append(
            Row(
                label=capfirst(field.verbose_name),
                a=_inmate_value(a, name),
                b=_inmate_value(b, name),
                differs=differs,
                key=key if differs else None,
                field_name=merge_field_name(key) if key and differs else "",
            )
        )
    return rows


def dpt_rows(inmate: Inmate, record: DptRecord, *, hidden: str = "") -> list[Row]:
    """An inmate (A) next to a DPT record (B); ``hidden`` as in :func:`inmate_rows`."""
    rows = []
    for label, inmate_field, dpt_field in DPT_ROWS:
        mine, theirs = getattr(inmate, inmate_field), getattr(record, dpt_field)
        row = Row(
            label=str(label),
            a=_show(mine),
            b=_show(theirs),
            differs=_comparable(mine) != _comparable(theirs),
        )
        if hidden:
            row = _masked(row, hidden, _match(theirs, mine) if hidden == "a" else _match(mine, theirs))
        rows.append(row)
    home = Row(label=gettext("Home TPS"), a="—", b=_show(record.tps), differs=True)
    source = Row(
        label=gettext("Source"),
        a=f"{inmate.facility} · {inmate.registration_number}",
        b=gettext("%(file)s line %(line)d") % {"file": record.dpt_file.name, "line": record.line},
        differs=True,
    )
    if hidden:
        home, source = _masked(home, hidden, "hidden"), _masked(source, hidden, "hidden")
    rows.extend([home, source])
    return rows


def _candidates(user: User):
    return DuplicateCandidate.objects.for_user(user).select_related(
        "inmate_a__facility",
        "inmate_a__domicile_region",
        "inmate_b__facility",
        "inmate_b__domicile_region",
        "dpt_record__dpt_file",
        "decided_by",
    )


def _get_candidate(request: HttpRequest, pk: int, perm: str) -> DuplicateCandidate:
    candidate = get_for_user_or_404(_candidates(request.user), request.user, pk=pk)
    if not request.user.has_perm(perm):
        raise PermissionDenied
    return candidate


def _get_decidable(request: HttpRequest, pk: int) -> DuplicateCandidate:
    """A pair the user may decide: in their scope, with every record of it (else 403, nothing written)."""
    candidate = _get_candidate(request, pk, DECIDE_PERM)
    if candidate.is_cross_scope(request.user):
        raise PermissionDenied(
            gettext(
                "A record of this pair lies outside your area (another regency/city): an admin decides it."
            )
        )
    return candidate


def _hidden_side(user: User, candidate: DuplicateCandidate) -> str:
    """The side of a cross-scope pair outside the user's scope ("a" or "b"); "" when both are inside."""
    inside_a, inside_b = candidate.sides_in_scope(user)
    if inside_a and inside_b:
        return ""
    # for_user lets a pair through only when it touches the scope: one side is inside.
    return "a" if not inside_a else "b"


def _default_values(a: Inmate, b: Inmate, survivor_side: str, keys: list[str]) -> dict[str, str]:
    """The survivor's value, unless it is empty and the other record has one."""
    other_side = "b" if survivor_side == "a" else "a"
    chosen = {}
    fields = dict(dedup.MERGE_FIELDS)
    for key in keys:
        mine = getattr(a if survivor_side == "a" else b, fields[key][0])
        theirs = getattr(b if survivor_side == "a" else a, fields[key][0])
        chosen[key] = other_side if mine in (None, "") and theirs not in (None, "") else survivor_side
    return chosen


def _compare_context(
    request: HttpRequest, candidate: DuplicateCandidate, form: MergeForm | None = None
) -> dict:
    hidden = _hidden_side(request.user, candidate)
    can_decide = (
        request.user.has_perm(DECIDE_PERM)
        and candidate.status == DuplicateCandidate.Status.OPEN
        and not hidden
    )
    context = {
        **admin.site.each_context(request),
        "opts": DuplicateCandidate._meta,
        "title": gettext("Compare a possible duplicate"),
        "candidate": candidate,
        "reasons": dedup.reason_labels(candidate.reasons),
        "can_decide": can_decide,
        "history": candidate.history.select_related("history_user").order_by("-history_date")[:20],
        "hidden": hidden,
        "label_a": gettext("Record A"),
    }
    a = candidate.inmate_a
    if hidden:
        # A cross-scope pair: the side outside the user's scope never reaches the template.
        rows = (
            inmate_rows(a, candidate.inmate_b, hidden=hidden)
            if candidate.kind == DuplicateCandidate.Kind.INMATE_PAIR
            else dpt_rows(a, candidate.dpt_record, hidden=hidden)
        )
        label_b = (
            gettext("Record B")
            if candidate.kind == DuplicateCandidate.Kind.INMATE_PAIR
            else gettext("DPT record")
        )
        context.update({"rows": rows, "label_b": label_b, "outside_note": outside_note(candidate.kind)})
        if hidden == "a":
            context["label_a"] = outside_note(DuplicateCandidate.Kind.INMATE_PAIR)
        else:
            context["label_b"] = outside_note(candidate.kind)
            context["a"] = a
        return context
    if candidate.kind == DuplicateCandidate.Kind.INMATE_PAIR:
        b = candidate.inmate_b
        rows = inmate_rows(a, b)
        keys = differing_keys(a, b)
        if can_decide and form is None:
            survivor = "a" if dedup.auto_survivor(a, b).pk == a.pk else "b"
            initial = {"survivor": survivor, "fingerprint": dedup.candidate_fingerprint(candidate)}
            initial.update({merge_field_name(k): v for k, v in _default_values(a, b, survivor, keys).items()})
            form = MergeForm(initial=initial, differing=keys)
        if form is not None:
            rows = [
                dataclasses.replace(row, selected=str(form[row.field_name].value() or ""))
                if row.field_name
                else row
                for row in rows
            ]
        context.update({"rows": rows, "form": form, "b": b, "label_b": gettext("Record B")})
    else:
        context.update(
            {
                "rows": dpt_rows(a, candidate.dpt_record),
                "record": candidate.dpt_record,
                "label_b": gettext("DPT record"),
            }
        )
    context["a"] = a
    return context


@login_required
def duplicate_compare(request: HttpRequest, pk: int) -> HttpResponse:
    """Two records side by side, differing values highlighted, with the merge and dismiss forms."""
    candidate = _get_candidate(request, pk, VIEW_PERM)
    return render(request, "inmates/dedup/compare.html", _compare_context(request, candidate))


def _changelist_url() -> str:
    return reverse("admin:inmates_duplicatecandidate_changelist") + "?status__exact=open"


@login_required
@require_POST
def duplicate_merge(request: HttpRequest, pk: int) -> HttpResponse:
    """Merge the pair with the values chosen on the comparison page."""
    candidate = _get_decidable(request, pk)
    if candidate.kind != DuplicateCandidate.Kind.INMATE_PAIR:
        raise PermissionDenied
    a, b = candidate.inmate_a, candidate.inmate_b
    form = MergeForm(request.POST, differing=differing_keys(a, b))
    if not form.is_valid():
        return render(
            request, "inmates/dedup/compare.html", _compare_context(request, candidate, form), status=400
        )
    survivor = a if form.cleaned_data["survivor"] == "a" else b
    try:
        kept = dedup.duplicate_confirm(
            candidate=candidate,
            survivor=survivor,
            values=form.values(),
            user=request.user,
            seen_fingerprint=form.cleaned_data["fingerprint"] or None,
        )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect("inmates:duplicate_compare", pk=candidate.pk)
    messages.success(
        request,
        gettext("Merged: %(kept)s stays; the other record is marked as its duplicate.") % {"kept": kept},
    )
    return redirect(_changelist_url())


@login_required
@require_POST
def duplicate_dismiss(request: HttpRequest, pk: int) -> HttpResponse:
    """Record "not the same person"; the pair is not proposed again unless a record changes."""
    candidate = _get_decidable(request, pk)
    try:
        dedup.duplicate_dismiss(candidate=candidate, user=request.user)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect("inmates:duplicate_compare", pk=candidate.pk)
    messages.success(
        request, gettext("Dismissed: the pair will not be proposed again unless a record changes.")
    )
    return redirect(_changelist_url())


@login_required
@require_POST
def dpt_match_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm that the inmate is the voter on that home DPT (to move as DPTb)."""
    candidate = _get_decidable(request, pk)
    try:
        dedup.dpt_match_confirm(candidate=candidate, user=request.user)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect("inmates:duplicate_compare", pk=candidate.pk)
    messages.success(
        request,
        gettext(
            "Confirmed: the inmate is on the DPT at home TPS %(tps)s and must move to the prison TPS as DPTb "
            "(Formulir Model A-Surat Pindah Memilih)."
        )
        % {"tps": candidate.dpt_record.tps},
    )
    return redirect(_changelist_url())


# =============================================================================
# Detection runs
# =============================================================================


def _run_scope(user: User) -> tuple[Facility | None, Region | None]:
    if user.is_admin_role:
        return None, None
    if user.role == User.Role.RUTAN and user.facility_id:
        return user.facility, None
    if user.role == User.Role.KPU and user.regency_id:
        return None, user.regency
    raise PermissionDenied


@login_required
@require_POST
def run_start(request: HttpRequest) -> HttpResponse:
    """Start detection for the user's scope: their facility, their regency, or everything (admin)."""
    if not request.user.has_perm(DECIDE_PERM):
        raise PermissionDenied
    facility, regency = _run_scope(request.user)
    form = RunForm(request.POST)
    against_dpt = (
        form.is_valid() and form.cleaned_data["against_dpt"] and request.user.role != User.Role.RUTAN
    )
    run = dedup_run_start(
        user=request.user, facility=facility, regency=regency, against_dpt=bool(against_dpt)
    )
    return redirect("inmates:dedup_run", pk=run.pk)


def _run_message(run: DedupRun) -> str:
    phases = {
        "inmates": gettext("Reading the register…"),
        "pairs": gettext("Comparing inmate records…"),
        "dpt": gettext("Comparing with the DPT…"),
        "saving": gettext("Updating the review queue…"),
        "done": gettext("Finished."),
    }
    if run.status == DedupRun.Status.PENDING:
        return gettext("Waiting for the background worker…")
    if run.status == DedupRun.Status.FAILED:
        return gettext("The run failed: %(error)s") % {"error": run.error}
    return phases.get(run.phase, run.phase)


@login_required
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_for_user_or_404(DedupRun.objects.select_related("facility", "regency"), request.user, pk=pk)
    context = {
        **admin.site.each_context(request),
        "opts": DuplicateCandidate._meta,
        "title": gettext("Duplicate detection"),
        "run": run,
        "running": run.status in (DedupRun.Status.PENDING, DedupRun.Status.RUNNING),
        "message": _run_message(run),
        "status_url": reverse("inmates:dedup_run_status", args=[run.pk]),
        "queue_url": _changelist_url(),
    }
    return render(request, "inmates/dedup/run.html", context)


@login_required
def run_status(request: HttpRequest, pk: int) -> JsonResponse:
    run = get_for_user_or_404(DedupRun.objects.all(), request.user, pk=pk)
    finished = run.status in (DedupRun.Status.DONE, DedupRun.Status.FAILED)
    return JsonResponse(
        {
            "status": run.status,
            "percent": run.progress_percent,
            "message": _run_message(run),
            "finished": finished,
            "url": reverse("inmates:dedup_run", args=[run.pk]),
        }
    )


# =============================================================================
# DPT upload
# =============================================================================


def _upload_regencies(user: User):
    if user.is_admin_role:
        return Region.objects.filter(level=Region.Level.REGENCY).order_by("code")
    if user.role == User.Role.KPU and user.regency_id and user.has_perm("inmates.add_dptfile"):
        return Region.objects.filter(pk=user.regency_id)
    raise PermissionDenied


@contextmanager
def _upload_path(upload) -> Iterator[str]:
    """A path on disk for an uploaded file (small uploads live in memory)."""
    if hasattr(upload, "temporary_file_path"):
        yield upload.temporary_file_path()
        return
    with tempfile.NamedTemporaryFile(suffix=os.path.splitext(upload.name)[1]) as handle:
        for chunk in upload.chunks():
            handle.write(chunk)
        handle.flush()
        yield handle.name


@login_required
def dpt_upload(request: HttpRequest) -> HttpResponse:
    """Load a smaller DPT file (up to 20 MB) for the officer's regency; all rows or none."""
    regencies = _upload_regencies(request.user)
    form = DptUploadForm(request.POST or None, request.FILES or None, regencies=regencies)
    if request.user.regency_id:
        form.fields["regency"].initial = request.user.regency_id
    import_error = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            with _upload_path(upload) as path:
                result = dpt_import(
                    path=path, filename=upload.name, regency=form.cleaned_data["regency"], user=request.user
                )
        except DptImportError as exc:
            import_error = exc
        else:
            messages.success(
                request,
                gettext("Loaded %(rows)d DPT rows from %(name)s.")
                % {"rows": result.rows, "name": result.dpt_file.name},
            )
            return redirect("admin:inmates_dptfile_changelist")
    context = {
        **admin.site.each_context(request),
        "opts": DptFile._meta,
        "title": gettext("Load a DPT file"),
        "form": form,
        "import_error": import_error,
    }
    return render(request, "inmates/dedup/dpt_upload.html", context, status=400 if import_error else 200)
