"""National scale (issue 8): the estimated-count paginator, indexed admin search, a constant
number of queries per changelist page, the PostgreSQL indexes and ``seed_scale``.

Timings are the benchmark's business (``make bench-scale``); these tests pin the
behaviour that keeps pages fast: no exact COUNT over a big table on PostgreSQL,
no query per row, searches that go to the right columns.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import re

import pytest
import time_machine
from django.contrib import admin
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from inmates.models import CustodyEvent, DptFile, DptRecord, DuplicateCandidate, Facility, Inmate, User
from tests.stations_support import bulk_inmates
from voterreg.paginators import EstimatedCountPaginator, estimated_count
from voterreg.scale_search import search_filter, search_words

pytestmark = pytest.mark.django_db

sqlite_only = pytest.mark.skipif("connection.vendor != 'sqlite'", reason="SQLite behaviour")


def count_queries(captured) -> list[str]:
    return [query["sql"] for query in captured.captured_queries if "COUNT(" in query["sql"].upper()]


def analyze(table: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {table}")


# --- the paginator ------------------------------------------------------------------------


@sqlite_only
def test_paginator_counts_exactly_on_sqlite(blora):
    bulk_inmates(blora, 30)
    paginator = EstimatedCountPaginator(Inmate.objects.order_by("pk"), 10, exact_limit=5)
    assert paginator.count == 30
    assert paginator.num_pages == 3
    assert paginator.is_estimate is False
    assert estimated_count(Inmate.objects.all()) is None


@pytest.mark.postgres
def test_paginator_never_counts_a_big_result_exactly_on_postgresql(blora):
    bulk_inmates(blora, 30)
    analyze("inmates_inmate")
    queryset = Inmate.objects.filter(facility=blora).order_by("full_name")
    with CaptureQueriesContext(connection) as captured:
        paginator = EstimatedCountPaginator(queryset, 10, exact_limit=5)
        count = paginator.count
    assert paginator.is_estimate is True
    assert count >= 6
    counts = count_queries(captured)
    # The only COUNT stops after exact_limit + 1 rows; the rest is EXPLAIN or pg_class.
    assert len(counts) == 1
    assert re.search(r"LIMIT 6\b", counts[0])
    assert any(query["sql"].startswith("EXPLAIN") for query in captured.captured_queries)


@pytest.mark.postgres
def test_paginator_reads_the_table_estimate_for_an_unfiltered_list(blora):
    bulk_inmates(blora, 30)
    analyze("inmates_inmate")
    with CaptureQueriesContext(connection) as captured:
        count = EstimatedCountPaginator(Inmate.objects.order_by("pk"), 10, exact_limit=5).count
    assert count == 30  # freshly analysed: the estimate is the row count
    assert any("pg_class" in query["sql"] for query in captured.captured_queries)
    assert not any(query["sql"].startswith("EXPLAIN") for query in captured.captured_queries)


@pytest.mark.postgres
def test_paginator_is_exact_below_the_limit_on_postgresql(blora, pati):
    bulk_inmates(blora, 30)
    bulk_inmates(pati, 3, prefix="Pati")
    paginator = EstimatedCountPaginator(Inmate.objects.filter(facility=pati), 10, exact_limit=5)
    assert paginator.count == 3
    assert paginator.is_estimate is False


def test_paginator_accepts_a_plain_list():
    paginator = EstimatedCountPaginator(list(range(25)), 10, exact_limit=5)
    assert (paginator.count, paginator.num_pages) == (25, 3)


def test_inmate_changelist_shows_the_estimate_without_an_exact_count(client, admin_user, blora):
    bulk_inmates(blora, 12)
    if connection.vendor == "postgresql":
        analyze("inmates_inmate")
    model_admin = admin.site._registry[Inmate]
    original = EstimatedCountPaginator.exact_limit
    EstimatedCountPaginator.exact_limit = 5
    try:
        client.force_login(admin_user)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(reverse("admin:inmates_inmate_changelist"))
    finally:
        EstimatedCountPaginator.exact_limit = original
    assert response.status_code == 200
    assert model_admin.paginator is EstimatedCountPaginator
    assert response.context["cl"].result_count >= 6
    if connection.vendor == "postgresql":
        assert all("LIMIT" in sql for sql in count_queries(captured))


# --- search -------------------------------------------------------------------------------


def test_search_words_keep_quoted_phrases():
    assert search_words(' budi  "slamet riyadi" ') == ["budi", "slamet riyadi"]
    assert search_words("") == []


def test_a_full_nik_is_compared_exactly_and_never_as_a_name():
    condition = search_filter("3316011708900001", nik_fields=["nik", "nkk"], name_fields=["full_name"])
    assert str(condition) == "(OR: ('nik__exact', '3316011708900001'), ('nkk__exact', '3316011708900001'))"


def test_words_without_digits_search_names_only():
    condition = search_filter(
        "budi santoso", nik_fields=["nik"], name_fields=["full_name"], number_fields=["registration_number"]
    )
    assert str(condition) == "(AND: ('full_name__icontains', 'budi'), ('full_name__icontains', 'santoso'))"


def test_short_digit_words_search_registration_numbers_and_nik_prefixes():
    condition = search_filter("3316", nik_fields=["nik"], name_fields=["full_name"], number_fields=["reg"])
    assert str(condition) == "(OR: ('reg__icontains', '3316'), ('nik__startswith', '3316'))"


def test_a_word_without_fields_of_its_kind_matches_nothing(blora):
    bulk_inmates(blora, 2)
    condition = search_filter("WBP.001", name_fields=["full_name"])
    assert not Inmate.objects.filter(condition).exists()


def changelist(client, user, **params):
    client.force_login(user)
    response = client.get(reverse("admin:inmates_inmate_changelist"), params)
    assert response.status_code == 200
    return {inmate.full_name for inmate in response.context["cl"].result_list}


def test_inmate_search_by_nik_finds_exactly_that_record(client, admin_user, blora):
    bulk_inmates(blora, 3)  # NIKs ...0001, ...0002, ...0003
    assert changelist(client, admin_user, q="3316011708900002") == {"Voter 0002"}


def test_inmate_search_by_nkk_and_by_registration_number(client, admin_user, blora):
    inmates = bulk_inmates(blora, 3)
    Inmate.objects.filter(pk=inmates[0].pk).update(nkk="3316012005150099")
    assert changelist(client, admin_user, q="3316012005150099") == {"Voter 0001"}
    assert changelist(client, admin_user, q="VOT.00003") == {"Voter 0003"}


def test_inmate_search_by_name_is_case_insensitive_and_ands_words(client, admin_user, blora):
    bulk_inmates(blora, 2)
    bulk_inmates(blora, 1, prefix="Slamet Riyadi", start=7)
    assert changelist(client, admin_user, q="riyadi") == {"Slamet Riyadi 0007"}
    assert changelist(client, admin_user, q="SLAMET 0007") == {"Slamet Riyadi 0007"}
    assert changelist(client, admin_user, q="slamet 0001") == set()


def test_inmate_search_stays_in_the_users_scope(client, rutan_pati_officer, blora, pati):
    bulk_inmates(blora, 2, prefix="Budi")
    bulk_inmates(pati, 1, prefix="Budi Pati", start=5)
    assert changelist(client, rutan_pati_officer, q="budi") == {"Budi Pati 0005"}
    assert changelist(client, rutan_pati_officer, q="3316011708900001") == set()


def test_facility_filter_lists_only_the_facilities_in_scope(client, kpu_blora_officer, blora, pati):
    bulk_inmates(blora, 1)
    client.force_login(kpu_blora_officer)
    response = client.get(reverse("admin:inmates_inmate_changelist"))
    spec = next(
        spec
        for spec in response.context["cl"].filter_specs
        if getattr(spec, "parameter_name", "") == "facility__id__exact"
    )
    assert [label for _value, label in spec.lookup_choices] == ["Rutan Kelas IIB Blora"]
    filtered = client.get(reverse("admin:inmates_inmate_changelist"), {"facility__id__exact": pati.pk})
    assert list(filtered.context["cl"].result_list) == []


@pytest.mark.parametrize("model", [Inmate, DuplicateCandidate, DptRecord])
def test_big_changelists_use_the_estimated_count_paginator(model):
    assert admin.site._registry[model].paginator is EstimatedCountPaginator


def _dpt_search(client, user, q: str) -> set[str]:
    client.force_login(user)
    response = client.get(reverse("admin:inmates_dptrecord_changelist"), {"q": q})
    assert response.status_code == 200
    return {record.name for record in response.context["cl"].result_list}


def test_dpt_search_by_full_nik_is_exact(client, kpu_blora_officer):
    _dpt("33.16", 12)  # NIKs 33160117089000002 ... and names PEMILIH 0002 ...
    assert _dpt_search(client, kpu_blora_officer, "3316011708900011") == {"PEMILIH 0011"}


def test_dpt_search_by_name_is_a_case_insensitive_substring_of_every_word(client, kpu_blora_officer):
    dpt_file = _dpt("33.16", 3)
    dpt_file.records.filter(line=3).update(name="SITI AMINAH BINTI SLAMET")
    assert _dpt_search(client, kpu_blora_officer, "aminah slamet") == {"SITI AMINAH BINTI SLAMET"}
    assert _dpt_search(client, kpu_blora_officer, "aminah budi") == set()


def test_dpt_search_stays_in_the_officers_regency(client, kpu_pati_officer):
    _dpt("33.16", 3)
    assert _dpt_search(client, kpu_pati_officer, "pemilih") == set()


def test_duplicate_pair_search_by_name_finds_either_side(client, admin_user, blora):
    _rows(blora, 4, start=1)
    first = DuplicateCandidate.objects.filter(kind=DuplicateCandidate.Kind.INMATE_PAIR).order_by("pk").first()
    Inmate.objects.filter(pk=first.inmate_b_id).update(full_name="Siti Aminah")
    client.force_login(admin_user)
    response = client.get(reverse("admin:inmates_duplicatecandidate_changelist"), {"q": "AMINAH"})
    assert [pair.pk for pair in response.context["cl"].result_list] == [first.pk]


# --- a constant number of queries per page ------------------------------------------------------


def _dpt(regency: str, rows: int, name: str = "DPT") -> DptFile:
    dpt_file = DptFile.objects.create(name=f"{name}_{regency}.csv", regency_id=regency, row_count=rows)
    DptRecord.objects.bulk_create(
        DptRecord(
            dpt_file=dpt_file,
            line=line,
            regency_code=regency,
            nik=f"33160117089{line:05d}",
            name=f"PEMILIH {line:04d}",
            birth_date=datetime.date(1990, 8, 17),
            sex="L",
            tps="001",
        )
        for line in range(2, rows + 2)
    )
    return dpt_file


def _rows(facility: Facility, count: int, start: int) -> None:
    """``count`` more rows on each list: inmates (2 per pair), DPT records and duplicate pairs."""
    inmates = bulk_inmates(facility, 2 * count, prefix=f"Pair{start}", start=start)
    dpt = _dpt(facility.regency_id, count, name=f"DPT{start}").records.order_by("line")
    DuplicateCandidate.objects.bulk_create(
        [
            DuplicateCandidate(inmate_a=inmates[2 * i], inmate_b=inmates[2 * i + 1], score=0.9, reasons=["x"])
            for i in range(count // 2)
        ]
        + [
            DuplicateCandidate(
                kind=DuplicateCandidate.Kind.DPT,
                inmate_a=inmates[i],
                dpt_record=record,
                score=0.85,
                reasons=["x"],
            )
            for i, record in zip(range(count // 2, count), dpt, strict=False)
        ]
    )


def page_queries(client, user, url: str) -> tuple[int, int]:
    client.force_login(user)
    client.get(url)  # sessions, permissions and translations warmed
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    rows = len(response.context["cl"].result_list)
    return rows, len(captured.captured_queries)


CHANGELISTS = [
    "admin:inmates_inmate_changelist",
    "admin:inmates_duplicatecandidate_changelist",
    "admin:inmates_dptrecord_changelist",
]


@pytest.mark.parametrize("name", CHANGELISTS)
@pytest.mark.parametrize("who", ["admin_user", "kpu_blora_officer"])
def test_changelist_queries_do_not_grow_with_the_rows(client, request, blora, name, who):
    user = request.getfixturevalue(who)
    url = reverse(name)
    _rows(blora, 5, start=1)
    few_rows, few_queries = page_queries(client, user, url)
    _rows(blora, 45, start=100)
    many_rows, many_queries = page_queries(client, user, url)
    assert (few_rows, many_rows) != (0, 0)
    assert many_rows > few_rows
    assert many_queries == few_queries


# --- PostgreSQL indexes --------------------------------------------------------------------


@pytest.mark.postgres
def test_trigram_and_changelist_indexes_exist_on_postgresql():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()")
        names = {row[0] for row in cursor.fetchall()}
    assert {
        "inmate_full_name_trgm",
        "dptrecord_name_trgm",
        "inmate_nkk_idx",
        "dptrecord_regency_file_line_idx",
    } <= names


@pytest.mark.postgres
def test_name_search_can_use_the_trigram_index(blora):
    bulk_inmates(blora, 5)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = Inmate.objects.filter(full_name__icontains="oter").order_by().explain()
    assert "inmate_full_name_trgm" in plan


# --- seed_scale ----------------------------------------------------------------------------


def seed(*extra: str) -> dict:
    from io import StringIO

    out = StringIO()
    call_command(
        "seed_scale",
        "--inmates",
        "200",
        "--facilities",
        "3",
        "--dpt",
        "500",
        "--password",
        "scale-test-password",
        "--officers",
        "1",
        "--json",
        *extra,
        stdout=out,
        stderr=StringIO(),
    )
    return json.loads(out.getvalue())


def test_seed_scale_writes_a_small_national_register(regions):
    result = seed()
    facilities = Facility.objects.filter(code__startswith="scale-")
    assert facilities.count() == 3
    assert Inmate.objects.filter(facility__in=facilities).count() == 200
    assert DptRecord.objects.filter(dpt_file__name__startswith="scale_DPT_").count() == 500
    assert result["counts"]["inmates"] == 200
    assert result["counts"]["tps"] >= 3
    assert DuplicateCandidate.objects.exists()
    # Sentenced inmates with release dates, detainees without: both kinds exist.
    assert Inmate.objects.filter(custody_type="narapidana", expected_release_date__isnull=False).exists()
    assert Inmate.objects.filter(custody_type="tahanan", expected_release_date__isnull=True).exists()
    assert not Facility.objects.filter(name__startswith="Rutan Bench").exists()
    roles = dict(User.objects.filter(username__startswith="scale_").values_list("username", "role"))
    assert roles["scale_admin"] == "admin" and roles["scale_kpu"] == "kpu" and roles["scale_rutan"] == "rutan"
    kpu = User.objects.get(username="scale_kpu")
    assert kpu.check_password("scale-test-password")
    assert Inmate.objects.for_user(kpu).exists()


def test_seed_scale_again_replaces_the_earlier_data(regions):
    seed("--no-dedup")
    seed("--no-dedup", "--no-tps")
    assert Facility.objects.filter(code__startswith="scale-").count() == 3
    assert Inmate.objects.filter(facility__code__startswith="scale-").count() == 200
    assert DptRecord.objects.count() == 500


def test_seed_scale_needs_a_password_when_debug_is_off(regions, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--password"):
        call_command("seed_scale", "--inmates", "10", "--facilities", "1", "--dpt", "10", "--no-dedup")
    assert not Facility.objects.filter(code__startswith="scale-").exists()


def test_seed_scale_refuses_negative_sizes(regions):
    with pytest.raises(CommandError):
        call_command("seed_scale", "--inmates", "-5", "--facilities", "1", "--dpt", "10")


# --- the dashboard: bulk reads, same figures ---------------------------------------------------


@pytest.fixture
def planned_facilities(regions, blora, pati):
    """Three facilities with voters on planned TPS (Blora and Cepu in Kab. Blora, Pati), a release, no NIK."""
    from tests.stations_support import TODAY, blora_dapils, home, make_election, make_tps
    from tps.services import stations

    with time_machine.travel(TODAY, tick=False):
        election = make_election()
        blora_dapils(election)
        cepu = Facility.objects.create(code="lapas-cepu", name="Lapas Cepu", regency_id="33.16")
        bulk_inmates(blora, 12, prefix="Blora", domicile_region_id=home("blora_town"))
        bulk_inmates(blora, 2, prefix="Tanpa", nik=None, nkk="")
        bulk_inmates(pati, 5, prefix="Pati", domicile_region_id=home("pati"))
        leaving = bulk_inmates(cepu, 4, prefix="Cepu", domicile_region_id=home("cepu"))
        CustodyEvent.objects.create(
            inmate=leaving[0], kind="release", date=datetime.date(2024, 1, 30), note="x"
        )
        for facility in (blora, pati, cepu):
            make_tps(election, facility)
            stations.tps_plan(election=election, facility=facility, user=None)
    return election


def dashboard_queries(user, election) -> int:
    from tests.stations_support import TODAY
    from tps.dashboard import dashboard_data

    with CaptureQueriesContext(connection) as captured:
        dashboard_data(user=user, election=election, today=TODAY.date())
    return len(captured.captured_queries)


def test_dashboard_queries_do_not_grow_with_the_facilities(planned_facilities, admin_user, kpu_pati_officer):
    # The admin sees three facilities, the KPU Pati officer one: the same queries.
    assert dashboard_queries(admin_user, planned_facilities) == dashboard_queries(
        kpu_pati_officer, planned_facilities
    )


def test_dashboard_figures_equal_the_per_facility_services(planned_facilities, admin_user):
    from tests.stations_support import TODAY
    from tps.dashboard import dashboard_data
    from tps.projection import facility_projection
    from tps.services import stations

    today = TODAY.date()
    data = dashboard_data(user=admin_user, election=planned_facilities, today=today)
    assert len(data.facilities) == 3
    for item in data.facilities:
        expected = facility_projection(election=planned_facilities, facility=item.facility, today=today)
        assert item.eligible == expected.voting_day.eligible
        assert item.projection == [(p.key, p.day, p.in_custody, p.eligible) for p in expected.checkpoints]
        ballots = stations.tps_ballots(election=planned_facilities, facility=item.facility)
        assert item.voters_on_tps == ballots.voters
        assert item.undecided == ballots.undecided_voters
        assert dict(item.ballots) == {code: line.total for code, line in ballots.totals().items()}
    cepu = next(item for item in data.facilities if item.facility.code == "lapas-cepu")
    assert cepu.projection[-1][3] == 3  # one of four released before voting day


def test_dashboard_ballots_come_in_batches_of_whole_facilities(planned_facilities, admin_user, monkeypatch):
    from tests.stations_support import TODAY
    from tps import dashboard

    whole = dashboard.dashboard_data(user=admin_user, election=planned_facilities, today=TODAY.date())
    monkeypatch.setattr(dashboard, "BALLOT_BATCH_TPS", 1)
    batched = dashboard.dashboard_data(user=admin_user, election=planned_facilities, today=TODAY.date())
    assert [(i.voters_on_tps, dict(i.ballots)) for i in batched.facilities] == [
        (i.voters_on_tps, dict(i.ballots)) for i in whole.facilities
    ]


# --- the national dashboard: a snapshot kept by the task worker ---------------------------------


def national_dashboard(user, election):
    from tests.stations_support import TODAY
    from tps.dashboard import dashboard_data

    with time_machine.travel(TODAY, tick=False):
        return dashboard_data(user=user, election=election, today=TODAY.date())


def in_custody_by_code(data) -> dict[str, int]:
    return {item.facility.code: item.in_custody for item in data.facilities}


def test_national_dashboard_shows_the_same_figures_from_its_snapshot(
    planned_facilities, admin_user, settings
):
    live = national_dashboard(admin_user, planned_facilities)
    settings.DASHBOARD_SNAPSHOT_MIN_FACILITIES = 3
    stored = national_dashboard(admin_user, planned_facilities)
    assert live.snapshot is None and stored.snapshot is not None
    assert [item.facility.code for item in stored.facilities] == [
        item.facility.code for item in live.facilities
    ]
    for mine, theirs in zip(stored.facilities, live.facilities, strict=True):
        assert dataclasses.asdict(mine) == dataclasses.asdict(theirs)


def test_national_snapshot_is_served_until_it_is_stale_then_recomputed(
    planned_facilities, admin_user, blora, settings
):
    from tps.models import DashboardSnapshot

    settings.DASHBOARD_SNAPSHOT_MIN_FACILITIES = 3
    first = national_dashboard(admin_user, planned_facilities)
    bulk_inmates(blora, 1, prefix="Baru", start=500)
    # Fresh: the stored figures, without the new inmate.
    assert in_custody_by_code(national_dashboard(admin_user, planned_facilities)) == in_custody_by_code(first)
    # Stale: this view still shows the stored figures and asks the worker (the
    # immediate backend in tests) to recompute them; the next view shows them.
    DashboardSnapshot.objects.update(computed_at=first.snapshot.computed_at - datetime.timedelta(minutes=6))
    stale = national_dashboard(admin_user, planned_facilities)
    assert in_custody_by_code(stale) == in_custody_by_code(first)
    fresh = national_dashboard(admin_user, planned_facilities)
    assert fresh.snapshot.computed_at > stale.snapshot.computed_at
    assert in_custody_by_code(fresh)["rutan-blora"] == in_custody_by_code(first)["rutan-blora"] + 1
    assert DashboardSnapshot.objects.get().refresh_requested_at is None


def test_a_stale_snapshot_is_recomputed_once_however_many_views(
    planned_facilities, admin_user, settings, monkeypatch
):
    from tps import tasks
    from tps.models import DashboardSnapshot

    settings.DASHBOARD_SNAPSHOT_MIN_FACILITIES = 3
    first = national_dashboard(admin_user, planned_facilities)
    DashboardSnapshot.objects.update(computed_at=first.snapshot.computed_at - datetime.timedelta(minutes=6))
    asked = []

    class Worker:
        def enqueue(self, *args):
            asked.append(args)

    monkeypatch.setattr(tasks, "refresh_dashboard", Worker())
    for _view in range(3):
        national_dashboard(admin_user, planned_facilities)
    assert asked == [(planned_facilities.pk,)]


def test_officers_see_live_figures_whatever_the_country_size(
    planned_facilities, kpu_blora_officer, blora, settings
):
    settings.DASHBOARD_SNAPSHOT_MIN_FACILITIES = 1
    before = national_dashboard(kpu_blora_officer, planned_facilities)
    bulk_inmates(blora, 1, prefix="Baru", start=500)
    after = national_dashboard(kpu_blora_officer, planned_facilities)
    assert before.snapshot is None and after.snapshot is None
    assert in_custody_by_code(after)["rutan-blora"] == in_custody_by_code(before)["rutan-blora"] + 1


def test_national_dashboard_page_says_when_its_figures_were_computed(
    client, planned_facilities, admin_user, settings
):
    from tests.stations_support import TODAY

    settings.DASHBOARD_SNAPSHOT_MIN_FACILITIES = 3
    client.force_login(admin_user)
    with time_machine.travel(TODAY, tick=False):
        response = client.get(reverse("tps:dashboard"), {"election": planned_facilities.code})
    assert response.status_code == 200
    assert response.context["dashboard"].snapshot is not None
    assert 'id="dashboard-snapshot"' in response.content.decode()
    assert response.content.decode().count('class="facility"') == 3
