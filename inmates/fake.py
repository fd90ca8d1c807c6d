"""Realistic synthetic people for demo data, tests and benchmarks.

Indonesian (mostly Javanese) names, NIKs consistent with birth date and sex
(day + 40 for women), regions that exist. Seeded, so the same seed gives the
same people. Pure: no ORM.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass, field

MALE_FIRST = [
    "Agus",
    "Budi",
    "Slamet",
    "Joko",
    "Eko",
    "Bambang",
    "Hadi",
    "Sutrisno",
    "Wahyu",
    "Teguh",
    "Rizki",
    "Dedi",
    "Andi",
    "Yusuf",
    "Ahmad",
    "Muhammad",
    "Abdul",
    "Fajar",
    "Imam",
    "Sugeng",
    "Heru",
    "Dwi",
    "Tri",
    "Arif",
    "Rudi",
    "Sigit",
    "Wawan",
    "Supriyadi",
    "Suparman",
    "Anton",
    "Bayu",
    "Gilang",
    "Kurniawan",
    "Nur",
    "Rahmat",
    "Saiful",
    "Taufik",
    "Yoga",
    "Zainal",
    "Darmaji",
]
FEMALE_FIRST = [
    "Siti",
    "Sri",
    "Dewi",
    "Endang",
    "Wati",
    "Yuni",
    "Rina",
    "Nur",
    "Lestari",
    "Ani",
    "Dwi",
    "Tri",
    "Fitri",
    "Indah",
    "Ratna",
    "Suci",
    "Wulan",
    "Ayu",
    "Eni",
    "Murni",
]
SECOND = [
    "Santoso",
    "Susanto",
    "Prasetyo",
    "Wibowo",
    "Hidayat",
    "Setiawan",
    "Saputra",
    "Purnomo",
    "Kurniawan",
    "Nugroho",
    "Rahayu",
    "Wahyuni",
    "Lestari",
    "Handayani",
    "Pratama",
    "Firmansyah",
    "Hakim",
    "Rohman",
    "Sholeh",
    "Mulyadi",
    "Suryadi",
    "Haryanto",
    "Sulistyo",
    "Utomo",
    "Maulana",
    "Ramadhan",
    "Ningsih",
    "Anggraini",
    "Safitri",
    "Yulianti",
]
BIRTH_PLACES = [
    "Blora",
    "Cepu",
    "Randublatung",
    "Pati",
    "Rembang",
    "Grobogan",
    "Bojonegoro",
    "Kudus",
    "Semarang",
]
CELL_BLOCKS = ["A", "B", "C", "D"]


@dataclass
class FakePerson:
    full_name: str
    sex: str
    birth_date: datetime.date
    birth_place: str
    district_code: str
    village_code: str
    nik: str
    nkk: str
    rt: str
    rw: str
    address: str
    extra: dict = field(default_factory=dict)


def make_nik(district_code: str, birth_date: datetime.date, sex: str, serial: int) -> str:
    """A NIK that decodes to the given district, birth date and sex."""
    day = birth_date.day + (40 if sex == "P" else 0)
    return f"{district_code.replace('.', '')}{day:02d}{birth_date:%m%y}{serial:04d}"


def make_nkk(district_code: str, issued: datetime.date, serial: int) -> str:
    return f"{district_code.replace('.', '')}{issued:%d%m%y}{serial:04d}"


class PersonGenerator:
    """Draws people from given villages (``[(village_code, village_name)]``)."""

    def __init__(self, villages: list[tuple[str, str]], seed: int = 2024) -> None:
        if not villages:
            raise ValueError("at least one village is needed")
        self.random = random.Random(seed)
        self.villages = villages
        self._serial = 0

    def person(self, *, today: datetime.date = datetime.date(2024, 1, 1)) -> FakePerson:
        rnd = self.random
        sex = "P" if rnd.random() < 0.08 else "L"
        first = rnd.choice(FEMALE_FIRST if sex == "P" else MALE_FIRST)
        name = f"{first} {rnd.choice(SECOND)}"
        if rnd.random() < 0.15:
            name = f"{first} {rnd.choice(SECOND)} {rnd.choice(SECOND)}"
        age_days = rnd.randint(17 * 365 + 5, 65 * 365)
        birth_date = today - datetime.timedelta(days=age_days)
        village_code, village_name = rnd.choice(self.villages)
        district_code = village_code.rsplit(".", 1)[0]
        self._serial += 1
        serial = self._serial % 9999 + 1
        nik = make_nik(district_code, birth_date, sex, serial)
        issued = birth_date + datetime.timedelta(days=rnd.randint(17 * 365, 20 * 365))
        nkk = make_nkk(district_code, min(issued, today), rnd.randint(1, 9999))
        return FakePerson(
            full_name=name,
            sex=sex,
            birth_date=birth_date,
            birth_place=rnd.choice(BIRTH_PLACES),
            district_code=district_code,
            village_code=village_code,
            nik=nik,
            nkk=nkk,
            rt=f"{rnd.randint(1, 12):03d}",
            rw=f"{rnd.randint(1, 6):03d}",
            address=f"Dk. {village_name.title()}",
        )
