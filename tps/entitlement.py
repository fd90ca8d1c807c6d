"""Which ballots a voter at a TPS may receive (UU 7/2017 art. 348(4)), and how
many ballots a TPS needs (art. 344(2)).

Pure module: region codes and dapil maps in, decisions out.

At a prison TPS most voters come from elsewhere, so each ballot type is
decided separately: a voter gets a contest's ballot iff home and TPS lie in
the same electoral district of that contest. PPWP's district is the country,
DPD's and the governor's the province, the regent/mayor's the regency; DPR,
DPRD Provinsi and DPRD Kabupaten/Kota use dapils, configured per election.

The module never guesses. A voter whose domicile is unknown, too coarse for a
contest, or who lives where no dapil is configured gets ``unknown`` for that
ballot, with a reason, so the gap is fixed before ballots are counted (Blora
2024: a TPS 116 ballots short is what guessing costs).
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal, localcontext

from django.db import models
from django.utils.translation import gettext_lazy as _

# Ballot type codes, the same values as ``tps.models.BallotType`` (which owns
# the labels); plain strings here so the rules need no model.
PPWP = "PPWP"
DPR = "DPR"
DPD = "DPD"
DPRD_PROV = "DPRD_PROV"
DPRD_KABKOTA = "DPRD_KABKOTA"
GUBERNUR = "GUBERNUR"
BUPATI_WALIKOTA = "BUPATI_WALIKOTA"

PEMILU_BALLOT_TYPES: tuple[str, ...] = (PPWP, DPR, DPD, DPRD_PROV, DPRD_KABKOTA)
PILKADA_BALLOT_TYPES: tuple[str, ...] = (GUBERNUR, BUPATI_WALIKOTA)
# Contests whose electoral districts are configured dapils rather than a
# whole administrative area.
DAPIL_BALLOT_TYPES: frozenset[str] = frozenset({DPR, DPRD_PROV, DPRD_KABKOTA})


class Entitlement(models.TextChoices):
    ENTITLED = "entitled", _("Entitled to this ballot")
    NOT_ENTITLED = "not_entitled", _("Not entitled to this ballot")
    UNKNOWN = "unknown", _("Cannot be decided yet")


class EntitlementReason(models.TextChoices):
    # Why a ballot is unknown: data to fix.
    UNKNOWN_DOMICILE = "unknown_domicile", _("Domicile unknown")
    DAPIL_NOT_CONFIGURED = "dapil_not_configured", _("Electoral district (dapil) not configured")
    DOMICILE_TOO_COARSE = "domicile_too_coarse", _("Domicile not detailed enough for this ballot")
    # Why a ballot is not given: the law.
    OTHER_PROVINCE = "other_province", _("Home is in another province")
    OTHER_REGENCY = "other_regency", _("Home is in another regency/city")
    OTHER_DAPIL = "other_dapil", _("Home is in another electoral district (dapil)")


# Administrative level of each contest's area: 0 country, 1 province,
# 2 regency/city. Dapil contests are first narrowed to that area, then the
# dapil decides.
_AREA_LEVEL: dict[str, int] = {
    PPWP: 0,
    DPD: 1,
    GUBERNUR: 1,
    DPR: 1,
    DPRD_PROV: 1,
    BUPATI_WALIKOTA: 2,
    DPRD_KABKOTA: 2,
}
_OTHER_AREA_REASON: dict[int, str] = {
    1: EntitlementReason.OTHER_PROVINCE.value,
    2: EntitlementReason.OTHER_REGENCY.value,
}

# Kemendagri codes: 33 / 33.16 / 33.16.01 / 33.16.01.2001. BPS codes (no dots,
# different numbers) must not get in here.
_REGION_CODE = re.compile(r"\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?")

DapilId = Hashable
#: For each dapil contest (``DPR``, ``DPRD_PROV``, ``DPRD_KABKOTA``) a mapping
#: from region code to dapil id. Keys are usually regencies (DPR, DPRD_PROV) or
#: districts (DPRD_KABKOTA), but any level works: the most specific code that
#: contains a place decides, so a regency split between dapils can be mapped
#: by its districts.
DapilMap = Mapping[str, Mapping[str, DapilId]]


@dataclass(frozen=True)
class BallotDecision:
    ballot_type: str
    status: str
    reason: str | None = None


@dataclass(frozen=True)
class EntitlementResult:
    """One decision per requested ballot type, in the order requested."""

    decisions: dict[str, BallotDecision]

    def __getitem__(self, ballot_type: str) -> BallotDecision:
        return self.decisions[ballot_type]

    def status(self, ballot_type: str) -> str:
        return self.decisions[ballot_type].status

    def _with_status(self, status: str) -> list[str]:
        return [ballot for ballot, decision in self.decisions.items() if decision.status == status]

    @property
    def entitled(self) -> list[str]:
        return self._with_status(Entitlement.ENTITLED)

    @property
    def not_entitled(self) -> list[str]:
        return self._with_status(Entitlement.NOT_ENTITLED)

    @property
    def unknown(self) -> list[str]:
        return self._with_status(Entitlement.UNKNOWN)

    @property
    def is_complete(self) -> bool:
        """True when every ballot is decided, so the voter can be counted."""
        return not self.unknown


def parse_region_code(code: str | None) -> tuple[str, ...] | None:
    """The code's parts (``("33", "16", "01")``), or ``None`` if it is not a Kemendagri code."""
    if code is None:
        return None
    code = code.strip()
    if not _REGION_CODE.fullmatch(code):
        return None
    return tuple(code.split("."))


def _join(parts: tuple[str, ...]) -> str:
    return ".".join(parts)


def _dapil_of(parts: tuple[str, ...], mapping: Mapping[str, DapilId]) -> tuple[DapilId | None, str | None]:
    """The dapil containing the place, or ``(None, reason)`` when it cannot be told.

    The most specific mapped code that contains the place decides. If a finer
    code *inside* the place maps to another dapil, the place straddles dapils
    and is too coarse to decide.
    """
    found: DapilId | None = None
    for level in range(len(parts), 0, -1):
        key = _join(parts[:level])
        if key in mapping:
            found = mapping[key]
            break
    prefix = _join(parts) + "."
    inner = {dapil for key, dapil in mapping.items() if key.startswith(prefix)}
    if found is None:
        if inner:
            return None, EntitlementReason.DOMICILE_TOO_COARSE.value
        return None, EntitlementReason.DAPIL_NOT_CONFIGURED.value
    if inner - {found}:
        return None, EntitlementReason.DOMICILE_TOO_COARSE.value
    return found, None


def _decide(
    ballot_type: str, home: tuple[str, ...] | None, tps: tuple[str, ...], dapils: DapilMap
) -> BallotDecision:
    level = _AREA_LEVEL[ballot_type]
    if level == 0:
        return BallotDecision(ballot_type, Entitlement.ENTITLED.value)
    if home is None:
        return BallotDecision(
            ballot_type, Entitlement.UNKNOWN.value, EntitlementReason.UNKNOWN_DOMICILE.value
        )
    # Compare from the province down: a home in another province is a definite
    # "no" even when only the province is known.
    for depth in range(1, level + 1):
        if len(home) < depth:
            return BallotDecision(
                ballot_type, Entitlement.UNKNOWN.value, EntitlementReason.DOMICILE_TOO_COARSE.value
            )
        if home[depth - 1] != tps[depth - 1]:
            return BallotDecision(ballot_type, Entitlement.NOT_ENTITLED.value, _OTHER_AREA_REASON[depth])
    if ballot_type not in DAPIL_BALLOT_TYPES:
        return BallotDecision(ballot_type, Entitlement.ENTITLED.value)

    mapping = dapils.get(ballot_type) or {}
    tps_dapil, tps_problem = _dapil_of(tps, mapping)
    if tps_dapil is None:
        # The TPS itself is never "too coarse" (its code is checked to be at
        # least a district); a gap around it is a configuration problem.
        return BallotDecision(
            ballot_type, Entitlement.UNKNOWN.value, EntitlementReason.DAPIL_NOT_CONFIGURED.value
        )
    home_dapil, home_problem = _dapil_of(home, mapping)
    if home_dapil is None:
        return BallotDecision(ballot_type, Entitlement.UNKNOWN.value, home_problem)
    if home_dapil != tps_dapil:
        return BallotDecision(
            ballot_type, Entitlement.NOT_ENTITLED.value, EntitlementReason.OTHER_DAPIL.value
        )
    return BallotDecision(ballot_type, Entitlement.ENTITLED.value)


def entitlement(
    home_code: str | None,
    tps_code: str,
    ballot_types: Iterable[str],
    dapils: DapilMap,
) -> EntitlementResult:
    """Decide each requested ballot type for a voter from ``home_code`` voting at ``tps_code``.

    ``home_code`` is the voter's domicile (any level, or ``None``); an invalid
    code counts as unknown, since it comes from voter data. ``tps_code`` is
    configuration, so an invalid one, or one coarser than a district (the
    finest level any rule needs), raises ``ValueError``.
    """
    tps = parse_region_code(tps_code)
    if tps is None or len(tps) < 3:
        raise ValueError(f"TPS region code must be a Kemendagri district or village code, got {tps_code!r}")
    home = parse_region_code(home_code)
    decisions: dict[str, BallotDecision] = {}
    for ballot_type in ballot_types:
        if ballot_type not in _AREA_LEVEL:
            raise ValueError(f"unknown ballot type {ballot_type!r}; expected one of {list(_AREA_LEVEL)}")
        if ballot_type not in decisions:
            decisions[ballot_type] = _decide(ballot_type, home, tps, dapils)
    return EntitlementResult(decisions)


def ballots_for(voters_entitled: int, reserve_rate: Decimal) -> tuple[int, int]:
    """Ballots one TPS needs for one ballot type: ``(reserve, total)``.

    Art. 344(2): voters on the list plus a 2 % reserve, per TPS. The rounding
    is not confirmed, so it rounds up (a TPS never gets fewer than the rate
    promises) and the rate is a parameter. Decimal only: a float 0.02 is
    really 0.0200000000000000004, which would round 300 voters up to 7.
    """
    if isinstance(voters_entitled, bool) or not isinstance(voters_entitled, int):
        raise TypeError(f"voters_entitled must be an int, got {voters_entitled!r}")
    if voters_entitled < 0:
        raise ValueError(f"voters_entitled cannot be negative, got {voters_entitled}")
    if isinstance(reserve_rate, bool) or not isinstance(reserve_rate, Decimal | int):
        raise TypeError(f"reserve_rate must be a Decimal (e.g. Decimal('0.02')), got {reserve_rate!r}")
    rate = Decimal(reserve_rate)
    if not rate.is_finite() or rate < 0:
        raise ValueError(f"reserve_rate must be a finite, non-negative Decimal, got {reserve_rate!r}")
    with localcontext() as context:
        context.prec = 50
        reserve = int((Decimal(voters_entitled) * rate).to_integral_value(rounding=ROUND_CEILING))
    return reserve, voters_entitled + reserve
