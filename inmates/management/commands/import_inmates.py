"""python manage.py import_inmates FILE --facility CODE [--dry-run] [--user USERNAME] [--json]"""

from __future__ import annotations

import json
import os

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext

from inmates.importing import ImportRefused, ImportReport, inmates_import
from inmates.models import Facility, User


class Command(BaseCommand):
    help = (
        "Import inmates from an Excel (.xlsx) or CSV file into one facility's register. "
        "The whole file is checked first: if any row has an error, nothing is written, every "
        "problem is printed with its row and column, and the command exits with status 1. "
        "Rows are matched on (facility, registration number): importing the same file again "
        "changes nothing. Prints created / updated / unchanged / warnings."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The .xlsx or .csv file.")
        parser.add_argument(
            "--facility", required=True, metavar="CODE", help="Facility code, e.g. rutan-blora."
        )
        parser.add_argument("--dry-run", action="store_true", help="Check and count only; write nothing.")
        parser.add_argument(
            "--user",
            metavar="USERNAME",
            help="Record the import under this user (history) and refuse a facility outside their scope.",
        )
        parser.add_argument("--json", action="store_true", help="Print the whole report as JSON.")
        parser.add_argument(
            "--warnings", action="store_true", help="List every warning, not only their count."
        )

    def handle(self, *args, file, facility, dry_run=False, user=None, json=False, warnings=False, **options):
        target = Facility.objects.filter(code=facility).first()
        if target is None:
            raise CommandError(gettext("No facility with code %(code)s.") % {"code": facility}, returncode=2)
        actor = None
        if user:
            actor = User.objects.filter(username=user, is_active=True).first()
            if actor is None:
                raise CommandError(gettext("No active user %(user)s.") % {"user": user}, returncode=2)
        if not os.path.isfile(file):
            raise CommandError(gettext("File not found: %(file)s") % {"file": file}, returncode=2)
        try:
            report = inmates_import(
                source=file, filename=os.path.basename(file), facility=target, user=actor, dry_run=dry_run
            )
        except ImportRefused as exc:
            raise CommandError(exc.message, returncode=2) from exc
        if json:
            self.stdout.write(_dumps(report))
        else:
            self._print_problems(report, with_warnings=warnings or report.has_errors)
            self._print_summary(report)
        if report.has_errors:
            raise CommandError(
                gettext("%(errors)d errors in %(rows)d rows: nothing was written.")
                % {"errors": report.errors, "rows": report.error_rows or report.rows},
                returncode=1,
            )

    def _print_problems(self, report: ImportReport, *, with_warnings: bool) -> None:
        for problem in report.problems:
            if problem.level == "warning" and not with_warnings:
                continue
            where = gettext("row %(row)s") % {"row": problem.row} if problem.row else gettext("file")
            if problem.column:
                where += f", {problem.column}"
                if problem.cell:
                    where += f" ({problem.cell})"
            value = f' "{problem.value}"' if problem.value else ""
            level = gettext("ERROR") if problem.level == "error" else gettext("warning")
            line = f"{level}: {where}{value}: {problem.message}"
            self.stdout.write(
                self.style.ERROR(line) if problem.level == "error" else self.style.WARNING(line)
            )
        if len(report.problems) < report.errors + report.warnings:
            self.stdout.write(
                gettext("(only the first %(count)d problems are listed)") % {"count": len(report.problems)}
            )

    def _print_summary(self, report: ImportReport) -> None:
        values = {
            "rows": report.rows,
            "created": report.created,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "warnings": report.warnings,
        }
        if report.written:
            line = gettext(
                "Rows: %(rows)d. Created: %(created)d, updated: %(updated)d, unchanged: %(unchanged)d, "
                "warnings: %(warnings)d."
            )
            self.stdout.write(self.style.SUCCESS(line % values))
        elif not report.has_errors:
            line = gettext(
                "Dry run, nothing written. Rows: %(rows)d. Would create: %(created)d, update: %(updated)d, "
                "unchanged: %(unchanged)d, warnings: %(warnings)d."
            )
            self.stdout.write(line % values)


def _dumps(report: ImportReport) -> str:
    return json.dumps(report.as_dict(), ensure_ascii=False, indent=2)
