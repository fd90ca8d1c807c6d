"""Arguments shared by the TPS commands: --election CODE --facility CODE."""

from __future__ import annotations

from django.core.management.base import CommandError

from inmates.models import Facility
from tps.models import Election


def add_election_facility(parser) -> None:
    parser.add_argument("--election", required=True, help="Election code, e.g. pemilu-2024.")
    parser.add_argument("--facility", required=True, help="Facility code, e.g. rutan-blora.")


def election_and_facility(options) -> tuple[Election, Facility]:
    election = Election.objects.filter(code=options["election"]).first()
    if election is None:
        codes = ", ".join(Election.objects.values_list("code", flat=True)) or "-"
        raise CommandError(f"No election with code {options['election']!r} (known: {codes}).")
    facility = Facility.objects.filter(code=options["facility"]).first()
    if facility is None:
        raise CommandError(f"No facility with code {options['facility']!r}.")
    return election, facility
