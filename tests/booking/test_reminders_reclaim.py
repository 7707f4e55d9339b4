"""Reminders whose sender was killed after claiming them are claimed again once the claim is
older than any live sender can be (and given up after MAX_CLAIMS), still exactly once in the
normal case; a sender whose claim was taken over finishes nothing. Changing a service's lead
times re-plans the unsent reminders of its bookings ahead.

Time is frozen at Monday 6 January 2025, 08:00 in Zurich; the booking is on Wednesday 8 January
10:00 Zurich, so its 24 h reminder is due Tuesday 09:00 UTC."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail

from booking import reminders, tasks
from booking.models import Booking, BookingReminder, Service
from booking.reminders import (
    MAX_CLAIMS,
    RECLAIM_AFTER,
    reminder_send,
    reminders_claim,
    reminders_plan,
    reminders_replan,
    reminders_send_due,
)
from tests.booking.conftest import zurich

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 1, 6, 7, 0, tzinfo=UTC)
START = zurich(2025, 1, 8, 10)
DUE_24 = START - timedelta(hours=24)
State = BookingReminder.State


@pytest.fixture(autouse=True)
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def booked(service: Service, book) -> Booking:
    booking, _ = book(service, START)
    reminders_plan(now=NOW)
    return booking


def _killed_sender(at: datetime) -> None:
    """A sender that claims what is due at `at` and dies before sending (worker killed)."""
    assert reminders_claim(now=at)


def _reminder(booking: Booking) -> BookingReminder:
    return booking.reminders.get()


def test_a_claim_of_a_killed_sender_is_sent_once_after_the_timeout(booked: Booking, clock) -> None:
    _killed_sender(DUE_24)
    assert _reminder(booked).state == State.SENDING

    # Within the timeout the claim may still be a live sender's: nobody touches it.
    clock.move_to(DUE_24 + RECLAIM_AFTER - timedelta(seconds=1))
    mail.outbox.clear()
    reminders_send_due()
    assert mail.outbox == [] and _reminder(booked).state == State.SENDING

    # After it, the next run claims it again and sends it, once.
    clock.move_to(DUE_24 + RECLAIM_AFTER + timedelta(minutes=1))
    reminders_send_due()
    reminders_send_due()  # a second run (or a second worker) finds nothing
    assert [m.to for m in mail.outbox] == [["ada@example.com"]]
    row = _reminder(booked)
    assert row.state == State.SENT and row.claims == 2


def test_the_normal_case_claims_once_and_sends_once(booked: Booking, clock) -> None:
    clock.move_to(DUE_24)
    mail.outbox.clear()
    reminders_send_due()
    clock.move_to(DUE_24 + RECLAIM_AFTER * 3)
    reminders_send_due()
    assert len(mail.outbox) == 1
    row = _reminder(booked)
    assert row.state == State.SENT and row.claims == 1


def test_two_senders_at_the_same_moment_claim_an_abandoned_reminder_once(
    booked: Booking, clock
) -> None:
    _killed_sender(DUE_24)
    later = DUE_24 + RECLAIM_AFTER + timedelta(minutes=1)
    first, second = reminders_claim(now=later), reminders_claim(now=later)
    assert len(first) == 1 and second == []


def test_a_sender_whose_claim_was_taken_over_finishes_nothing(booked: Booking, clock) -> None:
    (slow,) = reminders_claim(now=DUE_24)  # alive, but slower than the timeout
    later = DUE_24 + RECLAIM_AFTER + timedelta(minutes=1)
    clock.move_to(later)
    (fresh,) = reminders_claim(now=later)
    mail.outbox.clear()
    assert reminder_send(claim=fresh, now=later) == State.SENT
    # The slow sender comes back: its claim is no longer the row's, so it sends nothing.
    assert reminder_send(claim=slow, now=later) == State.SKIPPED
    assert len(mail.outbox) == 1
    assert _reminder(booked).state == State.SENT


def test_a_reminder_that_keeps_killing_its_sender_is_given_up(booked: Booking, clock) -> None:
    moment = DUE_24
    for _ in range(MAX_CLAIMS):
        _killed_sender(moment)
        moment += RECLAIM_AFTER + timedelta(minutes=1)
    clock.move_to(moment)
    mail.outbox.clear()
    reminders_send_due()
    row = _reminder(booked)
    assert mail.outbox == []
    assert row.state == State.FAILED and row.note == f"sender stopped {MAX_CLAIMS} times"


def test_no_live_sender_outlasts_the_reclaim_timeout() -> None:
    # The task's hard time limit kills a sender before its claims could be taken for abandoned.
    hard_limit = tasks.reminders_send.time_limit
    assert hard_limit is not None
    assert timedelta(seconds=hard_limit) < reminders.RECLAIM_AFTER


# --- re-planning after the lead times change ------------------------------------------------------


def test_new_lead_times_replan_the_unsent_reminders_of_bookings_ahead(
    service: Service, book, clock
) -> None:
    ahead, _ = book(service, START)
    sent, _ = book(service, zurich(2025, 1, 7, 9), customer_email="sent@example.com")
    reminders_plan(now=NOW)
    clock.move_to(zurich(2025, 1, 6, 9, 30))  # sent's 24 h reminder is due and goes out
    reminders_send_due()
    assert dict(sent.reminders.values_list("lead_hours", "state")) == {24: State.SENT}

    service.reminder_hours, service.second_reminder_hours = 48, 2
    service.full_clean()
    service.save()
    counts = reminders_replan(service=service, now=zurich(2025, 1, 6, 9, 30))

    # The booking ahead: the 24 h reminder is gone, 48 h (due at 10:00, still to come) and 2 h
    # are planned.
    assert dict(ahead.reminders.values_list("lead_hours", "state")) == {
        48: State.PLANNED,
        2: State.PLANNED,
    }
    # What was sent stays the record; the 2 h one is planned beside it (its 48 h had passed).
    assert dict(sent.reminders.values_list("lead_hours", "state")) == {
        24: State.SENT,
        2: State.PLANNED,
    }
    assert counts == {"removed": 1, "added": 3}
    # Planning again adds nothing; the job sends each new one when due, once.
    assert reminders_replan(service=service, now=zurich(2025, 1, 6, 9, 30))["added"] == 0
    for moment in (START - timedelta(hours=48), START - timedelta(hours=2)):
        clock.move_to(moment)
        mail.outbox.clear()
        reminders_send_due()
        assert [m.to for m in mail.outbox] == [["ada@example.com"]]


def test_a_service_without_reminders_any_more_drops_the_planned_ones(
    booked: Booking, service: Service
) -> None:
    service.reminder_hours = None
    service.save()
    reminders_replan(service=service, now=NOW)
    assert not booked.reminders.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_reclaim_abandoned_reminders_and_send_each_once(
    service: Service, clock
) -> None:
    """Eight reminders claimed by a sender that was killed; after the timeout two workers run
    the whole job at the same frozen moment (SKIP LOCKED on PostgreSQL): one email each."""
    import threading

    from django.db import connection, connections

    from booking import services as booking_services
    from booking.services import CustomerDetails
    from tests.actors import BOOKING_CUSTOMER

    for hour in range(9, 17):  # Thursday 9 January, 09:00-16:00
        booking_services.booking_create(
            service=service,
            start=zurich(2025, 1, 9, hour),
            customer=CustomerDetails(name="C", email=f"c{hour}@example.com"),
            actor=BOOKING_CUSTOMER,
        )
    reminders_plan(now=NOW)
    # Every 24 h reminder is due (the last at Thursday 16:00), no appointment has started.
    killed_at = zurich(2025, 1, 8, 16, 30)
    while reminders_claim(now=killed_at):
        pass
    assert set(BookingReminder.objects.values_list("state", flat=True)) == {State.SENDING}

    clock.move_to(killed_at + RECLAIM_AFTER + timedelta(minutes=1))
    mail.outbox.clear()
    barrier = threading.Barrier(2, timeout=30)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            connection.ensure_connection()
            barrier.wait()
            reminders_send_due()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors and not any(t.is_alive() for t in threads)
    rows = list(BookingReminder.objects.all())
    assert len(rows) == 8 and {r.state for r in rows} == {State.SENT}
    assert {r.claims for r in rows} == {2}
    addresses = sorted(m.to[0] for m in mail.outbox)
    assert addresses == sorted(set(addresses)) and len(addresses) == 8
