"""The PDPB change report of a facility: ``python manage.py change_report``."""

from __future__ import annotations

import datetime
import json
import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from inmates.models import Facility
from tps import changes
from tps.models import Election, VoterList


def parse_day(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"Dates are written YYYY-MM-DD, got {value!r}") from exc


class Command(BaseCommand):
    help = (
        "Who was added to and removed from a facility's voters, with cause and date: between two dates "
        "(--from/--to, the register as it stood at the end of each day) or between two list versions "
        "(--versions OLD NEW with --election). --election with dates judges age for that election's voting day. "
        "--xlsx FILE writes the workbook for KPU's PDPB; --json FILE (or -) writes "
        '{"facility", "election", "start", "end", "voters_start", "voters_end", '
        '"changes": [{"change", "cause", "date", "registration_number", "full_name", "reasons", "detail"}]}.'
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--facility", required=True, help="Facility code, e.g. rutan-blora.")
        parser.add_argument("--from", dest="start", type=parse_day, help="Start date (YYYY-MM-DD).")
        parser.add_argument("--to", dest="end", type=parse_day, help="End date (YYYY-MM-DD).")
        parser.add_argument(
            "--versions", nargs=2, type=int, metavar=("OLD", "NEW"), help="Two list versions."
        )
        parser.add_argument("--election", help="Election code (required with --versions).")
        parser.add_argument("--xlsx", metavar="FILE", help="Write the report as an .xlsx workbook.")
        parser.add_argument(
            "--json", dest="json_file", metavar="FILE", help='Write the report as JSON ("-": stdout).'
        )

    def handle(self, *args, **options) -> None:
        facility = Facility.objects.filter(code=options["facility"]).first()
        if facility is None:
            raise CommandError(f"No facility with code {options['facility']!r}.")
        election = None
        if options["election"]:
            election = Election.objects.filter(code=options["election"]).first()
            if election is None:
                raise CommandError(f"No election with code {options['election']!r}.")
        if options["versions"]:
            if options["start"] or options["end"]:
                raise CommandError("Give either --versions or --from/--to, not both.")
            if election is None:
                raise CommandError("--versions needs --election.")
            lists = {
                voter_list.version: voter_list
                for voter_list in VoterList.objects.filter(
                    election=election, facility=facility, version__in=options["versions"]
                )
            }
            old_version, new_version = options["versions"]
            missing = [str(v) for v in options["versions"] if v not in lists]
            if missing:
                raise CommandError(
                    f"No list version {', '.join(missing)} of {facility.code} for {election.code}."
                )
            report = changes.changes_between_versions(old=lists[old_version], new=lists[new_version])
        else:
            if not (options["start"] and options["end"]):
                raise CommandError("Give --from and --to (or --versions OLD NEW).")
            if options["end"] < options["start"]:
                raise CommandError("--to cannot be before --from.")
            report = changes.changes_between_dates(
                facility=facility, start=options["start"], end=options["end"], election=election
            )
        if options["xlsx"]:
            try:
                count = changes.write_xlsx_report(report, options["xlsx"])
            except OSError as exc:
                raise CommandError(f"Cannot write {options['xlsx']}: {exc}") from exc
            self.stderr.write(f"{count} changes written to {options['xlsx']}")
        if options["json_file"]:
            text = json.dumps(report.as_dict(), ensure_ascii=False, indent=2) + "\n"
            if options["json_file"] == "-":
                sys.stdout.write(text)
            else:
                with open(options["json_file"], "w", encoding="utf-8") as handle:
                    handle.write(text)
        if options["json_file"] != "-":
            self._print(report)

    def _print(self, report: changes.ChangeReport) -> None:
        self.stdout.write(
            f"{report.facility.code} · {report.facility.name}: {report.start_label} → {report.end_label}"
        )
        self.stdout.write(
            _("Voters: %(start)d → %(end)d") % {"start": report.voters_start, "end": report.voters_end}
        )
        for change, cause, count in report.counts():
            self.stdout.write(f"  {change} · {cause}: {count}")
        for row in report.rows:
            date = row.date.strftime("%d-%m-%Y") if row.date else "—"
            reasons = ", ".join(row.reason_labels)
            line = f"  {row.change_label:<10} {row.cause_label:<30} {date}  {row.registration_number}  {row.full_name}"
            if reasons:
                line += f"  ({reasons})"
            if row.detail:
                line += f"  {row.detail}"
            self.stdout.write(line)
