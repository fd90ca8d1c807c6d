"""Pilkada 2024 plans a 2.5 % ballot reserve, not Pemilu's 2 %.

The Pilkada law (UU 1/2015 as amended by UU 8/2015, art. 80(3)): ballots =
voters on the DPT plus 2.5 % reserve; the Pemilu law (UU 7/2017 art.
344(2)) gives 2 %. See docs/elections.md.
Migration 0004 seeded pilkada-2024 with 2 %. Only a rate still at that old
default is changed: an admin's own correction stays. Reversible: back to 2 %
where the rate is still the one set here.
"""

from decimal import Decimal

from django.db import migrations

CODE = "pilkada-2024"
OLD_RATE = Decimal("0.02")
PILKADA_RATE = Decimal("0.025")


def seed_pilkada_rate(apps, schema_editor):
    Election = apps.get_model("tps", "Election")
    Election.objects.filter(code=CODE, ballot_reserve_rate=OLD_RATE).update(ballot_reserve_rate=PILKADA_RATE)


def restore_old_rate(apps, schema_editor):
    Election = apps.get_model("tps", "Election")
    Election.objects.filter(code=CODE, ballot_reserve_rate=PILKADA_RATE).update(ballot_reserve_rate=OLD_RATE)


class Migration(migrations.Migration):
    dependencies = [
        ("tps", "0007_station_runs"),
    ]

    operations = [
        migrations.RunPython(seed_pilkada_rate, restore_old_rate),
    ]
