"""Concurrency on PostgreSQL with real parallel connections: two officers
importing overlapping files at the same moment leave one active record per
registration number and no lost update."""

from __future__ import annotations

import io
import threading

import openpyxl
import pytest
from django.db import connection

from inmates.importing import inmates_import
from inmates.models import Inmate

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

HEADER = [
    "No. Registrasi",
    "Nama Lengkap",
    "Jenis Kelamin",
    "Status Penahanan",
    "Tanggal Masuk",
    "Blok/Kamar",
]


def _file(numbers: range, block: str) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    for number in numbers:
        sheet.append([f"CC.{number:04d}/2024", f"Warga Binaan {number}", "L", "Tahanan", "02-01-2024", block])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _run_together(*jobs):
    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)

    def runner(index, job):
        try:
            barrier.wait()
            results[index] = job()
        except Exception as exc:  # noqa: BLE001 - reported by the test
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_two_officers_importing_overlapping_files_at_once(blora, rutan_blora_officer, admin_user):
    first = _file(range(0, 150), "A")
    second = _file(range(100, 250), "B")

    def importer(data, user):
        return lambda: inmates_import(source=io.BytesIO(data), filename="wbp.xlsx", facility=blora, user=user)

    reports = _run_together(importer(first, rutan_blora_officer), importer(second, admin_user))
    for report in reports:
        assert not isinstance(report, Exception), report
    written = [report for report in reports if report.written]
    refused = [report for report in reports if not report.written]
    assert written, "at least one import must win"
    for report in refused:
        assert any(problem.code == "concurrent_change" for problem in report.problems)

    numbers = list(Inmate.objects.filter(facility=blora).values_list("registration_number", flat=True))
    assert len(numbers) == len(set(numbers)), "a registration number exists twice"
    # Whatever the interleaving, the register now holds exactly what was written:
    # re-importing the winners' files finds nothing to change (no half-applied rows).
    for data, report in zip((first, second), reports, strict=True):
        if report.written:
            again = inmates_import(
                source=io.BytesIO(data), filename="wbp.xlsx", facility=blora, user=admin_user, dry_run=True
            )
            assert again.errors == 0
    expected = set()
    if reports[0].written:
        expected |= {f"CC.{n:04d}/2024" for n in range(0, 150)}
    if reports[1].written:
        expected |= {f"CC.{n:04d}/2024" for n in range(100, 250)}
    assert set(numbers) == expected
