"""Models of the tps app, one module per concept."""

from tps.models.dashboard import DashboardSnapshot
from tps.models.elections import PEMILU_BALLOTS, PILKADA_BALLOTS, BallotType, Dapil, Election
from tps.models.runs import StationRun
from tps.models.stations import BallotAllocation, Tps, TpsAssignment
from tps.models.voterlists import EligibilityRun, VoterList, VoterListEntry, VoterListEvent

__all__ = [
    "PEMILU_BALLOTS",
    "PILKADA_BALLOTS",
    "BallotAllocation",
    "BallotType",
    "Dapil",
    "DashboardSnapshot",
    "Election",
    "EligibilityRun",
    "StationRun",
    "Tps",
    "TpsAssignment",
    "VoterList",
    "VoterListEntry",
    "VoterListEvent",
]
