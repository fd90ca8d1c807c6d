"""Demo data: two facilities, five accounts and a few hundred inmates.

Idempotent: facilities and users are matched on code/username, inmates on
(facility, registration number), so running it again changes nothing.
Demo users share a published password and are refused when DEBUG is off.
"""

from __future__ import annotations

import datetime
import random

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from inmates import services
from inmates.fake import CELL_BLOCKS, PersonGenerator
from inmates.models import CustodyEvent, Facility, Inmate, Region, User

DEMO_PASSWORD = "pemilu2024"  # noqa: S105 - demo only, refused when DEBUG is off

FACILITIES = [
    {
        "code": "rutan-blora",
        "name": "Rutan Kelas IIB Blora",
        "type": Facility.Type.RUTAN,
        "facility_class": "IIB",
        "regency_id": "33.16",
        "address": "Jl. Pemuda No. 1, Blora",
        "count": 180,
    },
    {
        "code": "rutan-pati",
        "name": "Rutan Kelas IIB Pati",
        "type": Facility.Type.RUTAN,
        "facility_class": "IIB",
        "regency_id": "33.18",
        "address": "Jl. Kol. Sunandar No. 1, Pati",
        "count": 150,
    },
]

USERS = [
    {"username": "admin", "role": User.Role.ADMIN, "is_superuser": True, "first_name": "Admin"},
    {"username": "kpu_blora", "role": User.Role.KPU, "regency_id": "33.16", "first_name": "KPU Blora"},
    {"username": "kpu_pati", "role": User.Role.KPU, "regency_id": "33.18", "first_name": "KPU Pati"},
    {
        "username": "rutan_blora",
        "role": User.Role.RUTAN,
        "facility": "rutan-blora",
        "first_name": "Petugas Rutan Blora",
    },
    {
        "username": "rutan_pati",
        "role": User.Role.RUTAN,
        "facility": "rutan-pati",
        "first_name": "Petugas Rutan Pati",
    },
]

# Home regencies of the inmates, most from the facility's own regency.
HOME_REGENCIES = {
    "rutan-blora": ["33.16"] * 8 + ["35.22", "33.18"],
    "rutan-pati": ["33.18"] * 8 + ["33.19", "33.16"],
}


def ensure_reference_data() -> None:
    if not Region.objects.filter(code="33.16").exists():
        from inmates.regions import load_regions

        load_regions()


@transaction.atomic
def seed_facilities() -> dict[str, Facility]:
    facilities = {}
    for spec in FACILITIES:
        values = {k: v for k, v in spec.items() if k not in ("code", "count")}
        facilities[spec["code"]], _ = Facility.objects.get_or_create(code=spec["code"], defaults=values)
    return facilities


def refuse_demo_users_without_debug() -> None:
    if not settings.DEBUG:
        raise ImproperlyConfigured("Demo users have a published password: refused while DEBUG is off.")


@transaction.atomic
def seed_users(facilities: dict[str, Facility]) -> dict[str, User]:
    refuse_demo_users_without_debug()
    users = {}
    for spec in USERS:
        values = {k: v for k, v in spec.items() if k not in ("username", "facility")}
        if "facility" in spec:
            values["facility"] = facilities[spec["facility"]]
        user = User.objects.filter(username=spec["username"]).first()
        if user is None:
            user = User(username=spec["username"], is_staff=True, **values)
            user.set_password(DEMO_PASSWORD)
            user.save()
        users[spec["username"]] = user
    return users


def _villages(regency_codes: set[str]) -> dict[str, list[tuple[str, str]]]:
    villages: dict[str, list[tuple[str, str]]] = {code: [] for code in regency_codes}
    for code in regency_codes:
        villages[code] = list(
            Region.objects.filter(level=Region.Level.VILLAGE, code__startswith=f"{code}.").values_list(
                "code", "name"
            )
        )
    return villages


@transaction.atomic
def seed_inmates(facility: Facility, count: int, user: User | None, seed: int) -> int:
    """Create the facility's demo inmates that do not exist yet; returns how many."""
    existing = set(Inmate.objects.filter(facility=facility).values_list("registration_number", flat=True))
    homes = HOME_REGENCIES[facility.code]
    villages = _villages(set(homes))
    rnd = random.Random(seed)
    generators = {
        code: PersonGenerator(villages[code], seed=seed + index)
        for index, code in enumerate(sorted(villages))
    }
    created = 0
    for number in range(1, count + 1):
        registration_number = f"{'AI' if number % 3 else 'BI'}.{number:03d}/2023"
        home = rnd.choice(homes)
        person = generators[home].person()
        narapidana = rnd.random() < 0.7
        admission = datetime.date(2023, 1, 1) + datetime.timedelta(days=rnd.randint(0, 364))
        release = admission + datetime.timedelta(days=rnd.randint(120, 1500)) if narapidana else None
        nik, nkk = person.nik, person.nkk
        birth_date = person.birth_date
        roll = rnd.random()
        if roll < 0.12:
            nik = None  # many inmates have no NIK or KTP-el
        elif roll < 0.16:
            # Birth date corrected after the NIK was issued: a warning to review.
            birth_date = birth_date + datetime.timedelta(days=rnd.randint(1, 40))
        if registration_number in existing:
            continue
        services.inmate_register(
            facility=facility,
            user=user,
            registration_number=registration_number,
            nik=nik,
            nkk=nkk if nik else "",
            full_name=person.full_name,
            birth_place=person.birth_place,
            birth_date=birth_date,
            sex=person.sex,
            marital_status=rnd.choice(["belum_kawin", "kawin", "kawin", "cerai_hidup"]),
            citizenship="WNA" if rnd.random() < 0.01 else "WNI",
            address=person.address,
            rt=person.rt,
            rw=person.rw,
            domicile_region_id=person.village_code if rnd.random() > 0.03 else None,
            custody_type="narapidana" if narapidana else "tahanan",
            admission_date=admission,
            expected_release_date=release,
            cell_block=rnd.choice(CELL_BLOCKS),
            disability=rnd.choice(["", "", "", "", "", "", "", "", "1", "6"]),
            ktp_el_status="S" if nik else "B",
        )
        created += 1
    _seed_events(facility, user, rnd)
    return created


def _seed_events(facility: Facility, user: User | None, rnd: random.Random) -> None:
    """Some releases and transfers, so custody history has something to show."""
    if (
        CustodyEvent.objects.filter(inmate__facility=facility)
        .exclude(kind=CustodyEvent.Kind.ADMISSION)
        .exists()
    ):
        return
    inmates = list(Inmate.objects.filter(facility=facility).order_by("registration_number"))
    for inmate in inmates[::15]:
        services.custody_event_record(
            inmate=inmate,
            kind=CustodyEvent.Kind.RELEASE,
            date=datetime.date(2024, 1, 20) + datetime.timedelta(days=rnd.randint(0, 20)),
            note="Bebas (demo)",
            user=user,
        )
    for inmate in inmates[7::40]:
        services.custody_event_record(
            inmate=inmate,
            kind=CustodyEvent.Kind.TRANSFER_OUT,
            date=datetime.date(2024, 2, 1),
            note="Dipindahkan ke Lapas Semarang (demo)",
            user=user,
        )


def seed_demo(*, with_users: bool = True) -> dict[str, int]:
    if with_users:
        refuse_demo_users_without_debug()  # before anything is written
    ensure_reference_data()
    facilities = seed_facilities()
    users = seed_users(facilities) if with_users else {}
    created = {}
    for index, spec in enumerate(FACILITIES):
        officer = users.get(f"rutan_{spec['code'].split('-')[1]}")
        created[spec["code"]] = seed_inmates(
            facilities[spec["code"]], spec["count"], officer, seed=1000 + index
        )
    return created
