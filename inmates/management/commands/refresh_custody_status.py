from django.core.management.base import BaseCommand

from inmates.services import custody_statuses_refresh


class Command(BaseCommand):
    help = (
        "Bring every inmate's stored custody status up to today from the custody events, so an "
        "event recorded ahead of its date takes effect on that date. Each change gets a history "
        "row. The task worker (db_worker) runs this every night by itself; run the command from "
        "cron instead when no worker runs, or to catch up at once."
    )

    def handle(self, *args, **options):
        changed = custody_statuses_refresh()
        self.stdout.write(self.style.SUCCESS(f"{changed} custody statuses updated."))
