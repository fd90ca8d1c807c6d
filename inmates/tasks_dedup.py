"""Duplicate detection as a background task, with progress the run page shows.

A run is a ``DedupRun`` row: the page that starts it creates the row and
enqueues :func:`run_detection`; the worker calls the same service as
``find_duplicates`` and writes its progress to the row as it goes.
"""

from __future__ import annotations

import time

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from inmates import dedup
from inmates.models import Facility, Region, User
from inmates.models.dedup import DedupRun

# Share of the progress bar per step of a run.
_PHASES = {"inmates": (0, 10), "pairs": (10, 30), "dpt": (40, 50), "saving": (90, 10)}
_PHASES_NO_DPT = {"inmates": (0, 20), "pairs": (20, 60), "saving": (80, 20)}


@transaction.atomic
def dedup_run_start(
    *,
    user: User | None,
    facility: Facility | None = None,
    regency: Region | None = None,
    against_dpt: bool = False,
) -> DedupRun:
    """Create a run for a scope and hand it to the task worker."""
    run = DedupRun(facility=facility, regency=regency, against_dpt=against_dpt, started_by=user)
    run.full_clean()
    run.save()
    transaction.on_commit(lambda: _enqueue(run.pk))
    return run


def _enqueue(run_id: int) -> None:
    result = run_detection.enqueue(run_id)
    DedupRun.objects.filter(pk=run_id, task_id="").update(task_id=str(result.id)[:64])


class _ProgressWriter:
    """Writes progress to the run row at most about once a second."""

    def __init__(self, run: DedupRun) -> None:
        self.run_id = run.pk
        self.phases = _PHASES if run.against_dpt else _PHASES_NO_DPT
        self.last = 0.0

    def __call__(self, phase: str, done: int, total: int) -> None:
        now = time.monotonic()
        finished = total and done >= total
        if now - self.last < 1.0 and not finished:
            return
        self.last = now
        start, width = self.phases.get(phase, (0, 0))
        share = (done / total) if total else 0.0
        processed = int(10 * (start + width * min(share, 1.0)))
        DedupRun.objects.filter(pk=self.run_id).update(phase=phase, processed=processed, total=1000)


def dedup_run_execute(run_id: int) -> dict:
    """Run a waiting detection run to its end (the task body; also callable inline)."""
    updated = DedupRun.objects.filter(pk=run_id, status=DedupRun.Status.PENDING).update(
        status=DedupRun.Status.RUNNING, phase="inmates", processed=0, total=1000
    )
    run = DedupRun.objects.select_related("facility", "regency", "started_by").get(pk=run_id)
    if not updated:
        return run.result
    try:
        result = dedup.duplicates_detect(
            facility=run.facility,
            regency=run.regency,
            against_dpt=run.against_dpt,
            user=run.started_by,
            progress=_ProgressWriter(run),
        )
    except Exception as exc:
        DedupRun.objects.filter(pk=run_id).update(
            status=DedupRun.Status.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:2000],
            finished_at=timezone.now(),
        )
        raise
    counts = result.counts()
    DedupRun.objects.filter(pk=run_id).update(
        status=DedupRun.Status.DONE,
        phase="done",
        processed=1000,
        total=1000,
        result=counts,
        finished_at=timezone.now(),
    )
    return counts


@task()
def run_detection(run_id: int) -> dict:
    return dedup_run_execute(run_id)
