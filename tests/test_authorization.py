"""Authorization, proven exhaustively.

Every URL pattern of the project is enumerated from the resolver (the admin
included, unnamed patterns too) and has a rule below: how to fill it for a
side (a facility and its regency), who may open it, and what it shows. Each of
the five roles then requests every URL with the objects of its own side and of
the other side:

* the other side's object gives nothing: 403/404/405 (after any redirect), no
  foreign data in the body, and a POST changes nothing in the database;
* its own object is shown (its name is on the page) to the roles that may open
  it, and refused to the others;
* the admin opens everything of both sides, without a server error;
* forms and admin actions that name the other side's facility or records
  write nothing, and the runs an officer starts cover their own side only.

Duplicate pairs across regencies are listed to KPU without the other side's
data and decided by the admin only:
``test_duplicate_pairs_give_kpu_nothing_of_another_regency``.

A URL without a rule, or a rule naming a URL that does not exist, fails
``test_every_url_has_a_rule`` / ``test_every_rule_names_a_url``: add or fix the
rule with the URL. Only the per-model URLs that Django's ModelAdmin (and
simple-history) generate are covered model by model; any other admin URL,
named or not, needs a rule of its own.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.forms import BaseForm, BaseFormSet
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, reverse
from simple_history.admin import SimpleHistoryAdmin

from inmates.dedup import MERGE_FIELDS
from inmates.models import (
    AccessLog,
    DedupRun,
    DptFile,
    DptRecord,
    DuplicateCandidate,
    ImportJob,
    Inmate,
    Region,
)
from inmates.tasks_dedup import dedup_run_execute
from tests.conftest import inmate_data
from tests.imports_helpers import HEADERS, person
from tps.models import (
    BallotAllocation,
    Dapil,
    Election,
    EligibilityRun,
    StationRun,
    Tps,
    TpsAssignment,
    VoterList,
    VoterListEntry,
    VoterListEvent,
)
from tps.services.elections import eligibility_run_execute
from tps.services.runs import station_run_execute

pytestmark = pytest.mark.django_db

REFUSED = {403, 404, 405}

# --- the world: two sides, each with one of everything ------------------------------------------------


@dataclass
class Side:
    """A facility and its regency, what they own, and what their pages show of them."""

    name: str
    facility: object
    rutan_officer: object
    kpu_officer: object
    objects: dict = field(default_factory=dict)
    # What a page shows of this side, by kind: "person", "facility", "upload", ...
    shown: dict[str, str] = field(default_factory=dict)
    # Strings that must never reach anyone of the other side.
    private: list[str] = field(default_factory=list)

    def markers(self, *, directory: bool = False) -> list[str]:
        """Everything that betrays this side; ``directory``: a page that lists every facility by design.

        Not the facility's code: addresses carry it, and help texts give "rutan-blora" as an example.
        """
        return self.private if directory else [*self.private, self.facility.name]


@dataclass
class World:
    sides: dict[str, Side]
    election: Election
    eligibility_run: EligibilityRun
    admin_station_run: StationRun
    dapil: Dapil

    def other(self, side: Side) -> Side:
        return next(each for each in self.sides.values() if each is not side)


def _build_side(name, facility, rutan_officer, kpu_officer, election, make_inmate, nik, nik2) -> Side:
    person_name = f"Tahanan{name.capitalize()} Rahasia"
    registration = f"{name}.001/2023"
    inmate = make_inmate(
        facility, rutan_officer, full_name=person_name, nik=nik, registration_number=registration
    )
    twin = make_inmate(
        facility,
        rutan_officer,
        full_name=f"{person_name} Dua",
        nik=nik2,
        registration_number=f"{name}.002/2023",
    )
    dpt_file = DptFile.objects.create(name=f"dpt-{name}.csv", regency_id=facility.regency_id, row_count=1)
    dpt_voter = f"Pemilih{name.capitalize()} Dpt"
    dpt_record = DptRecord.objects.create(
        dpt_file=dpt_file, line=2, regency_code=facility.regency_id, nik=nik, name=dpt_voter, tps="005"
    )
    pair = DuplicateCandidate.objects.create(
        inmate_a=inmate, inmate_b=twin, score=0.9, reasons=["name_similar"]
    )
    dpt_pair = DuplicateCandidate.objects.create(
        kind="dpt", inmate_a=inmate, dpt_record=dpt_record, score=0.99, reasons=["nik_exact"]
    )
    upload = f"{name}-upload-rahasia.csv"
    import_job = ImportJob.objects.create(
        facility=facility,
        file=f"imports/{name}-upload.csv",
        original_name=upload,
        created_by=rutan_officer,
        status=ImportJob.Status.PREVIEW,
    )
    dedup_run = DedupRun.objects.create(facility=facility, started_by=rutan_officer)

    def list_with_entry(version: int) -> tuple[VoterList, VoterListEntry]:
        voter_list = VoterList.objects.create(
            election=election,
            facility=facility,
            version=version,
            judged_on=election.voting_day,
            created_by=rutan_officer,
        )
        entry = VoterListEntry.objects.create(
            voter_list=voter_list,
            inmate=inmate,
            registration_number=registration,
            full_name=person_name,
            nik=nik,
            status="eligible",
            category="DPT",
        )
        return voter_list, entry

    voter_list, entry = list_with_entry(1)
    comment = f"{name}-catatan-rahasia"
    list_event = VoterListEvent.objects.create(
        voter_list=voter_list, action="generated", user=rutan_officer, comment=comment
    )
    # Submitted: the state in which KPU may act on it and the officer may not edit.
    VoterList.objects.filter(pk=voter_list.pk).update(status=VoterList.Status.SUBMITTED)
    # The next version, still a draft the facility's officer edits.
    draft, draft_entry = list_with_entry(2)
    tps = Tps.objects.create(election=election, facility=facility, number="901", capacity=300)
    assignment = TpsAssignment.objects.create(election=election, tps=tps, inmate=inmate, order_number=1)
    allocation = BallotAllocation.objects.create(tps=tps, ballot_type="PPWP", voters=1, reserve=1, total=2)
    access = f"{name}-akses-rahasia"
    access_log = AccessLog.objects.create(
        user=rutan_officer, action="export_full_nik", facility=facility, target=access
    )
    # An export of the side's DPT that its KPU officer ran, with the file it produced.
    station_run = StationRun.objects.create(
        kind="export",
        election=election,
        fmt="xlsx",
        regency_id=facility.regency_id,
        facility_codes=[facility.code],
        total=1,
        processed=1,
        status=StationRun.Status.DONE,
        output=f"station_runs/{name}-rahasia.zip",
        started_by=kpu_officer,
    )
    _write_zip(station_run.output.path, {f"dpt-{facility.code}.csv": f"1;{person_name};{registration}\n"})

    side = Side(name, facility, rutan_officer, kpu_officer)
    side.objects = {
        "inmates.Inmate": inmate,
        "inmates.Facility": facility,
        "inmates.User": rutan_officer,
        "inmates.CustodyEvent": inmate.custody_events.get(),
        "inmates.ImportJob": import_job,
        "inmates.DptFile": dpt_file,
        "inmates.DptRecord": dpt_record,
        "inmates.DuplicateCandidate": pair,
        "inmates.DedupRun": dedup_run,
        "inmates.AccessLog": access_log,
        "dpt_pair": dpt_pair,
        "tps.VoterList": voter_list,
        "tps.VoterListEntry": entry,
        "tps.VoterListEvent": list_event,
        "tps.Tps": tps,
        "tps.TpsAssignment": assignment,
        "tps.BallotAllocation": allocation,
        "tps.StationRun": station_run,
        "draft_list": draft,
        "draft_entry": draft_entry,
    }
    side.shown = {
        "person": person_name,
        "nik": nik,
        "registration": registration,
        "comment": comment,
        "facility": facility.name,
        "facility_code": facility.code,
        "upload": upload,
        "dpt_file": dpt_file.name,
        "dpt_voter": dpt_voter,
        "access": access,
        "username": rutan_officer.username,
    }
    side.private = [
        person_name,
        f"{person_name} Dua",
        nik,
        nik2,
        registration,
        f"{name}.002/2023",
        dpt_voter,
        dpt_file.name,
        upload,
        access,
        comment,
        f"{name}-rahasia.zip",
    ]
    return side


def _write_zip(path, members: dict[str, str]) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)


@pytest.fixture
def world(
    settings,
    tmp_path,
    blora,
    pati,
    rutan_blora_officer,
    rutan_pati_officer,
    kpu_blora_officer,
    kpu_pati_officer,
    admin_user,
    make_inmate,
) -> World:
    settings.MEDIA_ROOT = tmp_path / "media"
    election = Election.objects.create(
        code="auth-test",
        name="Pemilu Uji",
        type="pemilu",
        voting_day=datetime.date(2029, 2, 14),
        ballot_types=["PPWP", "DPR", "DPD", "DPRD_PROV", "DPRD_KABKOTA"],
    )
    sides = {
        "blora": _build_side(
            "blora",
            blora,
            rutan_blora_officer,
            kpu_blora_officer,
            election,
            make_inmate,
            "3316011708900001",
            "3316015708900002",
        ),
        "pati": _build_side(
            "pati",
            pati,
            rutan_pati_officer,
            kpu_pati_officer,
            election,
            make_inmate,
            "3318012005880002",
            "3318016005880003",
        ),
    }
    # Reference data officers read and may not change (_check_unowned_model tries).
    dapil = Dapil.objects.create(election=election, contest="DPR", code="JATENG III", name="Jawa Tengah III")
    return World(
        sides=sides,
        election=election,
        eligibility_run=EligibilityRun.objects.create(
            election=election, judged_on=election.voting_day, started_by=admin_user
        ),
        # Planning over both regencies, started by the admin.
        admin_station_run=StationRun.objects.create(
            kind="plan",
            election=election,
            facility_codes=[blora.code, pati.code],
            total=2,
            started_by=admin_user,
        ),
        dapil=dapil,
    )


# --- the roles ---------------------------------------------------------------------------------------

RUTAN, KPU, ADMIN = "rutan", "kpu", "admin"
BOTH = frozenset({RUTAN, KPU})  # a side's Rutan/Lapas officer and its regency's KPU officer
ONLY_RUTAN = frozenset({RUTAN})
ONLY_KPU = frozenset({KPU})
NOBODY = frozenset()  # no officer: only admins


@dataclass(frozen=True)
class Role:
    fixture: str
    kind: str
    side: str | None  # None: the admin, who sees both sides


ROLES = {
    "rutan_blora": Role("rutan_blora_officer", RUTAN, "blora"),
    "rutan_pati": Role("rutan_pati_officer", RUTAN, "pati"),
    "kpu_blora": Role("kpu_blora_officer", KPU, "blora"),
    "kpu_pati": Role("kpu_pati_officer", KPU, "pati"),
    "admin": Role("admin_user", ADMIN, None),
}
OFFICERS = [name for name, role in ROLES.items() if role.kind != ADMIN]


# --- the database must not change when a write is refused -------------------------------------------

# Reference data: 18,000 regions take longer to read than every other table together, so they are
# compared once per test (Visit.finish) rather than around every POST.
REFERENCE_TABLES = {Region._meta.db_table}


def snapshot(*, reference: bool = False, skip_apps: tuple[str, ...] = ("sessions",)) -> dict[str, str]:
    """A digest of every table (or of the reference tables only), by table name."""
    quote = connection.ops.quote_name
    digests = {}
    with connection.cursor() as cursor:
        for model in apps.get_models(include_auto_created=True):
            meta = model._meta
            if meta.proxy or not meta.managed or meta.app_label in skip_apps:
                continue
            if (meta.db_table in REFERENCE_TABLES) != reference:
                continue
            cursor.execute(f"SELECT * FROM {quote(meta.db_table)} ORDER BY {quote(meta.pk.column)}")  # noqa: S608
            digests[meta.db_table] = hashlib.sha256(repr(cursor.fetchall()).encode()).hexdigest()
    return digests


def changed_tables(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(table for table in before.keys() | after.keys() if before.get(table) != after.get(table))


# --- reading what a response really contains ----------------------------------------------------------


def _view_name(response) -> str:
    try:
        return response.resolver_match.view_name
    except Resolver404:
        return ""


def body_text(response) -> str:
    """The body as text; workbooks and ZIPs are opened, since their text is compressed inside."""
    if not hasattr(response, "_text"):
        if getattr(response, "streaming", False):
            # Reading to the end closes the response, as a WSGI server would (closing it again
            # would close the test's database connection on PostgreSQL).
            content = b"".join(response.streaming_content)
        else:
            content = response.content
        response._text = _decoded(content)
    return response._text


def _decoded(content: bytes) -> str:
    if content[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return "\n".join(_decoded(archive.read(name)) for name in archive.namelist())
    return content.decode("utf-8", "replace")


def form_errors(response) -> set[str]:
    """The fields with an error in the forms and formsets the page rendered (admin forms included)."""
    contexts = response.context if isinstance(response.context, list) else [response.context]
    fields = set()
    for context in filter(None, contexts):
        for value in context.flatten().values():
            form = getattr(value, "form", value)  # the admin wraps its form in an AdminForm
            if isinstance(form, BaseForm) and form.is_bound:
                fields |= set(form.errors)
            if isinstance(value, BaseFormSet) and value.is_bound:
                for each in value.forms:
                    fields |= set(each.errors)
    return fields


# --- one role going through the URLs ------------------------------------------------------------------


class Visit:
    """A role requesting URLs; every problem is collected and reported together at the end."""

    def __init__(self, client, role_name: str, world: World, request) -> None:
        self.name = role_name
        self.role = ROLES[role_name]
        self.world = world
        self.client = client
        self.user = request.getfixturevalue(self.role.fixture)
        self.problems: list[str] = []
        self.login()
        self._reference = snapshot(reference=True)

    def login(self) -> None:
        self.client.force_login(self.user)

    @property
    def is_admin(self) -> bool:
        return self.role.kind == ADMIN

    @property
    def own(self) -> list[Side]:
        """The sides whose records this role works with (the admin: both)."""
        if self.is_admin:
            return list(self.world.sides.values())
        return [self.world.sides[self.role.side]]

    @property
    def foreign(self) -> Side | None:
        return None if self.is_admin else self.world.other(self.own[0])

    def may(self, officers: frozenset) -> bool:
        return self.is_admin or self.role.kind in officers

    def problem(self, context: str, message: str) -> None:
        self.problems.append(f"{self.name} · {context}: {message}")

    # The checks.

    def no_foreign_data(self, response, context: str, *, echoed=()) -> str:
        """The decoded body, after noting any server error or foreign string in it.

        ``echoed``: what the user typed (a search), which the page may repeat.
        """
        if response.status_code >= 500:
            self.problem(context, f"server error {response.status_code}")
        body = body_text(response)
        if self.foreign is not None:
            for marker in self.foreign.markers(directory=_view_name(response) in FACILITY_DIRECTORY):
                if marker not in echoed and marker in body:
                    self.problem(context, f"shows {marker!r} of {self.foreign.name}")
        return body

    def refused_get(self, url: str, context: str) -> None:
        response = self.client.get(url, follow=True)
        if response.status_code not in REFUSED:
            self.problem(context, f"GET {url} gave {response.status_code}, not a refusal")
        self.no_foreign_data(response, context)

    def post_writes_nothing(self, url: str, context: str, data=None, *, logged=False):
        """POST, then check that no table changed (``logged``: but the access log, which records exports)."""
        before = snapshot()
        response = self.client.post(url, data or {})
        self.no_foreign_data(response, context)
        changed = changed_tables(before, snapshot())
        if logged and changed == [AccessLog._meta.db_table]:
            changed = []
        if changed:
            self.problem(context, f"POST {url} changed {changed}")
        return response

    def refused_post(self, url: str, context: str, data=None) -> None:
        response = self.post_writes_nothing(url, context, data)
        if response.status_code not in REFUSED:
            self.problem(context, f"POST {url} gave {response.status_code}, not a refusal")

    def shows(self, url: str, context: str, markers=(), *, params=None):
        response = self.client.get(url, params or {}, follow=True)
        if response.status_code != 200:
            self.problem(context, f"GET {url} gave {response.status_code}, not the page")
        body = self.no_foreign_data(response, context)
        for marker in markers:
            if marker not in body:
                self.problem(context, f"GET {url} does not show {marker!r}")
        return response

    def redirects(self, url: str, context: str, target: str) -> None:
        response = self.client.get(url)
        if response.status_code != 302 or response["Location"] != target:
            self.problem(context, f"GET {url} gave {response.status_code}, not a redirect to {target}")

    def finish(self) -> None:
        if snapshot(reference=True) != self._reference:
            self.problem("reference data", "the regions changed")
        assert not self.problems, f"{len(self.problems)} problems:\n" + "\n".join(self.problems)


# --- the rules ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """How to request one URL and who may open it.

    ``per_side``: the URL names one side's object, filled by ``args`` (or ``path``
    for an unnamed pattern); otherwise it is one page for everybody, showing
    each user their own scope. ``seen_by``: the officers who may open it for
    their own side (admins open everything; everyone else is refused).
    ``shows``: what the page shows of the side (a key of ``Side.shown``).
    ``post_only``: a write that refuses GET. ``writers``: who may POST to
    their own side (None: a page that writes nothing, or only through a form
    tested in ``FOREIGN_FORMS``); anyone else is refused and nothing changes.
    ``check``: a URL that needs its own check instead of this common one.
    """

    args: Callable[[World, Side], dict] = lambda world, side: {}
    path: Callable[[World, Side], str] | None = None
    per_side: bool = True
    seen_by: frozenset = BOTH
    shows: str | None = None
    post_only: bool = False
    writers: frozenset | None = None
    data: Callable[[World, Side], dict] = lambda world, side: {}
    check: Callable[[Visit, str, Rule], None] | None = None

    def url(self, name: str, world: World, side: Side | None) -> str:
        if self.path is not None:
            return self.path(world, side)
        return reverse(name, kwargs=self.args(world, side))

    def run(self, visit: Visit, name: str) -> None:
        if self.check is not None:
            self.check(visit, name, self)
        elif self.per_side:
            self._run_per_side(visit, name)
        else:
            self._run_page(visit, name)

    def _run_page(self, visit: Visit, name: str) -> None:
        url = self.url(name, visit.world, None)
        if self.post_only:
            visit.refused_get(url, f"{name} by GET")
        elif visit.may(self.seen_by):
            shown = [side.shown[self.shows] for side in visit.own] if self.shows else []
            visit.shows(url, name, shown)
        else:
            visit.refused_get(url, name)

    def _run_per_side(self, visit: Visit, name: str) -> None:
        world, foreign = visit.world, visit.foreign
        if foreign is not None:
            url = self.url(name, world, foreign)
            visit.refused_get(url, f"{name} of {foreign.name}")
            visit.refused_post(url, f"{name} POST on {foreign.name}", self.data(world, foreign))
        for side in visit.own:
            url = self.url(name, world, side)
            context = f"{name} of own {side.name}"
            if not self.post_only:
                if visit.may(self.seen_by):
                    shown = [side.shown[self.shows]] if self.shows else []
                    visit.shows(url, context, shown)
                else:
                    visit.refused_get(url, context)
            if self.writers is not None and not visit.may(self.writers):
                visit.refused_post(
                    url, f"{context} POST by a {visit.role.kind} officer", self.data(world, side)
                )


def page(*, args=None, path=None, seen_by=BOTH, shows=None, post_only=False, check=None) -> Rule:
    """A page with no side's object in its URL (``args`` may name reference data such as the election)."""
    return Rule(
        args=(lambda world, side: args(world)) if args else (lambda world, side: {}),
        path=path,
        per_side=False,
        seen_by=seen_by,
        shows=shows,
        post_only=post_only,
        check=check,
    )


def side_object(key: str, **options) -> Rule:
    """A page about one object of a side, by its primary key."""
    return Rule(args=lambda world, side: {"pk": side.objects[key].pk}, **options)


def facility_page(*extra, **options) -> Rule:
    """A page of a side's facility for the election: /tps/<election>/<facility>/..."""
    values = dict(extra)
    return Rule(
        args=lambda world, side: {
            "election_code": world.election.code,
            "facility_code": side.facility.code,
            **values,
        },
        **options,
    )


def _merge_data(world, side) -> dict:
    """A complete merge form: it would merge, were the pair not out of reach."""
    return {"survivor": "a", "fingerprint": "", **{f"value_{key}": "a" for key, _fields in MERGE_FIELDS}}


_NEW_PASSWORD = {"password1": "Nusantara-2029!", "password2": "Nusantara-2029!", "usable_password": "true"}

# Pages that list every facility of the country by design: the custody history of an inmate records
# transfers, and a transfer may name any facility. Their facility names are not a leak.
FACILITY_DIRECTORY = {"admin:inmates_inmate_add", "admin:inmates_inmate_change"}


APP_RULES: dict[str, Rule] = {
    # The language is a cookie: GET only redirects back.
    "set_language": page(),
    "home": page(),
    "inmates:import_upload": page(seen_by=ONLY_RUTAN, shows="facility"),
    "inmates:import_template": page(shows="facility_code"),
    # An import is its uploader's (and the admin's): KPU does not see it even in its regency.
    "inmates:import_detail": side_object("inmates.ImportJob", seen_by=ONLY_RUTAN, shows="upload"),
    "inmates:import_status": side_object("inmates.ImportJob", seen_by=ONLY_RUTAN),
    "inmates:import_problems_csv": side_object("inmates.ImportJob", seen_by=ONLY_RUTAN),
    "inmates:import_confirm": side_object("inmates.ImportJob", post_only=True, writers=ONLY_RUTAN),
    "inmates:import_cancel": side_object("inmates.ImportJob", post_only=True, writers=ONLY_RUTAN),
    "inmates:duplicate_compare": side_object("inmates.DuplicateCandidate", shows="person"),
    "inmates:duplicate_merge": side_object(
        "inmates.DuplicateCandidate", post_only=True, writers=BOTH, data=_merge_data
    ),
    "inmates:duplicate_dismiss": side_object("inmates.DuplicateCandidate", post_only=True, writers=BOTH),
    # Inmate-to-DPT pairs are KPU's: Rutan staff do not see the DPT.
    "inmates:dpt_match_confirm": side_object("dpt_pair", post_only=True, writers=ONLY_KPU),
    # Starts a run over the user's own scope: test_runs_an_officer_starts_cover_only_their_side.
    "inmates:dedup_run_start": page(post_only=True),
    "inmates:dedup_run": side_object("inmates.DedupRun", seen_by=ONLY_RUTAN, shows="facility"),
    "inmates:dedup_run_status": side_object("inmates.DedupRun", seen_by=ONLY_RUTAN),
    "inmates:dpt_upload": page(seen_by=ONLY_KPU),
    "tps:voterlist_generate": page(seen_by=ONLY_RUTAN, shows="facility"),
    "tps:voterlist_detail": side_object("tps.VoterList", shows="person", writers=ONLY_RUTAN),
    "tps:voterlist_changes": side_object("tps.VoterList", shows="facility"),
    "tps:voterlist_export": side_object("tps.VoterList", shows="person"),
    "tps:voterlist_regenerate": side_object("draft_list", post_only=True, writers=ONLY_RUTAN),
    "tps:voterlist_submit": side_object("draft_list", post_only=True, writers=ONLY_RUTAN),
    "tps:voterlist_accept": side_object("tps.VoterList", post_only=True, writers=ONLY_KPU),
    "tps:voterlist_return": side_object(
        "tps.VoterList",
        seen_by=ONLY_KPU,
        shows="facility",
        writers=ONLY_KPU,
        data=lambda world, side: {"comment": "Perbaiki data"},
    ),
    "tps:facility_changes": side_object("inmates.Facility", shows="facility"),
    "tps:facility_projection": Rule(
        args=lambda world, side: {"pk": side.facility.pk, "election_pk": world.election.pk}, shows="facility"
    ),
    "tps:election_eligibility": page(args=lambda world: {"pk": world.election.pk}),
    # The admin's run: test_runs_started_by_the_admin_are_refused_to_officers covers it too.
    "tps:eligibility_run": page(args=lambda world: {"pk": world.eligibility_run.pk}, seen_by=NOBODY),
    "tps:station_runs": page(args=lambda world: {"election_code": world.election.code}),
    # A run is seen by its starter (the side's KPU officer) and admins only.
    "tps:station_run": side_object("tps.StationRun", seen_by=ONLY_KPU),
    "tps:station_run_download": side_object("tps.StationRun", seen_by=ONLY_KPU, shows="person"),
    "tps:dashboard": page(shows="facility"),
    "tps:stations_index": page(shows="facility"),
    "tps:stations_recap": page(args=lambda world: {"election_code": world.election.code}, shows="facility"),
    "tps:stations_facility": facility_page(shows="facility"),
    "tps:stations_plan": facility_page(
        seen_by=ONLY_KPU, shows="facility", writers=ONLY_KPU, data=lambda world, side: {"rebalance": "1"}
    ),
    "tps:stations_fix_logistics": facility_page(
        post_only=True, writers=ONLY_KPU, data=lambda world, side: {"allow_undecided": "1"}
    ),
    "tps:stations_export": facility_page(("fmt", "xlsx"), shows="person"),
    "tps:stations_print": facility_page(shows="person"),
    "tps:stations_tps": facility_page(("number", "901"), shows="person"),
}


# --- admin pages that are not per-model CRUD: each has a check of its own ------------------------------


def check_logout(visit: Visit, name: str, rule: Rule) -> None:
    url = reverse(name)
    visit.refused_get(url, "logout by GET")  # a link or an image cannot log anyone out
    before = snapshot(skip_apps=("sessions", "axes"))  # axes records when the user left
    response = visit.client.post(url)
    visit.no_foreign_data(response, "logout")
    if response.status_code != 200:
        visit.problem("logout", f"POST gave {response.status_code}")
    if changed_tables(before, snapshot(skip_apps=("sessions", "axes"))):
        visit.problem("logout", "changed the database")
    if visit.client.get(reverse("admin:index")).status_code != 302:
        visit.problem("logout", "still signed in")
    visit.login()


def check_password_change(visit: Visit, name: str, rule: Rule) -> None:
    url = reverse(name)
    visit.shows(url, name)
    # Only ever one's own password: a wrong old one changes nothing.
    response = visit.post_writes_nothing(
        url, f"{name} with a wrong old password", {"old_password": "salah", **_NEW_PASSWORD}
    )
    if "old_password" not in form_errors(response):
        visit.problem(name, "a wrong old password was not refused")


def check_autocomplete(visit: Visit, name: str, rule: Rule) -> None:
    """Every autocomplete field, searched for the other side (and, by the admin, for both)."""
    url = reverse(name)
    for model, model_admin in admin.site._registry.items():
        for field_name in model_admin.autocomplete_fields:
            params = {
                "app_label": model._meta.app_label,
                "model_name": model._meta.model_name,
                "field_name": field_name,
            }
            context = f"autocomplete {model._meta.label}.{field_name}"
            if visit.foreign is not None:
                for term in (visit.foreign.facility.name, visit.foreign.shown["person"]):
                    visit.no_foreign_data(
                        visit.client.get(url, {**params, "term": term}), f"{context} {term!r}"
                    )
            elif (
                model_admin.model._meta.get_field(field_name).related_model._meta.label == "inmates.Facility"
            ):
                for side in visit.own:
                    visit.shows(
                        url, context, [side.facility.name], params={**params, "term": side.facility.name}
                    )


def check_view_on_site(visit: Visit, name: str, rule: Rule) -> None:
    """The admin's "view on site" redirect, for every object of the other side."""

    def url(obj) -> str:
        content_type = ContentType.objects.get_for_model(obj)
        return reverse(name, args=[content_type.pk, obj.pk])

    if visit.foreign is not None:
        for key, obj in visit.foreign.objects.items():
            visit.refused_get(url(obj), f"{name} of {visit.foreign.name}'s {key}")
    for side in visit.own:
        response = visit.client.get(url(side.objects["inmates.Inmate"]), follow=True)
        visit.no_foreign_data(response, f"{name} of own inmate")


def check_app_lists(visit: Visit, name: str, rule: Rule) -> None:
    for app_label in sorted({model._meta.app_label for model in admin.site._registry}):
        url = reverse(name, kwargs={"app_label": app_label})
        if visit.is_admin:
            visit.shows(url, f"{name} {app_label}")
        else:
            visit.no_foreign_data(visit.client.get(url), f"{name} {app_label}")


def _check_inmate_export(visit: Visit, name: str, *, full: bool) -> None:
    """The inmate list as a file: one's own records, never the other side's, whatever the filters."""
    for file_format in ("xlsx", "csv"):
        url = reverse(name, kwargs={"file_format": file_format})
        context = f"{name} {file_format}"
        own_nik = [side.objects["inmates.Inmate"].nik for side in visit.own] if full else []
        visit.shows(url, context, [side.shown["person"] for side in visit.own] + own_nik)
        if visit.foreign is not None and file_format == "csv":
            for params in (
                {"facility__id__exact": visit.foreign.facility.pk},
                {"q": visit.foreign.shown["person"]},
            ):
                visit.no_foreign_data(visit.client.get(url, params), f"{context} {params}")


def check_inmate_export(visit: Visit, name: str, rule: Rule) -> None:
    _check_inmate_export(visit, name, full=False)


def check_inmate_export_full(visit: Visit, name: str, rule: Rule) -> None:
    # Full NIK is for the officers who work with the records (Rutan, KPU) and admins.
    _check_inmate_export(visit, name, full=True)


def check_dapil_import(visit: Visit, name: str, rule: Rule) -> None:
    url = reverse(name)
    if visit.is_admin:
        visit.shows(url, name)
        return
    visit.refused_get(url, name)
    upload = SimpleUploadedFile(
        "dapil.csv", b"Kontestasi,Kode Dapil,Nama,Wilayah\nDPR,JATENG IX,Uji,33.16;33.18\n", "text/csv"
    )
    visit.refused_post(url, f"{name} POST", {"election": visit.world.election.pk, "file": upload})


def check_not_found(visit: Visit, name: str, rule: Rule) -> None:
    url = rule.url(name, visit.world, None)
    response = visit.client.get(url)
    if response.status_code != 404:
        visit.problem(name, f"GET {url} gave {response.status_code}, not 404")
    visit.no_foreign_data(response, name)


ADMIN_RULES: dict[str, Rule] = {
    "admin:index": page(),
    "admin:login": page(),  # signed in: back to the index
    "admin:logout": page(check=check_logout),
    "admin:password_change": page(check=check_password_change),
    "admin:password_change_done": page(),
    "admin:jsi18n": page(),
    "admin:autocomplete": page(check=check_autocomplete),
    "admin:view_on_site": Rule(check=check_view_on_site),
    "admin:app_list": page(check=check_app_lists),
    "admin:inmates_inmate_export": page(check=check_inmate_export),
    "admin:inmates_inmate_export_full": page(check=check_inmate_export_full),
    "admin:tps_dapil_import": page(check=check_dapil_import),
    # Setting a user's password: admins only (officers have no user admin, not even for themselves).
    "admin:auth_user_password_change": Rule(
        args=lambda world, side: {"id": side.rutan_officer.pk},
        seen_by=NOBODY,
        shows="username",
        writers=NOBODY,
        data=lambda world, side: _NEW_PASSWORD,
    ),
    # Unnamed: the admin's catch-all, which answers 404 for any other path under /admin/.
    "admin/(?P<url>.*)$": page(path=lambda world, side: "/admin/no-such-page/", check=check_not_found),
}


# --- admin pages per model ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AdminModel:
    """Who sees a model's admin, and what its pages show of a side.

    ``key``: the side's object (a key of ``Side.objects``); None for reference
    data and admin-only models, which belong to no side. ``seen_by``: the
    officers who see their own side's records there.
    """

    key: str | None = None
    seen_by: frozenset = BOTH
    shows: str | None = None
    searched_for: tuple[str, ...] = ()  # the side's values its list is searched for, one search each


ADMIN_MODELS: dict[str, AdminModel] = {
    # Reference data every officer reads.
    "inmates.Region": AdminModel(),
    "tps.Election": AdminModel(),
    "tps.Dapil": AdminModel(),
    # Only for admins: officers' groups carry no permission on them.
    "auth.Group": AdminModel(seen_by=NOBODY),
    "django_tasks_database.DBTaskResult": AdminModel(seen_by=NOBODY),
    "axes.AccessAttempt": AdminModel(seen_by=NOBODY),
    "axes.AccessLog": AdminModel(seen_by=NOBODY),
    "axes.AccessFailureLog": AdminModel(seen_by=NOBODY),
    "inmates.AccessLog": AdminModel(
        "inmates.AccessLog", seen_by=NOBODY, shows="access", searched_for=("access",)
    ),
    "inmates.User": AdminModel("inmates.User", seen_by=NOBODY, shows="username", searched_for=("username",)),
    # A side's records.
    "inmates.Inmate": AdminModel(
        "inmates.Inmate", shows="person", searched_for=("person", "nik", "registration")
    ),
    "inmates.Facility": AdminModel("inmates.Facility", shows="facility", searched_for=("facility",)),
    "inmates.ImportJob": AdminModel(
        "inmates.ImportJob", seen_by=ONLY_RUTAN, shows="upload", searched_for=("upload",)
    ),
    "inmates.DptFile": AdminModel(
        "inmates.DptFile", seen_by=ONLY_KPU, shows="dpt_file", searched_for=("dpt_file",)
    ),
    "inmates.DptRecord": AdminModel(
        "inmates.DptRecord", seen_by=ONLY_KPU, shows="dpt_voter", searched_for=("dpt_voter", "nik")
    ),
    "inmates.DuplicateCandidate": AdminModel(
        "inmates.DuplicateCandidate", shows="person", searched_for=("person", "nik")
    ),
    "tps.VoterList": AdminModel("tps.VoterList", shows="facility", searched_for=("facility",)),
    "tps.VoterListEvent": AdminModel("tps.VoterListEvent", shows="facility", searched_for=("comment",)),
    "tps.Tps": AdminModel("tps.Tps", shows="facility", searched_for=("facility",)),
    "tps.TpsAssignment": AdminModel(
        "tps.TpsAssignment", shows="person", searched_for=("person", "registration")
    ),
    "tps.BallotAllocation": AdminModel("tps.BallotAllocation", shows="facility", searched_for=("facility",)),
}


def check_admin_model(visit: Visit, model, model_admin) -> None:
    label = model._meta.label
    rule = ADMIN_MODELS[label]
    prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
    owned = rule.key is not None

    # The list: one's own records to those who see them, nothing of the other side to anyone.
    changelist = reverse(f"{prefix}_changelist")
    if visit.may(rule.seen_by):
        shown = [side.shown[rule.shows] for side in visit.own] if owned else []
        listed = visit.shows(changelist, f"{label} list", shown)
    elif rule.seen_by == NOBODY:
        visit.refused_get(changelist, f"{label} list")
        listed = None
    else:
        listed = visit.client.get(changelist)
        visit.no_foreign_data(listed, f"{label} list")
    if visit.foreign is not None and listed is not None and listed.status_code == 200:
        for term in (visit.foreign.shown[kind] for kind in rule.searched_for):
            response = visit.client.get(changelist, {"q": term})
            visit.no_foreign_data(response, f"{label} list searched for {term!r}", echoed=(term,))
    add = reverse(f"{prefix}_add")
    visit.no_foreign_data(visit.client.get(add, follow=True), f"{label} add")

    if not owned:
        _check_unowned_model(visit, model, prefix)
        return
    history = isinstance(model_admin, SimpleHistoryAdmin) and hasattr(model, "history")
    if visit.foreign is not None:
        obj = visit.foreign.objects[rule.key]
        context = f"{label} of {visit.foreign.name}"
        for view in ("change", "history", "delete"):
            visit.refused_get(reverse(f"{prefix}_{view}", args=[obj.pk]), f"{context}: {view}")
        # The old /admin/<app>/<model>/<pk>/ address only redirects to the change page, refused above.
        visit.redirects(
            f"{changelist}{obj.pk}/", f"{context}: old address", reverse(f"{prefix}_change", args=[obj.pk])
        )
        visit.refused_post(reverse(f"{prefix}_change", args=[obj.pk]), f"{context}: change POST")
        visit.refused_post(
            reverse(f"{prefix}_delete", args=[obj.pk]), f"{context}: delete POST", {"post": "yes"}
        )
        if history:
            version = reverse(f"{prefix}_simple_history", args=[obj.pk, obj.history.first().history_id])
            visit.refused_get(version, f"{context}: old version")
            visit.refused_post(version, f"{context}: revert to an old version")
    for side in visit.own:
        obj = side.objects[rule.key]
        context = f"{label} of own {side.name}"
        change = reverse(f"{prefix}_change", args=[obj.pk])
        if visit.may(rule.seen_by):
            visit.shows(change, f"{context}: change", [side.shown[rule.shows]])
            visit.shows(reverse(f"{prefix}_history", args=[obj.pk]), f"{context}: history")
        else:
            visit.refused_get(change, f"{context}: change")
        if visit.is_admin:
            visit.no_foreign_data(
                visit.client.get(reverse(f"{prefix}_delete", args=[obj.pk])), f"{context}: delete"
            )
            if history:
                version = reverse(f"{prefix}_simple_history", args=[obj.pk, obj.history.first().history_id])
                visit.shows(version, f"{context}: old version")


def _check_unowned_model(visit: Visit, model, prefix: str) -> None:
    """Reference data and admin-only models: officers read at most, and write nothing."""
    instance = model._default_manager.order_by("pk").first()
    if visit.is_admin:
        if instance is not None:
            visit.shows(reverse(f"{prefix}_change", args=[instance.pk]), f"{model._meta.label} change")
        return
    visit.refused_post(reverse(f"{prefix}_add"), f"{model._meta.label} add POST")
    if instance is not None:
        visit.refused_post(
            reverse(f"{prefix}_change", args=[instance.pk]), f"{model._meta.label} change POST"
        )
        visit.refused_post(
            reverse(f"{prefix}_delete", args=[instance.pk]),
            f"{model._meta.label} delete POST",
            {"post": "yes"},
        )


# --- the URL patterns and their rules -------------------------------------------------------------------


def url_patterns() -> list[tuple[str, str]]:
    """Every URL pattern of the project as (key, route): the key is "namespace:name", or the route."""
    found = []

    def walk(patterns, namespace: str, route: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = namespace
                if pattern.namespace:
                    inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
                walk(pattern.url_patterns, inner, route + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                full = route + str(pattern.pattern)
                name = f"{namespace}:{pattern.name}" if namespace else pattern.name
                found.append((name if pattern.name else full, full))

    walk(get_resolver().url_patterns, "", "")
    return found


def model_admin_patterns() -> set[tuple[str, str]]:
    """The (key, route) of every URL that Django's ModelAdmin (or simple-history's) generates per model.

    Taken from a stock admin of each model, so that a view a project admin adds is not among them.
    """
    site_route = reverse("admin:index").lstrip("/")
    found = set()
    for model, model_admin in admin.site._registry.items():
        stock = SimpleHistoryAdmin if isinstance(model_admin, SimpleHistoryAdmin) else admin.ModelAdmin
        model_route = f"{site_route}{model._meta.app_label}/{model._meta.model_name}/"
        for pattern in stock(model, admin.site).get_urls():
            route = model_route + str(pattern.pattern)
            found.add((f"admin:{pattern.name}" if pattern.name else route, route))
    return found


def test_every_url_has_a_rule():
    rules = set(APP_RULES) | set(ADMIN_RULES)
    generated = model_admin_patterns()
    missing = sorted(
        {key for key, route in url_patterns() if key not in rules and (key, route) not in generated}
    )
    assert not missing, f"URLs without an authorization rule in {__file__}: {missing}"


def test_every_rule_names_a_url():
    keys = {key for key, _route in url_patterns()}
    stale = sorted(name for name in set(APP_RULES) | set(ADMIN_RULES) if name not in keys)
    assert not stale, f"rules for URLs that do not exist: {stale}"


def test_every_admin_model_has_a_rule():
    registered = {model._meta.label for model in admin.site._registry}
    assert registered - set(ADMIN_MODELS) == set(), "admin models without a rule"
    assert set(ADMIN_MODELS) - registered == set(), "rules for models the admin does not show"
    unsearched = []
    for model, model_admin in admin.site._registry.items():
        rule = ADMIN_MODELS[model._meta.label]
        if model_admin.search_fields and rule.key and not rule.searched_for:
            unsearched.append(model._meta.label)
    assert not unsearched, f"lists of a side's records whose search is not tried: {unsearched}"


# --- every role, every URL ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_app_urls_keep_each_side_to_itself(role, world, client, request):
    visit = Visit(client, role, world, request)
    for name, rule in APP_RULES.items():
        rule.run(visit, name)
    visit.finish()


@pytest.mark.parametrize("role", ROLES)
def test_admin_site_urls_keep_each_side_to_itself(role, world, client, request):
    visit = Visit(client, role, world, request)
    for name, rule in ADMIN_RULES.items():
        rule.run(visit, name)
    visit.finish()


@pytest.mark.parametrize("role", ROLES)
def test_admin_model_pages_keep_each_side_to_itself(role, world, client, request):
    visit = Visit(client, role, world, request)
    for model, model_admin in admin.site._registry.items():
        check_admin_model(visit, model, model_admin)
    visit.finish()


# --- forms and admin actions that name the other side --------------------------------------------------


def _inmate_upload(facility_code: str = "") -> SimpleUploadedFile:
    """One valid inmate to import (with ``facility_code`` in the file's facility column)."""
    headers = [*HEADERS, "Kode Rutan/Lapas"] if facility_code else HEADERS
    row = {**person(1), "Kode Rutan/Lapas": facility_code}
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    writer.writerow([row.get(header, "") for header in headers])
    return SimpleUploadedFile("wbp.csv", buffer.getvalue().encode(), "text/csv")


def _dpt_upload(world, own, other) -> SimpleUploadedFile:
    """One valid voter of the other side's regency."""
    region = f"{other.facility.regency_id}.01.2001"
    rows = [
        "NKK,NIK,Nama,Tempat Lahir,Tanggal Lahir,Jenis Kelamin,Status Kawin,Alamat,RT,RW,Kode Wilayah,TPS",
        f",3318012005880009,SITI AMINAH,PATI,20-05-1988,P,S,Dk. Uji,1,2,{region},TPS 004",
    ]
    return SimpleUploadedFile("DPT_uji.csv", ("\n".join(rows) + "\n").encode(), "text/csv")


def _inmate_form(world, own, other) -> dict:
    """A complete new inmate, placed in the other side's facility."""
    values = inmate_data(
        full_name="Tahanan Baru",
        registration_number="BARU.001/2029",
        nik="3316011708900009",
        facility=other.facility.pk,
    )
    data = {
        key: value.isoformat() if isinstance(value, datetime.date) else value for key, value in values.items()
    }
    return {
        **data,
        "ktp_el_status": Inmate._meta.get_field("ktp_el_status").default,
        **_management("custody_events"),
    }


def _management(prefix: str, total: int = 0, initial: int = 0) -> dict:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


@dataclass(frozen=True)
class ForeignForm:
    """A form an officer fills in on their own side's page, naming the other side's facility or record.

    ``field``: the field naming the other side, which must carry the refusal (None: the form is
    refused as a whole). ``used_by``: the officers who may use the form at all (anyone else gets 403).
    """

    url: Callable[[World, Side], str]
    data: Callable[[World, Side, Side], dict]
    field: str | None
    used_by: frozenset


FOREIGN_FORMS: dict[str, ForeignForm] = {
    "generate the voter list of another facility": ForeignForm(
        url=lambda world, own: reverse("tps:voterlist_generate"),
        data=lambda world, own, other: {"election": world.election.pk, "facility": other.facility.pk},
        field="facility",
        used_by=ONLY_RUTAN,
    ),
    "import inmates into another facility": ForeignForm(
        url=lambda world, own: reverse("inmates:import_upload"),
        data=lambda world, own, other: {
            "facility": other.facility.pk,
            "file": _inmate_upload(),
        },
        field="facility",
        used_by=ONLY_RUTAN,
    ),
    "load the DPT of another regency": ForeignForm(
        url=lambda world, own: reverse("inmates:dpt_upload"),
        data=lambda world, own, other: {
            "regency": other.facility.regency_id,
            "file": _dpt_upload(world, own, other),
        },
        field="regency",
        used_by=ONLY_KPU,
    ),
    "plan the TPS of another regency in the background": ForeignForm(
        url=lambda world, own: reverse("tps:station_runs", args=[world.election.code]),
        data=lambda world, own, other: {"kind": "plan", "regency": other.facility.regency_id},
        field="regency",
        used_by=BOTH,
    ),
    "export the DPT of another regency in the background": ForeignForm(
        url=lambda world, own: reverse("tps:station_runs", args=[world.election.code]),
        data=lambda world, own, other: {
            "kind": "export",
            "regency": other.facility.regency_id,
            "fmt": "xlsx",
        },
        field="regency",
        used_by=BOTH,
    ),
    "register an inmate in another facility": ForeignForm(
        url=lambda world, own: reverse("admin:inmates_inmate_add"),
        data=_inmate_form,
        field="facility",
        used_by=ONLY_RUTAN,
    ),
    "open a TPS in another facility": ForeignForm(
        url=lambda world, own: reverse("admin:tps_tps_add"),
        data=lambda world, own, other: {
            "election": world.election.pk,
            "facility": other.facility.pk,
            "number": "902",
            "capacity": "300",
            **_management("assignments"),
        },
        field="facility",
        used_by=ONLY_KPU,
    ),
    "move one's voter to a TPS of another facility": ForeignForm(
        url=lambda world, own: reverse(
            "admin:tps_tpsassignment_change", args=[own.objects["tps.TpsAssignment"].pk]
        ),
        data=lambda world, own, other: {"tps": other.objects["tps.Tps"].pk},
        field="tps",
        used_by=ONLY_KPU,
    ),
    "edit another facility's list entry through one's own draft": ForeignForm(
        url=lambda world, own: reverse("tps:voterlist_detail", args=[own.objects["draft_list"].pk]),
        data=lambda world, own, other: {
            **_management("entries", total=1, initial=1),
            "entries-0-id": other.objects["draft_entry"].pk,
            "entries-0-category": "DPK",
        },
        # An id outside the list's own rows makes a new, empty row, which the list refuses.
        field=None,
        used_by=ONLY_RUTAN,
    ),
}


@pytest.mark.parametrize("role", OFFICERS)
def test_forms_naming_the_other_side_write_nothing(role, world, client, request):
    visit = Visit(client, role, world, request)
    own, other = visit.own[0], visit.foreign
    for purpose, form in FOREIGN_FORMS.items():
        url = form.url(world, own)
        response = visit.post_writes_nothing(url, purpose, form.data(world, own, other))
        if not visit.may(form.used_by):
            if response.status_code != 403:
                visit.problem(purpose, f"POST {url} gave {response.status_code}, not 403")
        else:
            errors = form_errors(response)
            refused = form.field in errors if form.field else bool(errors)
            if response.status_code not in (200, 400) or not refused:
                visit.problem(
                    purpose,
                    f"POST {url} gave {response.status_code} without refusing {form.field!r}: {errors}",
                )
    visit.finish()


# Actions that answer with a file of the ticked records the user sees (here: none), logged like any export.
EXPORT_ACTIONS = {"export_selected_xlsx", "export_selected_csv"}


@pytest.mark.parametrize("role", OFFICERS)
def test_admin_actions_on_the_other_sides_records_do_nothing(role, world, client, request):
    """Every list action, with the other side's record ticked: nothing of it is changed or exported."""
    visit = Visit(client, role, world, request)
    for model, model_admin in admin.site._registry.items():
        key = ADMIN_MODELS[model._meta.label].key
        if key is None:
            continue
        changelist = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        # The list first, as the officer sees it before ticking (opening it may ask for a custody refresh).
        client.get(changelist)
        for _function, action, _description in model_admin._get_base_actions():
            visit.post_writes_nothing(
                changelist,
                f"{model._meta.label} action {action} on {visit.foreign.name}",
                {
                    "action": action,
                    "_selected_action": [visit.foreign.objects[key].pk],
                    "index": "0",
                    "apply": "1",  # the second step of actions that ask first (moving voters)
                    "post": "yes",  # and of the deletion
                },
                logged=action in EXPORT_ACTIONS,
            )
    visit.finish()


@pytest.mark.parametrize("role", ["rutan_blora", "rutan_pati"])
def test_an_imported_row_naming_another_facility_writes_nothing_there(role, world, client, request):
    visit = Visit(client, role, world, request)
    own, other = visit.own[0], visit.foreign
    before = _inmates_of(other)
    upload = _inmate_upload(facility_code=other.facility.code)
    client.post(reverse("inmates:import_upload"), {"facility": own.facility.pk, "file": upload})
    job = ImportJob.objects.filter(created_by=visit.user).latest("pk")
    assert job.facility == own.facility
    # The preview refuses the row for its facility column, and only for that.
    assert [problem["column"] for problem in job.report["problems"]] == ["Kode Rutan/Lapas"]
    visit.no_foreign_data(
        client.post(reverse("inmates:import_confirm", args=[job.pk]), follow=True), "confirm"
    )
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED, "the row naming another facility was not refused"
    assert _inmates_of(other) == before
    visit.finish()


@pytest.mark.parametrize("role", OFFICERS)
def test_runs_an_officer_starts_cover_only_their_side(role, world, client, request):
    """Detection, eligibility and DPT-export runs, with the other side slipped into the forms."""
    visit = Visit(client, role, world, request)
    own, other = visit.own[0], visit.foreign
    forged = {"facility": other.facility.pk, "regency": other.facility.regency_id}

    client.post(reverse("inmates:dedup_run_start"), {"against_dpt": "on", **forged})
    run = DedupRun.objects.filter(started_by=visit.user).latest("pk")
    if visit.role.kind == RUTAN:
        assert (run.facility_id, run.regency_id) == (own.facility.pk, None)
    else:
        assert (run.facility_id, run.regency_id) == (None, own.facility.regency_id)

    client.post(reverse("tps:election_eligibility", args=[world.election.pk]), forged)
    run = EligibilityRun.objects.get(started_by=visit.user)
    eligibility_run_execute(run.pk)  # what the task worker does
    run.refresh_from_db()
    assert set(run.result) == {own.facility.code}
    visit.shows(reverse("tps:eligibility_run", args=[run.pk]), "eligibility run", [own.facility.code])

    client.post(
        reverse("tps:station_runs", args=[world.election.code]),
        {"kind": "export", "regency": "", "fmt": "xlsx"},
    )
    run = StationRun.objects.filter(started_by=visit.user).latest("pk")
    assert run.facility_codes == [own.facility.code]
    station_run_execute(run.pk)
    visit.shows(reverse("tps:station_run", args=[run.pk]), "DPT export run", [own.facility.code])
    visit.shows(
        reverse("tps:station_run_download", args=[run.pk]), "DPT export download", [own.shown["person"]]
    )
    visit.finish()


@pytest.mark.parametrize("role", ["kpu_blora", "kpu_pati"])
def test_duplicate_pairs_give_kpu_nothing_of_another_regency(role, world, client, request):
    visit = Visit(client, role, world, request)
    own, other = visit.own[0], visit.foreign
    client.post(reverse("inmates:dedup_run_start"))
    dedup_run_execute(DedupRun.objects.get(started_by=visit.user).pk)  # what the task worker does
    before = _inmates_of(other)
    for pair in DuplicateCandidate.objects.for_user(visit.user).filter(kind="inmate_pair"):
        compare = reverse("inmates:duplicate_compare", args=[pair.pk])
        visit.no_foreign_data(client.get(compare), f"pair {pair.pk}")
        if other.facility.pk in (pair.inmate_a.facility_id, pair.inmate_b.facility_id):
            keep = "a" if pair.inmate_a.facility_id == own.facility.pk else "b"
            client.post(
                reverse("inmates:duplicate_merge", args=[pair.pk]),
                {**_merge_data(world, own), "survivor": keep},
            )
    if _inmates_of(other) != before:
        visit.problem("merge", f"changed {other.name}'s inmates")
    visit.finish()


def _inmates_of(side: Side) -> list:
    return list(Inmate.objects.filter(facility=side.facility).order_by("pk").values_list())


# --- what no officer gets -------------------------------------------------------------------------------


def test_runs_started_by_the_admin_are_refused_to_officers(world, client, request):
    for role in OFFICERS:
        visit = Visit(client, role, world, request)
        visit.refused_get(reverse("tps:eligibility_run", args=[world.eligibility_run.pk]), "eligibility run")
        for name in ("tps:station_run", "tps:station_run_download"):
            visit.refused_get(reverse(name, args=[world.admin_station_run.pk]), f"{name} of the admin")
        visit.finish()


def test_anonymous_users_get_the_login_page_everywhere(world, client):
    side = world.sides["blora"]
    for name, rule in {**APP_RULES, **ADMIN_RULES}.items():
        if name in ("set_language", "home", "admin:login", "admin:logout", "admin:jsi18n") or rule.check:
            continue
        url = rule.url(name, world, side)
        response = client.get(url)
        assert response.status_code in (302, 403, 404, 405), f"anonymous {name}: {response.status_code}"
        if response.status_code == 302:
            assert "login" in response["Location"], f"anonymous {name} redirected to {response['Location']}"
