"""Is an inmate a voter on voting day? (UU 7/2017 art. 198-200; PKPU 7/2022)

Pure module: it takes plain facts about one person and the voting day and
returns a judgement. Services load the inmate, derive the facts (custody
events included) and store the result; the rules live here only, so they can
be tested at every boundary without a database.

Three outcomes, because a voter list is built from incomplete data:

* ``eligible``: every rule holds and the record is complete.
* ``not_eligible``: at least one rule definitely fails (a TMS reason). Such a
  reason wins over missing data: fixing the NIK will not make a foreigner a
  voter, so the person is not left waiting for follow-up.
* ``needs_data``: no rule fails, but the record cannot be put on a list yet
  (no NIK, no birth date where age decides, no known domicile, or a register
  that still holds someone past their expected release date: stale data, not
  a fact either way).

Every reason found is reported, not only the first, so one review fixes them
all.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db import models
from django.utils.translation import gettext_lazy as _

VOTING_AGE = 17

WNI = "WNI"
WNA = "WNA"
CITIZENSHIPS = frozenset({WNI, WNA})

TAHANAN = "tahanan"
NARAPIDANA = "narapidana"
CUSTODY_TYPES = frozenset({TAHANAN, NARAPIDANA})

BELUM_KAWIN = "belum_kawin"
KAWIN = "kawin"
CERAI_HIDUP = "cerai_hidup"
CERAI_MATI = "cerai_mati"
MARITAL_STATUSES = frozenset({BELUM_KAWIN, KAWIN, CERAI_HIDUP, CERAI_MATI})
# Art. 198(1): "sudah kawin, atau sudah pernah kawin" - divorce or widowhood
# does not take the right away again.
EVER_MARRIED = frozenset({KAWIN, CERAI_HIDUP, CERAI_MATI})


class Status(models.TextChoices):
    ELIGIBLE = "eligible", _("Eligible to vote")
    NOT_ELIGIBLE = "not_eligible", _("Not eligible to vote (TMS)")
    NEEDS_DATA = "needs_data", _("Data incomplete, needs follow-up")


class Reason(models.TextChoices):
    """Why a person is not (yet) on the list.

    The first group are TMS (tidak memenuhi syarat) reasons; the second are
    gaps in the record. Codes are stored, never numbers: official numeric TMS
    codes are not confirmed (DOMAIN.md). ``TMS_REASONS`` maps the TMS reasons
    DOMAIN.md names onto these codes. The declaration order is the order in
    which reasons are reported.
    """

    WNA = "wna", _("Foreign citizen (WNA), not a voter")
    UNDERAGE = "underage", _("Underage on voting day")
    TNI_POLRI = "tni_polri", _("Active TNI/Polri member")
    REVOKED = "revoked", _("Voting right revoked by a court decision")
    DEAD = "dead", _("Died")
    TRANSFERRED = "transferred", _("Transferred to another facility")
    RELEASED = "released", _("Not in custody on voting day")
    DUPLICATE = "duplicate", _("Confirmed duplicate registration")
    # Never given by judge(), which judges records that exist: the change
    # report gives it to a list entry whose record has left the facility's
    # register (moved to another facility's register by a correction).
    NOT_FOUND = "not_found", _("Not found in the facility's register")
    RELEASE_NOT_RECORDED = (
        "release_not_recorded",
        _(
            "Expected release date has passed but no release is recorded: "
            "record the release or correct the expected release date"
        ),
    )
    MISSING_NIK = "missing_nik", _("NIK missing")
    MISSING_BIRTH_DATE = "missing_birth_date", _("Birth date missing")
    MISSING_MARITAL_STATUS = "missing_marital_status", _("Marital status missing")
    MISSING_DOMICILE = "missing_domicile", _("Domicile unknown")


# Plain strings, the form in which codes are stored and compared.
NOT_ELIGIBLE_REASONS: frozenset[str] = frozenset(
    reason.value
    for reason in (
        Reason.WNA,
        Reason.UNDERAGE,
        Reason.TNI_POLRI,
        Reason.REVOKED,
        Reason.DEAD,
        Reason.TRANSFERRED,
        Reason.RELEASED,
        Reason.DUPLICATE,
        Reason.NOT_FOUND,
    )
)
MISSING_DATA_REASONS: frozenset[str] = frozenset(
    reason.value
    for reason in (
        Reason.RELEASE_NOT_RECORDED,
        Reason.MISSING_NIK,
        Reason.MISSING_BIRTH_DATE,
        Reason.MISSING_MARITAL_STATUS,
        Reason.MISSING_DOMICILE,
    )
)
_REASON_ORDER: dict[str, int] = {value: index for index, value in enumerate(Reason.values)}

# The TMS reasons DOMAIN.md names, and the codes that carry each here. From
# the prison TPS's point of view a transfer and a release are both a move
# away ("pindah"): the person votes elsewhere, at another facility's TPS or at
# home. A changed domicile is not a reason here (the person still votes at the
# prison TPS, as DPTb if registered at home). WNA is one of DOMAIN.md's "…":
# a foreigner is never a voter.
TMS_REASONS: dict[str, tuple[Reason, ...]] = {
    "dead": (Reason.DEAD,),
    "duplicate": (Reason.DUPLICATE,),
    "underage": (Reason.UNDERAGE,),
    "moved": (Reason.TRANSFERRED, Reason.RELEASED),
    "tni_polri": (Reason.TNI_POLRI,),
    "revoked": (Reason.REVOKED,),
    "not_found": (Reason.NOT_FOUND,),
}


@dataclass(frozen=True)
class VoterFacts:
    """What the rules need to know about one person, as plain values.

    ``in_custody_on_day`` is the answer from the custody event history for the
    day custody is judged for (``inmates.custody.in_custody_on``) when there
    is one; ``None`` means the history does not say and the release date
    decides.

    ``custody_day`` is that day when it is not voting day: the projection asks
    who is still inside at H-30 and will be a voter on voting day. ``None``:
    voting day.

    ``register_date`` is the day the register was read ("today"). A release
    date before it that no release event confirms is stale data: the register
    still says "in custody", the date says "gone", and only the officer knows
    which is true (see ``release_overdue``). ``None``: not checked.

    ``transferred`` (moved to another facility before voting day) is an
    addition to the brief's field list, with a default, because a transfer is
    a distinct TMS reason for this facility's list: the person still votes,
    at the other facility's TPS.
    """

    citizenship: str
    nik: str | None
    birth_date: datetime.date | None
    marital_status: str | None
    is_tni_polri: bool
    voting_right_revoked: bool
    custody_type: str
    expected_release_date: datetime.date | None
    in_custody_on_day: bool | None
    is_confirmed_duplicate: bool
    domicile_code: str | None
    died: bool = False
    transferred: bool = False
    register_date: datetime.date | None = None
    custody_day: datetime.date | None = None

    def __post_init__(self) -> None:
        # A typo such as "wni" or "Tahanan" must not silently fall through to
        # a judgement; the caller maps its data to these codes.
        if self.citizenship not in CITIZENSHIPS:
            raise ValueError(f"citizenship must be one of {sorted(CITIZENSHIPS)}, got {self.citizenship!r}")
        if self.custody_type not in CUSTODY_TYPES:
            raise ValueError(
                f"custody_type must be one of {sorted(CUSTODY_TYPES)}, got {self.custody_type!r}"
            )
        if self.marital_status is not None and self.marital_status not in MARITAL_STATUSES:
            raise ValueError(
                f"marital_status must be one of {sorted(MARITAL_STATUSES)} or None, got {self.marital_status!r}"
            )


@dataclass(frozen=True)
class Judgement:
    """The outcome for one person on one voting day."""

    status: str
    reasons: list[str] = field(default_factory=list)

    @property
    def is_eligible(self) -> bool:
        return self.status == Status.ELIGIBLE

    @property
    def labels(self) -> list[str]:
        """Human-readable reasons, translated when rendered."""
        return [Reason(reason).label for reason in self.reasons]


def age_on(birth_date: datetime.date, day: datetime.date) -> int:
    """Completed years of life on ``day``.

    A birthday counts from its first moment, so someone turning 17 on voting
    day is 17 that day. A person born on 29 February completes a year on
    1 March in common years: the conservative reading, which never makes
    anyone a voter a day early.
    """
    if day < birth_date:
        raise ValueError(f"day {day} is before birth date {birth_date}")
    before_birthday = (day.month, day.day) < (birth_date.month, birth_date.day)
    return day.year - birth_date.year - int(before_birthday)


def _blank(value: str | None) -> bool:
    return value is None or not value.strip()


def _age_reasons(facts: VoterFacts, voting_day: datetime.date) -> list[Reason]:
    if facts.marital_status in EVER_MARRIED:
        # Marriage makes age irrelevant, so a missing birth date does not matter.
        return []
    if facts.birth_date is None:
        return [Reason.MISSING_BIRTH_DATE]
    if facts.birth_date <= voting_day and age_on(facts.birth_date, voting_day) >= VOTING_AGE:
        return []
    # Under 17: only a marriage could still make this person a voter, so an
    # unrecorded marital status is a question to ask, not a "no".
    if facts.marital_status is None:
        return [Reason.MISSING_MARITAL_STATUS]
    return [Reason.UNDERAGE]


def in_custody_on(facts: VoterFacts, voting_day: datetime.date) -> bool:
    """Whether the person is still held on voting day, so votes at the prison TPS.

    The custody history wins when it has an answer. Otherwise a tahanan is
    held (a detention order can be extended, so it has no release date), and
    so is a narapidana without a release date (life sentence, or a date not
    yet recorded: the register shows them in custody, and the custody events
    will say when that changes).

    A release dated on voting day counts as *not* in custody: releases happen
    during office hours, and the person then votes at home, so no ballot is
    planned for them at the prison TPS. This matches
    ``inmates.custody.status_on``, where a release event on a day makes that
    day "released".
    """
    if facts.in_custody_on_day is not None:
        return facts.in_custody_on_day
    if facts.custody_type == TAHANAN or facts.expected_release_date is None:
        return True
    return facts.expected_release_date > voting_day


def release_overdue(facts: VoterFacts, day: datetime.date) -> bool:
    """Whether the person counts as gone on ``day`` only by a release date that has passed unrecorded.

    True for a narapidana whom the custody history still holds (no release,
    transfer or death recorded) although the expected release date is on or
    before ``day`` *and* before the register date: by today the release
    should have been recorded, so the date or the history is wrong. A release
    date still ahead of the register date (today) is a forecast and decides
    as usual: a release between today and voting day is "released". A date
    after ``day`` does not matter for ``day``: the person was inside then.
    """
    if facts.in_custody_on_day is not None or facts.register_date is None:
        return False
    if facts.custody_type != NARAPIDANA or facts.expected_release_date is None:
        return False
    return facts.expected_release_date <= day and facts.expected_release_date < facts.register_date


def judge(facts: VoterFacts, voting_day: datetime.date) -> Judgement:
    """Decide whether the person is a voter at the prison TPS on ``voting_day``."""
    custody_day = facts.custody_day or voting_day
    reasons: list[Reason] = []
    if facts.citizenship != WNI:
        reasons.append(Reason.WNA)
    reasons.extend(_age_reasons(facts, voting_day))
    if facts.is_tni_polri:
        reasons.append(Reason.TNI_POLRI)
    if facts.voting_right_revoked:
        reasons.append(Reason.REVOKED)
    # Death and transfer explain an absence on voting day better than
    # "released", so only one absence reason is given.
    if facts.died:
        reasons.append(Reason.DEAD)
    elif facts.transferred:
        reasons.append(Reason.TRANSFERRED)
    elif release_overdue(facts, custody_day):
        reasons.append(Reason.RELEASE_NOT_RECORDED)
    elif not in_custody_on(facts, custody_day):
        reasons.append(Reason.RELEASED)
    if facts.is_confirmed_duplicate:
        reasons.append(Reason.DUPLICATE)
    if _blank(facts.nik):
        reasons.append(Reason.MISSING_NIK)
    if _blank(facts.domicile_code):
        reasons.append(Reason.MISSING_DOMICILE)

    codes = sorted((Reason(reason).value for reason in reasons), key=_REASON_ORDER.__getitem__)
    if any(code in NOT_ELIGIBLE_REASONS for code in codes):
        status = Status.NOT_ELIGIBLE
    elif codes:
        status = Status.NEEDS_DATA
    else:
        status = Status.ELIGIBLE
    return Judgement(status=status.value, reasons=codes)
