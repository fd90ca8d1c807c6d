"""Demo data for the duplicate review: planted duplicates and a small DPT of Kab. Blora.

Planted on top of the register demo (``inmates.demo``), all with registration
numbers ``DG.nnn/2024`` so they are easy to find:

* the same man re-admitted at Rutan Blora, written ``H. Boedi …`` the second
  time (old spelling, title), same NIK;
* a re-admission at Rutan Blora with two NIK digits swapped;
* a Rutan Blora inmate also registered at Rutan Pati without a NIK (a
  transfer that was never recorded), and another with a one-digit NIK typo;
* a twin brother at Rutan Blora (same family card and birth date, the next
  NIK serial): a pair to review that is *not* a duplicate;
* the same man twice at Rutan Pati, ``Mochammad`` once and ``Muhammad`` once.

The DPT ``DPT_Kab_Blora_demo.csv`` holds 300 residents of Kab. Blora and 20
inmates of Rutan Blora who are still registered at their home TPS. It is
loaded through the real importer, then detection runs once. Idempotent.
"""

from __future__ import annotations

import csv
import datetime
import random
import tempfile
from pathlib import Path

from django.db import transaction

from inmates import dedup, services
from inmates.dpt_import import COLUMNS as DPT_COLUMNS
from inmates.dpt_import import dpt_import
from inmates.fake import PersonGenerator
from inmates.models import DptFile, DuplicateCandidate, Facility, Inmate, Region, User

DEMO_DPT_NAME = "DPT_Kab_Blora_demo.csv"
RESIDENTS = 300
INMATES_ON_DPT = 20


def _old_spelling(name: str) -> str:
    """Write a name as before 1972: u -> oe, j -> dj, c -> tj (Budi -> Boedi)."""
    return name.replace("u", "oe").replace("j", "dj").replace("c", "tj")


def _swap(nik: str, position: int) -> str:
    digits = list(nik)
    digits[position], digits[position + 1] = digits[position + 1], digits[position]
    return "".join(digits)


def _next_digit(nik: str, position: int) -> str:
    digit = (int(nik[position]) + 1) % 10
    return nik[:position] + str(digit) + nik[position + 1 :]


COPIED_FIELDS = (
    "nik",
    "nkk",
    "full_name",
    "birth_place",
    "birth_date",
    "sex",
    "marital_status",
    "citizenship",
    "address",
    "rt",
    "rw",
    "domicile_region_id",
    "ktp_el_status",
)


def _copy(base: Inmate, **changes) -> dict:
    data = {name: getattr(base, name) for name in COPIED_FIELDS}
    data.update(changes)
    return data


def _bases(facility: Facility, count: int) -> list[Inmate]:
    """Demo inmates with a NIK whose swaps and typos stay valid NIKs, in a stable order."""
    found = []
    queryset = Inmate.objects.filter(
        facility=facility, nik__isnull=False, duplicate_of__isnull=True, registration_number__startswith="AI."
    ).order_by("registration_number")
    for inmate in queryset:
        if inmate.nik[12] != inmate.nik[13] and inmate.nik_warnings == [] and inmate.nkk:
            found.append(inmate)
        if len(found) == count:
            break
    return found


def _register(facility: Facility, user: User | None, number: str, data: dict, admitted: datetime.date) -> int:
    if Inmate.objects.filter(facility=facility, registration_number=number).exists():
        return 0
    services.inmate_register(
        facility=facility,
        user=user,
        registration_number=number,
        custody_type="tahanan",
        admission_date=admitted,
        cell_block="A",
        **data,
    )
    return 1


@transaction.atomic
def plant_pairs(blora: Facility, pati: Facility) -> int:
    """Register the planted duplicates that do not exist yet; returns how many were added."""
    officer_blora = User.objects.filter(username="rutan_blora").first()
    officer_pati = User.objects.filter(username="rutan_pati").first()
    blora_bases = _bases(blora, 5)
    pati_bases = _bases(pati, 1)
    if len(blora_bases) < 5 or not pati_bases:
        return 0
    readmitted, swapped, transferred, typo, twin = blora_bases
    admitted = datetime.date(2024, 1, 8)
    planted = 0
    planted += _register(
        blora,
        officer_blora,
        "DG.001/2024",
        _copy(readmitted, full_name=f"H. {_old_spelling(readmitted.full_name)}"),
        admitted,
    )
    planted += _register(
        blora,
        officer_blora,
        "DG.002/2024",
        _copy(swapped, nik=_swap(swapped.nik, 12), full_name=swapped.full_name.upper()),
        admitted,
    )
    planted += _register(
        pati, officer_pati, "DG.003/2024", _copy(transferred, nik=None, nkk="", ktp_el_status="B"), admitted
    )
    planted += _register(
        pati, officer_pati, "DG.004/2024", _copy(typo, nik=_next_digit(typo.nik, 14)), admitted
    )
    twin_first = "Wahyu" if not twin.full_name.startswith("Wahyu") else "Teguh"
    twin_name = " ".join([twin_first, *twin.full_name.split()[1:]]) or twin_first
    twin_serial = int(twin.nik[12:]) % 9999 + 1
    planted += _register(
        blora,
        officer_blora,
        "DG.005/2024",
        _copy(twin, full_name=twin_name, nik=f"{twin.nik[:12]}{twin_serial:04d}"),
        admitted,
    )
    base = pati_bases[0]
    first, *rest = base.full_name.split()
    planted += _register(
        pati,
        officer_pati,
        "DG.006/2024",
        _copy(base, full_name=" ".join(["Mochammad", first, *rest])),
        admitted,
    )
    if planted:
        # The base record is the one written "Muhammad …" in the other entry.
        services.inmate_update(inmate=base, user=officer_pati, full_name=" ".join(["Muhammad", first, *rest]))
    return planted


def seed_dpt(regency_code: str = "33.16", *, seed: int = 4242) -> int:
    """Load the demo DPT of Kab. Blora through the importer unless it is loaded; returns rows loaded."""
    if DptFile.objects.filter(name=DEMO_DPT_NAME, regency_id=regency_code).exists():
        return 0
    regency = Region.objects.get(code=regency_code)
    villages = list(
        Region.objects.filter(level=Region.Level.VILLAGE, code__startswith=f"{regency_code}.").values_list(
            "code", "name"
        )
    )
    generator = PersonGenerator(villages, seed=seed)
    rnd = random.Random(seed)
    rows = []
    for _number in range(RESIDENTS):
        person = generator.person()
        rows.append(
            [
                person.nkk,
                person.nik,
                person.full_name.upper(),
                person.birth_place.upper(),
                person.birth_date.strftime("%d-%m-%Y"),
                person.sex,
                rnd.choice("BSSP"),
                person.address,
                person.rt,
                person.rw,
                person.village_code,
                f"{rnd.randint(1, 30):03d}",
            ]
        )
    home = (
        Inmate.objects.active()
        .in_custody()
        .filter(
            facility__code="rutan-blora",
            nik__isnull=False,
            domicile_region__code__startswith=f"{regency_code}.",
        )
        .order_by("registration_number")[:INMATES_ON_DPT]
    )
    for inmate in home:
        rows.append(
            [
                inmate.nkk,
                inmate.nik,
                inmate.full_name.upper(),
                inmate.birth_place.upper(),
                inmate.birth_date.strftime("%d-%m-%Y"),
                inmate.sex,
                "S" if inmate.marital_status == "kawin" else "B",
                inmate.address,
                inmate.rt,
                inmate.rw,
                inmate.domicile_region_id,
                f"{rnd.randint(1, 30):03d}",
            ]
        )
    rnd.shuffle(rows)
    kpu = User.objects.filter(username="kpu_blora").first()
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / DEMO_DPT_NAME
        with open(path, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, delimiter=";")
            writer.writerow([spec.label for spec in DPT_COLUMNS])
            writer.writerows(rows)
        return dpt_import(path=path, regency=regency, user=kpu).rows


def seed_demo() -> dict[str, int]:
    """Plant the duplicates, load the demo DPT and run detection once (idempotent)."""
    blora = Facility.objects.filter(code="rutan-blora").first()
    pati = Facility.objects.filter(code="rutan-pati").first()
    if blora is None or pati is None or not blora.inmates.exists():
        from inmates import demo

        demo.seed_demo()
        blora = Facility.objects.get(code="rutan-blora")
        pati = Facility.objects.get(code="rutan-pati")
    planted = plant_pairs(blora, pati)
    dpt_rows = seed_dpt()
    if planted or dpt_rows or not DuplicateCandidate.objects.exists():
        dedup.duplicates_detect(against_dpt=True)
    return {
        "planted": planted,
        "dpt_rows": dpt_rows,
        "open_pairs": DuplicateCandidate.objects.open().count(),
    }
