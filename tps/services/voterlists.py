"""The potential-voter list: generate, review, submit, accept or return.

Who may do what (on top of the scope, which already hides other facilities):

* a Rutan/Lapas officer prepares the lists of their own facility: generates,
  edits categories and move forms while the list is a draft or returned, and
  submits it;
* a KPU Kabupaten/Kota officer reviews the lists of the facilities in their
  regency: accepts a submitted list, or returns it with a comment; they never
  generate or edit;
* an admin may do both.

States: draft -> submitted -> accepted | returned; returned -> submitted.
Accepted lists are locked for good; a later change is a new version that
records the accepted one it follows (``previous_accepted``), so the
difference can be shown. Every step writes a VoterListEvent with the user, in
the same transaction.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from inmates.audit import access_log_record
from inmates.models import AccessLog, Facility, User
from tps import selectors
from tps.eligibility import Status
from tps.models import Election, VoterList, VoterListEntry, VoterListEvent

EDITABLE_ENTRY_FIELDS = ("category", "home_tps", "move_form_number", "move_form_date")


class TransitionError(ValidationError):
    """The list is not in a state that allows this step (e.g. accepting a draft)."""


class ListLockedError(PermissionDenied):
    """The list is submitted or accepted: nothing in it may change."""


class MoveFormMissingError(TransitionError):
    """DPTb entries without their Formulir Model A-Surat Pindah Memilih: not ready for KPU."""


# How many entries a refusal names; the review page filters the rest.
NAMED_ENTRIES = 10


# --- who may do what -------------------------------------------------------------


def _is_admin(user: User) -> bool:
    return bool(getattr(user, "is_active", False) and getattr(user, "is_admin_role", False))


def can_prepare(user: User, facility: Facility) -> bool:
    """Generate, edit and submit the lists of ``facility``."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return _is_admin(user) or (user.role == User.Role.RUTAN and user.facility_id == facility.pk)


def can_review(user: User, facility: Facility) -> bool:
    """Accept or return the lists of ``facility``."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return _is_admin(user) or (user.role == User.Role.KPU and user.regency_id == facility.regency_id)


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise PermissionDenied(message)


def _locked_list(voter_list: VoterList) -> VoterList:
    """Re-read the list under a row lock: two officers acting at once see each other's step."""
    return VoterList.objects.select_for_update().select_related("election", "facility").get(pk=voter_list.pk)


def _record(voter_list: VoterList, action: str, user: User | None, comment: str = "") -> VoterListEvent:
    return VoterListEvent.objects.create(voter_list=voter_list, action=action, user=user, comment=comment)


# --- generate ----------------------------------------------------------------------


def _decision(prior: VoterListEntry | None, home: selectors.HomeDpt | None) -> dict[str, Any]:
    """Category and move-form fields for an eligible voter.

    An officer's earlier decision stands, except that a DPT entry is proposed
    as DPTb when the DPT cross-check has since found the person on a home
    DPT. Without an earlier decision the cross-check proposes DPTb, else DPT.
    """
    keeps_prior = prior is not None and prior.status == Status.ELIGIBLE and bool(prior.category)
    if keeps_prior and not (prior.category == VoterListEntry.Category.DPT and home is not None):
        return {
            "category": prior.category,
            "home_tps": prior.home_tps,
            "move_form_number": prior.move_form_number,
            "move_form_date": prior.move_form_date,
            "category_from_dpt_check": prior.category_from_dpt_check,
        }
    if home is not None:
        return {
            "category": VoterListEntry.Category.DPTB,
            "home_tps": home.label,
            "category_from_dpt_check": True,
        }
    return {"category": VoterListEntry.Category.DPT}


def _build_entries(
    voter_list: VoterList,
    judged: list[selectors.InmateJudgement],
    prior: Mapping[int, VoterListEntry],
) -> list[VoterListEntry]:
    eligible_ids = [item.inmate.pk for item in judged if item.status == Status.ELIGIBLE]
    homes = selectors.home_dpt_by_inmate(eligible_ids)
    entries = []
    for item in judged:
        inmate = item.inmate
        entry = VoterListEntry(
            voter_list=voter_list,
            inmate=inmate,
            registration_number=inmate.registration_number,
            full_name=inmate.full_name,
            nik=inmate.nik or "",
            status=item.status,
            reasons=list(item.reasons),
            birth_date=inmate.birth_date,
            sex=inmate.sex,
            domicile_code=inmate.domicile_region_id or "",
            custody_type=inmate.custody_type,
            expected_release_date=inmate.expected_release_date,
            custody_event_date=item.event_date,
        )
        if item.status == Status.ELIGIBLE:
            decision = _decision(prior.get(inmate.pk), homes.get(inmate.pk))
            for name, value in decision.items():
                setattr(entry, name, value)
            try:
                entry.clean()
            except ValidationError:
                # An earlier decision that no longer holds (the election's
                # deadlines changed): start again from the proposal.
                for name, value in _decision(None, homes.get(inmate.pk)).items():
                    setattr(entry, name, value)
                entry.move_form_number, entry.move_form_date = "", None
        entries.append(entry)
    return entries


def _summary(entries: list[VoterListEntry]) -> str:
    counts = {status: 0 for status in Status.values}
    for entry in entries:
        counts[entry.status] += 1
    return _("%(eligible)d eligible, %(not_eligible)d not eligible (TMS), %(needs_data)d need data") % counts


@transaction.atomic
def voterlist_generate(
    *, election: Election, facility: Facility, user: User, today: datetime.date | None = None
) -> VoterList:
    """Judge the facility's inmates for voting day and store the result as a list version.

    The latest version decides what happens: none or accepted -> a new
    version follows it; a draft or a returned list is rebuilt in place
    (keeping the officer's categories and move forms); a submitted list is
    with KPU and cannot be regenerated until it comes back.
    """
    _require(can_prepare(user, facility), _("Only the facility's own officer or an admin prepares its list."))
    today = today or timezone.localdate()
    # One generation per facility at a time: the version number is taken
    # from the latest list, so two concurrent runs must not both read it.
    Facility.objects.select_for_update().filter(pk=facility.pk).first()
    latest = (
        VoterList.objects.filter(election=election, facility=facility)
        .select_related("previous_accepted")
        .order_by("-version")
        .first()
    )
    if latest is not None and latest.status == VoterList.Status.SUBMITTED:
        raise TransitionError(
            _("Version %(version)d is with KPU for review; wait until it is accepted or returned.")
            % {"version": latest.version}
        )
    if latest is not None and latest.status in (VoterList.Status.DRAFT, VoterList.Status.RETURNED):
        voter_list = latest
        previous_accepted = latest.previous_accepted
        prior = {entry.inmate_id: entry for entry in voter_list.entries.all()}
        voter_list.entries.all().delete()
        voter_list.status = VoterList.Status.DRAFT
        voter_list.judged_on = election.voting_day
        voter_list.register_date = today
        voter_list.full_clean()
        voter_list.save()
        regenerated = True
    else:
        previous_accepted = latest  # accepted, or None for the first version
        prior = (
            {entry.inmate_id: entry for entry in previous_accepted.entries.all()} if previous_accepted else {}
        )
        voter_list = VoterList(
            election=election,
            facility=facility,
            version=(latest.version + 1) if latest else 1,
            status=VoterList.Status.DRAFT,
            judged_on=election.voting_day,
            register_date=today,
            previous_accepted=previous_accepted,
            created_by=user,
        )
        voter_list.full_clean()
        voter_list.save()
        regenerated = False
    keep = [entry.inmate_id for entry in previous_accepted.entries.all()] if previous_accepted else []
    judged = selectors.judge_facility(
        election=election, facility=facility, on=election.voting_day, today=today, include_ids=keep
    )
    entries = _build_entries(voter_list, judged, prior)
    VoterListEntry.objects.bulk_create(entries, batch_size=1000)
    summary = _summary(entries)
    comment = (
        _("Rebuilt from the register of %(day)s: %(summary)s")
        if regenerated
        else _("Built from the register of %(day)s: %(summary)s")
    )
    _record(
        voter_list,
        VoterListEvent.Action.GENERATED,
        user,
        comment % {"day": today.strftime("%d-%m-%Y"), "summary": summary},
    )
    return voter_list


# --- review ------------------------------------------------------------------------


# A DPTb entry without its move form's number or date. A DPTb voter moves with
# a Formulir Model A-Surat Pindah Memilih: without its number and date the move
# is not on record, and KPU cannot take the voter off the home DPT.
WITHOUT_MOVE_FORM = Q(category=VoterListEntry.Category.DPTB) & (
    Q(move_form_number="") | Q(move_form_date__isnull=True)
)


def dptb_without_move_form(voter_list: VoterList) -> QuerySet[VoterListEntry]:
    """The DPTb entries of ``voter_list`` that lack the move form's number or date."""
    return voter_list.entries.filter(WITHOUT_MOVE_FORM)


def _entries_named(entries: QuerySet[VoterListEntry]) -> str:
    rows = list(entries.order_by("full_name", "registration_number")[: NAMED_ENTRIES + 1])
    names = [f"{entry.registration_number} {entry.full_name}" for entry in rows[:NAMED_ENTRIES]]
    text = "; ".join(names)
    if len(rows) > NAMED_ENTRIES:
        text += " " + _("and more (filter the list by “DPTb without move form”)")
    return text


def _require_move_forms(voter_list: VoterList, *, accepting: bool) -> None:
    missing = dptb_without_move_form(voter_list)
    count = missing.count()
    if not count:
        return
    values = {"count": count, "entries": _entries_named(missing)}
    if accepting:
        message = ngettext(
            "This list cannot be accepted: %(count)d DPTb entry lacks the number and date of its "
            "Formulir Model A-Surat Pindah Memilih (%(entries)s). Return the list to the facility "
            "to enter the form or change the category.",
            "This list cannot be accepted: %(count)d DPTb entries lack the number and date of their "
            "Formulir Model A-Surat Pindah Memilih (%(entries)s). Return the list to the facility "
            "to enter the forms or change the categories.",
            count,
        )
    else:
        message = ngettext(
            "Not submitted: %(count)d DPTb entry lacks the number and date of its Formulir Model "
            "A-Surat Pindah Memilih (%(entries)s). Enter the form's number and date, or change the "
            "category to DPT or DPK if the voter does not move.",
            "Not submitted: %(count)d DPTb entries lack the number and date of their Formulir Model "
            "A-Surat Pindah Memilih (%(entries)s). Enter each form's number and date, or change the "
            "category to DPT or DPK where the voter does not move.",
            count,
        )
    raise MoveFormMissingError(message % values)


def _describe(entry: VoterListEntry, changed: dict[str, tuple[Any, Any]]) -> str:
    parts = []
    for name, (old, new) in changed.items():
        label = VoterListEntry._meta.get_field(name).verbose_name
        parts.append(f"{label}: {_show(old)} → {_show(new)}")
    return f"{entry.registration_number} {entry.full_name}: " + "; ".join(parts)


def _show(value: Any) -> str:
    if value in (None, ""):
        return "—"
    if isinstance(value, datetime.date):
        return value.strftime("%d-%m-%Y")
    return str(value)


@transaction.atomic
def voterlist_entries_update(
    *, voter_list: VoterList, user: User, changes: Mapping[int, Mapping[str, Any]]
) -> int:
    """Change category, home TPS and move form of entries of one list; returns how many changed.

    ``changes`` maps entry ids to new field values (only the fields in
    EDITABLE_ENTRY_FIELDS). All or nothing: one invalid entry refuses the
    whole batch with a ValidationError naming it.
    """
    voter_list = _locked_list(voter_list)
    _require(
        can_prepare(user, voter_list.facility),
        _("Only the facility's own officer or an admin edits its list."),
    )
    if not voter_list.is_editable:
        raise ListLockedError(_("This list is locked: it was submitted to or accepted by KPU."))
    entries = {entry.pk: entry for entry in voter_list.entries.filter(pk__in=list(changes))}
    unknown = set(changes) - set(entries)
    if unknown:
        raise ValidationError(_("These entries are not on this list: %(ids)s") % {"ids": sorted(unknown)})
    lines = []
    for entry_id, fields in changes.items():
        entry = entries[entry_id]
        extra = set(fields) - set(EDITABLE_ENTRY_FIELDS)
        if extra:
            raise ValidationError(_("These fields cannot be edited: %(names)s") % {"names": sorted(extra)})
        changed = {}
        for name, value in fields.items():
            value = value if value is not None or name == "move_form_date" else ""
            if isinstance(value, str):
                value = value.strip()
            if getattr(entry, name) != value:
                changed[name] = (getattr(entry, name), value)
                setattr(entry, name, value)
        if not changed:
            continue
        if "category" in changed:
            entry.category_from_dpt_check = False
        try:
            entry.full_clean(validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            raise ValidationError(
                _("%(entry)s: %(errors)s")
                % {
                    "entry": f"{entry.registration_number} {entry.full_name}",
                    "errors": "; ".join(exc.messages),
                }
            ) from exc
        entry.save()
        lines.append(_describe(entry, changed))
    if lines:
        _record(voter_list, VoterListEvent.Action.EDITED, user, "\n".join(lines))
    return len(lines)


def voterlist_entry_update(*, entry: VoterListEntry, user: User, **fields: Any) -> VoterListEntry:
    """Change one entry (see voterlist_entries_update)."""
    voterlist_entries_update(voter_list=entry.voter_list, user=user, changes={entry.pk: fields})
    entry.refresh_from_db()
    return entry


@transaction.atomic
def voterlist_submit(*, voter_list: VoterList, user: User) -> VoterList:
    """Hand a draft (or a corrected returned list) to KPU.

    Refused (MoveFormMissingError, naming the entries) while a DPTb entry
    lacks its move form's number and date.
    """
    voter_list = _locked_list(voter_list)
    _require(
        can_prepare(user, voter_list.facility),
        _("Only the facility's own officer or an admin submits its list."),
    )
    if voter_list.status not in (VoterList.Status.DRAFT, VoterList.Status.RETURNED):
        raise TransitionError(
            _("Only a draft or a returned list can be submitted; this one is %(status)s.")
            % {"status": voter_list.get_status_display()}
        )
    _require_move_forms(voter_list, accepting=False)
    voter_list.status = VoterList.Status.SUBMITTED
    voter_list.save(update_fields=["status"])
    _record(voter_list, VoterListEvent.Action.SUBMITTED, user)
    return voter_list


@transaction.atomic
def voterlist_accept(*, voter_list: VoterList, user: User, comment: str = "") -> VoterList:
    """KPU accepts a submitted list: from now on it is locked.

    Refused (MoveFormMissingError) while a DPTb entry lacks its move form.
    """
    voter_list = _locked_list(voter_list)
    _require(
        can_review(user, voter_list.facility),
        _("Only KPU of the facility's regency or an admin accepts its list."),
    )
    if voter_list.status != VoterList.Status.SUBMITTED:
        raise TransitionError(
            _("Only a submitted list can be accepted; this one is %(status)s.")
            % {"status": voter_list.get_status_display()}
        )
    # Submission already refuses such a list; this guards lists submitted
    # before that rule, and any other way a list reached KPU.
    _require_move_forms(voter_list, accepting=True)
    voter_list.status = VoterList.Status.ACCEPTED
    voter_list.review_comment = comment.strip()
    voter_list.save(update_fields=["status", "review_comment"])
    _record(voter_list, VoterListEvent.Action.ACCEPTED, user, comment.strip())
    access_log_record(
        user=user,
        action=AccessLog.Action.LIST_ACCEPTED,
        target=str(voter_list),
        facility=voter_list.facility,
        details={"voter_list": voter_list.pk, "version": voter_list.version},
    )
    return voter_list


@transaction.atomic
def voterlist_return(*, voter_list: VoterList, user: User, comment: str) -> VoterList:
    """KPU sends a submitted list back for correction, saying what to correct."""
    voter_list = _locked_list(voter_list)
    _require(
        can_review(user, voter_list.facility),
        _("Only KPU of the facility's regency or an admin returns its list."),
    )
    if voter_list.status != VoterList.Status.SUBMITTED:
        raise TransitionError(
            _("Only a submitted list can be returned; this one is %(status)s.")
            % {"status": voter_list.get_status_display()}
        )
    comment = (comment or "").strip()
    if not comment:
        raise ValidationError({"comment": _("Say what the facility must correct.")})
    voter_list.status = VoterList.Status.RETURNED
    voter_list.review_comment = comment
    voter_list.save(update_fields=["status", "review_comment"])
    _record(voter_list, VoterListEvent.Action.RETURNED, user, comment)
    access_log_record(
        user=user,
        action=AccessLog.Action.LIST_RETURNED,
        target=str(voter_list),
        facility=voter_list.facility,
        details={"voter_list": voter_list.pk, "version": voter_list.version},
    )
    return voter_list


def latest_accepted(*, election: Election, facility: Facility) -> VoterList | None:
    return (
        VoterList.objects.filter(election=election, facility=facility, status=VoterList.Status.ACCEPTED)
        .order_by("-version")
        .first()
    )
