"""The cast of the test suite.

Two facilities in two regencies (Rutan Blora in Kab. Blora, Rutan Pati in
Kab. Pati), and one person per role and place: a Rutan Blora officer, a Rutan
Pati officer, a KPU Blora officer, a KPU Pati officer and an admin.
"""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings

from inmates import services
from inmates.models import Facility, Inmate, Region, User

# Central and East Java: Blora (33.16), Pati (33.18) and Bojonegoro (35.22).
TEST_PROVINCES = ("33", "35")


@pytest.fixture(autouse=True)
def _fast_settings(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def _load_test_regions() -> None:
    from inmates.regions import load_regions

    load_regions(provinces=TEST_PROVINCES)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Regions are reference data: load them once for the whole session."""
    with django_db_blocker.unblock():
        _load_test_regions()


@pytest.fixture
def regions(db) -> None:
    """The regions of Central and East Java (loaded again after a transactional test's flush)."""
    if not Region.objects.filter(code="33.16.01.2001").exists():
        _load_test_regions()


@pytest.fixture
def blora(regions) -> Facility:
    return Facility.objects.create(
        code="rutan-blora", name="Rutan Kelas IIB Blora", type=Facility.Type.RUTAN, regency_id="33.16"
    )


@pytest.fixture
def pati(regions) -> Facility:
    return Facility.objects.create(
        code="rutan-pati", name="Rutan Kelas IIB Pati", type=Facility.Type.RUTAN, regency_id="33.18"
    )


def _user(username: str, **fields) -> User:
    user = User(username=username, is_staff=True, **fields)
    user.set_password("pemilu2024")
    user.save()
    return user


@pytest.fixture
def rutan_blora_officer(blora) -> User:
    return _user("rutan_blora", role=User.Role.RUTAN, facility=blora)


@pytest.fixture
def rutan_pati_officer(pati) -> User:
    return _user("rutan_pati", role=User.Role.RUTAN, facility=pati)


@pytest.fixture
def kpu_blora_officer(regions) -> User:
    return _user("kpu_blora", role=User.Role.KPU, regency_id="33.16")


@pytest.fixture
def kpu_pati_officer(regions) -> User:
    return _user("kpu_pati", role=User.Role.KPU, regency_id="33.18")


@pytest.fixture
def admin_user(regions) -> User:
    return _user("admin", role=User.Role.ADMIN, is_superuser=True)


_counter = {"n": 0}


def inmate_data(**overrides) -> dict:
    """Valid inmate fields: a 34-year-old man from Jati, Blora, with a matching NIK."""
    _counter["n"] += 1
    data = {
        "registration_number": f"AI.{_counter['n']:04d}/2023",
        "nik": "3316011708900001",
        "nkk": "3316012005150003",
        "full_name": "Budi Santoso",
        "birth_place": "Blora",
        "birth_date": datetime.date(1990, 8, 17),
        "sex": "L",
        "marital_status": "kawin",
        "citizenship": "WNI",
        "address": "Dk. Bangkleyan",
        "rt": "001",
        "rw": "002",
        "domicile_region_id": "33.16.01.2001",
        "custody_type": "narapidana",
        "admission_date": datetime.date(2023, 3, 1),
        "expected_release_date": datetime.date(2025, 3, 1),
        "cell_block": "A",
    }
    data.update(overrides)
    return data


@pytest.fixture
def make_inmate():
    """Register an inmate through the service, as the admin and importer do."""

    def make(facility: Facility, user: User | None = None, **overrides) -> Inmate:
        return services.inmate_register(facility=facility, user=user, **inmate_data(**overrides))

    return make


@pytest.fixture
def blora_inmate(make_inmate, blora, rutan_blora_officer) -> Inmate:
    return make_inmate(
        blora, rutan_blora_officer, full_name="Slamet Riyadi", registration_number="AI.001/2023"
    )


@pytest.fixture
def pati_inmate(make_inmate, pati, rutan_pati_officer) -> Inmate:
    return make_inmate(
        pati,
        rutan_pati_officer,
        full_name="Joko Susilo",
        registration_number="AI.001/2023",
        nik="3318012005880002",
        birth_date=datetime.date(1988, 5, 20),
        domicile_region_id="33.18.01.2001",
    )


@pytest.fixture
def test_output_dir():
    path = settings.BASE_DIR / "test-output"
    path.mkdir(exist_ok=True)
    return path


def pytest_runtest_setup(item):
    from django.db import connection

    if item.get_closest_marker("postgres") and connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (run with DATABASE_URL=postgres://...)")
