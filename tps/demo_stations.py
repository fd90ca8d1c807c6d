"""Demo dapil for the Blora area and planned TPS 901 at the demo facilities.

Every dapil made here is marked ``is_demo``: the areas are shaped like the
real ones around Blora but are illustrative, not KPU's official decision.
Runs after ``tps.demo_elections.seed_demo`` (which makes pemilu-2024) and is
idempotent: dapils are matched on (election, contest, code) and planning
keeps every existing assignment where it is.
"""

from __future__ import annotations

from django.db import transaction

from inmates.models import Facility, Region
from tps import demo_elections
from tps.models import Dapil, Election, Tps
from tps.services import stations

ELECTION_CODE = "pemilu-2024"

# (contest, code, name, areas)
DEMO_DAPILS: list[tuple[str, str, str, list[str]]] = [
    # DPR: Jawa Tengah III is Grobogan, Blora, Rembang and Pati.
    (Dapil.Contest.DPR, "JATENG III", "Jawa Tengah III", ["33.15", "33.16", "33.17", "33.18"]),
    (Dapil.Contest.DPR, "JATENG II", "Jawa Tengah II", ["33.19", "33.20", "33.21"]),
    # DPRD Provinsi: Blora with Rembang; Pati with Kudus and Jepara.
    (Dapil.Contest.DPRD_PROV, "JATENG 4", "Jawa Tengah 4 (Blora, Rembang)", ["33.16", "33.17"]),
    (Dapil.Contest.DPRD_PROV, "JATENG 3", "Jawa Tengah 3 (Pati, Kudus, Jepara)", ["33.18", "33.19", "33.20"]),
    (Dapil.Contest.DPRD_PROV, "JATENG 5", "Jawa Tengah 5 (Grobogan)", ["33.15"]),
    # DPRD Kabupaten Blora: its 16 districts in five dapils.
    (Dapil.Contest.DPRD_KABKOTA, "BLORA 1", "Blora 1", ["33.16.09", "33.16.10", "33.16.16"]),
    (Dapil.Contest.DPRD_KABKOTA, "BLORA 2", "Blora 2", ["33.16.11", "33.16.12", "33.16.13", "33.16.14"]),
    (Dapil.Contest.DPRD_KABKOTA, "BLORA 3", "Blora 3", ["33.16.05", "33.16.06", "33.16.07", "33.16.15"]),
    (Dapil.Contest.DPRD_KABKOTA, "BLORA 4", "Blora 4", ["33.16.01", "33.16.02", "33.16.03"]),
    (Dapil.Contest.DPRD_KABKOTA, "BLORA 5", "Blora 5", ["33.16.04", "33.16.08"]),
    # DPRD Kabupaten Pati: its 21 districts in five dapils.
    (Dapil.Contest.DPRD_KABKOTA, "PATI 1", "Pati 1", ["33.18.10", "33.18.11", "33.18.12", "33.18.13"]),
    (Dapil.Contest.DPRD_KABKOTA, "PATI 2", "Pati 2", ["33.18.01", "33.18.02", "33.18.03", "33.18.04"]),
    (
        Dapil.Contest.DPRD_KABKOTA,
        "PATI 3",
        "Pati 3",
        ["33.18.05", "33.18.06", "33.18.07", "33.18.08", "33.18.09"],
    ),
    (Dapil.Contest.DPRD_KABKOTA, "PATI 4", "Pati 4", ["33.18.14", "33.18.15", "33.18.16", "33.18.17"]),
    (Dapil.Contest.DPRD_KABKOTA, "PATI 5", "Pati 5", ["33.18.18", "33.18.19", "33.18.20", "33.18.21"]),
]

# Where the demo TPS stand (Kel. Kauman, Kec. Blora; Kel. Pati Wetan, Kec. Pati).
DEMO_TPS_VILLAGES = {"rutan-blora": "33.16.09.1013", "rutan-pati": "33.18.10.1005"}
DEMO_TPS_NUMBER = "901"


@transaction.atomic
def seed_dapils(election: Election) -> int:
    """Create the demo dapils that are missing; returns how many were created."""
    created = 0
    for contest, code, name, areas in DEMO_DAPILS:
        if Dapil.objects.filter(election=election, contest=contest, code=code).exists():
            continue
        regions = list(Region.objects.filter(code__in=areas))
        if len(regions) != len(areas):
            continue  # regions not loaded (a partial load_regions): nothing to map
        dapil = Dapil(election=election, contest=contest, code=code, name=name, is_demo=True)
        stations.dapil_save(dapil=dapil, regions=regions, user=None)
        created += 1
    return created


@transaction.atomic
def seed_tps(election: Election, facility: Facility, village_code: str) -> str:
    """TPS 901 at the facility, in its village, then the plan of its projected voters."""
    village = Region.objects.filter(code=village_code).first()
    if not Tps.objects.filter(election=election, facility=facility).exists():
        stations.tps_save(
            tps=Tps(
                election=election,
                facility=facility,
                number=DEMO_TPS_NUMBER,
                village=village,
                capacity=election.max_voters_per_tps,
            ),
            user=None,
        )
    result = stations.tps_plan(election=election, facility=facility, user=None)
    return f"{len(result.plan.tps)} TPS, {len(result.plan.assignments)} voters"


def seed_demo() -> dict[str, object]:
    election = Election.objects.filter(code=ELECTION_CODE).first()
    if election is None:
        return {"skipped": f"election {ELECTION_CODE} missing"}
    # The first seeder after the demo DPT: the list's DPTb moves get their forms.
    summary: dict[str, object] = {"move forms": demo_elections.seed_move_forms()}
    summary["dapils created"] = seed_dapils(election)
    for code, village_code in DEMO_TPS_VILLAGES.items():
        facility = Facility.objects.filter(code=code).first()
        if facility is not None:
            summary[code] = seed_tps(election, facility, village_code)
    return summary
