"""Backup and restore on PostgreSQL, done the way docs/operations.md tells operators:

    pg_dump -Fc + tar of MEDIA_ROOT  ->  wipe both  ->  pg_restore + untar

and then everything is back as it was: every table row for row (the register,
custody events, every history table, jobs, TPS, access log, reference data),
the id sequences where they were (a record added after the restore gets a
fresh id), and every uploaded spreadsheet and export ZIP byte for byte.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import psycopg2
import pytest
import time_machine
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from inmates import services
from inmates.imports_jobs import import_job_confirm, import_job_create, import_job_dispatch
from inmates.models import CustodyEvent, ImportJob, Inmate
from tests.conftest import inmate_data
from tests.imports_helpers import people, person, write_xlsx
from tests.stations_support import TODAY, make_election, make_tps
from tps.models import StationRun
from tps.services import runs, stations

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


# --- the register an operator would back up ---------------------------------------------


@pytest.fixture
def media_root(settings, tmp_path) -> Path:
    """MEDIA_ROOT laid out as in production (/srv/voterreg/media)."""
    settings.MEDIA_ROOT = tmp_path / "srv" / "voterreg" / "media"
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def register_in_use(media_root, tmp_path, blora, rutan_blora_officer, admin_user):
    """A facility's register after a few weeks of real use, its files in MEDIA_ROOT.

    An import confirmed and written, a second upload waiting at its preview (its
    spreadsheet on disk), a record edited by hand (a history row), a release
    (a custody event), TPS planned and a DPT export run (its ZIP on disk).
    """
    with time_machine.travel(TODAY, tick=False):
        written = _upload(tmp_path / "januari.xlsx", people(8), rutan_blora_officer, blora)
        import_job_confirm(job=written, user=rutan_blora_officer)
        moved_to_c = [person(n, **{"Blok/Kamar": "C"}) for n in range(1, 12)]
        _upload(tmp_path / "februari.xlsx", moved_to_c, rutan_blora_officer, blora)
        edited = Inmate.objects.get(registration_number="AI.002/2023")
        services.inmate_update(inmate=edited, user=rutan_blora_officer, cell_block="D", notes="pindah blok")
        released = Inmate.objects.get(registration_number="AI.003/2023")
        services.custody_event_record(
            inmate=released, kind="release", date=TODAY.date(), user=rutan_blora_officer
        )
        election = make_election()
        make_tps(election, blora)
        stations.tps_plan(election=election, facility=blora, user=admin_user)
        runs.station_run_start(kind="export", election=election, user=admin_user, fmt="xlsx")


def _upload(path: Path, rows: list[dict], user, facility) -> ImportJob:
    write_xlsx(path, rows)
    job = import_job_create(
        user=user, facility=facility, upload=SimpleUploadedFile(path.name, path.read_bytes())
    )
    import_job_dispatch(job=job)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.PREVIEW, job.report
    return job


# --- reading the database and MEDIA_ROOT whole -------------------------------------------


def _tables() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
        return [name for (name,) in cursor.fetchall()]


def _primary_key(table: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT a.attname FROM pg_index i
            JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
            WHERE i.indrelid = %s::regclass AND i.indisprimary
            ORDER BY array_position(i.indkey::int2[], a.attnum)
            """,
            [f'"{table}"'],
        )
        return [name for (name,) in cursor.fetchall()]


def _database() -> dict[str, list[tuple]]:
    """Every row of every table, in primary-key order (all columns, as PostgreSQL returns them)."""
    contents = {}
    with connection.cursor() as cursor:
        for table in _tables():
            order = ", ".join(f'"{column}"' for column in _primary_key(table)) or f'"{table}"::text'
            cursor.execute(f'SELECT * FROM "{table}" ORDER BY {order}')  # noqa: S608 - names from the catalog
            contents[table] = cursor.fetchall()
    return contents


def _sequences() -> dict[str, tuple]:
    """Where each id sequence stands: the next record's id follows from it."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT sequencename, last_value, increment_by FROM pg_sequences WHERE schemaname = 'public'"
        )
        return {name: (last_value, step) for name, last_value, step in cursor.fetchall()}


def _files(root: Path) -> dict[str, str]:
    """Every file under MEDIA_ROOT (relative path) with the SHA-256 of its bytes."""
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


# --- the documented commands ------------------------------------------------------------


class Operator:
    """Runs the commands of docs/operations.md against the test database and MEDIA_ROOT."""

    def __init__(self, media_root: Path, folder: Path) -> None:
        options = connection.settings_dict
        self.dbname = options["NAME"]
        self.conninfo = {
            "dbname": self.dbname,
            "user": options["USER"] or "postgres",
            "password": options["PASSWORD"] or None,
            "host": options["HOST"] or "127.0.0.1",
            "port": options["PORT"] or 5432,
        }
        self.env = dict(
            os.environ,
            PGUSER=self.conninfo["user"],
            PGHOST=str(self.conninfo["host"]),
            PGPORT=str(self.conninfo["port"]),
        )
        if self.conninfo["password"]:
            self.env["PGPASSWORD"] = self.conninfo["password"]
        self.media_root = media_root
        self.dump = folder / "voterreg.dump"
        self.media_archive = folder / "media.tgz"

    def run(self, *command: str) -> None:
        subprocess.run(command, check=True, env=self.env)  # noqa: S603 - fixed commands, our own paths

    def back_up(self) -> None:
        self.run("pg_dump", "-Fc", "-f", str(self.dump), self.dbname)
        self.run(
            "tar", "czf", str(self.media_archive), "-C", str(self.media_root.parent), self.media_root.name
        )

    def wipe(self) -> None:
        connection.close()  # the application's connection: nothing may hold the schema
        with psycopg2.connect(**self.conninfo) as conn, conn.cursor() as cursor:
            cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        conn.close()
        shutil.rmtree(self.media_root)

    def restore(self) -> None:
        self.run("pg_restore", "--no-owner", "-d", self.dbname, str(self.dump))
        self.run("tar", "xzf", str(self.media_archive), "-C", str(self.media_root.parent))
        connection.close()  # reconnect to the restored schema


@pytest.fixture
def operator(media_root, tmp_path):
    operator = Operator(media_root, tmp_path)
    yield operator
    if not _tables() and operator.dump.exists():
        operator.restore()  # a failure between wipe and restore must not leave the test database empty


# --- the tests ----------------------------------------------------------------------------


def test_dump_wipe_restore_gives_back_every_row_of_every_table(register_in_use, operator):
    before = _database()
    # What matters most is there to be compared: the register, its custody events and histories.
    for table, least in {
        "inmates_inmate": 8,
        "inmates_historicalinmate": 8 + 1,
        "inmates_custodyevent": 8 + 1,
        "inmates_importjob": 2,
        "tps_stationrun": 1,
    }.items():
        assert len(before[table]) >= least, table
    # Read from the catalog, not from the models: a table no model knows is compared too.
    for model in apps.get_models(include_auto_created=True):
        assert model._meta.db_table in before, f"{model._meta.label} is not compared"

    operator.back_up()
    operator.wipe()
    assert _tables() == [], "the wipe left tables behind"
    operator.restore()

    after = _database()
    assert sorted(after) == sorted(before)
    for table, rows in before.items():
        assert after[table] == rows, f"{table} did not come back row for row"


def test_after_a_restore_new_records_get_fresh_ids(register_in_use, operator, blora, rutan_blora_officer):
    sequences = _sequences()
    highest = {
        model: model._base_manager.order_by("-pk").values_list("pk", flat=True).first()
        for model in (Inmate, Inmate.history.model, CustodyEvent, ImportJob)
    }

    operator.back_up()
    operator.wipe()
    operator.restore()

    assert _sequences() == sequences
    newcomer = services.inmate_register(
        facility=blora, user=rutan_blora_officer, **inmate_data(registration_number="AI.900/2024")
    )
    assert newcomer.pk > highest[Inmate]
    assert Inmate.history.filter(id=newcomer.pk).get().history_id > highest[Inmate.history.model]
    assert CustodyEvent._base_manager.get(inmate=newcomer).pk > highest[CustodyEvent]
    upload = _upload(operator.dump.parent / "maret.xlsx", [person(50)], rutan_blora_officer, blora)
    assert upload.pk > highest[ImportJob]


def test_dump_wipe_restore_gives_back_every_uploaded_and_exported_file(register_in_use, operator, media_root):
    files = _files(media_root)
    waiting = ImportJob.objects.get(status=ImportJob.Status.PREVIEW)
    export = StationRun.objects.get(kind="export")
    assert {waiting.file.name, export.output.name} <= set(files)

    operator.back_up()
    operator.wipe()
    assert not media_root.exists()
    operator.restore()

    assert _files(media_root) == files
    # The restored rows and files still belong together: the waiting upload can be confirmed.
    waiting.refresh_from_db()
    confirmed = import_job_confirm(job=waiting, user=waiting.created_by)
    assert confirmed.status == ImportJob.Status.DONE, confirmed.report
    assert Inmate.objects.filter(cell_block="C").count() == 11
