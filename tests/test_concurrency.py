"""Concurrency on PostgreSQL with real parallel connections.

Each import runs in its own thread (its own connection) and is stopped once it
has checked its whole file, before it writes anything; the test releases the
imports only when every one of them has decided what to write from the same
register. That is the worst moment for two officers to collide, and it is made
to happen every time instead of now and then.

What must hold: no duplicate active record (facility, registration number), no
lost update (the register ends as if the imports had run one after the other,
in one order or the other), and every change in the history with its user.
NIK is not unique in the register (a repeated NIK is a warning and goes to the
duplicate queue), so it is not checked here.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterable

import openpyxl
import pytest
from django.db import connection
from django.db.models import Count

from inmates import importing, services
from inmates.importing import inmates_import
from inmates.models import CustodyEvent, Inmate

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WAIT = 60  # seconds; a thread that waits longer is stuck

HEADER = [
    "No. Registrasi",
    "Nama Lengkap",
    "Jenis Kelamin",
    "Status Penahanan",
    "Tanggal Masuk",
    "Blok/Kamar",
]


def _number(n: int) -> str:
    return f"CC.{n:04d}/2024"


def _name(n: int) -> str:
    return f"Warga Binaan {n}"


def _file(numbers: Iterable[int], block: str) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    for n in numbers:
        sheet.append([_number(n), _name(n), "L", "Tahanan", "02-01-2024", block])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


class CheckedGate:
    """An import's progress callback that stops it once its whole file is checked.

    ``checked`` is set when the import has read and compared every row (and
    decided what to create and update) but written no changed record yet; it
    then waits for ``release``.
    """

    def __init__(self, rows: int) -> None:
        self.rows = rows
        self.seen = 0
        self.checked = threading.Event()
        self.released = threading.Event()

    def __call__(self, phase: str, done: int, total: int) -> None:
        # One chunk: the checking reports every row, then the writing starts at 0.
        # Several chunks (PostgreSQL streams them): the writing reports each chunk checked.
        self.seen = max(self.seen, done)
        if phase == importing.WRITING and self.seen >= self.rows and not self.checked.is_set():
            self.checked.set()
            if not self.released.wait(WAIT):
                raise TimeoutError("the import was never released")

    def release(self) -> None:
        self.released.set()


class Officer(threading.Thread):
    """One officer importing one file into Rutan Blora on a connection of their own."""

    def __init__(self, data: bytes, rows: int, facility, user) -> None:
        super().__init__()
        self.data, self.facility, self.user = data, facility, user
        self.gate = CheckedGate(rows)
        self.report = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.report = inmates_import(
                source=io.BytesIO(self.data),
                filename="wbp.xlsx",
                facility=self.facility,
                user=self.user,
                progress=self.gate,
            )
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.error = exc
            self.gate.checked.set()  # nobody waits for an import that died
        finally:
            connection.close()


def _at_once(*officers: Officer, meanwhile: Callable[[], None] | None = None) -> None:
    """Both imports check their files, then (after ``meanwhile``) both write at the same moment."""
    for officer in officers:
        officer.start()
    for officer in officers:
        assert officer.gate.checked.wait(WAIT), "an import never finished checking its file"
    if meanwhile is not None:
        meanwhile()
    for officer in officers:
        officer.gate.release()
    for officer in officers:
        officer.join(WAIT)
        assert not officer.is_alive(), "an import never finished"
        if officer.error is not None:
            raise officer.error


# --- what the register holds ------------------------------------------------------------


def _register(facility) -> dict[str, str]:
    return dict(Inmate.objects.filter(facility=facility).values_list("registration_number", "cell_block"))


def _history(facility) -> dict[str, list[tuple[str, int | None]]]:
    """Each record's versions, oldest first: (block, user who wrote it)."""
    versions: dict[str, list] = {}
    rows = (
        Inmate.history.filter(facility=facility)
        .order_by("history_id")
        .values_list("registration_number", "cell_block", "history_user_id")
    )
    for number, block, user_id in rows:
        versions.setdefault(number, []).append((block, user_id))
    return versions


def _serially(seed: dict[str, str], *imports: tuple[dict[str, str], object]) -> tuple[dict, dict]:
    """The register and its history if ``imports`` (blocks by number, user) had run one after the other."""
    register = dict(seed)
    history = {number: [(block, None)] for number, block in seed.items()}
    for blocks, user in imports:
        for number, block in blocks.items():
            if register.get(number) != block:
                register[number] = block
                history.setdefault(number, []).append((block, user.pk))
    return register, history


def _duplicates(facility) -> list:
    return list(
        Inmate.objects.filter(facility=facility)
        .values("registration_number")
        .annotate(records=Count("id"))
        .filter(records__gt=1)
    )


@pytest.fixture(params=["one chunk", "several chunks"])
def chunking(request, monkeypatch) -> str:
    """Files of one chunk are checked, then written; on PostgreSQL larger ones are streamed chunk by chunk."""
    if request.param == "several chunks":
        monkeypatch.setattr(importing, "CHUNK", 40)
    return request.param


# --- the tests ---------------------------------------------------------------------------------


def test_two_officers_updating_the_same_records_at_once_lose_no_update(
    chunking, blora, rutan_blora_officer, admin_user
):
    seed = dict.fromkeys(map(_number, range(250)), "S")
    inmates_import(source=io.BytesIO(_file(range(250), "S")), filename="awal.xlsx", facility=blora, user=None)
    first = ({_number(n): "A" for n in range(0, 150)}, rutan_blora_officer)
    second = ({_number(n): "B" for n in range(100, 250)}, admin_user)
    officers = (
        Officer(_file(range(0, 150), "A"), 150, blora, rutan_blora_officer),
        Officer(_file(range(100, 250), "B"), 150, blora, admin_user),
    )

    _at_once(*officers)

    for officer in officers:
        report = officer.report
        assert (report.written, report.errors, report.updated) == (True, 0, 150), report.as_dict()
    # Records 100-149 were changed by both: all of them end as the later import left them.
    assert (_register(blora), _history(blora)) in (
        _serially(seed, first, second),
        _serially(seed, second, first),
    )
    assert _duplicates(blora) == []


def test_an_edit_made_while_an_import_waits_to_write_is_kept(
    chunking, blora, rutan_blora_officer, admin_user
):
    inmates_import(source=io.BytesIO(_file(range(10), "S")), filename="awal.xlsx", facility=blora, user=None)
    officer = Officer(_file(range(10), "A"), 10, blora, rutan_blora_officer)

    def admin_renames_one_record():
        record = Inmate.objects.get(facility=blora, registration_number=_number(5))
        services.inmate_update(inmate=record, user=admin_user, full_name="Warga Binaan Lima")

    _at_once(officer, meanwhile=admin_renames_one_record)

    assert (officer.report.written, officer.report.updated) == (True, 10)
    record = Inmate.objects.get(facility=blora, registration_number=_number(5))
    assert (record.full_name, record.cell_block) == ("Warga Binaan Lima", "A")
    versions = list(
        record.history.order_by("history_id").values_list("full_name", "cell_block", "history_user")
    )
    assert versions == [
        (_name(5), "S", None),
        ("Warga Binaan Lima", "S", admin_user.pk),
        ("Warga Binaan Lima", "A", rutan_blora_officer.pk),
    ]


def test_two_officers_creating_the_same_people_at_once_leave_one_record_each(
    blora, rutan_blora_officer, admin_user
):
    # Both files are checked while none of these people is registered: both mean to
    # create records 100-149. One import is written whole, the other refused whole.
    officers = (
        Officer(_file(range(0, 150), "A"), 150, blora, rutan_blora_officer),
        Officer(_file(range(100, 250), "B"), 150, blora, admin_user),
    )

    _at_once(*officers)

    written = [officer for officer in officers if officer.report.written]
    refused = [officer for officer in officers if not officer.report.written]
    assert (len(written), len(refused)) == (1, 1)
    errors = [problem.code for problem in refused[0].report.problems if problem.level == "error"]
    assert errors == ["concurrent_change"]
    winner = written[0]
    numbers = range(0, 150) if winner is officers[0] else range(100, 250)
    block = "A" if winner is officers[0] else "B"
    assert _register(blora) == dict.fromkeys(map(_number, numbers), block)
    assert _history(blora) == {_number(n): [(block, winner.user.pk)] for n in numbers}
    admissions = CustodyEvent._base_manager.filter(inmate__facility=blora)
    assert sorted(admissions.values_list("inmate__registration_number", "kind")) == [
        (_number(n), "admission") for n in numbers
    ]
    assert _duplicates(blora) == []
