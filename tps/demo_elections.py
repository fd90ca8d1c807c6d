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
"""

from __future__ import annotations

import datetime

from inmates import services as register_services
from inmates.models import CustodyEvent, Facility, User
from tps.models import VoterList, VoterListEntry
from tps.services import voterlists as voterlist_services
from tps.services.elections import reference_elections_ensure


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
