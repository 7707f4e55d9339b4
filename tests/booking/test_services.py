"""booking.services: create, cancel and reschedule, through the real service layer and database.

Time is frozen at Monday 3 March 2025, 07:00 in Zurich (06:00 UTC). The fixture partner is open
Mon-Fri 09:00-17:00 Europe/Zurich; its 60-minute "Haircut" needs 60 minutes' notice, may be booked
30 days ahead and customers may change bookings until 24 hours before the start.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError

from booking import selectors, services, slots
from booking.models import Booking, OpeningHours, Partner, Service
from booking.services import ChangeNotAllowed, SlotNotOffered, SlotTaken
from security.actors import Actor
from tests.actors import MANAGE_LINK_CUSTOMER, partner_staff
from tests.booking.conftest import zurich

NOW = datetime(2025, 3, 3, 6, 0, tzinfo=UTC)  # Monday, 07:00 in Zurich
WEDNESDAY_10 = zurich(2025, 3, 5, 10)
THURSDAY_10 = zurich(2025, 3, 6, 10)

Book = Callable[..., tuple[Booking, str]]


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def colour(partner: Partner) -> Service:
    """60 minutes plus 30 minutes to clean up afterwards; offered every 30 minutes."""
    return Service.objects.create(
        partner=partner,
        name="Colour",
        slug="colour",
        duration_minutes=60,
        buffer_after_minutes=30,
        slot_interval_minutes=30,
        min_notice_minutes=60,
        horizon_days=30,
    )


@pytest.fixture
def consult(partner: Partner) -> Service:
    """30 minutes with 15 minutes of preparation before; offered every 30 minutes."""
    return Service.objects.create(
        partner=partner,
        name="Consultation",
        slug="consult",
        duration_minutes=30,
        buffer_before_minutes=15,
        slot_interval_minutes=30,
        min_notice_minutes=60,
        horizon_days=30,
    )


def reload(booking: Booking) -> Booking:
    return Booking.objects.get(pk=booking.pk)


# --- create -----------------------------------------------------------------------------------


def test_booking_create_stores_the_booking_and_only_a_hash_of_the_token(
    service: Service, book: Book
) -> None:
    booking, token = book(
        service, WEDNESDAY_10, customer_phone=" +41 44 000 00 00 ", notes="First visit"
    )

    stored = reload(booking)
    assert stored.status == Booking.Status.CONFIRMED
    assert stored.partner_id == service.partner_id
    assert stored.start == WEDNESDAY_10 and stored.end == WEDNESDAY_10 + timedelta(hours=1)
    assert (stored.busy_start, stored.busy_end) == (stored.start, stored.end)  # no buffers
    assert stored.customer_phone == "+41 44 000 00 00"
    assert stored.created_at == NOW
    assert len(token) >= 40
    assert stored.manage_token_hash == hashlib.sha256(token.encode()).hexdigest()
    row = Booking.objects.filter(pk=booking.pk).values().get()
    assert not any(token in str(value) for value in row.values())
    assert selectors.booking_get_by_token(token=token) == stored


def test_booking_create_widens_the_busy_range_by_the_service_buffers(
    colour: Service, consult: Service, book: Book
) -> None:
    booking, _ = book(colour, WEDNESDAY_10)
    assert (booking.busy_start, booking.busy_end) == (
        WEDNESDAY_10,
        WEDNESDAY_10 + timedelta(minutes=90),
    )
    other, _ = book(consult, WEDNESDAY_10 + timedelta(hours=2))
    assert other.busy_start == WEDNESDAY_10 + timedelta(minutes=105)


@pytest.mark.parametrize(
    "start",
    [
        pytest.param(zurich(2025, 3, 5, 10, 30), id="misaligned"),
        pytest.param(zurich(2025, 3, 5, 10, 1), id="not-on-the-minute-grid"),
        pytest.param(zurich(2025, 2, 28, 10), id="past"),
        pytest.param(zurich(2025, 3, 3, 7), id="now-before-opening"),
        pytest.param(zurich(2025, 3, 5, 8), id="before-opening"),
        pytest.param(zurich(2025, 3, 5, 17), id="at-closing"),
        pytest.param(zurich(2025, 3, 8, 10), id="saturday-closed"),
        pytest.param(zurich(2025, 4, 10, 10), id="beyond-horizon"),
    ],
)
def test_a_time_that_is_not_a_slot_is_refused(
    service: Service, book: Book, start: datetime
) -> None:
    with pytest.raises(SlotNotOffered):
        book(service, start)
    assert not Booking.objects.exists()


def test_a_slot_inside_the_minimum_notice_is_refused(service: Service, book: Book) -> None:
    with time_machine.travel(zurich(2025, 3, 5, 9, 30), tick=False):
        with pytest.raises(SlotNotOffered):
            book(service, WEDNESDAY_10)  # 30 minutes ahead, 60 needed
    assert not Booking.objects.exists()


def test_an_inactive_service_cannot_be_booked(service: Service, book: Book) -> None:
    service.is_active = False
    service.save()
    with pytest.raises(SlotNotOffered):
        book(service, WEDNESDAY_10)
    assert not Booking.objects.exists()


def test_a_naive_start_is_refused(service: Service, book: Book) -> None:
    with pytest.raises(ValidationError):
        book(service, datetime(2025, 3, 5, 10))  # noqa: DTZ001 - the naive time is the point


def test_an_invalid_email_is_refused(service: Service, book: Book) -> None:
    with pytest.raises(ValidationError):
        book(service, WEDNESDAY_10, customer_email="not-an-email")
    assert not Booking.objects.exists()


SINGLE_LINE_TRICKS = {
    "newline header": "Ada\nBcc: x@evil.example",
    "carriage return": "Ada\rBcc: x@evil.example",
    "line separator": "Ada\u2028Bcc: x@evil.example",
    "paragraph separator": "Ada\u2029x",
    "next line": "Ada\u0085x",
    "right-to-left override": "Ada \u202egnp.exe",
    "left-to-right isolate": "\u2066Ada\u2069",
    "tab": "Ada\tx",
}


@pytest.mark.parametrize("field", ["customer_name", "customer_email", "customer_phone"])
@pytest.mark.parametrize("value", SINGLE_LINE_TRICKS.values(), ids=SINGLE_LINE_TRICKS.keys())
def test_single_line_fields_refuse_line_breaks_and_direction_tricks(
    service: Service, book: Book, field: str, value: str
) -> None:
    # The admin's "add booking" and every other caller reach booking_create: the model's
    # validators, not only the forms, must refuse these.
    if field == "customer_email":
        value = value.replace("Ada", "ada@example.com")
    with pytest.raises(ValidationError) as refused:
        book(service, WEDNESDAY_10, **{field: value})
    assert field in refused.value.message_dict
    assert not Booking.objects.exists()


@pytest.mark.parametrize("value", ["\u202eevil", "a\u2067b", "a\x00b", "a\x1bb"])
def test_notes_refuse_direction_controls_and_control_characters(
    service: Service, book: Book, value: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        book(service, WEDNESDAY_10, notes=value)
    assert "notes" in refused.value.message_dict


def test_notes_keep_line_breaks_and_right_to_left_text(service: Service, book: Book) -> None:
    booking, _ = book(service, WEDNESDAY_10, notes="First line\nשלום, second line\tend")
    assert reload(booking).notes == "First line\nשלום, second line\tend"


def test_a_name_in_any_script_with_joiners_is_accepted(service: Service, book: Book) -> None:
    # Only control and direction characters are refused, not scripts or emoji sequences.
    name = "Zoë Ørsted-محمد 👩\u200d🔬"
    booking, _ = book(service, WEDNESDAY_10, customer_name=name)
    assert reload(booking).customer_name == name


def test_second_booking_of_the_same_slot_is_refused(service: Service, book: Book) -> None:
    book(service, WEDNESDAY_10)
    with pytest.raises(SlotTaken):
        book(service, WEDNESDAY_10, customer_name="Grace Hopper")
    assert Booking.objects.count() == 1


def test_overlap_counts_the_buffers_of_both_services(
    colour: Service, consult: Service, book: Book
) -> None:
    book(colour, WEDNESDAY_10)  # busy 10:00-11:30 (30 min buffer after)
    # Consultation at 11:30 is busy 11:15-12:00: only the two buffers meet, and that is enough.
    with pytest.raises(SlotTaken):
        book(consult, WEDNESDAY_10 + timedelta(minutes=90))
    with pytest.raises(SlotTaken):
        book(consult, WEDNESDAY_10 + timedelta(minutes=60))  # inside the colour's buffer
    # At 12:00 the consultation is busy from 11:45: free.
    book(consult, WEDNESDAY_10 + timedelta(minutes=120))
    assert Booking.objects.count() == 2


def test_another_service_of_the_same_partner_blocks(
    service: Service, colour: Service, book: Book
) -> None:
    book(colour, WEDNESDAY_10)  # busy until 11:30
    with pytest.raises(SlotTaken):
        book(service, WEDNESDAY_10 + timedelta(hours=1))
    book(service, WEDNESDAY_10 + timedelta(hours=2))  # 12:00: free


def test_back_to_back_bookings_are_allowed(service: Service, book: Book) -> None:
    book(service, WEDNESDAY_10)
    book(service, WEDNESDAY_10 + timedelta(hours=1))
    book(service, WEDNESDAY_10 - timedelta(hours=1))
    assert Booking.objects.count() == 3


def test_another_partners_bookings_do_not_block(service: Service, book: Book) -> None:
    neighbour = Partner.objects.create(
        name="Salon Gamma",
        slug="salon-gamma",
        time_zone="Europe/Zurich",
        contact_email="g@gamma.example",
    )
    for weekday in range(5):
        OpeningHours.objects.create(partner=neighbour, weekday=weekday, start=time(9), end=time(17))
    their_service = Service.objects.create(
        partner=neighbour,
        name="Haircut",
        slug="haircut",
        duration_minutes=60,
        horizon_days=30,
    )
    book(their_service, WEDNESDAY_10)
    book(service, WEDNESDAY_10)
    assert Booking.objects.filter(start=WEDNESDAY_10, status=Booking.Status.CONFIRMED).count() == 2


def test_a_cancelled_booking_frees_its_slot(service: Service, book: Book) -> None:
    booking, _ = book(service, WEDNESDAY_10)
    services.booking_cancel(booking=booking, actor=MANAGE_LINK_CUSTOMER)
    again, _ = book(service, WEDNESDAY_10, customer_name="Grace Hopper")
    assert again.pk != booking.pk


# --- cancel -----------------------------------------------------------------------------------


def test_customer_can_cancel_before_the_cutoff(service: Service, book: Book) -> None:
    booking, _ = book(service, WEDNESDAY_10)
    # 24 h 01 min before the start: still allowed.
    with time_machine.travel(WEDNESDAY_10 - timedelta(hours=24, minutes=1), tick=False):
        services.booking_cancel(booking=booking, reason="  Ill  ", actor=MANAGE_LINK_CUSTOMER)
        cancelled_at = datetime.now(UTC)
    stored = reload(booking)
    assert stored.status == Booking.Status.CANCELLED
    assert stored.cancelled_at == cancelled_at
    assert stored.cancellation_reason == "Ill"


def test_customer_cannot_cancel_after_the_cutoff(service: Service, book: Book) -> None:
    booking, _ = book(service, WEDNESDAY_10)
    with time_machine.travel(WEDNESDAY_10 - timedelta(hours=23), tick=False):
        with pytest.raises(ChangeNotAllowed):
            services.booking_cancel(booking=booking, actor=MANAGE_LINK_CUSTOMER)
    assert reload(booking).status == Booking.Status.CONFIRMED


def test_partner_can_cancel_after_the_cutoff(service: Service, book: Book) -> None:
    booking, _ = book(service, WEDNESDAY_10)
    with time_machine.travel(WEDNESDAY_10 - timedelta(minutes=10), tick=False):
        services.booking_cancel(
            booking=booking, actor=partner_staff(booking.partner), reason="Closed today"
        )
    stored = reload(booking)
    assert stored.status == Booking.Status.CANCELLED
    assert stored.cancellation_reason == "Closed today"


def actor_for(booking: Booking, by_customer: bool) -> Actor:
    return MANAGE_LINK_CUSTOMER if by_customer else partner_staff(booking.partner)


@pytest.mark.parametrize("by_customer", [True, False], ids=["customer", "partner"])
def test_cancelling_twice_is_refused(service: Service, book: Book, by_customer: bool) -> None:
    booking, _ = book(service, WEDNESDAY_10)
    first = services.booking_cancel(booking=booking, actor=actor_for(booking, by_customer))
    with pytest.raises(ChangeNotAllowed):
        services.booking_cancel(booking=booking, actor=actor_for(booking, by_customer))
    assert reload(booking).cancelled_at == first.cancelled_at


def test_a_too_long_reason_is_refused(service: Service, book: Book) -> None:
    booking, _ = book(service, WEDNESDAY_10)
    with pytest.raises(ValidationError):
        services.booking_cancel(booking=booking, reason="x" * 501, actor=MANAGE_LINK_CUSTOMER)
    assert reload(booking).status == Booking.Status.CONFIRMED


# --- reschedule -------------------------------------------------------------------------------


def test_reschedule_moves_the_manage_link_to_the_new_booking(service: Service, book: Book) -> None:
    old, token = book(service, WEDNESDAY_10, notes="Short please")
    old_hash = old.manage_token_hash

    new = services.booking_reschedule(
        booking=old, new_start=THURSDAY_10, actor=MANAGE_LINK_CUSTOMER
    )

    old = reload(old)
    new = reload(new)
    assert new.pk != old.pk
    assert (new.start, new.end) == (THURSDAY_10, THURSDAY_10 + timedelta(hours=1))
    assert new.status == Booking.Status.CONFIRMED
    assert (new.customer_name, new.customer_email, new.notes) == (
        "Ada Lovelace",
        "ada@example.com",
        "Short please",
    )
    assert new.rescheduled_from == old
    assert new.manage_token_hash == old_hash
    assert old.status == Booking.Status.CANCELLED
    assert old.cancelled_because == Booking.CancelledBecause.RESCHEDULED
    assert old.manage_token_hash != old_hash  # the old row answers no known token
    assert selectors.booking_get_by_token(token=token) == new
    # The old slot is free again.
    book(service, WEDNESDAY_10, customer_name="Grace Hopper")


def test_reschedule_into_another_booking_is_refused_and_changes_nothing(
    service: Service, book: Book
) -> None:
    mine, token = book(service, WEDNESDAY_10)
    book(service, THURSDAY_10, customer_name="Grace Hopper")

    with pytest.raises(SlotTaken):
        services.booking_reschedule(booking=mine, new_start=THURSDAY_10, actor=MANAGE_LINK_CUSTOMER)

    assert reload(mine).status == Booking.Status.CONFIRMED
    assert selectors.booking_get_by_token(token=token) == mine
    assert Booking.objects.count() == 2


def test_reschedule_refused_at_insert_rolls_back_the_cancellation(
    service: Service, book: Book, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The slot check passes, then another booking takes the slot before the insert (the race the
    database settles): the old booking must come out untouched, not cancelled."""
    mine, token = book(service, WEDNESDAY_10)
    book(service, THURSDAY_10, customer_name="Grace Hopper")
    # Simulates the window between the availability check and the insert: the check still sees
    # Thursday 10:00 free for the same person.
    free = slots.Assignment(THURSDAY_10, THURSDAY_10 + timedelta(hours=1), mine.staff_id, None)
    monkeypatch.setattr(
        selectors,
        "service_slot_assignment",
        lambda **kwargs: (selectors.SlotStatus.OFFERED, free),
    )

    with pytest.raises(SlotTaken):
        services.booking_reschedule(booking=mine, new_start=THURSDAY_10, actor=MANAGE_LINK_CUSTOMER)

    stored = reload(mine)
    assert stored.status == Booking.Status.CONFIRMED
    assert stored.cancelled_at is None
    assert stored.manage_token_hash == mine.manage_token_hash
    assert selectors.booking_get_by_token(token=token) == mine
    assert Booking.objects.count() == 2


def test_reschedule_may_overlap_the_booking_it_replaces(partner: Partner, book: Book) -> None:
    long_cut = Service.objects.create(
        partner=partner,
        name="Long cut",
        slug="long-cut",
        duration_minutes=60,
        slot_interval_minutes=30,
        horizon_days=30,
    )
    old, token = book(long_cut, WEDNESDAY_10)
    new = services.booking_reschedule(
        booking=old, new_start=WEDNESDAY_10 + timedelta(minutes=30), actor=MANAGE_LINK_CUSTOMER
    )
    assert reload(new).start == WEDNESDAY_10 + timedelta(minutes=30)
    assert reload(old).status == Booking.Status.CANCELLED
    assert selectors.booking_get_by_token(token=token) == new


def test_reschedule_to_a_time_that_is_not_a_slot_is_refused(service: Service, book: Book) -> None:
    old, _ = book(service, WEDNESDAY_10)
    with pytest.raises(SlotNotOffered):
        services.booking_reschedule(
            booking=old, new_start=zurich(2025, 3, 8, 10), actor=MANAGE_LINK_CUSTOMER
        )  # Saturday
    assert reload(old).status == Booking.Status.CONFIRMED
    assert Booking.objects.count() == 1


def test_customer_cannot_reschedule_after_the_cutoff_but_the_partner_can(
    service: Service, book: Book
) -> None:
    old, _ = book(service, WEDNESDAY_10)
    with time_machine.travel(WEDNESDAY_10 - timedelta(hours=2), tick=False):
        with pytest.raises(ChangeNotAllowed):
            services.booking_reschedule(
                booking=old, new_start=THURSDAY_10, actor=MANAGE_LINK_CUSTOMER
            )
        assert reload(old).status == Booking.Status.CONFIRMED
        new = services.booking_reschedule(
            booking=old, new_start=THURSDAY_10, actor=partner_staff(old.partner)
        )
    assert reload(new).start == THURSDAY_10


def test_a_cancelled_booking_cannot_be_rescheduled(service: Service, book: Book) -> None:
    old, _ = book(service, WEDNESDAY_10)
    services.booking_cancel(booking=old, actor=MANAGE_LINK_CUSTOMER)
    for by_customer in (True, False):
        with pytest.raises(ChangeNotAllowed):
            services.booking_reschedule(
                booking=old, new_start=THURSDAY_10, actor=actor_for(old, by_customer)
            )
    assert Booking.objects.count() == 1
