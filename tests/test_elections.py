"""Elections: the reference data (migration, seeder) and the admin (tps/admin/elections.py)."""

from __future__ import annotations

import datetime
import importlib
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.apps import apps
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from tps import demo_elections
from tps.models import Election, VoterList
from tps.models.voterlists import EligibilityRun
from tps.services import voterlists as voterlist_services
from tps.services.elections import REFERENCE_ELECTIONS, election_save, reference_elections_ensure

pytestmark = pytest.mark.django_db

MIGRATION = importlib.import_module("tps.migrations.0004_lists_reference_elections")
PILKADA_RATE_MIGRATION = importlib.import_module("tps.migrations.0008_pilkada_2024_reserve_rate")


def test_the_migrations_and_the_service_hold_the_same_reference_values():
    def plain(specs):
        return [{key: str(value) for key, value in spec.items()} for spec in specs]

    migrated = [dict(spec) for spec in MIGRATION.REFERENCE_ELECTIONS]
    for spec in migrated:
        if spec["code"] == PILKADA_RATE_MIGRATION.CODE:
            spec["ballot_reserve_rate"] = PILKADA_RATE_MIGRATION.PILKADA_RATE
    assert plain(migrated) == plain(REFERENCE_ELECTIONS)


def test_pemilu_2024_is_reference_data():
    pemilu = reference_elections_ensure()["pemilu-2024"]
    assert (pemilu.name, pemilu.type, pemilu.voting_day) == (
        "Pemilu 2024",
        "pemilu",
        datetime.date(2024, 2, 14),
    )
    assert (pemilu.max_voters_per_tps, pemilu.ballot_reserve_rate) == (300, Decimal("0.0200"))
    assert (pemilu.h30, pemilu.h7) == (datetime.date(2024, 1, 15), datetime.date(2024, 2, 7))
    assert pemilu.ballot_types == ["PPWP", "DPR", "DPD", "DPRD_PROV", "DPRD_KABKOTA"]


def test_pilkada_2024_is_reference_data():
    pilkada = reference_elections_ensure()["pilkada-2024"]
    assert (pilkada.type, pilkada.voting_day, pilkada.max_voters_per_tps) == (
        "pilkada",
        datetime.date(2024, 11, 27),
        600,
    )
    assert pilkada.ballot_types == ["GUBERNUR", "BUPATI_WALIKOTA"]
    assert (pilkada.h30, pilkada.h7) == (datetime.date(2024, 10, 28), datetime.date(2024, 11, 20))


def test_pilkada_2024_reserves_two_and_a_half_percent():
    # UU 1/2015 as amended by UU 8/2015, art. 80(3); Pemilu keeps 2 % (UU 7/2017 art. 344(2)).
    assert reference_elections_ensure()["pilkada-2024"].ballot_reserve_rate == Decimal("0.0250")


def test_the_migration_raises_the_old_pilkada_default_to_two_and_a_half_percent():
    Election.objects.filter(code="pilkada-2024").update(ballot_reserve_rate=Decimal("0.02"))
    PILKADA_RATE_MIGRATION.seed_pilkada_rate(apps, None)
    assert Election.objects.get(code="pilkada-2024").ballot_reserve_rate == Decimal("0.0250")
    assert Election.objects.get(code="pemilu-2024").ballot_reserve_rate == Decimal("0.0200")


def test_the_migration_keeps_an_admins_own_pilkada_rate():
    Election.objects.filter(code="pilkada-2024").update(ballot_reserve_rate=Decimal("0.03"))
    PILKADA_RATE_MIGRATION.seed_pilkada_rate(apps, None)
    assert Election.objects.get(code="pilkada-2024").ballot_reserve_rate == Decimal("0.0300")


def test_the_migration_creates_them_once_and_keeps_corrections():
    Election.objects.all().delete()
    MIGRATION.create_reference_elections(apps, None)
    Election.objects.filter(code="pemilu-2024").update(max_voters_per_tps=500)
    MIGRATION.create_reference_elections(apps, None)
    reference_elections_ensure()
    assert Election.objects.count() == 2
    assert Election.objects.get(code="pemilu-2024").max_voters_per_tps == 500


def test_saving_an_election_fills_the_defaults_of_its_type(admin_user):
    election = election_save(
        election=Election(
            code="pilkada-2029", name="Pilkada 2029", type="pilkada", voting_day=datetime.date(2029, 11, 28)
        ),
        user=admin_user,
    )
    assert election.ballot_types == ["GUBERNUR", "BUPATI_WALIKOTA"]
    assert (election.move_deadline, election.detainee_move_deadline) == (
        datetime.date(2029, 10, 29),
        datetime.date(2029, 11, 21),
    )
    assert election.history.get().history_user == admin_user


# --- validation -------------------------------------------------------------------------------------------


def election(**overrides) -> Election:
    values = {
        "code": "pemilu-2029",
        "name": "Pemilu 2029",
        "type": "pemilu",
        "voting_day": datetime.date(2029, 2, 14),
    }
    values.update(overrides)
    return Election(**values)


def refusal(candidate: Election) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as refused, translation.override("en"):
        election_save(election=candidate, user=None)
    return refused.value.message_dict


def test_a_move_deadline_after_voting_day_is_refused():
    errors = refusal(election(move_deadline=datetime.date(2029, 2, 15)))
    assert errors["move_deadline"] == [
        "The move request deadline (H-30), 15-02-2029, cannot be after voting day (14-02-2029). "
        "Leave it empty for 30 days before voting day."
    ]


def test_a_detainee_move_deadline_after_voting_day_is_refused():
    errors = refusal(election(detainee_move_deadline=datetime.date(2029, 3, 1)))
    assert list(errors) == ["detainee_move_deadline"]
    assert (
        "The detainee move deadline (H-7), 01-03-2029, cannot be after voting day"
        in errors["detainee_move_deadline"][0]
    )


def test_a_detainee_deadline_before_the_ordinary_move_deadline_is_refused():
    errors = refusal(
        election(move_deadline=datetime.date(2029, 2, 1), detainee_move_deadline=datetime.date(2029, 1, 20))
    )
    assert list(errors) == ["detainee_move_deadline"]
    assert (
        "cannot be before the move request deadline (H-30), 01-02-2029" in errors["detainee_move_deadline"][0]
    )


def test_deadlines_on_the_same_day_are_allowed():
    saved = election_save(
        election=election(
            move_deadline=datetime.date(2029, 2, 7), detainee_move_deadline=datetime.date(2029, 2, 7)
        ),
        user=None,
    )
    assert saved.h30 == saved.h7 == datetime.date(2029, 2, 7)


def test_a_pilkada_ballot_in_a_pemilu_is_refused():
    errors = refusal(election(ballot_types=["PPWP", "GUBERNUR"]))
    assert errors["ballot_types"] == [
        "Ballot types Governor (Gubernur) do not belong to a General election (Pemilu). Choose from: "
        "President and Vice President (PPWP), DPR, DPD, DPRD Provinsi, DPRD Kabupaten/Kota."
    ]


def test_a_pemilu_ballot_in_a_pilkada_is_refused():
    errors = refusal(election(code="pilkada-2029", type="pilkada", ballot_types=["GUBERNUR", "DPR"]))
    assert "Ballot types DPR do not belong to a Regional election (Pilkada)" in errors["ballot_types"][0]


def test_moving_voting_day_moves_the_default_deadlines():
    saved = election_save(election=election(), user=None)
    stored = Election.objects.get(pk=saved.pk)
    stored.voting_day = datetime.date(2029, 4, 17)
    election_save(election=stored, user=None)
    stored.refresh_from_db()
    assert (stored.move_deadline, stored.detainee_move_deadline) == (
        datetime.date(2029, 3, 18),
        datetime.date(2029, 4, 10),
    )


def test_moving_voting_day_keeps_deadlines_set_by_hand():
    saved = election_save(election=election(move_deadline=datetime.date(2029, 1, 10)), user=None)
    stored = Election.objects.get(pk=saved.pk)
    stored.voting_day = datetime.date(2029, 4, 17)
    election_save(election=stored, user=None)
    stored.refresh_from_db()
    assert (stored.move_deadline, stored.detainee_move_deadline) == (
        datetime.date(2029, 1, 10),
        datetime.date(2029, 4, 10),
    )


def test_moving_voting_day_earlier_than_a_hand_set_deadline_is_refused():
    saved = election_save(election=election(detainee_move_deadline=datetime.date(2029, 2, 10)), user=None)
    stored = Election.objects.get(pk=saved.pk)
    stored.voting_day = datetime.date(2029, 2, 5)
    assert list(refusal(stored)) == ["detainee_move_deadline"]


def test_the_admin_moves_the_default_deadlines_with_voting_day(client, admin_user):
    reference = reference_elections_ensure()["pemilu-2024"]
    client.force_login(admin_user)
    form = election_form(
        code="pemilu-2024",
        name="Pemilu 2024",
        voting_day="2024-02-21",
        move_deadline="2024-01-15",
        detainee_move_deadline="2024-02-07",
        ballot_types=list(reference.ballot_types),
    )
    response = client.post(reverse("admin:tps_election_change", args=[reference.pk]), form)
    assert response.status_code == 302
    reference.refresh_from_db()
    assert (reference.h30, reference.h7) == (datetime.date(2024, 1, 22), datetime.date(2024, 2, 14))


def test_the_admin_form_shows_the_deadline_error_on_its_field(client, admin_user):
    client.force_login(admin_user)
    response = client.post(reverse("admin:tps_election_add"), election_form(move_deadline="2029-03-01"))
    assert response.status_code == 200
    assert list(response.context["adminform"].form.errors) == ["move_deadline"]
    assert not Election.objects.filter(code="pemilu-2029").exists()


# --- demo ------------------------------------------------------------------------------------------------


def test_the_demo_seeder_builds_a_list_history_once(
    blora, rutan_blora_officer, kpu_blora_officer, make_inmate
):
    for _ in range(4):
        make_inmate(blora, rutan_blora_officer)
    with time_machine.travel(datetime.datetime(2024, 1, 10, tzinfo=ZoneInfo("Asia/Jakarta")), tick=False):
        assert demo_elections.seed_demo() == {"elections": 2, "voter_lists": 2}
        assert demo_elections.seed_demo() == {"elections": 2, "voter_lists": 0}
    first, second = VoterList.objects.order_by("version")
    assert (first.status, second.status, second.previous_accepted) == ("accepted", "draft", first)
    assert second.entries.filter(status="not_eligible").count() == 3
    assert second.entries.filter(category="DPTb", move_form_number__gt="").count() == 1


def test_the_demo_gives_voters_found_on_a_home_dpt_their_move_forms(
    blora, rutan_blora_officer, kpu_blora_officer, make_inmate
):
    from inmates.models import DptFile, DptRecord, DuplicateCandidate

    # Three leave before version 2 and one moves there by hand (see seed_demo): two more stay.
    for _ in range(5):
        make_inmate(blora, rutan_blora_officer)
    on_home_dpt = make_inmate(blora, rutan_blora_officer, full_name="Di DPT Asal")
    with time_machine.travel(datetime.datetime(2024, 1, 10, tzinfo=ZoneInfo("Asia/Jakarta")), tick=False):
        demo_elections.seed_demo()
        dpt_file = DptFile.objects.create(name="DPT Blora.xlsx", regency_id="33.16")
        record = DptRecord.objects.create(
            dpt_file=dpt_file,
            line=1,
            regency_code="33.16",
            nik=on_home_dpt.nik,
            name="DI DPT ASAL",
            tps="004",
        )
        DuplicateCandidate.objects.create(kind="dpt", inmate_a=on_home_dpt, dpt_record=record, score=0.95)
        assert demo_elections.seed_move_forms() == 1
        assert demo_elections.seed_move_forms() == 0
        draft = VoterList.objects.get(status="draft")
        entry = draft.entries.get(inmate=on_home_dpt)
        assert (entry.category, entry.home_tps[:7], entry.move_form_date) == (
            "DPTb",
            "TPS 004",
            datetime.date(2024, 2, 5),
        )
        # The list can go to KPU: every DPTb voter has the form.
        voterlist_services.voterlist_submit(voter_list=draft, user=rutan_blora_officer)


def test_the_demo_seeder_without_demo_accounts_only_ensures_elections():
    Election.objects.all().delete()
    assert demo_elections.seed_demo() == {"elections": 2, "voter_lists": 0}
    assert Election.objects.count() == 2


# --- admin ------------------------------------------------------------------------------------------------


def election_form(**overrides) -> dict:
    data = {
        "code": "pemilu-2029",
        "name": "Pemilu 2029",
        "type": "pemilu",
        "voting_day": "2029-02-14",
        "max_voters_per_tps": "300",
        "ballot_reserve_rate": "0.02",
        "move_deadline": "",
        "detainee_move_deadline": "",
    }
    data.update(overrides)
    return data


def test_an_admin_adds_an_election_with_chosen_ballot_types(client, admin_user):
    client.force_login(admin_user)
    response = client.post(reverse("admin:tps_election_add"), election_form(ballot_types=["DPD", "PPWP"]))
    assert response.status_code == 302
    election = Election.objects.get(code="pemilu-2029")
    assert election.ballot_types == ["PPWP", "DPD"]
    assert election.h7 == datetime.date(2029, 2, 7)
    assert election.history.get().history_user == admin_user


def test_no_ballot_types_ticked_gives_the_defaults(client, admin_user):
    client.force_login(admin_user)
    client.post(reverse("admin:tps_election_add"), election_form())
    assert Election.objects.get(code="pemilu-2029").ballot_types == [
        "PPWP",
        "DPR",
        "DPD",
        "DPRD_PROV",
        "DPRD_KABKOTA",
    ]


def test_an_unknown_ballot_type_is_refused(client, admin_user):
    client.force_login(admin_user)
    response = client.post(reverse("admin:tps_election_add"), election_form(ballot_types=["PRESIDEN"]))
    assert response.status_code == 200
    assert "ballot_types" in response.context["adminform"].form.errors
    assert not Election.objects.filter(code="pemilu-2029").exists()


def test_the_form_shows_ballot_types_as_checkboxes(client, admin_user):
    pemilu = reference_elections_ensure()["pemilu-2024"]
    client.force_login(admin_user)
    body = client.get(reverse("admin:tps_election_change", args=[pemilu.pk])).content.decode()
    assert body.count('type="checkbox" name="ballot_types"') == 7
    assert body.count('name="ballot_types" value="PPWP"') == 1
    assert 'value="DPD" id="id_ballot_types_2" checked' in body


@pytest.mark.parametrize("user", ["rutan_blora_officer", "kpu_blora_officer"])
def test_officers_read_elections_but_cannot_change_them(client, user, request):
    pemilu = reference_elections_ensure()["pemilu-2024"]
    client.force_login(request.getfixturevalue(user))
    assert client.get(reverse("admin:tps_election_changelist")).status_code == 200
    assert client.get(reverse("admin:tps_election_add")).status_code == 403
    response = client.post(
        reverse("admin:tps_election_change", args=[pemilu.pk]),
        election_form(code="pemilu-2024", name="Changed"),
    )
    assert response.status_code == 403
    assert Election.objects.get(pk=pemilu.pk).name == "Pemilu 2024"


def test_the_changelist_shows_reserve_and_ballots(client, admin_user):
    reference_elections_ensure()
    client.force_login(admin_user)
    body = client.get(reverse("admin:tps_election_changelist")).content.decode()
    assert "2 %" in body
    assert "Pemilu 2024" in body and "Pilkada 2024" in body


# --- eligibility of every facility in the background -------------------------------------------------


def test_a_run_judges_every_facility_of_the_users_scope(
    client,
    django_capture_on_commit_callbacks,
    blora,
    pati,
    kpu_blora_officer,
    make_inmate,
    rutan_blora_officer,
):
    pemilu = reference_elections_ensure()["pemilu-2024"]
    make_inmate(blora, rutan_blora_officer)
    make_inmate(blora, rutan_blora_officer, nik=None)
    make_inmate(pati, None)
    with time_machine.travel(datetime.datetime(2024, 1, 10, tzinfo=ZoneInfo("Asia/Jakarta")), tick=False):
        client.force_login(kpu_blora_officer)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("tps:election_eligibility", args=[pemilu.pk]))
        page = client.get(reverse("tps:eligibility_run", args=[EligibilityRun.objects.get().pk]))
    run = EligibilityRun.objects.get()
    assert response.url == reverse("tps:eligibility_run", args=[run.pk])
    run.refresh_from_db()
    assert (run.status, run.processed, run.total, run.started_by) == ("done", 1, 1, kpu_blora_officer)
    assert run.result == {
        "rutan-blora": {
            "name": "Rutan Kelas IIB Blora",
            "eligible": 1,
            "not_eligible": 0,
            "needs_data": 1,
            "reasons": {"missing_nik": 1},
        }
    }
    assert page.status_code == 200
    assert page.context["rows"][0]["eligible"] == 1
    assert 'http-equiv="refresh"' not in page.content.decode()


def test_a_run_is_seen_only_by_its_starter_and_admins(
    client, blora, kpu_blora_officer, kpu_pati_officer, admin_user
):
    pemilu = reference_elections_ensure()["pemilu-2024"]
    run = EligibilityRun.objects.create(
        election=pemilu, judged_on=pemilu.voting_day, started_by=kpu_blora_officer
    )
    url = reverse("tps:eligibility_run", args=[run.pk])
    client.force_login(kpu_pati_officer)
    assert client.get(url).status_code == 404
    client.force_login(admin_user)
    page = client.get(url)
    assert page.status_code == 200
    assert 'http-equiv="refresh"' in page.content.decode()  # still waiting: the page refreshes itself


def test_the_election_page_links_to_the_runs(client, admin_user):
    pemilu = reference_elections_ensure()["pemilu-2024"]
    client.force_login(admin_user)
    body = client.get(reverse("admin:tps_election_change", args=[pemilu.pk])).content.decode()
    assert reverse("tps:election_eligibility", args=[pemilu.pk]) in body


# --- translations ----------------------------------------------------------------------------------------


def fragment_catalog() -> dict[str, str]:
    """msgid -> msgstr of every fragment (the lead merges them into locale/id)."""
    import ast
    from pathlib import Path

    catalog: dict[str, str] = {}
    for path in sorted((Path(__file__).resolve().parent.parent / "locale" / "fragments").glob("*.po")):
        current: dict[str, str] = {}
        key = ""
        for raw in path.read_text(encoding="utf-8").splitlines() + [""]:
            line = raw.strip()
            if not line:
                if current.get("msgid"):
                    catalog.setdefault(current["msgid"], current.get("msgstr", current.get("msgstr[0]", "")))
                current = {}
                continue
            if line.startswith("#"):
                continue
            if line.startswith(("msgid", "msgstr", "msgctxt")):
                key, _sep, line = line.partition(" ")
                current[key] = ""
            current[key] += ast.literal_eval(line)
    return catalog


def test_the_labels_of_reports_and_projection_are_translated():
    from django.utils import translation

    from tps.changes import Cause, Change
    from tps.projection import LEAVING_CAUSES

    catalog = fragment_catalog()
    with translation.override("en"):
        labels = [str(choice.label) for choice in [*Cause, *Change]] + [
            str(label) for label in LEAVING_CAUSES.values()
        ]
    untranslated = [label for label in labels if not catalog.get(label)]
    assert untranslated == []


@pytest.mark.parametrize("name", ["elections.po", "elections_session11.po"])
def test_the_elections_fragment_is_a_valid_catalog(tmp_path, name):
    import shutil
    import subprocess
    from pathlib import Path

    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        pytest.skip("GNU gettext (msgfmt) is not installed")
    fragment = Path(__file__).resolve().parent.parent / "locale" / "fragments" / name
    command = [msgfmt, "--check-format", "-o", str(tmp_path / "elections.mo"), str(fragment)]
    subprocess.run(command, check=True)  # noqa: S603 - fixed arguments, no user input
