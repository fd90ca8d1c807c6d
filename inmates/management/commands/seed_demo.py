from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.utils.module_loading import import_string

# Each app adds its own demo data after the register exists.
SEEDERS = ["inmates.demo.seed_demo"]
OPTIONAL_SEEDERS = [
    "tps.demo_elections.seed_demo",
    # Duplicates (and the inmates they add) before TPS planning, so the plan
    # covers every demo voter and a second run finds nothing to change.
    "inmates.demo_dedup.seed_demo",
    "tps.demo_stations.seed_demo",
]


class Command(BaseCommand):
    help = (
        "Load demo data: regions if missing, facilities rutan-blora and rutan-pati, the demo accounts "
        "(admin, kpu_blora, kpu_pati, rutan_blora, rutan_pati; password pemilu2024) and a few hundred "
        "inmates. Safe to run again. Refused when DEBUG is off."
    )

    def handle(self, *args, **options):
        try:
            for dotted in SEEDERS:
                result = import_string(dotted)()
                self.stdout.write(f"{dotted}: {result}")
            for dotted in OPTIONAL_SEEDERS:
                try:
                    seeder = import_string(dotted)
                except ImportError:
                    continue
                self.stdout.write(f"{dotted}: {seeder()}")
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
