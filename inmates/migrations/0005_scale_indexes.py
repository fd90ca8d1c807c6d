"""PostgreSQL-only indexes for national scale (issue 8); nothing happens on SQLite.

* Trigram GIN indexes (pg_trgm) on the expressions Django's ``icontains``
  produces (``UPPER(col::text) LIKE UPPER('%word%')``): name search in the
  inmate register and the DPT, registration-number search. Without them every
  search reads the whole table.
* ``nkk``: NKK search is exact; the column had no index.
* Changelist orderings and scopes. The default orderings go through a
  related table (inmates by facility *name* then name, TPS voters by facility
  name, DPT records by their file's load time then line): with an index on
  the related table's sort column PostgreSQL walks it in order and reads only
  the first facility's or file's rows (nested loop + incremental sort) instead
  of sorting 300,000 or 2,000,000 rows for every page. Also DPT records by
  regency, file and line (the KPU officer's list) and duplicate pairs by
  score, with and without the status filter.

Built with ``CREATE INDEX CONCURRENTLY`` (the migration is not atomic), so a
running system keeps writing while they build. They are not in the models'
``Meta.indexes`` because SQLite has neither pg_trgm nor expression operator
classes; ``makemigrations`` therefore never proposes to drop them.
"""

from django.db import migrations

INDEXES = [
    (
        "inmate_full_name_trgm",
        "inmates_inmate USING gin (UPPER(full_name::text) gin_trgm_ops)",
    ),
    (
        "inmate_regno_trgm",
        "inmates_inmate USING gin (UPPER(registration_number::text) gin_trgm_ops)",
    ),
    ("inmate_nkk_idx", "inmates_inmate (nkk) WHERE nkk <> ''"),
    ("inmate_facility_name_idx", "inmates_inmate (facility_id, full_name, id)"),
    ("facility_name_idx", "inmates_facility (name, id)"),
    ("dptfile_loaded_idx", "inmates_dptfile (loaded_at DESC, id)"),
    (
        "dptrecord_name_trgm",
        "inmates_dptrecord USING gin (UPPER(name::text) gin_trgm_ops)",
    ),
    ("dptrecord_regency_file_line_idx", "inmates_dptrecord (regency_code, dpt_file_id, line)"),
    ("dup_score_idx", "inmates_duplicatecandidate (score DESC, id)"),
    ("dup_status_score_idx", "inmates_duplicatecandidate (status, score DESC, id)"),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        # A trusted extension since PostgreSQL 13: the database owner may create it.
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for name, definition in INDEXES:
            cursor.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {definition}")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for name, _definition in INDEXES:
            cursor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("inmates", "0004_dedup_runs_and_auto_merge"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
