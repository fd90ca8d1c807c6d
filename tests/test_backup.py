"""Backup and restore on PostgreSQL, as docs/operations.md tells operators to do it:
dump, wipe, restore, and every table (histories included) is back whole."""

import subprocess

import psycopg2
import pytest
from django.apps import apps
from django.db import connection

from inmates import services

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _conninfo(dbname: str) -> dict:
    settings = connection.settings_dict
    return {
        "dbname": dbname,
        "user": settings["USER"] or "postgres",
        "password": settings["PASSWORD"] or None,
        "host": settings["HOST"] or "127.0.0.1",
        "port": settings["PORT"] or 5432,
    }


def _libpq_env(info: dict) -> dict:
    import os

    env = dict(os.environ, PGUSER=info["user"], PGHOST=str(info["host"]), PGPORT=str(info["port"]))
    if info["password"]:
        env["PGPASSWORD"] = info["password"]
    return env


def _counts(info: dict) -> dict[str, int]:
    tables = sorted(model._meta.db_table for model in apps.get_models())
    with psycopg2.connect(**info) as conn, conn.cursor() as cursor:
        result = {}
        for table in tables:
            cursor.execute(f'SELECT count(*) FROM "{table}"')  # noqa: S608 - table names from the models
            result[table] = cursor.fetchone()[0]
    conn.close()
    return result


def test_dump_wipe_restore_gives_back_every_row_and_history(tmp_path, blora_inmate, rutan_blora_officer):
    services.inmate_update(inmate=blora_inmate, user=rutan_blora_officer, cell_block="C")
    services.custody_event_record(
        inmate=blora_inmate, kind="release", date=blora_inmate.admission_date, user=None
    )
    source = _conninfo(connection.settings_dict["NAME"])
    env = _libpq_env(source)
    before = _counts(source)
    assert before["inmates_historicalinmate"] >= 2

    dump = tmp_path / "voterreg.dump"
    subprocess.run(["pg_dump", "-Fc", "-f", str(dump), source["dbname"]], check=True, env=env)  # noqa: S603,S607
    scratch = f"{source['dbname']}_restore"
    subprocess.run(["dropdb", "--if-exists", scratch], check=True, env=env)  # noqa: S603,S607
    subprocess.run(["createdb", scratch], check=True, env=env)  # noqa: S603,S607
    try:
        subprocess.run(["pg_restore", "--no-owner", "-d", scratch, str(dump)], check=True, env=env)  # noqa: S603,S607
        target = _conninfo(scratch)
        # Wipe the restored copy and restore again: the documented recovery path.
        with psycopg2.connect(**target) as conn, conn.cursor() as cursor:
            cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        conn.close()
        assert _counts_or_none(target) is None
        subprocess.run(["pg_restore", "--no-owner", "-d", scratch, str(dump)], check=True, env=env)  # noqa: S603,S607
        assert _counts(target) == before
    finally:
        subprocess.run(["dropdb", "--if-exists", scratch], check=True, env=env)  # noqa: S603,S607


def _counts_or_none(info: dict):
    try:
        return _counts(info)
    except psycopg2.errors.UndefinedTable:
        return None
