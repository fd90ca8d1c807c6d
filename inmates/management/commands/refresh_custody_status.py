from django.core.management.base import BaseCommand
from django.utils import timezone

from inmates.custody import current_status
from inmates.models import CustodyEvent, Inmate


class Command(BaseCommand):
    help = (
        "Recompute every inmate's current custody status from the custody events. "
        "Run daily (e.g. from cron): an event recorded ahead of its date takes effect on that date."
    )

    def handle(self, *args, **options):
        today = timezone.localdate()
        changed = 0
        ids_with_recent = set(
            CustodyEvent.objects.filter(date__lte=today).values_list("inmate_id", flat=True).distinct()
        )
        for inmate in Inmate.objects.filter(pk__in=ids_with_recent).only("pk", "custody_status").iterator():
            events = list(inmate.custody_events.order_by("pk").values_list("kind", "date"))
            status = current_status(events, today)
            if status != inmate.custody_status:
                Inmate.objects.filter(pk=inmate.pk).update(custody_status=status)
                changed += 1
        self.stdout.write(self.style.SUCCESS(f"{changed} custody statuses updated."))
