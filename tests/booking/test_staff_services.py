"""Booking with several staff members and resources through the services: "anyone" or a chosen
person, forged choices refused, the person kept when rescheduling, the room a service needs.

The partner fixture is open Mon-Fri 09:00-17:00 in Zurich; time is frozen on Monday 3 March 2025.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import time, timedelta

import pytest
import time_machine

from booking import selectors, services
from booking.models import Booking, Partner, Service, StaffAbsence, StaffChoice, StaffMember
from booking.services import SlotNotOffered, SlotTaken, StaffNotOffered
from security.models import SecurityEvent
from tests.actors import BOOKING_CUSTOMER, MANAGE_LINK_CUSTOMER, customer_details
from tests.booking.conftest import zurich
from tests.staffing import person, resource

pytestmark = pytest.mark.django_db
WEDNESDAY_10 = zurich(2025, 3, 5, 10)


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(zurich(2025, 3, 3, 7), tick=False):
        yield


@pytest.fixture
def cut(partner: Partner) -> Service:
    return Service.objects.create(
        partner=partner, name="Cut", slug="cut", duration_minutes=60, horizon_days=30
    )


@pytest.fixture
def stylists(partner: Partner, cut: Service) -> list[StaffMember]:
    return [person(partner, name, order=n) for n, name in enumerate(["Anna", "Ben", "Cara"])]


def book(service: Service, start=WEDNESDAY_10, *, staff: StaffMember | None = None, n: int = 0):
    customer, _ = customer_details(customer_email=f"c{n}@example.com")
    booking, _token = services.booking_create(
        service=service, start=start, customer=customer, actor=BOOKING_CUSTOMER, staff=staff
    )
    return booking


def test_three_stylists_take_three_customers_at_ten_then_it_is_taken(
    cut: Service, stylists: list[StaffMember]
) -> None:
    taken = [book(cut, n=n).staff for n in range(3)]
    assert sorted(s.name for s in taken) == ["Anna", "Ben", "Cara"]
    with pytest.raises(SlotTaken):
        book(cut, n=4)
    assert Booking.objects.count() == 3
    slots_at_ten = selectors.service_slots(
        service=cut,
        window_start=WEDNESDAY_10,
        window_end=WEDNESDAY_10 + timedelta(minutes=1),
        now=zurich(2025, 3, 3, 7),
    )
    assert slots_at_ten == []


def test_anyone_goes_to_the_person_with_the_fewest_bookings_that_day(
    cut: Service, stylists: list[StaffMember]
) -> None:
    anna, ben, cara = stylists
    book(cut, zurich(2025, 3, 5, 9), staff=anna, n=1)
    book(cut, zurich(2025, 3, 5, 11), staff=ben, n=2)
    book(cut, zurich(2025, 3, 4, 9), staff=cara, n=3)  # Tuesday: does not count for Wednesday
    assert book(cut, n=4).staff == cara
    # Then the display order among equals: Anna (order 0) before Ben (1), both with one booking.
    assert book(cut, zurich(2025, 3, 5, 14), n=5).staff == anna


def test_a_chosen_person_is_booked_and_only_their_time_counts(
    cut: Service, stylists: list[StaffMember]
) -> None:
    anna, ben, _ = stylists
    book(cut, staff=ben, n=1)
    with pytest.raises(SlotTaken):
        book(cut, staff=ben, n=2)
    assert book(cut, staff=anna, n=3).staff == anna


@pytest.mark.parametrize("forgery", ["other_partner", "inactive", "not_performing"])
def test_a_forged_person_is_refused_with_a_clear_error(
    forgery: str, partner: Partner, cut: Service, other_partner: Partner
) -> None:
    person(partner, "Anna")
    forged = {
        "other_partner": lambda: person(other_partner, "Stranger"),
        "inactive": lambda: person(partner, "Gone", active=False),
        "not_performing": lambda: person(partner, "Trainee", services=[]),
    }[forgery]()
    with pytest.raises(StaffNotOffered, match="cannot be booked for this service"):
        book(cut, staff=forged)
    assert Booking.objects.count() == 0


def test_a_service_whose_customers_must_choose_refuses_anyone(
    cut: Service, stylists: list[StaffMember]
) -> None:
    cut.staff_choice = StaffChoice.CUSTOMER_CHOOSES
    cut.save()
    with pytest.raises(StaffNotOffered, match="choose"):
        book(cut)
    assert book(cut, staff=stylists[2]).staff == stylists[2]


def test_an_absent_person_is_not_offered(cut: Service, partner: Partner) -> None:
    anna = person(partner, "Anna")
    StaffAbsence.objects.create(
        staff=anna, starts_at=zurich(2025, 3, 5, 9), ends_at=zurich(2025, 3, 5, 11), note="Doctor"
    )
    with pytest.raises(SlotNotOffered):
        book(cut, staff=anna)
    assert book(cut, zurich(2025, 3, 5, 11)).staff == anna


def test_own_duration_sets_the_end(cut: Service, partner: Partner) -> None:
    slow = person(partner, "Slow")
    slow.service_links.filter(service=cut).update(duration_minutes=90)
    booking = book(cut, staff=slow)
    assert booking.end - booking.start == timedelta(minutes=90)


def test_two_stylists_free_and_one_basin_take_one_customer(partner: Partner) -> None:
    colour = Service.objects.create(
        partner=partner,
        name="Colour",
        slug="colour",
        duration_minutes=60,
        horizon_days=30,
        required_resource_kind="wash-basin",
    )
    person(partner, "Anna")
    person(partner, "Ben")
    basin = resource(partner, "Basin", "wash-basin")
    resource(partner, "Room", "treatment-room")  # another kind does not help
    first = book(colour, n=1)
    assert first.resource == basin
    with pytest.raises(SlotTaken):
        book(colour, n=2)
    # A service without the basin still finds Ben free.
    plain = Service.objects.create(
        partner=partner, name="Cut", slug="cut", duration_minutes=60, horizon_days=30
    )
    for member in StaffMember.objects.filter(partner=partner):
        member.services.add(plain)
    second = book(plain, n=3)
    assert second.staff != first.staff and second.resource is None


def test_a_service_needing_a_kind_nobody_has_offers_nothing(partner: Partner) -> None:
    massage = Service.objects.create(
        partner=partner,
        name="Massage",
        slug="massage",
        duration_minutes=60,
        horizon_days=30,
        required_resource_kind="treatment-room",
    )
    person(partner, "Anna")
    with pytest.raises(SlotNotOffered):
        book(massage)


def test_rescheduling_keeps_the_person_unless_the_customer_picks_anyone(
    cut: Service, stylists: list[StaffMember]
) -> None:
    anna, ben, _ = stylists
    booking = book(cut, staff=ben, n=1)
    moved = services.booking_reschedule(
        booking=booking, new_start=WEDNESDAY_10 + timedelta(hours=2), actor=MANAGE_LINK_CUSTOMER
    )
    assert moved.staff == ben
    book(cut, zurich(2025, 3, 6, 10), staff=ben, n=2)  # Ben's Thursday 10:00 is taken
    with pytest.raises(SlotTaken):
        services.booking_reschedule(
            booking=moved, new_start=zurich(2025, 3, 6, 10), actor=MANAGE_LINK_CUSTOMER
        )
    anyone = services.booking_reschedule(
        booking=moved, new_start=zurich(2025, 3, 6, 10), actor=MANAGE_LINK_CUSTOMER, staff=None
    )
    assert anyone.staff in (anna, stylists[2])


def test_rescheduling_to_an_overlapping_time_of_the_same_person(
    partner: Partner, stylists: list[StaffMember]
) -> None:
    half = Service.objects.create(
        partner=partner,
        name="Long",
        slug="long",
        duration_minutes=60,
        slot_interval_minutes=30,
        horizon_days=30,
    )
    for member in stylists:
        member.services.add(half)
    booking = book(half, staff=stylists[1])
    moved = services.booking_reschedule(
        booking=booking, new_start=WEDNESDAY_10 + timedelta(minutes=30), actor=MANAGE_LINK_CUSTOMER
    )
    assert moved.staff == stylists[1]


def test_the_audit_event_names_the_person_and_the_resource(partner: Partner) -> None:
    colour = Service.objects.create(
        partner=partner,
        name="Colour",
        slug="colour",
        duration_minutes=60,
        horizon_days=30,
        required_resource_kind="wash-basin",
    )
    anna = person(partner, "Anna")
    basin = resource(partner, "Basin", "wash-basin")
    booking = book(colour)
    event = SecurityEvent.objects.get(event_type="booking_created")
    assert event.detail["staff_id"] == anna.pk
    assert event.detail["resource_id"] == basin.pk
    assert event.detail["staff_chosen"] is False
    moved = services.booking_reschedule(
        booking=booking, new_start=WEDNESDAY_10 + timedelta(hours=1), actor=MANAGE_LINK_CUSTOMER
    )
    event = SecurityEvent.objects.get(event_type="booking_rescheduled")
    assert (event.detail["staff_id"], event.detail["from_staff_id"]) == (anna.pk, anna.pk)
    assert moved.resource == basin
    services.booking_cancel(booking=moved, actor=MANAGE_LINK_CUSTOMER)
    event = SecurityEvent.objects.get(event_type="booking_cancelled")
    assert (event.detail["staff_id"], event.detail["resource_id"]) == (anna.pk, basin.pk)


def test_staff_hours_meet_the_partner_hours(partner: Partner, cut: Service) -> None:
    # Anna works Wednesdays 07:00-10:00 and 16:00-20:00; the salon is open 09:00-17:00.
    person(partner, "Anna", hours={2: [(time(7), time(10)), (time(16), time(20))]})
    found = selectors.service_slots(
        service=cut,
        window_start=zurich(2025, 3, 5, 0),
        window_end=zurich(2025, 3, 6, 0),
        now=zurich(2025, 3, 3, 7),
    )
    assert found == [zurich(2025, 3, 5, 9), zurich(2025, 3, 5, 16)]
