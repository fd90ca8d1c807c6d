"""National-scale data for the scale benchmark (``seed_scale``): a register, a DPT and users.

The people, their planted duplicates and the DPT come from the dedup
benchmark's generator (``bench/dedup_generator.py``, written with COPY on
PostgreSQL). This module wraps it with what a benchmark of the whole product
needs besides:

* the Kemendagri regions, loaded first when they are missing;
* facilities with real-looking names and types (Rutan/Lapas, class) instead of
  the generator's "Rutan Bench 0001";
* register detail the generator leaves flat, set in a few set-based UPDATEs
  (no row-by-row work): about two thirds sentenced (narapidana) with an
  expected release date, some of which fall before voting day, cell blocks,
  a few releases and transfers recorded as custody events;
* optionally the duplicate review queue (the project's own detection over
  everything, with the DPT) and TPS planned for every facility (the project's
  own planner), so the changelists, the dashboard and the exports have the
  data they have in production;
* accounts per role for the benchmark: ``scale_admin`` (superuser),
  ``scale_kpu`` (KPU officer of the regency with the most inmates),
  ``scale_rutan`` (officer of that regency's largest facility), and
  ``scale_kpu_N`` / ``scale_rutan_N`` for the next regencies (load tests).

Everything written here carries the prefix (facilities ``<prefix>-NNNN``, DPT
files ``<prefix>_DPT_*``, users ``<prefix>_*``) and a new run with the same
prefix replaces the earlier one.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.db.models import Case, CharField, Count, DateField, F, Q, Value, When
from django.db.models.functions import Mod
from django.db.models.lookups import Exact, LessThan

from inmates.models import (
    CustodyEvent,
    DptFile,
    DptRecord,
    DuplicateCandidate,
    Facility,
    Inmate,
    Region,
    User,
)
from inmates.roles import group_for_role

Log = Callable[[str], None]

CELL_BLOCKS = ("A", "B", "C", "D", "E", "F", "Blok Wanita", "Blok Anak")
# (type, class, name pattern, share in %): most UPT are Rutan and Lapas.
FACILITY_KINDS = (
    (Facility.Type.RUTAN, "IIB", "Rutan Kelas IIB {}", 45),
    (Facility.Type.LAPAS, "IIA", "Lapas Kelas IIA {}", 30),
    (Facility.Type.LAPAS, "III", "Lapas Kelas III {}", 15),
    (Facility.Type.LAPAS_PEREMPUAN, "IIA", "Lapas Perempuan Kelas IIA {}", 5),
    (Facility.Type.LPKA, "I", "LPKA Kelas I {}", 5),
)


@dataclass
class SeedResult:
    """What was written, and how long each step took (seconds)."""

    counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    users: dict[str, str] = field(default_factory=dict)


def _kind_for(index: int) -> tuple[str, str, str]:
    slot = (index * 37) % 100
    for kind, klass, pattern, share in FACILITY_KINDS:
        if slot < share:
            return kind, klass, pattern
        slot -= share
    return FACILITY_KINDS[0][:3]


def _name_facilities(prefix: str) -> int:
    """Real-looking names and types for the generated facilities (a few hundred rows)."""
    facilities = list(Facility.objects.filter(code__startswith=f"{prefix}-").select_related("regency"))
    seen: dict[str, int] = {}
    for index, facility in enumerate(sorted(facilities, key=lambda f: f.code)):
        kind, klass, pattern = _kind_for(index)
        place = facility.regency.name.removeprefix("KAB. ").removeprefix("KOTA ").title()
        name = pattern.format(place)
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            name = f"{name} {seen[name]}"
        facility.name, facility.type, facility.facility_class = name, kind, klass
    Facility.objects.bulk_update(facilities, ["name", "type", "facility_class"], batch_size=1000)
    return len(facilities)


def _shape_register(prefix: str) -> None:
    """Sentences, release dates, cell blocks and marital status, set-based (seconds at 300,000)."""
    inmates = Inmate.objects.filter(facility__code__startswith=f"{prefix}-")
    # Deterministic "random" buckets from the id, so the UPDATEs stay set-based.
    percent = Mod(F("id") * 7919, 100)
    digit = Mod(F("id"), 10)
    # About 65 % sentenced; their release falls from a few months to four years
    # after admission, so some leave before voting day and some after.
    inmates.update(
        custody_type=Case(
            When(LessThan(percent, 65), then=Value(Inmate.CustodyType.NARAPIDANA)),
            default=Value(Inmate.CustodyType.TAHANAN),
            output_field=CharField(),
        ),
        cell_block=Case(
            *[When(Exact(digit, value), then=Value(CELL_BLOCKS[value % 6])) for value in range(10)],
            default=Value("A"),
            output_field=CharField(),
        ),
    )
    terms = (200, 420, 730, 1100, 1500)
    inmates.filter(custody_type=Inmate.CustodyType.NARAPIDANA).update(
        expected_release_date=Case(
            *[
                When(
                    Exact(digit, value), then=F("admission_date") + datetime.timedelta(days=terms[value % 5])
                )
                for value in range(10)
            ],
            output_field=DateField(),
        )
    )
    inmates.filter(sex=Inmate.Sex.FEMALE).update(cell_block="Blok Wanita")


def _record_departures(prefix: str, *, day: datetime.date) -> int:
    """Release about 1 % and transfer out about 1 % of the sentenced on ``day``, as custody events."""
    inmates = Inmate.objects.filter(
        facility__code__startswith=f"{prefix}-", custody_type=Inmate.CustodyType.NARAPIDANA
    )
    bucket = Mod(F("id"), 100)
    released = list(inmates.filter(Exact(bucket, 37)).values_list("id", flat=True))
    transferred = list(inmates.filter(Exact(bucket, 71)).values_list("id", flat=True))
    events = [
        CustodyEvent(inmate_id=pk, kind=CustodyEvent.Kind.RELEASE, date=day, note="Bebas (data skala)")
        for pk in released
    ] + [
        CustodyEvent(
            inmate_id=pk,
            kind=CustodyEvent.Kind.TRANSFER_OUT,
            date=day,
            note="Dipindahkan ke Lapas lain (data skala)",
        )
        for pk in transferred
    ]
    CustodyEvent.objects.bulk_create(events, batch_size=5000)
    # The status the events give today (the daily refresh would write the same).
    Inmate.objects.filter(pk__in=released).update(custody_status="released")
    Inmate.objects.filter(pk__in=transferred).update(custody_status="transferred")
    return len(events)


def _clear_dependents(prefix: str) -> None:
    """What the generator's ``clear`` cannot remove: TPS, lists, runs and users tied to its facilities."""
    from tps.models import Tps, TpsAssignment, VoterList, VoterListEntry, VoterListEvent

    facilities = Facility.objects.filter(code__startswith=f"{prefix}-")
    User.objects.filter(Q(username__startswith=f"{prefix}_") | Q(facility__in=facilities)).delete()
    tps = Tps.objects.filter(facility__in=facilities)
    lists = VoterList.objects.filter(facility__in=facilities)
    with transaction.atomic():
        for model, queryset in (
            (TpsAssignment, TpsAssignment.objects.filter(tps__in=tps)),
            (VoterListEntry, VoterListEntry.objects.filter(voter_list__in=lists)),
            (VoterListEvent, VoterListEvent.objects.filter(voter_list__in=lists)),
        ):
            history = getattr(model, "history", None)
            if history is not None:
                history.filter(**_history_filter(model, tps, lists)).delete()
            queryset._raw_delete(queryset.db)
        VoterList.objects.filter(facility__in=facilities).update(previous_accepted=None)
        lists.delete()
        Tps.history.filter(facility_id__in=facilities.values("pk")).delete()
        tps.delete()


def _history_filter(model, tps, lists) -> dict:
    if model.__name__ == "TpsAssignment":
        return {"tps_id__in": tps.values("pk")}
    return {"voter_list_id__in": lists.values("pk")}


def _ensure_users(*, prefix: str, password: str, officers: int) -> dict[str, str]:
    """The benchmark accounts: an admin, and KPU and Rutan officers of the busiest regencies.

    ``<prefix>_kpu`` and ``<prefix>_rutan`` work in the regency with the most
    inmates (its largest facility); ``<prefix>_kpu_N`` and ``<prefix>_rutan_N``
    (N = 1 … ``officers``) in the next ones, for load tests with many users.
    """
    busiest = (
        Inmate.objects.filter(facility__code__startswith=f"{prefix}-")
        .values("facility__regency_id")
        .annotate(total=Count("pk"))
        .order_by("-total", "facility__regency_id")[: officers + 1]
    )
    regencies = [row["facility__regency_id"] for row in busiest]
    specs: list[tuple[str, dict]] = [(f"{prefix}_admin", {"role": User.Role.ADMIN, "is_superuser": True})]
    for index, regency_id in enumerate(regencies):
        facility = (
            Facility.objects.filter(code__startswith=f"{prefix}-", regency_id=regency_id)
            .annotate(total=Count("inmates"))
            .order_by("-total", "code")
            .first()
        )
        suffix = f"_{index}" if index else ""
        specs.append((f"{prefix}_kpu{suffix}", {"role": User.Role.KPU, "regency_id": regency_id}))
        specs.append((f"{prefix}_rutan{suffix}", {"role": User.Role.RUTAN, "facility": facility}))
    made = {}
    for username, values in specs:
        user = User(username=username, is_staff=True, first_name=username, **values)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.full_clean(exclude=["password"])
        user.save()
        user.groups.set([group_for_role(user.role)])
        made[username] = user.role
    return made


def _plan_all_tps(prefix: str, *, election_code: str, log: Log) -> int:
    """TPS for every generated facility with the project's planner (what KPU does before voting day)."""
    from tps.services import stations
    from tps.services.elections import reference_elections_ensure

    election = reference_elections_ensure()[election_code]
    facilities = list(Facility.objects.filter(code__startswith=f"{prefix}-").order_by("code"))
    started = time.monotonic()
    stations_made = 0
    for index, facility in enumerate(facilities, start=1):
        result = stations.tps_plan(election=election, facility=facility, user=None)
        stations_made += len(result.plan.tps)
        if index % 50 == 0 or index == len(facilities):
            log(f"TPS planned for {index}/{len(facilities)} facilities in {time.monotonic() - started:.0f} s")
    return stations_made


def _analyze() -> None:
    """Fresh planner statistics; outside a transaction also VACUUM (the UPDATEs above leave dead rows)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)")


def seed_scale(
    *,
    inmates: int,
    facilities: int,
    dpt: int,
    seed: int = 2024,
    prefix: str = "scale",
    password: str | None = None,
    officers: int = 10,
    with_dedup: bool = True,
    with_tps: bool = True,
    election_code: str = "pilkada-2024",
    log: Log = print,
) -> SeedResult:
    """Replace the ``prefix`` data with ``inmates`` inmates in ``facilities`` facilities and a DPT of ``dpt`` rows.

    ``password`` is the benchmark accounts' password; without it the accounts
    get an unusable password (``force_login`` still works in tests). Refused
    when DEBUG is off and no password is given explicitly, as for demo data.
    """
    from bench.dedup_generator import generate

    if password is None and not settings.DEBUG:
        raise ImproperlyConfigured("Give --password for the benchmark accounts when DEBUG is off.")
    result = SeedResult()
    started = time.monotonic()

    def step(name: str, since: float) -> float:
        now = time.monotonic()
        result.seconds[name] = round(now - since, 1)
        return now

    mark = started
    if not Region.objects.filter(level=Region.Level.VILLAGE).exists():
        from inmates.regions import load_regions

        loaded = load_regions()
        log(f"regions loaded: {loaded}")
    mark = step("regions", mark)

    _clear_dependents(prefix)
    truth = generate(inmates=inmates, facilities=facilities, dpt=dpt, seed=seed, prefix=prefix, log=log)
    result.counts.update(
        inmates=truth.counts.get("inmate_records", 0),
        dpt_records=truth.counts.get("dpt_rows", 0),
        planted_inmate_pairs=truth.counts.get("inmate_pairs", 0),
        planted_dpt_pairs=truth.counts.get("dpt_pairs", 0),
    )
    mark = step("generate", mark)

    result.counts["facilities"] = _name_facilities(prefix)
    _shape_register(prefix)
    result.counts["departures"] = _record_departures(prefix, day=datetime.date(2024, 6, 15))
    mark = step("register_detail", mark)

    result.users = _ensure_users(prefix=prefix, password=password or "", officers=officers)
    mark = step("users", mark)
    _analyze()

    if with_dedup:
        from inmates.dedup import duplicates_detect

        detection = duplicates_detect(against_dpt=True, user=None)
        result.counts["duplicate_candidates"] = DuplicateCandidate.objects.count()
        log(f"duplicate detection: {detection.counts()}")
        mark = step("dedup", mark)
    if with_tps:
        result.counts["tps"] = _plan_all_tps(prefix, election_code=election_code, log=log)
        mark = step("tps", mark)
    _analyze()
    result.counts["dpt_files"] = DptFile.objects.filter(name__startswith=f"{prefix}_DPT_").count()
    result.counts["dpt_records_total"] = DptRecord.objects.count()
    result.seconds["total"] = round(time.monotonic() - started, 1)
    return result
