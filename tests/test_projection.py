"""The projection of a facility's voters at H-30, H-7 and on voting day (tps/projection.py),
its panel on the facility page and ``projected_voters`` used by TPS planning.

Pemilu 2024: H-30 15 January, H-7 7 February, voting day 14 February 2024.
The register is read on 10 January 2024 unless a test says otherwise.
"""

from __future__ import annotations

import datetime
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from inmates import services as register_services
from tps import selectors
from tps.models import VoterList
from tps.projection import facility_projection
from tps.services.elections import reference_elections_ensure

pytestmark = pytest.mark.django_db

JAKARTA = ZoneInfo("Asia/Jakarta")
TODAY = datetime.date(2024, 1, 10)


@pytest.fixture(autouse=True)
def frozen_today():
    with time_machine.travel(datetime.datetime(2024, 1, 10, 9, 0, tzinfo=JAKARTA), tick=False) as traveller:
        yield traveller


@pytest.fixture
def pemilu():
    return reference_elections_ensure()["pemilu-2024"]


def counts(projection) -> dict[str, tuple[int, int, int, int]]:
    return {
        point.key: (point.in_custody, point.eligible, point.needs_data, point.not_eligible)
        for point in projection.checkpoints
    }


def test_an_inmate_who_stays_counts_at_every_checkpoint(pemilu, blora, blora_inmate):
    projection = facility_projection(election=pemilu, facility=blora, today=TODAY)
    assert [(point.key, point.day) for point in projection.checkpoints] == [
        ("h30", datetime.date(2024, 1, 15)),
        ("h7", datetime.date(2024, 2, 7)),
        ("voting_day", datetime.date(2024, 2, 14)),
    ]
    assert counts(projection) == {"h30": (1, 1, 0, 0), "h7": (1, 1, 0, 0), "voting_day": (1, 1, 0, 0)}
    assert projection.in_custody_today == 1


def test_a_release_date_between_h30_and_voting_day(pemilu, blora, rutan_blora_officer, make_inmate):
    make_inmate(blora, rutan_blora_officer, expected_release_date=datetime.date(2024, 2, 1))
    projection = facility_projection(election=pemilu, facility=blora, today=TODAY)
    assert counts(projection) == {"h30": (1, 1, 0, 0), "h7": (0, 0, 0, 0), "voting_day": (0, 0, 0, 0)}
    assert projection.checkpoint("h7").leaving == {"release_date": 1}
    assert projection.checkpoint("h30").leaving == {}


def test_a_release_date_on_h7_is_already_gone_at_h7(pemilu, blora, rutan_blora_officer, make_inmate):
    make_inmate(blora, rutan_blora_officer, expected_release_date=datetime.date(2024, 2, 7))
    projection = facility_projection(election=pemilu, facility=blora, today=TODAY)
    assert [point.in_custody for point in projection.checkpoints] == [1, 0, 0]


def test_a_recorded_release_counts_from_its_date(pemilu, blora, rutan_blora_officer, make_inmate):
    inmate = make_inmate(blora, rutan_blora_officer)
    register_services.custody_event_record(
        inmate=inmate, kind="release", date=datetime.date(2024, 1, 20), user=rutan_blora_officer
    )
    projection = facility_projection(election=pemilu, facility=blora, today=TODAY)
    assert [point.eligible for point in projection.checkpoints] == [1, 0, 0]
    assert projection.checkpoint("voting_day").leaving == {"released": 1}


def test_a_recorded_transfer_counts_from_its_date(pemilu, blora, pati, rutan_blora_officer, make_inmate):
    inmate = make_inmate(blora, rutan_blora_officer)
    register_services.custody_event_record(
        inmate=inmate,
        kind="transfer_out",
        date=datetime.date(2024, 2, 10),
        to_facility=pati,
        user=rutan_blora_officer,
    )
    projection = facility_projection(election=pemilu, facility=blora, today=TODAY)
    assert [point.eligible for point in projection.checkpoints] == [1, 1, 0]
    assert projection.checkpoint("voting_day").leaving == {"transferred": 1}
    assert facility_projection(election=pemilu, facility=pati, today=TODAY).voting_day.in_custody == 0


def test_a_tahanan_without_release_date_stays(pemilu, blora, rutan_blora_officer, make_inmate):
    make_inmate(blora, rutan_blora_officer, custody_type="tahanan", expected_release_date=None)
    projection = facility_projection(election=pemilu, facility=blora, today=TODAY)
    assert [point.eligible for point in projection.checkpoints] == [1, 1, 1]


def test_present_but_not_voters_are_counted_apart(pemilu, blora, rutan_blora_officer, make_inmate):
    make_inmate(blora, rutan_blora_officer, nik=None)
    make_inmate(blora, rutan_blora_officer, citizenship="WNA")
    # 17 only the day after voting day: inside, but not a voter.
    make_inmate(
        blora,
        rutan_blora_officer,
        marital_status="belum_kawin",
        birth_date=datetime.date(2007, 2, 15),
        nik="3316011502070001",
    )
    projection = facility_projection(election=pemilu, facility=blora, today=TODAY)
    assert counts(projection)["voting_day"] == (3, 0, 1, 2)


def test_age_is_judged_for_voting_day_at_every_checkpoint(pemilu, blora, rutan_blora_officer, make_inmate):
    # 17 on 1 February: still 16 at H-30, but a voter on voting day, so counted at H-30.
    make_inmate(
        blora,
        rutan_blora_officer,
        marital_status="belum_kawin",
        birth_date=datetime.date(2007, 2, 1),
        nik="3316010102070001",
    )
    projection = facility_projection(election=pemilu, facility=blora, today=TODAY)
    assert [point.eligible for point in projection.checkpoints] == [1, 1, 1]


def test_past_checkpoints_are_read_from_the_history(
    pemilu, blora, rutan_blora_officer, make_inmate, frozen_today
):
    inmate = make_inmate(blora, rutan_blora_officer)
    frozen_today.move_to(datetime.datetime(2024, 2, 10, 9, 0, tzinfo=JAKARTA))
    register_services.custody_event_record(
        inmate=inmate, kind="release", date=datetime.date(2024, 2, 1), user=rutan_blora_officer
    )
    projection = facility_projection(election=pemilu, facility=blora, today=datetime.date(2024, 2, 10))
    assert [(point.is_past, point.in_custody) for point in projection.checkpoints] == [
        (True, 1),
        (True, 0),
        (False, 0),
    ]
    assert projection.in_custody_today == 0
    # Nobody inside today is leaving any more: the release is history.
    assert projection.voting_day.leaving == {}


def test_an_overdue_release_date_is_flagged(pemilu, blora, rutan_blora_officer, make_inmate):
    overdue = make_inmate(blora, rutan_blora_officer, expected_release_date=datetime.date(2024, 1, 5))
    projection = facility_projection(election=pemilu, facility=blora, today=TODAY)
    assert projection.overdue == [overdue]


def test_an_overdue_inmate_counts_as_inside_and_needing_data(pemilu, blora, rutan_blora_officer, make_inmate):
    # The register still holds them: stale data, judged as the lists judge it.
    make_inmate(blora, rutan_blora_officer, expected_release_date=datetime.date(2024, 1, 5))
    projection = facility_projection(election=pemilu, facility=blora, today=TODAY)
    assert counts(projection) == {"h30": (1, 0, 1, 0), "h7": (1, 0, 1, 0), "voting_day": (1, 0, 1, 0)}
    assert projection.in_custody_today == 1
    assert projection.voting_day.leaving == {}


def test_a_release_date_due_today_is_not_overdue(pemilu, blora, rutan_blora_officer, make_inmate):
    make_inmate(blora, rutan_blora_officer, expected_release_date=TODAY)
    projection = facility_projection(election=pemilu, facility=blora, today=TODAY)
    assert projection.overdue == []
    assert projection.voting_day.in_custody == 0


def test_tps_planning_leaves_out_an_overdue_inmate_as_the_projection_does(
    pemilu, blora, rutan_blora_officer, make_inmate
):
    stays = make_inmate(blora, rutan_blora_officer)
    make_inmate(blora, rutan_blora_officer, expected_release_date=datetime.date(2024, 1, 5))
    assert selectors.projected_voters(election=pemilu, facility=blora) == [stays]
    assert facility_projection(election=pemilu, facility=blora, today=TODAY).voting_day.eligible == 1


def test_projected_voters_are_the_voting_day_eligible(pemilu, blora, rutan_blora_officer, make_inmate):
    stays = make_inmate(blora, rutan_blora_officer)
    make_inmate(blora, rutan_blora_officer, expected_release_date=datetime.date(2024, 2, 1))
    make_inmate(blora, rutan_blora_officer, nik=None)
    voters = selectors.projected_voters(election=pemilu, facility=blora)
    assert voters == [stays]
    assert facility_projection(election=pemilu, facility=blora, today=TODAY).voting_day.eligible == len(
        voters
    )


def test_projected_voters_on_another_day(pemilu, blora, rutan_blora_officer, make_inmate):
    leaves = make_inmate(blora, rutan_blora_officer, expected_release_date=datetime.date(2024, 2, 1))
    assert selectors.projected_voters(election=pemilu, facility=blora, on=datetime.date(2024, 1, 31)) == [
        leaves
    ]
    assert selectors.projected_voters(election=pemilu, facility=blora, on=datetime.date(2024, 2, 1)) == []


# --- pages ------------------------------------------------------------------------------------------


def test_the_facility_page_shows_the_projection(client, pemilu, blora, rutan_blora_officer, make_inmate):
    make_inmate(blora, rutan_blora_officer)
    make_inmate(blora, rutan_blora_officer, expected_release_date=datetime.date(2024, 2, 1))
    client.force_login(rutan_blora_officer)
    response = client.get(reverse("admin:inmates_facility_change", args=[blora.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="voter-projection"' in body
    assert "Pemilu 2024" in body
    assert reverse("tps:facility_projection", args=[blora.pk, pemilu.pk]) in body
    # The generate button is there for the facility's officer.
    assert reverse("tps:voterlist_generate") in body


def test_kpu_sees_the_projection_without_the_generate_button(
    client, pemilu, blora, kpu_blora_officer, blora_inmate
):
    client.force_login(kpu_blora_officer)
    body = client.get(reverse("admin:inmates_facility_change", args=[blora.pk])).content.decode()
    assert 'id="voter-projection"' in body
    assert reverse("tps:voterlist_generate") not in body


def test_the_projection_page_lists_overdue_inmates(client, pemilu, blora, rutan_blora_officer, make_inmate):
    make_inmate(
        blora, rutan_blora_officer, full_name="Lewat Tanggal", expected_release_date=datetime.date(2024, 1, 5)
    )
    client.force_login(rutan_blora_officer)
    response = client.get(reverse("tps:facility_projection", args=[blora.pk, pemilu.pk]))
    assert response.status_code == 200
    assert "Lewat Tanggal" in response.content.decode()
    assert response.context["projection"].voting_day.needs_data == 1


@pytest.mark.parametrize("outsider", ["rutan_pati_officer", "kpu_pati_officer"])
def test_outsiders_get_404_for_the_projection(client, pemilu, blora, blora_inmate, outsider, request):
    client.force_login(request.getfixturevalue(outsider))
    assert client.get(reverse("tps:facility_projection", args=[blora.pk, pemilu.pk])).status_code == 404
    assert client.get(reverse("admin:inmates_facility_change", args=[blora.pk])).status_code == 404


def test_the_generate_button_of_the_panel_works_with_csrf(pemilu, blora, rutan_blora_officer, blora_inmate):
    client = Client(enforce_csrf_checks=True)
    client.force_login(rutan_blora_officer)
    body = client.get(reverse("admin:inmates_facility_change", args=[blora.pk])).content.decode()
    form = body[body.index('id="voter-projection"') :]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    response = client.post(
        reverse("tps:voterlist_generate"),
        {"csrfmiddlewaretoken": token, "election": pemilu.pk, "facility": blora.pk},
    )
    assert response.status_code == 302
    assert VoterList.objects.filter(election=pemilu, facility=blora, version=1).exists()
