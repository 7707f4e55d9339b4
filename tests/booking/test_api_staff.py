"""The widget API with staff: the staff list of a service, `staff` on slots and bookings, the
assigned person (and resource) in the answer; forged staff refused. Every answer is checked
against the OpenAPI document.

Time is frozen at Monday 24 March 2025, 07:00 in Zurich; Monday 31 March is in summer time."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, time
from typing import Any

import pytest
import time_machine
from django.test import Client

from booking.models import Booking, Partner, Service, StaffChoice, StaffMember
from tests.booking.test_api_openapi import BOOKINGS, SLOTS, STAFF, assert_documented
from tests.staffing import person, resource

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 3, 24, 6, 0, tzinfo=UTC)
BASE = "/api/v1/partners/salon-alpha"


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def cut(partner: Partner) -> Service:
    return Service.objects.create(
        partner=partner, name="Cut", slug="cut", duration_minutes=60, min_notice_minutes=0
    )


@pytest.fixture
def people(partner: Partner, cut: Service) -> dict[str, StaffMember]:
    """Anna mornings, Ben afternoons (Mondays); Cara inactive; Dan does not cut."""
    return {
        "anna": person(partner, "Anna", hours={0: [(time(9), time(12))]}, order=1),
        "ben": person(partner, "Ben", hours={0: [(time(14), time(16))]}, order=2),
        "cara": person(partner, "Cara", active=False),
        "dan": person(partner, "Dan", services=[]),
    }


def slots(client: Client, **params: str) -> Any:
    response = client.get(
        f"{BASE}/services/cut/slots", {"start": "2025-03-31", "end": "2025-03-31", **params}
    )
    return response


def hours_of(payload: dict[str, Any]) -> list[str]:
    return [s[11:16] for s in payload["days"][0]["slots"]]


def book(client: Client, **changes: Any):
    data = {
        "service": "cut",
        "start": "2025-03-31T09:00:00+02:00",
        "customer_name": "Ada",
        "customer_email": "ada@example.com",
        **changes,
    }
    return client.post(f"{BASE}/bookings", data=json.dumps(data), content_type="application/json")


def test_the_staff_list_of_a_service(client: Client, people: dict[str, StaffMember]) -> None:
    payload = assert_documented(client.get(f"{BASE}/services/cut/staff"), STAFF, "get")
    assert payload == {
        "service": "cut",
        "staff_choice": "any",
        "staff": [
            {"id": people["anna"].pk, "name": "Anna"},
            {"id": people["ben"].pk, "name": "Ben"},
        ],
    }
    assert client.get(f"{BASE}/services/nope/staff").status_code == 404
    assert_documented(client.get(f"{BASE}/services/nope/staff"), STAFF, "get")


def test_slots_of_anyone_and_of_one_person(client: Client, people: dict[str, StaffMember]) -> None:
    anyone = assert_documented(slots(client), SLOTS, "get")
    assert hours_of(anyone) == ["09:00", "10:00", "11:00", "14:00", "15:00"]
    assert hours_of(slots(client, staff="any").json()) == hours_of(anyone)
    ben = assert_documented(slots(client, staff=str(people["ben"].pk)), SLOTS, "get")
    assert hours_of(ben) == ["14:00", "15:00"]


@pytest.mark.parametrize("who", ["cara", "dan"])
def test_slots_of_someone_who_does_not_cut_is_a_400(
    client: Client, people: dict[str, StaffMember], who: str
) -> None:
    response = slots(client, staff=str(people[who].pk))
    assert response.status_code == 400
    assert assert_documented(response, SLOTS, "get")["error"] == "staff_not_offered"


def test_unknown_or_foreign_staff_is_a_404_and_garbage_a_400(
    client: Client, people: dict[str, StaffMember], other_partner: Partner
) -> None:
    stranger = person(other_partner, "Stranger")
    for unknown in (str(stranger.pk), "999999"):
        response = slots(client, staff=unknown)
        assert response.status_code == 404
        assert "staff member" in assert_documented(response, SLOTS, "get")["message"]
    for garbage in ("anna", "-1", "0", "1.0", "1" * 25, " 1"):
        response = slots(client, staff=garbage)
        assert response.status_code == 400, garbage
        assert "staff" in assert_documented(response, SLOTS, "get")["fields"]


def test_booking_a_chosen_person_names_them_in_the_answer(
    client: Client, people: dict[str, StaffMember]
) -> None:
    response = book(client, staff=str(people["ben"].pk), start="2025-03-31T14:00:00+02:00")
    payload = assert_documented(response, BOOKINGS, "post")
    assert response.status_code == 201
    assert payload["booking"]["staff"] == {"id": people["ben"].pk, "name": "Ben"}
    assert payload["booking"]["resource"] is None
    # Ben does not work at 09:00.
    refused = book(client, staff=str(people["ben"].pk))
    assert refused.status_code == 400
    assert assert_documented(refused, BOOKINGS, "post")["error"] == "slot_not_offered"


def test_forged_staff_is_refused_and_nothing_is_stored(
    client: Client, people: dict[str, StaffMember], other_partner: Partner
) -> None:
    stranger = person(other_partner, "Stranger", hours={0: [(time(8), time(18))]})
    answers = [
        book(client, staff=str(stranger.pk)),  # another partner's: does not exist here
        book(client, staff=str(people["dan"].pk)),  # does not perform the service
        book(client, staff=str(people["cara"].pk)),  # inactive
        book(client, staff=7),  # not a string
    ]
    assert [a.status_code for a in answers] == [404, 400, 400, 400]
    for answer in answers:
        assert_documented(answer, BOOKINGS, "post")
    assert [a.json()["error"] for a in answers] == [
        "not_found",
        "staff_not_offered",
        "staff_not_offered",
        "invalid",
    ]
    assert Booking.objects.count() == 0


def test_a_service_whose_customers_must_choose(
    client: Client, cut: Service, people: dict[str, StaffMember]
) -> None:
    cut.staff_choice = StaffChoice.CUSTOMER_CHOOSES
    cut.save()
    assert client.get(f"{BASE}/services/cut/staff").json()["staff_choice"] == "choose"
    for response in (slots(client), book(client), book(client, staff="any")):
        assert response.status_code == 400
        assert response.json()["error"] == "staff_not_offered"
    assert book(client, staff=str(people["anna"].pk)).status_code == 201


def test_the_resource_is_named_in_the_answer(
    client: Client, partner: Partner, cut: Service, people: dict[str, StaffMember]
) -> None:
    cut.required_resource_kind = "wash-basin"
    cut.save()
    basin = resource(partner, "Basin by the window", "wash-basin")
    resource(partner, "Massage room", "treatment-room")
    payload = assert_documented(book(client), BOOKINGS, "post")
    assert payload["booking"]["resource"] == {"id": basin.pk, "name": "Basin by the window"}
    assert payload["booking"]["staff"]["name"] == "Anna"
    # The only basin is taken at 09:00: Anna is free at 10:00, nobody at 09:00.
    assert hours_of(slots(client).json()) == ["10:00", "11:00", "14:00", "15:00"]
