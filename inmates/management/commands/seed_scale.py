"""python manage.py seed_scale --inmates N --facilities N --dpt N [--seed N] [--prefix P] [--password PW]
[--officers N] [--no-dedup] [--no-tps] [--json]"""

from __future__ import annotations

import json

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from inmates.scale_seed import seed_scale


def _positive(value: str) -> int:
    number = int(value)
    if number < 0:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    help = (
        "Fill the database with national-scale synthetic data for the scale benchmark: regions (if "
        "missing), FACILITIES facilities with INMATES inmates (planted duplicates and twins), a DPT of "
        "DPT rows (one file per regency), the duplicate review queue and TPS planned for every facility, "
        "and the accounts <prefix>_admin, <prefix>_kpu, <prefix>_rutan (and <prefix>_kpu_N, <prefix>_rutan_N). Replaces an earlier run with "
        "the same prefix. Meant for a dedicated database (COPY on PostgreSQL: minutes at 300,000 inmates "
        "and 2,000,000 DPT rows)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--inmates", type=_positive, required=True, help="Inmate records, e.g. 300000.")
        parser.add_argument("--facilities", type=_positive, required=True, help="Facilities, e.g. 500.")
        parser.add_argument("--dpt", type=_positive, required=True, help="DPT rows, e.g. 2000000.")
        parser.add_argument("--seed", type=int, default=2024, help="Random seed (same seed, same data).")
        parser.add_argument("--prefix", default="scale", help="Prefix of facility codes and user names.")
        parser.add_argument(
            "--password", help="Password of the benchmark accounts (required when DEBUG is off)."
        )
        parser.add_argument(
            "--officers",
            type=_positive,
            default=10,
            help="Extra KPU and Rutan accounts (<prefix>_kpu_N, <prefix>_rutan_N) for load tests.",
        )
        parser.add_argument("--no-dedup", action="store_true", help="Skip the duplicate detection run.")
        parser.add_argument("--no-tps", action="store_true", help="Skip planning TPS for every facility.")
        parser.add_argument("--json", action="store_true", help="Print the result as one JSON object.")

    def handle(self, *args, **options):
        if options["facilities"] < 1 and options["inmates"]:
            raise CommandError("Inmates need at least one facility.")
        quiet = options["json"]
        try:
            result = seed_scale(
                inmates=options["inmates"],
                facilities=options["facilities"],
                dpt=options["dpt"],
                seed=options["seed"],
                prefix=options["prefix"],
                password=options["password"],
                officers=options["officers"],
                with_dedup=not options["no_dedup"],
                with_tps=not options["no_tps"],
                log=(lambda message: self.stderr.write(message)) if quiet else self.stdout.write,
            )
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        document = {"counts": result.counts, "seconds": result.seconds, "users": result.users}
        if quiet:
            self.stdout.write(json.dumps(document))
            return
        for key, value in result.counts.items():
            self.stdout.write(f"{key}: {value:,}")
        for key, value in result.seconds.items():
            self.stdout.write(f"{key}: {value} s")
        self.stdout.write(self.style.SUCCESS(f"Scale data ready; accounts: {', '.join(result.users)}"))
