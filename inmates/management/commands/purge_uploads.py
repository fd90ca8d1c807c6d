"""python manage.py purge_uploads [--days N] [--stale-hours H] [--dry-run]"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from inmates.imports_jobs import PREVIEW_MAX_AGE
from inmates.retention import DEFAULT_DAYS, DEFAULT_STALE_HOURS, JOB_KINDS, PurgeResult, uploads_purge


class Command(BaseCommand):
    help = (
        "Retention of personal data in MEDIA_ROOT: deletes the uploaded file of every import job "
        "finished (done, failed, cancelled) more than N days ago and the ZIP of every TPS export run "
        "finished more than N days ago, keeping the job rows; cancels previews left unconfirmed for "
        "7 days; marks failed every job (import, eligibility, TPS, duplicate detection) still waiting "
        "or running H hours after it started, its worker having stopped. Run daily (e.g. from cron)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=DEFAULT_DAYS,
            metavar="N",
            help=f"Delete files of jobs finished more than N days ago (default {DEFAULT_DAYS}).",
        )
        parser.add_argument(
            "--stale-hours",
            type=int,
            default=DEFAULT_STALE_HOURS,
            metavar="H",
            help=f"Fail jobs waiting or running for more than H hours (default {DEFAULT_STALE_HOURS}).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Print what would be done; change nothing."
        )

    def handle(self, *args, days, stale_hours, dry_run=False, **options):
        if days < 0 or stale_hours < 0:
            raise CommandError("--days and --stale-hours must not be negative.", returncode=2)
        result = uploads_purge(days=days, stale_hours=stale_hours, dry_run=dry_run)
        for line in report_lines(result):
            self.stdout.write(line)
        if result.not_deleted:
            self.stderr.write(
                f"Could not delete {result.not_deleted} files (see the log); they are tried again next run."
            )
        if dry_run:
            self.stdout.write("Dry run: nothing was changed.")


def report_lines(result: PurgeResult) -> list[str]:
    """The command's output: one line per kind of thing, with its count."""
    deleted = "would be deleted" if result.dry_run else "deleted"
    cancelled = "would be cancelled" if result.dry_run else "cancelled"
    failed = "would be marked failed" if result.dry_run else "marked failed"
    finished = f"finished more than {result.days} days ago"
    stale = f"waiting or running for more than {result.stale_hours} hours"
    lines = [
        f"Import files {deleted} ({finished}): {result.import_files}",
        f"TPS export files {deleted} ({finished}): {result.export_files}",
        f"Unconfirmed previews {cancelled} (older than {PREVIEW_MAX_AGE.days} days): {result.previews_cancelled}",
    ]
    for key, _model, label in JOB_KINDS:
        lines.append(f"{label} {failed} ({stale}): {result.failed[key]}")
    return lines
