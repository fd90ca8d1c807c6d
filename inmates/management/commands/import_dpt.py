"""python manage.py import_dpt FILE --regency CODE"""

from __future__ import annotations

import time
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from inmates.dpt_import import DptImportError, dpt_import, resolve_regency


class Command(BaseCommand):
    help = (
        "Load a regency's DPT as exported from KPU's system (.csv or .xlsx; columns such as NKK, NIK, Nama, "
        "Tempat Lahir, Tanggal Lahir, Jenis Kelamin, Status Kawin, Alamat, RT, RW, Kode Wilayah, TPS). "
        "Streamed, with COPY on PostgreSQL: millions of rows in flat memory. Every row is checked first; "
        "if any row is bad, the errors are listed with their line numbers and nothing is loaded (exit 1). "
        "Loading a file of the same name for the same regency again replaces the earlier load."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The DPT file (.csv or .xlsx).")
        parser.add_argument(
            "--regency", required=True, metavar="CODE", help="Kemendagri regency code, e.g. 33.16."
        )

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        try:
            regency = resolve_regency(options["regency"])
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        started = time.monotonic()
        try:
            result = dpt_import(path=path, regency=regency, user=None)
        except DptImportError as exc:
            for error in exc.errors:
                self.stderr.write(str(error))
            raise CommandError(str(exc)) from exc
        elapsed = time.monotonic() - started
        replaced = f", replacing {result.replaced} rows of the earlier load" if result.replaced else ""
        self.stdout.write(
            self.style.SUCCESS(
                f"Loaded {result.rows} DPT rows of {regency} from {result.dpt_file.name} in {elapsed:.1f} s{replaced}."
            )
        )
