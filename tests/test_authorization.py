"""Authorization, proven exhaustively.

Every URL pattern of the project is enumerated from the resolver (the admin
included) and requested by each role with objects of its own facility/regency
and of another one. Foreign objects must give nothing (403/404, no foreign
data in the body) and no write may succeed (the database is unchanged).

A URL without a rule here makes ``test_every_url_has_a_rule`` fail: add the
rule when you add the URL.
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass, field

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from inmates.models import (
    AccessLog,
    DedupRun,
    DptFile,
    DptRecord,
    DuplicateCandidate,
    ImportJob,
)
from tps.models import (
    BallotAllocation,
    Election,
    EligibilityRun,
    StationRun,
    Tps,
    TpsAssignment,
    VoterList,
    VoterListEntry,
    VoterListEvent,
)

pytestmark = pytest.mark.django_db

FORBIDDEN = {302, 403, 404, 405}


@dataclass
class Side:
    """Everything one facility/regency owns, plus the strings that betray it."""

    name: str
    facility: object
    rutan_officer: object
    kpu_officer: object
    objects: dict = field(default_factory=dict)
    markers: list[str] = field(default_factory=list)


def _build_side(name, facility, rutan_officer, kpu_officer, election, make_inmate, regency_code, nik, nik2):
    person = f"Tahanan{name.capitalize()} Rahasia"
    inmate = make_inmate(
        facility, rutan_officer, full_name=person, nik=nik, registration_number=f"{name}.001/2023"
    )
    twin = make_inmate(
        facility, rutan_officer, full_name=f"{person} Dua", nik=nik2, registration_number=f"{name}.002/2023"
    )
    dpt_file = DptFile.objects.create(name=f"dpt-{name}.csv", regency_id=regency_code, row_count=1)
    dpt_record = DptRecord.objects.create(
        dpt_file=dpt_file,
        line=2,
        regency_code=regency_code,
        nik=nik,
        name=f"Pemilih{name.capitalize()} Dpt",
        tps="005",
    )
    pair = DuplicateCandidate.objects.create(
        inmate_a=inmate, inmate_b=twin, score=0.9, reasons=["name_similar"]
    )
    dpt_pair = DuplicateCandidate.objects.create(
        kind="dpt", inmate_a=inmate, dpt_record=dpt_record, score=0.99, reasons=["nik_exact"]
    )
    import_job = ImportJob.objects.create(
        facility=facility,
        file=f"imports/{name}-upload.csv",
        original_name=f"{name}-upload-rahasia.csv",
        created_by=rutan_officer,
        status=ImportJob.Status.PREVIEW,
    )
    dedup_run = DedupRun.objects.create(facility=facility, started_by=rutan_officer)
    voter_list = VoterList.objects.create(
        election=election,
        facility=facility,
        version=1,
        judged_on=election.voting_day,
        created_by=rutan_officer,
    )
    VoterListEntry.objects.create(
        voter_list=voter_list,
        inmate=inmate,
        registration_number=inmate.registration_number,
        full_name=inmate.full_name,
        nik=inmate.nik,
        status="eligible",
        category="DPT",
    )
    list_event = VoterListEvent.objects.create(voter_list=voter_list, action="generated", user=rutan_officer)
    # Submitted: the state in which KPU may act on it and the officer may not edit.
    VoterList.objects.filter(pk=voter_list.pk).update(status=VoterList.Status.SUBMITTED)
    tps = Tps.objects.create(election=election, facility=facility, number="901", capacity=300)
    assignment = TpsAssignment.objects.create(election=election, tps=tps, inmate=inmate, order_number=1)
    allocation = BallotAllocation.objects.create(tps=tps, ballot_type="PPWP", voters=1, reserve=1, total=2)
    access_log = AccessLog.objects.create(
        user=rutan_officer, action="export_full_nik", facility=facility, target=f"{name}-akses-rahasia"
    )
    event = inmate.custody_events.get()
    side = Side(name, facility, rutan_officer, kpu_officer)
    side.objects = {
        "inmates.Inmate": inmate,
        "inmates.Facility": facility,
        "inmates.User": rutan_officer,
        "inmates.CustodyEvent": event,
        "inmates.ImportJob": import_job,
        "inmates.DptFile": dpt_file,
        "inmates.DptRecord": dpt_record,
        "inmates.DuplicateCandidate": pair,
        "inmates.DedupRun": dedup_run,
        "inmates.AccessLog": access_log,
        "dpt_pair": dpt_pair,
        "tps.VoterList": voter_list,
        "tps.VoterListEvent": list_event,
        "tps.Tps": tps,
        "tps.TpsAssignment": assignment,
        "tps.BallotAllocation": allocation,
    }
    side.markers = [
        person,
        nik,
        nik2,
        f"Pemilih{name.capitalize()} Dpt",
        f"{name}-upload-rahasia",
        f"{name}-akses-rahasia",
    ]
    return side


@pytest.fixture
def world(
    blora,
    pati,
    rutan_blora_officer,
    rutan_pati_officer,
    kpu_blora_officer,
    kpu_pati_officer,
    admin_user,
    make_inmate,
):
    election = Election.objects.create(
        code="auth-test",
        name="Pemilu Uji",
        type="pemilu",
        voting_day=datetime.date(2029, 2, 14),
        ballot_types=["PPWP", "DPR", "DPD", "DPRD_PROV", "DPRD_KABKOTA"],
    )
    eligibility_run = EligibilityRun.objects.create(
        election=election, judged_on=election.voting_day, started_by=admin_user
    )
    # Runs of TPS planning/exports: one the admin started, and one per side started by its KPU officer.
    station_run = StationRun.objects.create(
        kind="plan", election=election, facility_codes=[blora.code, pati.code], total=2, started_by=admin_user
    )
    station_runs = {
        name: StationRun.objects.create(
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
        for name, facility, kpu_officer in (
            ("blora", blora, kpu_blora_officer),
            ("pati", pati, kpu_pati_officer),
        )
    }
    sides = {
        "blora": _build_side(
            "blora",
            blora,
            rutan_blora_officer,
            kpu_blora_officer,
            election,
            make_inmate,
            "33.16",
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
            "33.18",
            "3318012005880002",
            "3318016005880003",
        ),
    }
    return {
        "sides": sides,
        "election": election,
        "eligibility_run": eligibility_run,
        "station_run": station_run,
        "station_runs": station_runs,
        "admin": admin_user,
    }


# --- the database must not change when a write is refused -------------------------------------------


def snapshot() -> str:
    digest = hashlib.sha256()
    for model in sorted(apps.get_models(), key=lambda m: m._meta.label):
        if model._meta.app_label not in ("inmates", "tps"):
            continue
        rows = model._default_manager.order_by("pk").values_list()
        digest.update(model._meta.label.encode())
        digest.update(repr(list(rows)).encode())
    return digest.hexdigest()


# --- the rules ------------------------------------------------------------------------------------------

# Admin models without an owner: reference data, or only for admins.
GLOBAL_ADMIN_MODELS = {
    "inmates.Region",
    "tps.Election",
    "tps.Dapil",
    # Only for admins: officers' groups carry no permission on them.
    "auth.Group",
    "django_tasks_database.DBTaskResult",
    "axes.AccessAttempt",
    "axes.AccessLog",
    "axes.AccessFailureLog",
}

# Non-admin URLs: how to fill the URL for a side, and whether it writes.
#   ("object", builder, writes)  a page about one side's object
#   ("page", None, False)        a page with no object: it must show no foreign data
ONE = ("page", None, False)


def _obj(key):
    return lambda world, side: {"pk": world["sides"][side].objects[key].pk}


def _facility_page(world, side):
    return {"election_code": world["election"].code, "facility_code": world["sides"][side].facility.code}


APP_RULES = {
    "set_language": ONE,
    "home": ONE,
    "inmates:import_upload": ONE,
    "inmates:import_template": ONE,
    "inmates:import_detail": ("object", _obj("inmates.ImportJob"), False),
    "inmates:import_status": ("object", _obj("inmates.ImportJob"), False),
    "inmates:import_problems_csv": ("object", _obj("inmates.ImportJob"), False),
    "inmates:import_confirm": ("object", _obj("inmates.ImportJob"), True),
    "inmates:import_cancel": ("object", _obj("inmates.ImportJob"), True),
    "inmates:duplicate_compare": ("object", _obj("inmates.DuplicateCandidate"), False),
    "inmates:duplicate_merge": ("object", _obj("inmates.DuplicateCandidate"), True),
    "inmates:duplicate_dismiss": ("object", _obj("inmates.DuplicateCandidate"), True),
    "inmates:dpt_match_confirm": ("object", _obj("dpt_pair"), True),
    "inmates:dedup_run_start": ONE,
    "inmates:dedup_run": ("object", _obj("inmates.DedupRun"), False),
    "inmates:dedup_run_status": ("object", _obj("inmates.DedupRun"), False),
    "inmates:dpt_upload": ONE,
    "tps:voterlist_generate": ONE,
    "tps:voterlist_detail": ("object", _obj("tps.VoterList"), False),
    "tps:voterlist_changes": ("object", _obj("tps.VoterList"), False),
    "tps:voterlist_export": ("object", _obj("tps.VoterList"), False),
    "tps:voterlist_regenerate": ("object", _obj("tps.VoterList"), True),
    "tps:voterlist_submit": ("object", _obj("tps.VoterList"), True),
    "tps:voterlist_accept": ("object", _obj("tps.VoterList"), True),
    "tps:voterlist_return": ("object", _obj("tps.VoterList"), True),
    "tps:facility_changes": ("object", _obj("inmates.Facility"), False),
    "tps:facility_projection": (
        "object",
        lambda world, side: {"pk": world["sides"][side].facility.pk, "election_pk": world["election"].pk},
        False,
    ),
    "tps:election_eligibility": ("global", lambda world, side: {"pk": world["election"].pk}, False),
    "tps:eligibility_run": ("admin_object", lambda world, side: {"pk": world["eligibility_run"].pk}, False),
    "tps:station_runs": ("global", lambda world, side: {"election_code": world["election"].code}, False),
    # A run is seen by its starter and admins only: another officer's run is a 404, even in one's regency.
    "tps:station_run": ("object", lambda world, side: {"pk": world["station_runs"][side].pk}, False),
    "tps:station_run_download": (
        "object",
        lambda world, side: {"pk": world["station_runs"][side].pk},
        False,
    ),
    "tps:dashboard": ONE,
    "tps:stations_index": ONE,
    "tps:stations_recap": ("global", lambda world, side: {"election_code": world["election"].code}, False),
    "tps:stations_facility": ("object", _facility_page, False),
    "tps:stations_plan": ("object", _facility_page, True),
    "tps:stations_fix_logistics": ("object", _facility_page, True),
    "tps:stations_export": (
        "object",
        lambda world, side: {**_facility_page(world, side), "fmt": "xlsx"},
        False,
    ),
    "tps:stations_print": ("object", _facility_page, False),
    "tps:stations_tps": (
        "object",
        lambda world, side: {**_facility_page(world, side), "number": "901"},
        False,
    ),
}

# Admin pages that are not per-model CRUD.
ADMIN_RULES = {
    "admin:index": ONE,
    "admin:login": ONE,
    "admin:logout": ("logout", None, False),
    "admin:jsi18n": ONE,
    "admin:autocomplete": ("autocomplete", None, False),
    "admin:view_on_site": ("view_on_site", None, False),
    "admin:app_list": ("app_list", None, False),
    "admin:password_change": ONE,
    "admin:password_change_done": ONE,
    "admin:inmates_inmate_export": ("admin_export", None, False),
    "admin:inmates_inmate_export_full": ("admin_export", None, False),
    "admin:tps_dapil_import": ONE,
    "admin:auth_user_password_change": ("user_password", None, True),
    "admin:inmates_user_password_change": ("user_password", None, True),
}

MODEL_URL_SUFFIXES = ("changelist", "add", "change", "delete", "history", "simple_history", "autocomplete")


def url_names() -> list[str]:
    def walk(patterns, namespace=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = namespace
                if pattern.namespace:
                    inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
                yield from walk(pattern.url_patterns, inner)
            elif isinstance(pattern, URLPattern):
                name = pattern.name or ""
                yield f"{namespace}:{name}" if namespace else name

    return sorted(set(walk(get_resolver().url_patterns)))


def model_url_names() -> set[str]:
    names = set()
    for model in admin.site._registry:
        for suffix in MODEL_URL_SUFFIXES:
            names.add(f"admin:{model._meta.app_label}_{model._meta.model_name}_{suffix}")
    return names


def test_every_url_has_a_rule():
    covered = set(APP_RULES) | set(ADMIN_RULES) | model_url_names() | {"admin:"}
    missing = [name for name in url_names() if name not in covered]
    assert not missing, f"URLs without an authorization rule in {__file__}: {missing}"


def test_every_admin_model_has_an_owner_rule():
    missing = []
    for model in admin.site._registry:
        label = model._meta.label
        if label not in GLOBAL_ADMIN_MODELS and label not in _ADMIN_OBJECT_KEYS:
            missing.append(label)
    assert not missing, f"admin models without an owner rule: {missing}"


_ADMIN_OBJECT_KEYS = {
    "inmates.Inmate",
    "inmates.Facility",
    "inmates.User",
    "inmates.ImportJob",
    "inmates.DptFile",
    "inmates.DptRecord",
    "inmates.DuplicateCandidate",
    "inmates.DedupRun",
    "inmates.AccessLog",
    "tps.VoterList",
    "tps.VoterListEvent",
    "tps.Tps",
    "tps.TpsAssignment",
    "tps.BallotAllocation",
}


# --- the checks ---------------------------------------------------------------------------------------


def _assert_nothing_foreign(response, foreign: Side, context: str, echoed: str = ""):
    if response.status_code >= 500:
        raise AssertionError(f"{context}: server error {response.status_code}")
    if getattr(response, "streaming", False):
        body = b"".join(response.streaming_content).decode("utf-8", "replace")
    else:
        body = response.content.decode("utf-8", "replace")
    for marker in foreign.markers:
        if marker == echoed:
            continue  # the search box repeats what was typed; the other markers tell
        assert marker not in body, f"{context}: shows {marker!r} of {foreign.name}"


def _check_foreign_get(client, url, foreign, context):
    response = client.get(url)
    assert response.status_code in FORBIDDEN, f"{context}: GET gave {response.status_code}"
    _assert_nothing_foreign(response, foreign, context)


def _check_foreign_post(client, url, foreign, context, data=None):
    before = snapshot()
    response = client.post(url, data or {})
    assert response.status_code in FORBIDDEN, f"{context}: POST gave {response.status_code}"
    _assert_nothing_foreign(response, foreign, context)
    assert snapshot() == before, f"{context}: POST changed the database"


ROLE_FIXTURES = {
    "rutan_blora": "rutan_blora_officer",
    "kpu_blora": "kpu_blora_officer",
    "rutan_pati": "rutan_pati_officer",
}


def _own_and_foreign(role: str) -> tuple[str, str]:
    return ("pati", "blora") if role.endswith("pati") else ("blora", "pati")


@pytest.mark.parametrize("role", sorted(ROLE_FIXTURES))
def test_admin_pages_give_no_foreign_data_and_take_no_foreign_writes(role, world, client, request):
    user = request.getfixturevalue(ROLE_FIXTURES[role])
    own, other = _own_and_foreign(role)
    foreign = world["sides"][other]
    client.force_login(user)
    for model, model_admin in admin.site._registry.items():
        label = model._meta.label
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        changelist = reverse(f"{prefix}_changelist")
        for term in ("", *foreign.markers[:3]):
            response = client.get(changelist, {"q": term} if term else {})
            _assert_nothing_foreign(response, foreign, f"{role} {label} changelist q={term}", echoed=term)
        _assert_nothing_foreign(client.get(reverse(f"{prefix}_add")), foreign, f"{role} {label} add")
        for field_name in getattr(model_admin, "autocomplete_fields", ()):
            related = model._meta.get_field(field_name).related_model
            for marker in foreign.markers[:1]:
                response = client.get(
                    reverse("admin:autocomplete"),
                    {
                        "app_label": model._meta.app_label,
                        "model_name": model._meta.model_name,
                        "field_name": field_name,
                        "term": marker,
                    },
                )
                _assert_nothing_foreign(
                    response, foreign, f"{role} autocomplete {label}.{field_name}->{related}", echoed=marker
                )
        if label in GLOBAL_ADMIN_MODELS:
            continue
        obj = foreign.objects[label]
        for view in ("change", "history", "delete"):
            url = reverse(f"{prefix}_{view}", args=[obj.pk])
            _check_foreign_get(client, url, foreign, f"{role} {label} {view} of {other}")
        _check_foreign_post(
            client, reverse(f"{prefix}_change", args=[obj.pk]), foreign, f"{role} {label} change POST"
        )
        _check_foreign_post(
            client,
            reverse(f"{prefix}_delete", args=[obj.pk]),
            foreign,
            f"{role} {label} delete POST",
            {"post": "yes"},
        )
        history = getattr(obj, "history", None)
        if history is not None and hasattr(model_admin, "history_form_view"):
            version = history.first()
            url = reverse(f"{prefix}_simple_history", args=[obj.pk, version.history_id])
            _check_foreign_get(client, url, foreign, f"{role} {label} history version of {other}")
            _check_foreign_post(client, url, foreign, f"{role} {label} history revert POST")


@pytest.mark.parametrize("role", sorted(ROLE_FIXTURES))
def test_app_pages_give_no_foreign_data_and_take_no_foreign_writes(role, world, client, request):
    user = request.getfixturevalue(ROLE_FIXTURES[role])
    own, other = _own_and_foreign(role)
    foreign = world["sides"][other]
    client.force_login(user)
    for name, (kind, build, writes) in APP_RULES.items():
        if kind == "page":
            if name == "set_language":
                continue
            _assert_nothing_foreign(client.get(reverse(name)), foreign, f"{role} {name}")
            continue
        if kind == "global":
            _assert_nothing_foreign(
                client.get(reverse(name, kwargs=build(world, other))), foreign, f"{role} {name}"
            )
            continue
        url = reverse(name, kwargs=build(world, other))
        _check_foreign_get(client, url, foreign, f"{role} {name} of {other}") if not writes else None
        if writes:
            _check_foreign_post(client, url, foreign, f"{role} {name} POST on {other}")
        own_url = reverse(name, kwargs=build(world, own))
        if not writes and kind == "object":
            response = client.get(own_url)
            assert response.status_code < 500, f"{role} {name} of own: {response.status_code}"


def test_admin_only_objects_are_refused_to_officers(world, client, rutan_blora_officer, kpu_blora_officer):
    for user in (rutan_blora_officer, kpu_blora_officer):
        client.force_login(user)
        url = reverse("tps:eligibility_run", kwargs={"pk": world["eligibility_run"].pk})
        assert client.get(url).status_code in (403, 404)
        for name in ("tps:station_run", "tps:station_run_download"):
            url = reverse(name, kwargs={"pk": world["station_run"].pk})
            assert client.get(url).status_code == 404
        assert client.get(reverse("admin:inmates_accesslog_changelist")).status_code == 403


@pytest.mark.parametrize("role", sorted(ROLE_FIXTURES))
def test_no_run_starts_for_a_foreign_regency(role, world, client, request):
    user = request.getfixturevalue(ROLE_FIXTURES[role])
    _own, other = _own_and_foreign(role)
    foreign = world["sides"][other]
    client.force_login(user)
    url = reverse("tps:station_runs", kwargs={"election_code": world["election"].code})
    for kind in ("plan", "export"):
        before = snapshot()
        response = client.post(url, {"kind": kind, "regency": foreign.facility.regency_id, "fmt": "xlsx"})
        assert response.status_code in (200, 403), f"{role} {kind} run for {other}: {response.status_code}"
        _assert_nothing_foreign(response, foreign, f"{role} {kind} run for {other}")
        assert snapshot() == before, f"{role} {kind} run for {other} changed the database"


def test_view_on_site_does_not_reveal_foreign_objects(world, client, rutan_blora_officer):
    from django.contrib.contenttypes.models import ContentType

    client.force_login(rutan_blora_officer)
    inmate = world["sides"]["pati"].objects["inmates.Inmate"]
    content_type = ContentType.objects.get_for_model(inmate)
    response = client.get(reverse("admin:view_on_site", args=[content_type.pk, inmate.pk]))
    assert response.status_code in (403, 404)


def test_anonymous_users_get_the_login_page_everywhere(world, client):
    for name, (_kind, build, _writes) in APP_RULES.items():
        if name in ("set_language", "home"):
            continue
        kwargs = build(world, "blora") if build else {}
        response = client.get(reverse(name, kwargs=kwargs))
        assert response.status_code in (302, 403, 404, 405), f"anonymous {name}: {response.status_code}"
        if response.status_code == 302:
            assert "login" in response["Location"], f"anonymous {name} redirected to {response['Location']}"


def test_the_world_really_has_foreign_data_to_leak(world, client, admin_user):
    """Guard against a test that cannot fail: the admin does see both sides."""
    client.force_login(admin_user)
    body = client.get(reverse("admin:inmates_inmate_changelist")).content.decode()
    assert world["sides"]["pati"].markers[0] in body
    assert world["sides"]["blora"].markers[0] in body
