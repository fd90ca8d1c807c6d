"""Elections: reference data, the admin's saves, and eligibility runs over every facility."""

from __future__ import annotations

import datetime
from collections import Counter
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from inmates.models import Facility, User
from tps import selectors
from tps.eligibility import Status
from tps.models import PEMILU_BALLOTS, PILKADA_BALLOTS, Election
from tps.models.voterlists import EligibilityRun

# The two 2024 elections. tps/migrations/0004_lists_reference_elections.py
# holds the same values, with Pilkada's reserve rate corrected by
# 0008_pilkada_2024_reserve_rate (a migration must not import application code).
REFERENCE_ELECTIONS: list[dict] = [
    {
        "code": "pemilu-2024",
        "name": "Pemilu 2024",
        "type": Election.Type.PEMILU,
        "voting_day": datetime.date(2024, 2, 14),
        "max_voters_per_tps": 300,
        "ballot_reserve_rate": Decimal("0.02"),
        "move_deadline": datetime.date(2024, 1, 15),
        "detainee_move_deadline": datetime.date(2024, 2, 7),
        "ballot_types": [str(code) for code in PEMILU_BALLOTS],
    },
    {
        "code": "pilkada-2024",
        "name": "Pilkada 2024",
        "type": Election.Type.PILKADA,
        "voting_day": datetime.date(2024, 11, 27),
        "max_voters_per_tps": 600,
        # UU 1/2015 as amended by UU 8/2015, art. 80(3): DPT + 2.5 % (Pemilu 2 %: UU 7/2017 art. 344(2)).
        "ballot_reserve_rate": Decimal("0.025"),
        "move_deadline": datetime.date(2024, 10, 28),
        "detainee_move_deadline": datetime.date(2024, 11, 20),
        "ballot_types": [str(code) for code in PILKADA_BALLOTS],
    },
]


@transaction.atomic
def election_save(*, election: Election, user: User | None) -> Election:
    """Validate and save an election; empty ballot types and deadlines get their defaults."""
    if not election.ballot_types:
        defaults = PEMILU_BALLOTS if election.type == Election.Type.PEMILU else PILKADA_BALLOTS
        election.ballot_types = [str(code) for code in defaults]
    election.full_clean()
    if user is not None:
        election._history_user = user
    election.save()
    return election


@transaction.atomic
def reference_elections_ensure() -> dict[str, Election]:
    """Create the reference elections that are missing; existing ones are left as they are."""
    elections = {}
    for spec in REFERENCE_ELECTIONS:
        election = Election.objects.filter(code=spec["code"]).first()
        if election is None:
            election = election_save(election=Election(**spec), user=None)
        elections[spec["code"]] = election
    return elections


# --- eligibility of every facility, in the background ---------------------------------


@transaction.atomic
def eligibility_run_start(
    *, election: Election, user: User, on: datetime.date | None = None
) -> EligibilityRun:
    """Create a run over the facilities ``user`` sees and hand it to the task worker."""
    if not Facility.objects.for_user(user).exists():
        raise PermissionDenied(_("You see no facility to judge."))
    run = EligibilityRun(election=election, judged_on=on or election.voting_day, started_by=user)
    run.full_clean()
    run.save()
    transaction.on_commit(lambda: _enqueue(run.pk))
    return run


def _enqueue(run_id: int) -> None:
    from tps.tasks import run_eligibility

    result = run_eligibility.enqueue(run_id)
    EligibilityRun.objects.filter(pk=run_id, task_id="").update(task_id=str(result.id)[:64])


def eligibility_run_execute(run_id: int, *, today: datetime.date | None = None) -> dict:
    """Judge every facility of the run, one at a time, saving progress after each (the task body)."""
    updated = EligibilityRun.objects.filter(pk=run_id, status=EligibilityRun.Status.PENDING).update(
        status=EligibilityRun.Status.RUNNING
    )
    run = EligibilityRun.objects.select_related("election", "started_by").get(pk=run_id)
    if not updated:
        return run.result
    facilities = list(Facility.objects.for_user(run.started_by).order_by("code"))
    EligibilityRun.objects.filter(pk=run_id).update(total=len(facilities), processed=0)
    result: dict[str, dict] = {}
    try:
        for done, facility in enumerate(facilities, start=1):
            judged = selectors.judge_facility(
                election=run.election,
                facility=facility,
                on=run.judged_on,
                today=today or timezone.localdate(),
            )
            statuses = Counter(item.status for item in judged)
            reasons = Counter(reason for item in judged for reason in item.reasons)
            result[facility.code] = {
                "name": facility.name,
                **{status: statuses[status] for status in Status.values},
                "reasons": dict(sorted(reasons.items())),
            }
            EligibilityRun.objects.filter(pk=run_id).update(processed=done, result=result)
    except Exception as exc:
        EligibilityRun.objects.filter(pk=run_id).update(
            status=EligibilityRun.Status.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:2000],
            finished_at=timezone.now(),
        )
        raise
    EligibilityRun.objects.filter(pk=run_id).update(
        status=EligibilityRun.Status.DONE, result=result, finished_at=timezone.now()
    )
    return result
