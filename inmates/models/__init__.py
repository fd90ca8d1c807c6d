"""Models of the inmates app, one module per concept."""

from inmates.models.audit import AccessLog
from inmates.models.dedup import DedupRun, DptFile, DptRecord, DuplicateCandidate
from inmates.models.imports import ImportJob
from inmates.models.register import CustodyEvent, CustodyStatus, Facility, Inmate, Region, User

__all__ = [
    "AccessLog",
    "CustodyEvent",
    "CustodyStatus",
    "DedupRun",
    "DptFile",
    "DptRecord",
    "DuplicateCandidate",
    "Facility",
    "ImportJob",
    "Inmate",
    "Region",
    "User",
]
