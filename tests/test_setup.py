"""Set-up commands and project checks."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from inmates.models import Facility, Inmate, Region, User


@pytest.mark.django_db
def test_migrations_are_complete():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


@pytest.mark.django_db
def test_load_regions_is_idempotent(regions, tmp_path):
    source = tmp_path / "regions.csv"
    source.write_text("33,JAWA TENGAH\n33.16,KAB. BLORA\n33.16.01,Jati\n33.16.01.2001,Bangkleyan Baru\n")
    call_command("load_regions", file=str(source), verbosity=0)
    call_command("load_regions", file=str(source), verbosity=0)
    assert Region.objects.get(code="33.16.01.2001").name == "Bangkleyan Baru"
    assert Region.objects.filter(code="33.16.01.2001").count() == 1


def test_packaged_region_data_covers_every_level():
    from inmates.regions import read_regions

    levels = {}
    for code, _name in read_regions():
        level = code.count(".") + 1
        levels[level] = levels.get(level, 0) + 1
    assert levels[1] >= 34 and levels[2] >= 514 and levels[3] >= 7000 and levels[4] >= 80000


def test_packaged_region_data_has_the_2022_papua_provinces_beside_the_old_codes():
    from inmates.regions import read_regions

    names = dict(read_regions())
    assert (names["93"], names["94"], names["95"], names["96"]) == (
        "PAPUA SELATAN",
        "PAPUA TENGAH",
        "PAPUA PEGUNUNGAN",
        "PAPUA BARAT DAYA",
    )
    assert names["93.01"] == names["91.01"] == "KAB. MERAUKE"  # NIKs of both eras decode
    assert names["93.01.01"] == "Merauke"


@pytest.mark.django_db
def test_load_regions_creates_then_renames_without_duplicating(regions, tmp_path):
    source = tmp_path / "regions.csv"
    source.write_text("99,PROVINSI UJI\n99.01,KAB. UJI\n99.01.01,Uji Lama\n")
    assert call_command("load_regions", file=str(source), verbosity=0) is None
    assert Region.objects.filter(code__startswith="99").count() == 3
    source.write_text("99,PROVINSI UJI\n99.01,KAB. UJI\n99.01.01,Uji Baru\n")
    call_command("load_regions", file=str(source), verbosity=0)
    assert Region.objects.filter(code__startswith="99").count() == 3
    assert Region.objects.get(code="99.01.01").name == "Uji Baru"
    assert Region.objects.get(code="99.01.01").parent_id == "99.01"


def _demo_counts() -> dict[str, int]:
    from inmates.models import CustodyEvent, DuplicateCandidate
    from tps.models import TpsAssignment, VoterList

    return {
        "facilities": Facility.objects.count(),
        "users": User.objects.count(),
        "inmates": Inmate.objects.count(),
        "inmate history": Inmate.history.count(),
        "custody events": CustodyEvent.objects.count(),
        "duplicate pairs": DuplicateCandidate.objects.count(),
        "voter lists": VoterList.objects.count(),
        "TPS voters": TpsAssignment.objects.count(),
    }


@pytest.mark.django_db
def test_seed_demo_creates_accounts_and_is_idempotent(regions, settings):
    settings.DEBUG = True
    call_command("seed_demo", verbosity=0)
    counts = _demo_counts()
    call_command("seed_demo", verbosity=0)
    assert _demo_counts() == counts
    assert set(User.objects.values_list("username", flat=True)) >= {
        "admin",
        "kpu_blora",
        "kpu_pati",
        "rutan_blora",
        "rutan_pati",
    }
    assert User.objects.get(username="rutan_blora").check_password("pemilu2024")
    blora = Inmate.objects.filter(facility__code="rutan-blora")
    assert blora.count() >= 150
    assert blora.filter(nik__isnull=True).exists()
    assert blora.exclude(nik_warnings=[]).exclude(nik__isnull=True).exists()


@pytest.mark.django_db
def test_seed_demo_refuses_demo_users_when_debug_is_off(regions, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo", verbosity=0)
    assert not User.objects.filter(username="admin").exists()
    assert not Facility.objects.exists()  # refused before anything is written


@pytest.mark.django_db
def test_admin_speaks_indonesian_by_default(client, rutan_blora_officer):
    client.force_login(rutan_blora_officer)
    body = client.get("/admin/").content.decode()
    assert 'lang="id"' in body
    assert "Keluar" in body  # "Log out"


def _test_database_name(database_url):
    """The test database name the settings choose in a fresh process."""
    import os
    import subprocess
    import sys

    from django.conf import settings

    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env.update({"TEST_DB_SUFFIX": "ci42", "DJANGO_SETTINGS_MODULE": "voterreg.settings"})
    if database_url:
        env["DATABASE_URL"] = database_url
    code = (
        "from django.conf import settings; print(settings.DATABASES['default'].get('TEST', {}).get('NAME'))"
    )
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_test_db_suffix_separates_postgres_test_databases():
    assert _test_database_name("postgres://postgres@127.0.0.1:5432/voterreg") == "test_voterreg_ci42"


def test_test_db_suffix_leaves_sqlite_tests_in_memory():
    # A file path cannot take a "test_" prefix: CI once failed with
    # "unable to open database file" for test_/path/db.sqlite3_ci42.
    assert _test_database_name(None) == "None"
