"""Judge inmates for an election: ``python manage.py eligibility --election CODE``."""

from __future__ import annotations

import datetime
import json
import sys
from collections import Counter

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from inmates.models import Facility
from tps import selectors
from tps.eligibility import Reason, Status
from tps.models import Election


def parse_day(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--on must be a date as YYYY-MM-DD, got {value!r}") from exc


class Command(BaseCommand):
    help = (
        "Judge every inmate of every facility (or of one, with --facility) for an election, on its voting "
        "day or on the day given with --on (YYYY-MM-DD). Prints a summary; --json FILE writes "
        '{"election": CODE, "on": DATE, "inmates": [{"facility": CODE, "registration_number": STR, '
        '"status": "eligible"|"not_eligible"|"needs_data", "reasons": [STR]}]} (FILE "-" is standard output). '
        "Judged: everyone inside on the earlier of today and the day judged, plus anyone arriving in between; "
        "records with missing data are listed as needs_data, never left out."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--election", required=True, help="Election code, e.g. pemilu-2024.")
        parser.add_argument("--facility", help="Facility code, e.g. rutan-blora (default: every facility).")
        parser.add_argument(
            "--on", type=parse_day, help="Judge for this day instead of voting day (YYYY-MM-DD)."
        )
        parser.add_argument(
            "--json", dest="json_file", metavar="FILE", help='Write the result as JSON ("-": stdout).'
        )

    def handle(self, *args, **options) -> None:
        election = Election.objects.filter(code=options["election"]).first()
        if election is None:
            known = ", ".join(Election.objects.order_by("code").values_list("code", flat=True)) or "-"
            raise CommandError(f"No election with code {options['election']!r} (known: {known}).")
        facilities = Facility.objects.select_related("regency").order_by("code")
        if options["facility"]:
            facilities = facilities.filter(code=options["facility"])
            if not facilities.exists():
                raise CommandError(f"No facility with code {options['facility']!r}.")
        day = options["on"] or election.voting_day
        today = timezone.localdate()
        results = {
            facility: sorted(
                selectors.judge_facility(election=election, facility=facility, on=day, today=today),
                key=lambda item: item.inmate.registration_number,
            )
            for facility in facilities
        }
        if options["json_file"]:
            self._write_json(options["json_file"], election, day, results)
        else:
            self._print_summary(election, day, results)

    def _write_json(self, target: str, election: Election, day: datetime.date, results) -> None:
        document = {
            "election": election.code,
            "on": day.isoformat(),
            "inmates": [
                {
                    "facility": facility.code,
                    "registration_number": item.inmate.registration_number,
                    "status": item.status,
                    "reasons": list(item.reasons),
                }
                for facility, judged in results.items()
                for item in judged
            ],
        }
        text = json.dumps(document, ensure_ascii=False, indent=2)
        if target == "-":
            sys.stdout.write(text + "\n")
            return
        try:
            with open(target, "w", encoding="utf-8") as handle:
                handle.write(text + "\n")
        except OSError as exc:
            raise CommandError(f"Cannot write {target}: {exc}") from exc
        self.stderr.write(
            f"{len(document['inmates'])} inmates judged for {day.isoformat()}, written to {target}"
        )

    def _print_summary(self, election: Election, day: datetime.date, results) -> None:
        self.stdout.write(
            _("%(election)s, judged for %(day)s")
            % {"election": election.name, "day": day.strftime("%d-%m-%Y")}
        )
        for facility, judged in results.items():
            statuses = Counter(item.status for item in judged)
            self.stdout.write("")
            self.stdout.write(
                f"{facility.code} · {facility.name}: {len(judged)} "
                + _("judged")
                + f" · {Status.ELIGIBLE.label}: {statuses[Status.ELIGIBLE]}"
                + f" · {Status.NOT_ELIGIBLE.label}: {statuses[Status.NOT_ELIGIBLE]}"
                + f" · {Status.NEEDS_DATA.label}: {statuses[Status.NEEDS_DATA]}"
            )
            reasons = Counter(reason for item in judged for reason in item.reasons)
            for code in Reason.values:
                if reasons[code]:
                    self.stdout.write(f"    {Reason(code).label}: {reasons[code]}")
            needing = [item for item in judged if item.status == Status.NEEDS_DATA]
            if needing:
                self.stdout.write("  " + _("Needs follow-up:"))
                for item in needing:
                    labels = ", ".join(str(Reason(code).label) for code in item.reasons)
                    self.stdout.write(
                        f"    {item.inmate.registration_number}  {item.inmate.full_name}: {labels}"
                    )
