"""Demo data of the elections feature: the reference elections and a list history.

The reference elections (Pemilu 2024, Pilkada 2024) are also created by a data
migration, so they exist on every install; here they are ensured again (an
install whose data was flushed). With the demo accounts present, Rutan Blora
gets a Pemilu 2024 list history: version 1 read from the register of H-30
(15 Jan 2024) and accepted by KPU Blora; then three of its voters leave
(two releases and a transfer recorded in early February) and version 2 is read
at H-7 (7 Feb 2024), with one voter moved to DPTb, and left as a draft. So the
list, its events and the difference between versions can be seen at once. Idempotent: nothing is added when Blora already has a
list for Pemilu 2024.

Once the demo DPT is loaded (``inmates.demo_dedup``, which runs after this
seeder), ``seed_move_forms`` records in that draft the DPTb moves of the Blora
voters the DPT cross-check finds on a home DPT, each with its Formulir Model
A-Surat Pindah Memilih: a DPTb voter without the form holds the list back from
KPU, and in the demo story the forms have arrived. ``tps.demo_stations``
calls it, being the seeder that runs after the DPT.
"""

from __future__ import annotations

import datetime

from inmates import services as register_services
from inmates.models import CustodyEvent, Facility, User
from tps import selectors
from tps.models import Election, VoterList, VoterListEntry
from tps.services import voterlists as voterlist_services
from tps.services.elections import reference_elections_ensure

# The demo's move forms: numbered from here, dated before H-7 (7 Feb 2024).
FIRST_FORM_NUMBER = 100
FORM_DATE = datetime.date(2024, 2, 5)


def seed_demo() -> dict[str, int]:
    elections = reference_elections_ensure()
    pemilu = elections["pemilu-2024"]
    facility = Facility.objects.filter(code="rutan-blora").first()
    officer = User.objects.filter(username="rutan_blora", role=User.Role.RUTAN).first()
    reviewer = User.objects.filter(username="kpu_blora", role=User.Role.KPU).first()
    created = 0
    if (
        facility
        and officer
        and reviewer
        and not VoterList.objects.filter(election=pemilu, facility=facility).exists()
    ):
        first = voterlist_services.voterlist_generate(
            election=pemilu, facility=facility, user=officer, today=pemilu.h30
        )
        voterlist_services.voterlist_submit(voter_list=first, user=officer)
        voterlist_services.voterlist_accept(voter_list=first, user=reviewer, comment="Demo: diterima.")
        _demo_departures(first, officer)
        second = voterlist_services.voterlist_generate(
            election=pemilu, facility=facility, user=officer, today=pemilu.h7
        )
        mover = (
            second.entries.filter(status="eligible", category=VoterListEntry.Category.DPT)
            .order_by("pk")
            .first()
        )
        if mover is not None:
            voterlist_services.voterlist_entry_update(
                entry=mover,
                user=officer,
                category=VoterListEntry.Category.DPTB,
                home_tps="TPS 004 Jepon",
                move_form_number="A-PINDAH/3316/0012",
                move_form_date=datetime.date(2024, 2, 2),
            )
        created = 2
    return {"elections": len(elections), "voter_lists": created}


def _demo_departures(voter_list: VoterList, officer: User) -> None:
    """Two releases and a transfer after the first version, so version 2 differs."""
    leaving = [
        entry.inmate
        for entry in voter_list.entries.filter(status="eligible")
        .select_related("inmate")
        .order_by("registration_number")
    ][:3]
    kinds = [CustodyEvent.Kind.RELEASE, CustodyEvent.Kind.RELEASE, CustodyEvent.Kind.TRANSFER_OUT]
    for inmate, kind, day in zip(leaving, kinds, (1, 3, 5), strict=False):
        register_services.custody_event_record(
            inmate=inmate,
            kind=kind,
            date=datetime.date(2024, 2, day),
            note="Dipindahkan ke Lapas Semarang (demo)"
            if kind == CustodyEvent.Kind.TRANSFER_OUT
            else "Bebas (demo)",
            user=officer,
        )


def seed_move_forms() -> int:
    """DPTb with a move form for the Blora voters on a home DPT, in the open Pemilu 2024 list; returns how many.

    Each such voter of the latest draft (or returned) version becomes DPTb
    with the home TPS the cross-check found and a demo Formulir Model
    A-Surat Pindah Memilih, through the same service as the review page (an
    "edited" step by rutan_blora). A DPTb voter who already has a form is
    left as is, so a second run changes nothing.
    """
    pemilu = Election.objects.filter(code="pemilu-2024").first()
    facility = Facility.objects.filter(code="rutan-blora").first()
    officer = User.objects.filter(username="rutan_blora", role=User.Role.RUTAN).first()
    if pemilu is None or facility is None or officer is None:
        return 0
    draft = (
        VoterList.objects.filter(
            election=pemilu,
            facility=facility,
            status__in=[VoterList.Status.DRAFT, VoterList.Status.RETURNED],
        )
        .order_by("-version")
        .first()
    )
    if draft is None:
        return 0
    entries = list(draft.entries.filter(status="eligible").order_by("registration_number"))
    homes = selectors.home_dpt_by_inmate(entry.inmate_id for entry in entries)
    changes = {}
    for number, entry in enumerate(
        (
            entry
            for entry in entries
            if entry.inmate_id in homes and entry.category != VoterListEntry.Category.DPTB
        ),
        start=FIRST_FORM_NUMBER,
    ):
        changes[entry.pk] = {
            "category": VoterListEntry.Category.DPTB,
            "home_tps": homes[entry.inmate_id].label,
            "move_form_number": f"A-PINDAH/3316/{number:04d}",
            "move_form_date": FORM_DATE,
        }
    if changes:
        voterlist_services.voterlist_entries_update(voter_list=draft, user=officer, changes=changes)
    return len(changes)
