"""Helpers shared by the TPS test modules (planning, ballots, exports, recap,
dashboard, admin): an election made by hand, many inmates at once, dapils
shaped like the Blora ones, and planning through the service.

Not a test module; the cast itself comes from tests/conftest.py.
"""

from __future__ import annotations

import ast
import base64
import datetime
import re
import zlib
from decimal import Decimal
from pathlib import Path

from inmates.models import CustodyEvent, Facility, Inmate, Region
from tests.conftest import inmate_data
from tps.models import PEMILU_BALLOTS, Dapil, Election, Tps
from tps.services import stations

VOTING_DAY = datetime.date(2024, 2, 14)
# "Today" in these tests: a month before voting day, register as it stood then.
TODAY = datetime.datetime(2024, 1, 10, 9, 0, tzinfo=datetime.UTC)

# Kel. Kauman, Kec. Blora: where the Rutan Blora TPS stands.
BLORA_TPS_VILLAGE = "33.16.09.1013"
PATI_TPS_VILLAGE = "33.18.10.1005"
HOMES = {
    "blora_town": "33.16.09.2001",  # Jepangrejo, Kec. Blora: same dapil everywhere
    "cepu": "33.16.05.2001",  # Kec. Cepu: Blora, another DPRD Kab dapil
    "jati": "33.16.01.2001",  # Kec. Jati: Blora, no DPRD Kab dapil configured
    "rembang": "33.17.01.2001",  # Kab. Rembang: same DPR and DPRD Prov dapil
    "pati": "33.18.01.2001",  # Kab. Pati: same DPR dapil, other DPRD Prov dapil
    "kudus": "33.19.01.2001",  # Kab. Kudus: other DPR dapil, same province
    "bojonegoro": "35.22.01.2001",  # Jawa Timur
}


def make_election(**overrides) -> Election:
    values = {
        "code": "pemilu-test",
        "name": "Pemilu (test)",
        "type": Election.Type.PEMILU,
        "voting_day": VOTING_DAY,
        "max_voters_per_tps": 300,
        "ballot_reserve_rate": Decimal("0.02"),
        "ballot_types": [str(code) for code in PEMILU_BALLOTS],
    }
    values.update(overrides)
    election = Election(**values)
    election.full_clean()
    election.save()
    return election


def village_in(district_code: str) -> str:
    """The first village of a district, whatever the loaded data numbers it."""
    return (
        Region.objects.filter(code__startswith=f"{district_code}.", level=Region.Level.VILLAGE)
        .order_by("code")[0]
        .code
    )


def home(key: str) -> str:
    code = HOMES[key]
    if Region.objects.filter(code=code).exists():
        return code
    return village_in(code.rsplit(".", 1)[0])


def nik_for(serial: int) -> str:
    """A well-formed NIK from Kec. Jati, Blora: area 331601, birth 17-08-90, serial."""
    return f"3316011708{90:02d}{serial:04d}"


def bulk_inmates(
    facility: Facility, count: int, *, prefix: str = "Voter", start: int = 1, **overrides
) -> list[Inmate]:
    """``count`` valid inmates with one admission event each, created in bulk (fast)."""
    inmates = []
    for index in range(start, start + count):
        data = inmate_data(
            full_name=f"{prefix} {index:04d}",
            registration_number=f"{prefix[:3].upper()}.{index:05d}/2023",
            nik=nik_for(index % 10000 or 1),
        )
        data.update(overrides)
        inmates.append(Inmate(facility=facility, **data))
    created = Inmate.objects.bulk_create(inmates)
    CustodyEvent.objects.bulk_create(
        CustodyEvent(inmate=inmate, kind=CustodyEvent.Kind.ADMISSION, date=inmate.admission_date)
        for inmate in created
    )
    return created


def release(inmates: list[Inmate], day: datetime.date) -> None:
    CustodyEvent.objects.bulk_create(
        CustodyEvent(inmate=inmate, kind=CustodyEvent.Kind.RELEASE, date=day, note="bebas")
        for inmate in inmates
    )


def make_tps(
    election: Election, facility: Facility, number: str = "901", village: str | None = None, **extra
) -> Tps:
    village_code = village or (BLORA_TPS_VILLAGE if facility.regency_id == "33.16" else PATI_TPS_VILLAGE)
    tps = Tps(
        election=election,
        facility=facility,
        number=number,
        village_id=village_code,
        capacity=extra.pop("capacity", election.max_voters_per_tps),
        **extra,
    )
    return stations.tps_save(tps=tps, user=None)


def add_dapil(election: Election, contest: str, code: str, areas: list[str]) -> Dapil:
    return stations.dapil_save(
        dapil=Dapil(election=election, contest=contest, code=code, name=code),
        regions=list(Region.objects.filter(code__in=areas)),
        user=None,
    )


def blora_dapils(election: Election) -> None:
    """Dapils shaped like Blora's (test data, not the official decision)."""
    add_dapil(election, Dapil.Contest.DPR, "JATENG III", ["33.15", "33.16", "33.17", "33.18"])
    add_dapil(election, Dapil.Contest.DPR, "JATENG II", ["33.19", "33.20", "33.21"])
    add_dapil(election, Dapil.Contest.DPRD_PROV, "JATENG 4", ["33.16", "33.17"])
    add_dapil(election, Dapil.Contest.DPRD_PROV, "JATENG 3", ["33.18", "33.19", "33.20"])
    add_dapil(election, Dapil.Contest.DPRD_KABKOTA, "BLORA 1", ["33.16.09", "33.16.10"])
    add_dapil(election, Dapil.Contest.DPRD_KABKOTA, "BLORA 3", ["33.16.05", "33.16.06"])
    add_dapil(election, Dapil.Contest.DPRD_KABKOTA, "PATI 1", ["33.18.10", "33.18.01"])


FULL_NIK = re.compile(rb"(?<!\d)\d{16}(?!\d)")


def pdf_text(data: bytes) -> bytes:
    """The page content of a PDF: every stream, inflated when compressed."""
    chunks = [data]
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\n?endstream", data, re.S):
        raw = match.group(1).strip()
        if raw.endswith(b"~>"):  # reportlab: ASCII85 around Flate
            raw = base64.a85decode(raw.removeprefix(b"<~")[:-2])
        try:
            chunks.append(zlib.decompress(raw))
        except zlib.error:
            chunks.append(raw)
    return b"\n".join(chunks)


SESSION_FRAGMENT = Path(__file__).resolve().parent.parent / "locale" / "fragments" / "tps_session11.po"


def session_translations() -> dict[str, str]:
    """msgid -> msgstr (``msgstr[0]`` for plurals) of the tps_session11.po fragment."""
    catalog: dict[str, str] = {}
    current: dict[str, str] = {}
    key = ""
    for raw in SESSION_FRAGMENT.read_text(encoding="utf-8").splitlines() + [""]:
        line = raw.strip()
        if not line:
            if current.get("msgid"):
                catalog[current["msgid"]] = current.get("msgstr", current.get("msgstr[0]", ""))
            current = {}
            continue
        if line.startswith("#"):
            continue
        if line.startswith(("msgid", "msgstr")):
            key, _sep, line = line.partition(" ")
            current[key] = ""
        current[key] += ast.literal_eval(line)
    return catalog
