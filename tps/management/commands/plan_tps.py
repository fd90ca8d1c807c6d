"""python manage.py plan_tps --election CODE --facility CODE [--dry-run] [--rebalance]"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from tps.management.commands._stations_args import add_election_facility, election_and_facility
from tps.planning import CapacityError
from tps.services import stations


class Command(BaseCommand):
    help = (
        "Plan the TPS of a facility from the voters projected for voting day and print the plan: "
        "TPS with their voters, capacity and cell blocks, who moved, who was added or removed. Each "
        "TPS is filled against its own capacity; new TPS get the election's maximum. Existing "
        "assignments stay where they are while their TPS has room. Saves the plan unless --dry-run."
    )

    def add_arguments(self, parser):
        add_election_facility(parser)
        parser.add_argument("--dry-run", action="store_true", help="Print the plan without saving it.")
        parser.add_argument(
            "--rebalance",
            action="store_true",
            help="Even out TPS sizes, moving as few voters as that allows.",
        )

    def handle(self, *args, **options):
        election, facility = election_and_facility(options)
        try:
            result = stations.tps_plan(
                election=election,
                facility=facility,
                user=None,
                dry_run=options["dry_run"],
                rebalance=options["rebalance"],
            )
        except CapacityError as exc:
            raise CommandError(exc.user_message) from exc
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        plan = result.plan
        out = self.stdout
        state = "saved" if result.applied else "not saved (--dry-run)"
        out.write(
            f"{election.code} · {facility.code}: {len(plan.assignments)} voters, {len(plan.tps)} TPS "
            f"(new TPS at most {plan.capacity} each), {state}"
        )
        for tps in plan.tps:
            new = " (new)" if tps.number in result.created_tps else ""
            blocks = ", ".join(tps.blocks) or "-"
            out.write(
                f"TPS {tps.number}{new}: {tps.size} voters of at most {tps.capacity}; cell blocks {blocks}"
            )
        if plan.split_blocks:
            out.write(f"cell blocks split between TPS: {', '.join(plan.split_blocks)}")
        out.write(f"moved: {len(result.moved)}")
        for move in result.moved:
            out.write(f"  {move.name}: TPS {move.from_tps} -> TPS {move.to_tps}")
        out.write(f"added: {len(result.added)}")
        out.write(f"removed: {len(result.removed)}")
        for item in result.removed:
            out.write(f"  {item.name} (was on TPS {item.from_tps})")
        for shortage in result.shortages:
            self.stderr.write(f"WARNING {shortage.message}")
