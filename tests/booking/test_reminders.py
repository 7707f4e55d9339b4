"""Reminder emails (booking.reminders): each due reminder exactly once, also with two workers at
the same moment (PostgreSQL), never for cancelled bookings or unpaid holds, planned afresh after a
move, not sent when the booking was made after its lead time, each with the manage link and the
.ics, and its outcome on the booking's admin page.

Time starts frozen at Monday 6 January 2025, 08:00 in Zurich; the booking is on Wednesday
8 January 10:00-11:00 Zurich (09:00 UTC), so its 24 h reminder is due Tuesday 09:00 UTC."""

from __future__ import annotations

import email
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection, connections
from django.test import Client

from booking import services
from booking.links import manage_token_for
from booking.models import Booking, BookingReminder, Service
from booking.reminders import reminders_send_due
from booking.services import CustomerDetails
from tests.actors import BOOKING_CUSTOMER, MANAGE_LINK_CUSTOMER
from tests.booking.conftest import zurich

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 1, 6, 7, 0, tzinfo=UTC)
START = zurich(2025, 1, 8, 10)
DUE_24 = START - timedelta(hours=24)
DUE_2 = START - timedelta(hours=2)
State = BookingReminder.State


@pytest.fixture(autouse=True)
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def two_leads(service: Service) -> Service:
    service.second_reminder_hours = 2
    service.full_clean()
    service.save()
    return service


def run_at(clock: time_machine.Coordinates, moment: datetime) -> list[mail.EmailMessage]:
    """The periodic job at `moment`; returns the emails it sent."""
    clock.move_to(moment)
    mail.outbox.clear()
    reminders_send_due()
    return list(mail.outbox)


def states(booking: Booking) -> dict[int, str]:
    return dict(booking.reminders.values_list("lead_hours", "state"))


def test_each_reminder_goes_out_once_when_due_with_the_link_and_the_calendar_entry(
    two_leads: Service, book, clock, client: Client
) -> None:
    booking, token = book(two_leads, START)
    assert run_at(clock, NOW) == []
    assert states(booking) == {2: State.PLANNED, 24: State.PLANNED}
    assert run_at(clock, DUE_24 - timedelta(seconds=1)) == []

    (reminder,) = run_at(clock, DUE_24)
    assert reminder.to == ["ada@example.com"]
    assert "Reminder" in reminder.subject and "Haircut" in reminder.subject
    assert "Wednesday, 8 January 2025, 10:00–11:00 (Europe/Zurich)" in reminder.body
    assert f"/manage/{token}/" in reminder.body
    assert client.get(f"/manage/{token}/").status_code == 200
    parts = [p for p in email.message_from_bytes(reminder.message().as_bytes()).walk()]
    (calendar,) = [p for p in parts if p.get_content_type() == "text/calendar"]
    assert "METHOD:REQUEST" in calendar.get_payload(decode=True).decode()

    assert run_at(clock, DUE_24 + timedelta(minutes=1)) == []
    assert run_at(clock, DUE_2 - timedelta(minutes=1)) == []
    (second,) = run_at(clock, DUE_2)
    assert f"/manage/{token}/" in second.body
    assert run_at(clock, DUE_2 + timedelta(minutes=1)) == []
    assert states(booking) == {2: State.SENT, 24: State.SENT}


def test_a_cancelled_booking_gets_no_reminder(service: Service, book, clock) -> None:
    planned, _ = book(service, START)
    cancelled_early, _ = book(service, zurich(2025, 1, 8, 13))
    services.booking_cancel(booking=cancelled_early, actor=MANAGE_LINK_CUSTOMER)
    run_at(clock, NOW)  # plans the first one's reminder
    services.booking_cancel(booking=planned, actor=MANAGE_LINK_CUSTOMER)

    assert run_at(clock, DUE_24) == []
    assert run_at(clock, zurich(2025, 1, 7, 13)) == []
    assert states(planned) == {24: State.SKIPPED}
    assert planned.reminders.get().note == "booking cancelled"
    assert states(cancelled_early) == {}


def test_an_unpaid_hold_gets_no_reminder(service: Service, clock) -> None:
    hold, _ = services.booking_create(
        service=service,
        start=START,
        customer=CustomerDetails(name="Ada Lovelace", email="ada@example.com"),
        actor=BOOKING_CUSTOMER,
        status=Booking.Status.PENDING_PAYMENT,
        hold_minutes=24 * 60,
    )
    assert run_at(clock, DUE_24) == []
    assert states(hold) == {}


def test_a_moved_booking_is_reminded_of_its_new_time_only(service: Service, book, clock) -> None:
    old, _ = book(service, START)
    run_at(clock, NOW)
    new = services.booking_reschedule(
        booking=old, new_start=zurich(2025, 1, 9, 10), actor=MANAGE_LINK_CUSTOMER
    )

    assert run_at(clock, DUE_24) == []
    assert states(old) == {24: State.SKIPPED}
    (reminder,) = run_at(clock, zurich(2025, 1, 8, 10))
    assert "Thursday, 9 January 2025, 10:00–11:00" in reminder.body
    assert f"/manage/{manage_token_for(new)}/" in reminder.body
    assert states(new) == {24: State.SENT}


def test_a_lead_time_that_had_passed_when_booking_gets_no_reminder(
    two_leads: Service, book, clock
) -> None:
    # Booked on Monday 08:00 for Monday 15:00: the 24 h reminder was due before the booking.
    booking, _ = book(two_leads, zurich(2025, 1, 6, 15))
    assert run_at(clock, NOW) == []
    assert states(booking) == {2: State.PLANNED}
    (reminder,) = run_at(clock, zurich(2025, 1, 6, 13))
    assert states(booking) == {2: State.SENT}
    assert reminder.to == ["ada@example.com"]


def test_a_service_without_reminders_sends_none(service: Service, book, clock) -> None:
    service.reminder_hours = None
    service.save()
    booking, _ = book(service, START)
    assert run_at(clock, DUE_24) == []
    assert states(booking) == {}


def test_two_equal_lead_times_are_a_form_error_for_the_partner(service: Service) -> None:
    from django.core.exceptions import ValidationError

    service.second_reminder_hours = service.reminder_hours
    with pytest.raises(ValidationError, match="another lead time"):
        service.full_clean()


def test_two_equal_lead_times_are_refused_by_the_database(service: Service) -> None:
    from django.db import IntegrityError

    with pytest.raises(IntegrityError):
        Service.objects.filter(pk=service.pk).update(reminder_hours=2, second_reminder_hours=2)


class FailingBackend(BaseEmailBackend):
    """A mail server that refuses every message."""

    def send_messages(self, email_messages: object) -> int:
        raise ConnectionRefusedError("mail server down")


def test_a_reminder_that_cannot_be_sent_is_marked_failed_and_not_retried(
    service: Service, book, clock, settings
) -> None:
    booking, _ = book(service, START)
    settings.EMAIL_BACKEND = f"{__name__}.FailingBackend"
    run_at(clock, DUE_24)
    reminder = booking.reminders.get()
    assert (reminder.state, reminder.note) == (State.FAILED, "ConnectionRefusedError")
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert run_at(clock, DUE_24 + timedelta(minutes=1)) == []


def test_the_booking_admin_page_shows_each_reminder_and_its_outcome(client: Client, clock) -> None:
    from admin_world import build_world

    from tests.otp_login import login_verified

    world = build_world()
    login_verified(client, world.owner)
    booking = world.a_booking
    BookingReminder.objects.create(
        booking=booking,
        lead_hours=24,
        due_at=booking.start - timedelta(hours=24),
        state=State.SENT,
        claimed_at=NOW,
        finished_at=NOW,
    )
    BookingReminder.objects.create(
        booking=booking,
        lead_hours=2,
        due_at=booking.start - timedelta(hours=2),
        state=State.FAILED,
        claimed_at=NOW,
        finished_at=NOW,
        note="SMTPServerDisconnected",
    )
    page = client.get(f"/admin/booking/booking/{booking.pk}/change/").content.decode()
    assert "Sent" in page and "Failed" in page and "SMTPServerDisconnected" in page
    assert 'name="reminders-TOTAL_FORMS"' not in page or "reminders-0-state" not in page


# --- two workers at once --------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_the_same_moment_send_each_reminder_exactly_once(
    two_leads: Service, clock
) -> None:
    bookings = []
    for day in (7, 8, 9, 10):
        for hour in (9, 10, 11, 12, 13, 14, 15):
            booking, _ = services.booking_create(
                service=two_leads,
                start=zurich(2025, 1, day, hour),
                customer=CustomerDetails(name="Customer", email=f"c{day}-{hour}@example.com"),
                actor=BOOKING_CUSTOMER,
            )
            bookings.append(booking)
    mail.outbox.clear()
    expected = {
        (b.customer_email, lead)
        for b in bookings
        for lead in (24, 2)
        if b.start - timedelta(hours=lead) > b.created_at
    }
    due_moments = sorted(
        {b.start - timedelta(hours=lead) for b in bookings for lead in (24, 2)} - {NOW}
    )
    # Two workers, each running the whole job, released together at each moment a reminder
    # falls due (and once with nothing due). Time stays frozen while they run.
    for moment in [NOW, *(m for m in due_moments if m > NOW)]:
        clock.move_to(moment)
        barrier = threading.Barrier(2, timeout=30)
        errors: list[BaseException] = []

        def worker(barrier: threading.Barrier, errors: list[BaseException]) -> None:
            try:
                connection.ensure_connection()
                barrier.wait()
                reminders_send_due()
            except BaseException as exc:
                errors.append(exc)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=worker, args=(barrier, errors)) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not errors and not any(t.is_alive() for t in threads)

    rows = BookingReminder.objects.select_related("booking")
    assert {(r.booking.customer_email, r.lead_hours) for r in rows} == expected
    assert {r.state for r in rows} == {State.SENT}
    # One email per reminder: a second worker sending the same one would add a message.
    per_address: dict[str, int] = {}
    for message in mail.outbox:
        per_address[message.to[0]] = per_address.get(message.to[0], 0) + 1
    assert per_address == {
        address: sum(1 for a, _ in expected if a == address) for address, _ in expected
    }
