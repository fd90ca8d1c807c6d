"""Pages of the potential-voter list: generate, review and edit, submit, accept, return.

Every page reads through the scope (``get_for_user_or_404``: another
facility's list is a 404) and acts through tps.services.voterlists, which
checks the role (403 when the user may see the list but not do this) and the
state (an invalid step is refused with a message and nothing changes).
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.forms import modelformset_factory
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from inmates.models import Facility
from tps.eligibility import Reason, Status
from tps.models import Election, VoterList, VoterListEntry
from tps.services import voterlists as services
from voterreg.scoping import get_for_user_or_404, scoped

PAGE_SIZE = 100


def _admin_context(request: HttpRequest, title: str, **extra) -> dict:
    """What admin/base_site.html expects, so these pages look like the admin."""
    from django.contrib import admin

    context = admin.site.each_context(request)
    context.update(title=title, **extra)
    return context


def _list_or_404(request: HttpRequest, pk: int) -> VoterList:
    return get_for_user_or_404(
        VoterList.objects.select_related(
            "election", "facility", "facility__regency", "previous_accepted", "created_by"
        ),
        request.user,
        pk=pk,
    )


# --- generate ------------------------------------------------------------------------


class GenerateForm(forms.Form):
    election = forms.ModelChoiceField(label=gettext_lazy("election"), queryset=Election.objects.none())
    facility = forms.ModelChoiceField(label=gettext_lazy("facility"), queryset=Facility.objects.none())

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["election"].queryset = scoped(Election, user).order_by("-voting_day")
        facilities = scoped(Facility, user).order_by("name")
        # Only the facilities whose lists this user prepares (KPU: none).
        self.fields["facility"].queryset = facilities.filter(
            pk__in=[facility.pk for facility in facilities if services.can_prepare(user, facility)]
        )


@staff_member_required
@require_http_methods(["GET", "POST"])
def generate(request: HttpRequest) -> HttpResponse:
    """Build a list version from the register (or rebuild the current draft)."""
    form = GenerateForm(request.POST or None, user=request.user, initial=request.GET.dict())
    if not form.fields["facility"].queryset.exists():
        raise PermissionDenied(_("Only Rutan/Lapas officers and admins generate lists."))
    if request.method == "POST" and form.is_valid():
        election, facility = form.cleaned_data["election"], form.cleaned_data["facility"]
        try:
            voter_list = services.voterlist_generate(election=election, facility=facility, user=request.user)
        except services.TransitionError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request,
                _("Version %(version)d of the list of %(facility)s for %(election)s is ready for review.")
                % {"version": voter_list.version, "facility": facility, "election": election},
            )
            if election.voting_day < timezone.localdate():
                messages.warning(
                    request, _("Voting day has passed: the list shows who was eligible on that day.")
                )
            return redirect("tps:voterlist_detail", pk=voter_list.pk)
    return render(
        request,
        "tps/voterlists/generate.html",
        _admin_context(request, _("Generate a potential-voter list"), form=form),
    )


# --- review ----------------------------------------------------------------------------


class EntryForm(forms.ModelForm):
    class Meta:
        model = VoterListEntry
        fields = list(services.EDITABLE_ENTRY_FIELDS)
        widgets = {
            "home_tps": forms.TextInput(attrs={"size": 18}),
            "move_form_number": forms.TextInput(attrs={"size": 14}),
            "move_form_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The short official codes keep the table narrow; the legend is in the page.
        self.fields["category"].choices = [
            ("", "—"),
            *[(value, value) for value in VoterListEntry.Category.values],
        ]


EntryFormSet = modelformset_factory(VoterListEntry, form=EntryForm, extra=0, can_delete=False)


def _filtered_entries(voter_list: VoterList, params) -> tuple:
    entries = voter_list.entries.order_by("full_name", "registration_number")
    status = params.get("status", "")
    if status in Status.values:
        entries = entries.filter(status=status)
    category = params.get("category", "")
    if category in VoterListEntry.Category.values:
        entries = entries.filter(category=category)
    query = params.get("q", "").strip()
    if query:
        entries = entries.filter(
            Q(full_name__icontains=query) | Q(registration_number__icontains=query) | Q(nik__startswith=query)
        )
    # The DPTb entries that still hold up submission.
    form = "missing" if params.get("form") == "missing" else ""
    if form:
        entries = entries.filter(services.WITHOUT_MOVE_FORM)
    return entries, {"status": status, "category": category, "q": query, "form": form}


def _rows(entries, forms_by_pk: dict) -> list[dict]:
    return [
        {
            "entry": entry,
            "reasons": [str(Reason(code).label) for code in entry.reasons if code in Reason.values],
            "form": forms_by_pk.get(entry.pk),
        }
        for entry in entries
    ]


@staff_member_required
@require_http_methods(["GET", "POST"])
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The list with its rows, reasons, counts and history; edits of categories while it is open."""
    voter_list = _list_or_404(request, pk)
    can_prepare = services.can_prepare(request.user, voter_list.facility)
    can_review = services.can_review(request.user, voter_list.facility)
    editable = can_prepare and voter_list.is_editable
    if request.method == "POST":
        if not can_prepare:
            raise PermissionDenied(_("Only the facility's own officer or an admin edits its list."))
        if not voter_list.is_editable:
            raise services.ListLockedError(_("This list is locked: it was submitted to or accepted by KPU."))
    entries, filters = _filtered_entries(voter_list, request.GET)
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    formset = None
    if editable:
        if request.method == "POST":
            formset = EntryFormSet(
                request.POST, queryset=voter_list.entries.filter(status=Status.ELIGIBLE), prefix="entries"
            )
            if formset.is_valid():
                changes = {
                    form.instance.pk: {name: form.cleaned_data[name] for name in form.changed_data}
                    for form in formset.forms
                    if form.has_changed()
                }
                try:
                    count = services.voterlist_entries_update(
                        voter_list=voter_list, user=request.user, changes=changes
                    )
                except ValidationError as exc:
                    messages.error(request, " ".join(exc.messages))
                else:
                    messages.success(request, _("%(count)d entries saved.") % {"count": count})
                    return redirect(request.get_full_path())
        else:
            page_eligible = [entry.pk for entry in page.object_list if entry.status == Status.ELIGIBLE]
            formset = EntryFormSet(
                queryset=voter_list.entries.filter(pk__in=page_eligible).order_by(
                    "full_name", "registration_number"
                ),
                prefix="entries",
            )
    forms_by_pk = {form.instance.pk: form for form in formset.forms} if formset is not None else {}
    counts = voter_list.entries.aggregate(
        total=Count("pk"),
        eligible=Count("pk", filter=Q(status=Status.ELIGIBLE)),
        not_eligible=Count("pk", filter=Q(status=Status.NOT_ELIGIBLE)),
        needs_data=Count("pk", filter=Q(status=Status.NEEDS_DATA)),
        dpt=Count("pk", filter=Q(category=VoterListEntry.Category.DPT)),
        dptb=Count("pk", filter=Q(category=VoterListEntry.Category.DPTB)),
        dpk=Count("pk", filter=Q(category=VoterListEntry.Category.DPK)),
        from_dpt_check=Count("pk", filter=Q(category_from_dpt_check=True)),
        dptb_without_form=Count("pk", filter=services.WITHOUT_MOVE_FORM),
    )
    query = request.GET.copy()
    query.pop("page", None)
    context = _admin_context(
        request,
        str(voter_list),
        voter_list=voter_list,
        rows=_rows(page.object_list, forms_by_pk),
        page=page,
        page_query=query.urlencode(),
        formset=formset,
        filters=filters,
        counts=counts,
        events=voter_list.events.select_related("user").order_by("at", "pk"),
        status_choices=Status.choices,
        category_choices=VoterListEntry.Category.choices,
        can_prepare=can_prepare,
        can_review=can_review,
        can_submit=can_prepare and voter_list.is_editable,
        can_decide=can_review and voter_list.status == VoterList.Status.SUBMITTED,
        can_regenerate=can_prepare
        and voter_list.status != VoterList.Status.SUBMITTED
        and _is_latest(voter_list),
        versions=VoterList.objects.filter(
            election=voter_list.election, facility=voter_list.facility
        ).order_by("-version"),
    )
    return render(request, "tps/voterlists/detail.html", context)


def _is_latest(voter_list: VoterList) -> bool:
    return not VoterList.objects.filter(
        election=voter_list.election, facility=voter_list.facility, version__gt=voter_list.version
    ).exists()


@staff_member_required
@require_POST
def regenerate(request: HttpRequest, pk: int) -> HttpResponse:
    """Rebuild this draft from the register, or start the next version after an accepted one."""
    voter_list = _list_or_404(request, pk)
    if not _is_latest(voter_list):
        messages.error(request, _("Only the latest version can be rebuilt or followed by a new one."))
        return redirect("tps:voterlist_detail", pk=voter_list.pk)
    try:
        result = services.voterlist_generate(
            election=voter_list.election, facility=voter_list.facility, user=request.user
        )
    except services.TransitionError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("tps:voterlist_detail", pk=voter_list.pk)
    messages.success(
        request, _("Version %(version)d built from today's register.") % {"version": result.version}
    )
    return redirect("tps:voterlist_detail", pk=result.pk)


# --- hand-over ---------------------------------------------------------------------------


def _step(request: HttpRequest, pk: int, step, done: str, **kwargs) -> HttpResponse:
    voter_list = _list_or_404(request, pk)
    try:
        step(voter_list=voter_list, user=request.user, **kwargs)
    except services.TransitionError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, done)
    return redirect("tps:voterlist_detail", pk=voter_list.pk)


@staff_member_required
@require_POST
def submit(request: HttpRequest, pk: int) -> HttpResponse:
    return _step(request, pk, services.voterlist_submit, _("The list was submitted to KPU."))


@staff_member_required
@require_POST
def accept(request: HttpRequest, pk: int) -> HttpResponse:
    return _step(
        request,
        pk,
        services.voterlist_accept,
        _("The list was accepted and is now locked."),
        comment=request.POST.get("comment", ""),
    )


class ReturnForm(forms.Form):
    comment = forms.CharField(
        label=gettext_lazy("What must the facility correct?"),
        widget=forms.Textarea(attrs={"rows": 5, "cols": 80}),
    )


@staff_member_required
@require_http_methods(["GET", "POST"])
def return_list(request: HttpRequest, pk: int) -> HttpResponse:
    """KPU sends a submitted list back with a comment."""
    voter_list = _list_or_404(request, pk)
    if not services.can_review(request.user, voter_list.facility):
        raise PermissionDenied(_("Only KPU of the facility's regency or an admin returns its list."))
    form = ReturnForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.voterlist_return(
                voter_list=voter_list, user=request.user, comment=form.cleaned_data["comment"]
            )
        except services.TransitionError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("The list was returned to the facility."))
        return redirect("tps:voterlist_detail", pk=voter_list.pk)
    return render(
        request,
        "tps/voterlists/return.html",
        _admin_context(
            request, _("Return %(list)s") % {"list": voter_list}, voter_list=voter_list, form=form
        ),
    )


def detail_url(voter_list: VoterList) -> str:
    return reverse("tps:voterlist_detail", args=[voter_list.pk])
