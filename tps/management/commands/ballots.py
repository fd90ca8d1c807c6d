"""python manage.py ballots --election CODE --facility CODE --json FILE"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from tps.management.commands._stations_args import add_election_facility, election_and_facility
from tps.services import stations


class Command(BaseCommand):
    help = (
        "Ballots per TPS and type for a facility's planned voters (UU 7/2017 art. 348(4)): entitled "
        'voters, reserve (the election\'s rate, rounded up) and total. Writes {"tps": [{"number": STR, '
        '"voters": INT, "ballots": {TYPE: {"voters": INT, "reserve": INT, "total": INT}}}]} to --json. '
        "Voters whose ballots cannot be decided (unknown domicile, dapil not configured) are not "
        "counted and are listed on stderr; so is a plan that no longer matches the voters projected "
        "for voting day (admitted, released or moved since it was made), and every shortage against "
        "fixed logistics, the projected voters on no TPS yet included."
    )

    def add_arguments(self, parser):
        add_election_facility(parser)
        parser.add_argument("--json", required=True, dest="json_file", help="File to write the JSON to.")

    def handle(self, *args, **options):
        election, facility = election_and_facility(options)
        check = stations.logistics_check(election=election, facility=facility)
        ballots = check.ballots
        with open(options["json_file"], "w", encoding="utf-8") as handle:
            json.dump(ballots.as_json(), handle, ensure_ascii=False, indent=2)
            handle.write("\n")
        if not ballots.tps:
            self.stderr.write(f"{facility.code} has no TPS for {election.code}: run plan_tps first.")
        for item in ballots.tps:
            parts = [f"{code} {line.voters}+{line.reserve}={line.total}" for code, line in item.lines.items()]
            self.stdout.write(f"TPS {item.number}: {item.voters} voters; " + "; ".join(parts))
        for problem in ballots.problems:
            self.stderr.write(
                f"UNDECIDED TPS {problem.tps_number} {problem.registration_number} {problem.name}: "
                f"{problem.ballot_type}: {problem.reason}"
            )
        if check.drift.out_of_date:
            self.stderr.write(f"OUT OF DATE {check.drift.message} (plan_tps)")
        for shortage in check.shortages:
            self.stderr.write(f"SHORTAGE {shortage.message}")
        self.stdout.write(f"written {options['json_file']}")
