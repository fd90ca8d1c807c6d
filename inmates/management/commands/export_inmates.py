"""python manage.py export_inmates OUT.xlsx|OUT.csv [--facility CODE] [--user USERNAME] [--full-nik]"""

from __future__ import annotations

import os

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext

from inmates.audit import access_log_record
from inmates.exporting import FORMATS, full_nik_for, inmates_export
from inmates.models import AccessLog, Facility, Inmate, User


class Command(BaseCommand):
    help = (
        "Export inmates to .xlsx or .csv with the import template's headers (the file re-imports). "
        "NIK and NKK are masked unless --full-nik is given (and, with --user, the user's role may "
        "see them). --user limits the export to what that user may see."
    )

    def add_arguments(self, parser):
        parser.add_argument("output", help="Where to write: a path ending in .xlsx or .csv.")
        parser.add_argument(
            "--facility", action="append", metavar="CODE", help="Only this facility (repeatable)."
        )
        parser.add_argument("--user", metavar="USERNAME", help="Export what this user may see, as this user.")
        parser.add_argument("--full-nik", action="store_true", help="NIK and NKK in full (personal data).")

    def handle(self, *args, output, facility=None, user=None, full_nik=False, **options):
        file_format = os.path.splitext(output)[1].lower().lstrip(".")
        if file_format not in FORMATS:
            raise CommandError(gettext("The output file must end in .xlsx or .csv."), returncode=2)
        actor = None
        queryset = Inmate.objects.all()
        if user:
            actor = User.objects.filter(username=user, is_active=True).first()
            if actor is None:
                raise CommandError(gettext("No active user %(user)s.") % {"user": user}, returncode=2)
            queryset = Inmate.objects.for_user(actor)
        if facility:
            known = set(Facility.objects.filter(code__in=facility).values_list("code", flat=True))
            unknown = sorted(set(facility) - known)
            if unknown:
                raise CommandError(
                    gettext("No facility with code %(code)s.") % {"code": ", ".join(unknown)}, returncode=2
                )
            queryset = queryset.filter(facility__code__in=facility)
        full = full_nik_for(actor, requested=full_nik)
        if full_nik and not full:
            raise CommandError(gettext("This user's role may not export full NIK/NKK."), returncode=2)
        count = inmates_export(
            queryset=queryset.order_by("facility__code", "registration_number"),
            target=output,
            file_format=file_format,
            full_nik=full,
            user=actor,
        )
        # A file from the command leaves the system like a download does.
        access_log_record(
            user=actor,
            action=AccessLog.Action.EXPORT_FULL_NIK if full else AccessLog.Action.EXPORT,
            target=os.path.basename(output),
            facility=actor.facility if actor is not None and actor.facility_id else None,
            details={"format": file_format, "inmates": count, "facilities": facility or [], "via": "command"},
        )
        state = gettext("NIK in full") if full else gettext("NIK masked")
        self.stdout.write(
            self.style.SUCCESS(
                gettext("Exported %(count)d inmates to %(file)s (%(state)s).")
                % {"count": count, "file": output, "state": state}
            )
        )
