"""Fewer indexes on the register, the same queries served: each is paid for on every imported row.

* facility_id alone: the unique (facility, registration number) and
  inmate_facility_status_idx lead with it;
* the pattern (LIKE) indexes PostgreSQL adds for db_index on a CharField
  (full_name, custody_status, domicile_region_id): no query here searches
  them by prefix (name searches use the trigram indexes of 0005); their plain
  B-tree indexes stay, now in Meta.indexes.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("inmates", "0006_history_without_search_indexes"),
    ]

    operations = [
        migrations.AlterField(
            model_name="inmate",
            name="custody_status",
            field=models.CharField(
                choices=[
                    ("in_custody", "In custody"),
                    ("transferred", "Transferred out"),
                    ("released", "Released"),
                    ("deceased", "Deceased"),
                ],
                default="in_custody",
                editable=False,
                help_text="Derived from the custody events.",
                max_length=12,
                verbose_name="custody status",
            ),
        ),
        migrations.AlterField(
            model_name="inmate",
            name="domicile_region",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                help_text="Village or district code of the home address (Kemendagri).",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="inmates.region",
                verbose_name="domicile region",
            ),
        ),
        migrations.AlterField(
            model_name="inmate",
            name="facility",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="inmates",
                to="inmates.facility",
                verbose_name="facility",
            ),
        ),
        migrations.AlterField(
            model_name="inmate",
            name="full_name",
            field=models.CharField(max_length=150, verbose_name="full name"),
        ),
        migrations.AddIndex(
            model_name="inmate",
            index=models.Index(fields=["full_name"], name="inmate_full_name_idx"),
        ),
        migrations.AddIndex(
            model_name="inmate",
            index=models.Index(fields=["custody_status"], name="inmate_custody_status_idx"),
        ),
        migrations.AddIndex(
            model_name="inmate",
            index=models.Index(fields=["domicile_region"], name="inmate_domicile_region_idx"),
        ),
    ]
