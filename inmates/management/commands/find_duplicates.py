"""python manage.py find_duplicates [--facility CODE] [--against-dpt] [--json FILE]"""

from __future__ import annotations

import json
import sys
import time

from django.core.management.base import BaseCommand, CommandError

from inmates import dedup
from inmates.models import Facility


class Command(BaseCommand):
    help = (
        "Find duplicate inmate records (within a facility and across facilities) and, with --against-dpt, "
        "inmates in custody who are still on a loaded KPU DPT. Updates the review queue (dismissed pairs "
        "stay dismissed unless a record changed). --facility limits the run to pairs touching that facility. "
        '--json FILE writes {"pairs": [{"a": REF, "b": REF, "score": float, "reasons": [str]}]} where an '
        'inmate REF is {"facility": CODE, "registration_number": STR} and a DPT REF is '
        '{"dpt_file": NAME, "line": INT, "nik": STR}; "-" writes it to standard output.'
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--facility", metavar="CODE", help="Only pairs touching this facility (its code)."
        )
        parser.add_argument(
            "--against-dpt", action="store_true", help="Also compare inmates in custody with the loaded DPT."
        )
        parser.add_argument(
            "--json", metavar="FILE", help="Write the pairs found as JSON to FILE ('-' for stdout)."
        )

    def handle(self, *args, **options):
        facility = None
        if options["facility"]:
            facility = Facility.objects.filter(code=options["facility"]).first()
            if facility is None:
                raise CommandError(f"No facility with code {options['facility']!r}.")
        started = time.monotonic()
        result = dedup.duplicates_detect(facility=facility, against_dpt=options["against_dpt"])
        elapsed = time.monotonic() - started
        if options["json"]:
            document = dedup.pairs_as_json(result.pairs)
            if options["json"] == "-":
                json.dump(document, sys.stdout, ensure_ascii=False, indent=1)
                sys.stdout.write("\n")
            else:
                with open(options["json"], "w", encoding="utf-8") as handle:
                    json.dump(document, handle, ensure_ascii=False, indent=1)
        counts = result.counts()
        summary = (
            f"{counts['inmates']} inmates, {counts['dpt_records']} DPT records compared in {elapsed:.1f} s: "
            f"{counts['inmate_pairs']} inmate pairs, {counts['dpt_pairs']} DPT matches "
            f"(new {counts['created']}, reopened {counts['reopened']}, still dismissed {counts['kept_dismissed']}, "
            f"removed {counts['removed']})."
        )
        # With --json -, stdout carries the document: the summary goes to stderr.
        stream = self.stderr if options["json"] == "-" else self.stdout
        stream.write(summary)
