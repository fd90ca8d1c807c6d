"""TPS planning and DPT exports over many facilities as background jobs (``StationRun``).

``station_run_start`` fixes the facilities (the user's scope, optionally one
regency of it, or a chosen set of it) and hands the run to the task worker
after commit; ``station_run_execute`` is the task body: facility after
facility it calls the same services as the per-facility pages
(``stations.tps_plan``, ``dpt_export.export_dpt``) as the user who started
the run, and writes its progress to the run row after each.

Who may start what mirrors the per-facility pages: planning needs
``can_manage_tps`` (KPU officers, admins); an export is open to everyone who
sees the facilities (a Rutan officer: their own), full NIK/NKK only to a role
that may see them (``dpt_export.check_full_nik``), never in a PDF.
"""

from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from inmates.models import Facility, Region, User
from tps import dpt_export
from tps.models import Election, StationRun, Tps
from tps.services import stations


def scope_regencies(user: User) -> QuerySet[Region]:
    """The regencies/cities in which ``user`` sees at least one facility."""
    return Region.objects.filter(
        code__in=Facility.objects.for_user(user).values("regency_id"), level=Region.Level.REGENCY
    ).order_by("code")


def station_run_kinds(user: User) -> list[str]:
    """The kinds of run ``user`` may start: an export where they see facilities, planning if they plan TPS."""
    if not Facility.objects.for_user(user).exists():
        return []
    kinds = [StationRun.Kind.EXPORT.value]
    if stations.can_manage_tps(user):
        kinds.insert(0, StationRun.Kind.PLAN.value)
    return kinds


def _codes(facilities: Iterable[Facility | str]) -> list[str]:
    return sorted({item.code if isinstance(item, Facility) else str(item) for item in facilities})


def station_run_start(
    *,
    kind: str,
    election: Election,
    user: User,
    regency: Region | str | None = None,
    facilities: Iterable[Facility | str] | None = None,
    fmt: str | None = None,
    full_nik: bool = False,
) -> StationRun:
    """Create a run over the facilities ``user`` sees (one regency, or the given ones) and enqueue it."""
    if kind not in StationRun.Kind.values:
        raise ValidationError(_("Unknown kind of run: %(kind)s.") % {"kind": kind})
    if kind == StationRun.Kind.PLAN and not stations.can_manage_tps(user):
        raise PermissionDenied(_("Only KPU officers and admins plan TPS."))
    scope = Facility.objects.for_user(user)
    if not scope.exists():
        raise PermissionDenied(_("You see no facility to work on."))
    regency_code = regency.code if isinstance(regency, Region) else (regency or None)
    if regency_code:
        scope = scope.filter(regency_id=regency_code)
        if not scope.exists():
            raise PermissionDenied(_("You see no facility in this regency/city."))
    if facilities is not None:
        wanted = _codes(facilities)
        found = set(scope.filter(code__in=wanted).values_list("code", flat=True))
        if not wanted:
            raise ValidationError(_("Choose at least one facility."))
        if found != set(wanted):
            raise PermissionDenied(_("Some of these facilities are outside your scope."))
        codes = wanted
    else:
        codes = list(scope.order_by("code").values_list("code", flat=True))

    if kind == StationRun.Kind.EXPORT:
        if fmt not in StationRun.Format.values:
            raise ValidationError(_("Choose the format of the export: XLSX, CSV or PDF."))
        if full_nik and fmt == StationRun.Format.PDF:
            raise ValidationError(_("The PDF is for posting at the TPS: NIK and NKK are always masked."))
        dpt_export.check_full_nik(user, full_nik)
    elif fmt or full_nik:
        raise ValidationError(_("A planning run has no file format."))

    run = StationRun(
        kind=kind,
        election=election,
        regency_id=regency_code,
        facility_codes=codes,
        fmt=fmt or "",
        full_nik=bool(full_nik),
        total=len(codes),
        started_by=user,
    )
    run.full_clean()
    run.save()
    transaction.on_commit(lambda: _enqueue(run.pk))
    return run


def _enqueue(run_id: int) -> None:
    from tps.tasks import run_station_job

    result = run_station_job.enqueue(run_id)
    StationRun.objects.filter(pk=run_id, task_id="").update(task_id=str(result.id)[:64])


def _facilities(run: StationRun) -> list[Facility]:
    """The run's facilities still in its starter's scope, in the order fixed at start."""
    if run.started_by is None:
        return []
    found = {
        facility.code: facility
        for facility in Facility.objects.for_user(run.started_by).filter(code__in=run.facility_codes)
    }
    return [found[code] for code in run.facility_codes if code in found]


def _message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(exc.messages)
    return str(getattr(exc, "user_message", None) or exc)


def _progress(run_id: int, **values: Any) -> None:
    StationRun.objects.filter(pk=run_id).update(**values)


def _plan(run: StationRun, facilities: list[Facility]) -> tuple[dict[str, dict], int]:
    if not stations.can_manage_tps(run.started_by):
        raise PermissionDenied(_("Only KPU officers and admins plan TPS."))
    result: dict[str, dict] = {}
    voters = 0
    for done, facility in enumerate(facilities, start=1):
        try:
            planned = stations.tps_plan(election=run.election, facility=facility, user=run.started_by)
        except (ValidationError, ValueError) as exc:
            # One facility's problem (capacity, a bad TPS) is reported there; the others go on.
            result[facility.code] = {"name": facility.name, "error": _message(exc)}
        else:
            count = len(planned.plan.assignments)
            voters += count
            result[facility.code] = {
                "name": facility.name,
                "tps": len(planned.plan.tps),
                "voters": count,
                "moved": len(planned.moved),
                "added": len(planned.added),
                "removed": len(planned.removed),
                "created_tps": list(planned.created_tps),
                "shortages": len(planned.shortages),
            }
        _progress(run.pk, processed=done, rows=voters, result=result)
    return result, voters


def zip_name(run: StationRun) -> str:
    masked = "" if run.full_nik else "-disamarkan"
    return f"dpt-{run.election.code}-run{run.pk}{masked}-{run.fmt}.zip"


def _tps_numbers(run: StationRun, facility: Facility) -> list[str | None]:
    """XLSX and PDF hold every TPS of a facility in one file; a CSV holds one TPS."""
    if run.fmt != StationRun.Format.CSV:
        return [None]
    numbers = Tps.objects.filter(election=run.election, facility=facility).values_list("number", flat=True)
    # No TPS at all: export_dpt says so ("plan them first").
    return sorted(numbers, key=stations.number_key) or [None]


def _export(run: StationRun, facilities: list[Facility]) -> tuple[dict[str, dict], int]:
    result: dict[str, dict] = {}
    rows = 0
    with tempfile.TemporaryDirectory(prefix="station-run-") as directory:
        workdir = Path(directory)
        archive_path = workdir / zip_name(run)
        # Each file goes into the ZIP as soon as it is written and is then removed:
        # memory and disk hold one facility's files at a time, not the whole export.
        # XLSX (itself a ZIP) and PDF are compressed already: stored as they are; CSV is deflated.
        compression = zipfile.ZIP_DEFLATED if run.fmt == StationRun.Format.CSV else zipfile.ZIP_STORED
        with zipfile.ZipFile(archive_path, "w", allowZip64=True) as archive:
            for done, facility in enumerate(facilities, start=1):
                files: list[str] = []
                count = 0
                try:
                    for number in _tps_numbers(run, facility):
                        name = dpt_export.filename_for(
                            election=run.election,
                            facility=facility,
                            fmt=run.fmt,
                            tps_number=number,
                            full_nik=run.full_nik,
                        )
                        path = workdir / name
                        count += dpt_export.export_dpt(
                            election=run.election,
                            facility=facility,
                            fmt=run.fmt,
                            target=path,
                            tps_number=number,
                            full_nik=run.full_nik,
                            user=run.started_by,
                            via=f"station_run:{run.pk}",
                        )
                        archive.write(path, arcname=name, compress_type=compression)
                        path.unlink()
                        files.append(name)
                except dpt_export.ExportError as exc:
                    result[facility.code] = {"name": facility.name, "error": str(exc), "files": files}
                else:
                    result[facility.code] = {"name": facility.name, "rows": count, "files": files}
                rows += count
                _progress(run.pk, processed=done, rows=rows, result=result)
        with archive_path.open("rb") as handle:
            run.output.save(archive_path.name, File(handle), save=False)
    _progress(run.pk, output=run.output.name)
    return result, rows


def station_run_execute(run_id: int) -> dict:
    """Plan or export every facility of the run, one at a time, saving progress after each (the task body)."""
    updated = StationRun.objects.filter(pk=run_id, status=StationRun.Status.PENDING).update(
        status=StationRun.Status.RUNNING
    )
    run = StationRun.objects.select_related("election", "started_by").get(pk=run_id)
    if not updated:
        return {"facilities": run.processed, "rows": run.rows}
    try:
        facilities = _facilities(run)
        _progress(run_id, total=len(facilities), processed=0, rows=0, result={})
        if run.kind == StationRun.Kind.PLAN:
            result, rows = _plan(run, facilities)
        else:
            result, rows = _export(run, facilities)
    except Exception as exc:
        _progress(
            run_id,
            status=StationRun.Status.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:2000],
            finished_at=timezone.now(),
        )
        raise
    _progress(run_id, status=StationRun.Status.DONE, result=result, rows=rows, finished_at=timezone.now())
    return {"facilities": len(result), "rows": rows}
