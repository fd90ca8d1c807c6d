"""InsertSelect (inmates/imports_bulk.py): rows built by the database from rows already inserted."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection

from inmates.imports_bulk import InsertSelect
from inmates.models import CustodyEvent, Inmate

pytestmark = pytest.mark.django_db


def admission_events(user) -> InsertSelect:
    return InsertSelect(
        CustodyEvent,
        Inmate,
        from_source={"inmate_id": "id", "date": "admission_date"},
        values={
            "kind": "admission",
            "created_by_id": user.pk,
            "created_at": datetime.datetime(2024, 1, 10, 2, 0, tzinfo=datetime.UTC),
        },
    )


@pytest.fixture
def three_inmates(make_inmate, blora, rutan_blora_officer):
    inmates = [
        make_inmate(blora, rutan_blora_officer, registration_number=f"AI.00{n}/2023", nik=None)
        for n in range(1, 4)
    ]
    CustodyEvent._unchecked.all().delete()  # the service's own admission events
    return inmates


def run(statement: tuple[str, list]) -> None:
    sql, params = statement
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.mark.parametrize("chosen", [[0, 1], [0, 2]], ids=["a range of ids", "ids with a gap"])
def test_rows_are_built_only_for_the_given_ids(three_inmates, rutan_blora_officer, chosen):
    pks = [three_inmates[i].pk for i in chosen]

    run(admission_events(rutan_blora_officer).for_pks(pks))

    events = CustodyEvent.objects.order_by("inmate_id")
    assert [e.inmate_id for e in events] == pks
    assert {(e.kind, e.date, e.created_by_id, e.note, e.from_facility_id) for e in events} == {
        ("admission", three_inmates[0].admission_date, rutan_blora_officer.pk, "", None)
    }
    assert {e.created_at for e in events} == {datetime.datetime(2024, 1, 10, 2, 0, tzinfo=datetime.UTC)}


def test_a_column_without_value_or_default_is_refused():
    with pytest.raises(ValueError, match="inmate_id"):
        InsertSelect(
            CustodyEvent, Inmate, from_source={"date": "admission_date"}, values={"kind": "admission"}
        )
