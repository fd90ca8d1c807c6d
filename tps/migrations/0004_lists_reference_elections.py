"""Reference elections: Pemilu 2024 and Pilkada 2024 exist on every install.

Idempotent: an election already present (matched on its code) is left as it
is, so an admin's later corrections survive a re-run. The values are repeated
here, not imported from tps.demo_elections, because a migration must keep
working whatever the application code later becomes.
"""

import datetime
from decimal import Decimal

from django.db import migrations

REFERENCE_ELECTIONS = [
    {
        "code": "pemilu-2024",
        "name": "Pemilu 2024",
        "type": "pemilu",
        "voting_day": datetime.date(2024, 2, 14),
        "max_voters_per_tps": 300,
        "ballot_reserve_rate": Decimal("0.02"),
        "move_deadline": datetime.date(2024, 1, 15),
        "detainee_move_deadline": datetime.date(2024, 2, 7),
        "ballot_types": ["PPWP", "DPR", "DPD", "DPRD_PROV", "DPRD_KABKOTA"],
    },
    {
        "code": "pilkada-2024",
        "name": "Pilkada 2024",
        "type": "pilkada",
        "voting_day": datetime.date(2024, 11, 27),
        "max_voters_per_tps": 600,
        "ballot_reserve_rate": Decimal("0.02"),
        "move_deadline": datetime.date(2024, 10, 28),
        "detainee_move_deadline": datetime.date(2024, 11, 20),
        "ballot_types": ["GUBERNUR", "BUPATI_WALIKOTA"],
    },
]


def create_reference_elections(apps, schema_editor):
    Election = apps.get_model("tps", "Election")
    for spec in REFERENCE_ELECTIONS:
        values = {key: value for key, value in spec.items() if key != "code"}
        Election.objects.get_or_create(code=spec["code"], defaults=values)


class Migration(migrations.Migration):
    dependencies = [
        ("tps", "0003_lists_entry_snapshot"),
    ]

    operations = [
        migrations.RunPython(create_reference_elections, migrations.RunPython.noop),
    ]
