"""python manage.py export_dpt --election CODE --facility CODE [--tps NUMBER] --format xlsx|csv|pdf --output FILE [--full-nik]"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from tps import dpt_export
from tps.management.commands._stations_args import add_election_facility, election_and_facility


class Command(BaseCommand):
    help = (
        "Export the DPT of a facility's TPS (or of one with --tps) as XLSX (one sheet per TPS), "
        "CSV (one TPS) or PDF (A4 for posting). NIK and NKK are masked to their first 6 digits unless "
        "--full-nik (XLSX/CSV only; never in the PDF). Columns: " + ", ".join(dpt_export.COLUMNS) + "."
    )

    def add_arguments(self, parser):
        add_election_facility(parser)
        parser.add_argument("--tps", help="One TPS number, e.g. 901.")
        parser.add_argument("--format", required=True, choices=dpt_export.FORMATS, dest="fmt")
        parser.add_argument("--output", required=True, help="File to write.")
        parser.add_argument(
            "--full-nik", action="store_true", help="Full NIK and NKK (personal data: not for publishing)."
        )

    def handle(self, *args, **options):
        election, facility = election_and_facility(options)
        try:
            count = dpt_export.export_dpt(
                election=election,
                facility=facility,
                fmt=options["fmt"],
                target=options["output"],
                tps_number=options["tps"],
                full_nik=options["full_nik"],
                user=None,  # the operator at the shell
            )
        except dpt_export.ExportError as exc:
            raise CommandError(str(exc)) from exc
        masked = "full NIK/NKK" if options["full_nik"] else "NIK/NKK masked"
        self.stdout.write(f"{count} voters written to {options['output']} ({masked})")
