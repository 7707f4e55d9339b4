"""Closing the business (or entering a person's absence) over a date range, never silently: the
page shows the bookings covered first and saves nothing until the owner chose to cancel them
(each customer told in their language, slots gone) or to keep them (slots gone all the same).

Time is frozen at Tuesday 1 December 2026, 08:00 in Zurich (07:00 UTC)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from admin_world import B_CUSTOMER, World, build_world, make_booking, make_hold
from django.core import mail
from django.test import Client

from booking import selectors
from booking.closures import CoveredChanged, CoveredChoice, closure_create
from booking.events import BookingEvent
from booking.models import Booking, Closure, DateOverride, StaffAbsence
from security.actors import Actor, Via
from security.models import SecurityEvent
from tests.otp_login import login_verified

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("december_first")]

CLOSE = "/admin/booking/closure/add/"
NOW = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)
CHRISTMAS_EVE = date(2026, 12, 24)


@pytest.fixture
def world(client: Client) -> World:
    world = build_world()
    login_verified(client, world.owner)
    return world


def _form(first: str = "2026-12-23", last: str = "2027-01-02", who: str = "", **extra: Any):
    return {"first_day": first, "last_day": last, "note": "Holidays", "who": who, **extra}


def _free(world: World, day: date, staff: Any = None) -> list[datetime]:
    """The free starts customers are offered that day (through the shared slot cache)."""
    return selectors.free_starts_by_local_day(
        service=world.a_service,
        zone=world.a.zone,
        first=day,
        last=day,
        now=NOW,
        staff=staff,
    )[day]


def _nothing_saved(world: World, *bookings: Booking) -> None:
    assert not Closure.objects.exists()
    assert not StaffAbsence.objects.filter(staff__partner=world.a).exists()
    for booking in bookings:
        booking.refresh_from_db()
        assert booking.status == Booking.Status.CONFIRMED
    assert mail.outbox == []
    assert not SecurityEvent.objects.filter(event_type=BookingEvent.CLOSURE_CREATED).exists()


def test_the_page_shows_the_covered_bookings_first_and_saves_nothing(
    client: Client, world: World
) -> None:
    eve = make_booking(
        world.a_service,
        datetime(2026, 12, 24, 9, 0, tzinfo=UTC),
        customer_name="Greta Eve",
        customer_email="greta@example.com",
    )
    hold = make_hold(
        make_booking(world.a_service, datetime(2027, 1, 2, 13, 0, tzinfo=UTC)),
        NOW + timedelta(minutes=30),
    )
    response = client.post(CLOSE, _form())
    assert response.status_code == 200
    page = response.content.decode()
    assert "These days cover 2 bookings" in page
    assert "Nothing is saved yet." in page
    # Customer, time in the partner's zone with the zone named, service, person, payment.
    assert "Greta Eve" in page
    assert "2026-12-24 10:00 (Europe/Zurich)" in page
    assert "2027-01-02 14:00 (Europe/Zurich)" in page
    assert "Quillcraft Cut" in page and "Unpaid hold" in page
    assert f'name="shown" value="{eve.pk}"' in page and f'value="{hold.pk}"' in page
    assert 'name="choice" value="cancel"' in page and 'name="choice" value="keep"' in page
    # Walking away from this page leaves everything as it was.
    _nothing_saved(world, eve)


def test_cancel_and_notify_tells_each_customer_in_their_language(
    client: Client, world: World, django_capture_on_commit_callbacks: Any
) -> None:
    german = make_booking(
        world.a_service,
        datetime(2026, 12, 24, 9, 0, tzinfo=UTC),
        customer_email="hans@example.com",
        language="de",
    )
    italian = make_booking(
        world.a_service,
        datetime(2026, 12, 28, 12, 0, tzinfo=UTC),
        customer_email="lucia@example.com",
        language="it",
    )
    outside = make_booking(world.a_service, datetime(2027, 1, 3, 9, 0, tzinfo=UTC))
    assert _free(world, CHRISTMAS_EVE)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            CLOSE, _form(choice="cancel", shown=[str(german.pk), str(italian.pk)])
        )
    assert response.status_code == 302
    assert response["Location"] == "/admin/booking/closure/"
    closure = Closure.objects.get()
    assert (closure.partner, closure.first_day, closure.last_day, closure.note) == (
        world.a,
        date(2026, 12, 23),
        date(2027, 1, 2),
        "Holidays",
    )
    for booking in (german, italian):
        booking.refresh_from_db()
        assert booking.status == Booking.Status.CANCELLED
        assert booking.cancelled_because == Booking.CancelledBecause.PARTNER
        assert booking.cancellation_reason == "Holidays"
    outside.refresh_from_db()
    assert outside.status == Booking.Status.CONFIRMED
    to_customers = {m.to[0]: m for m in mail.outbox if m.to[0].endswith("@example.com")}
    assert to_customers["hans@example.com"].subject.startswith("Buchung storniert: ")
    assert "Grund: Holidays" in to_customers["hans@example.com"].body
    assert to_customers["lucia@example.com"].subject.startswith("Prenotazione annullata: ")
    # One cancellation event per booking and the closure's own, each naming the owner.
    cancelled = SecurityEvent.objects.filter(event_type=BookingEvent.BOOKING_CANCELLED)
    assert sorted(e.target for e in cancelled) == sorted(
        [f"booking:{german.pk}", f"booking:{italian.pk}"]
    )
    event = SecurityEvent.objects.get(event_type=BookingEvent.CLOSURE_CREATED)
    assert event.actor == world.owner and event.target == f"closure:{closure.pk}"
    assert event.detail["choice"] == "cancel"
    assert _free(world, CHRISTMAS_EVE) == []
    assert _free(world, date(2027, 1, 3))  # the day after is open as before
    followed = client.get(response["Location"])
    assert "2 bookings were cancelled" in followed.content.decode()


def test_keep_leaves_the_bookings_but_offers_no_new_times(
    client: Client, world: World, django_capture_on_commit_callbacks: Any
) -> None:
    kept = make_booking(world.a_service, datetime(2026, 12, 24, 9, 0, tzinfo=UTC))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(CLOSE, _form(choice="keep", shown=[str(kept.pk)]), follow=True)
    assert "1 booking on these days was kept." in response.content.decode()
    kept.refresh_from_db()
    assert kept.status == Booking.Status.CONFIRMED
    assert mail.outbox == []
    assert Closure.objects.filter(partner=world.a).count() == 1
    assert SecurityEvent.objects.get(event_type=BookingEvent.CLOSURE_CREATED).detail["kept"] == [
        kept.pk
    ]
    assert _free(world, CHRISTMAS_EVE) == []


def test_a_closure_beats_a_special_opening_of_the_same_day(client: Client, world: World) -> None:
    DateOverride.objects.create(partner=world.a, date=CHRISTMAS_EVE, note="Open late")
    client.post(CLOSE, _form("2026-12-24", "2026-12-24"))
    assert Closure.objects.count() == 1
    assert _free(world, CHRISTMAS_EVE) == []


def test_free_days_are_closed_at_once_and_the_page_says_so(client: Client, world: World) -> None:
    response = client.post(CLOSE, _form("2026-12-25", "2026-12-26"), follow=True)
    assert "The closure was saved. No bookings were on these days." in response.content.decode()
    assert Closure.objects.filter(first_day=date(2026, 12, 25)).exists()


def test_the_slot_cache_is_never_stale_after_a_closure(client: Client, world: World) -> None:
    before = _free(world, CHRISTMAS_EVE)
    assert before and _free(world, CHRISTMAS_EVE) == before  # cached now
    client.post(CLOSE, _form("2026-12-24", "2026-12-24"))
    assert _free(world, CHRISTMAS_EVE) == []
    # Deleting the closure opens the day again, through the cache too.
    Closure.objects.get().delete()
    assert _free(world, CHRISTMAS_EVE) == before


@pytest.mark.parametrize(
    ("first", "last", "error"),
    [
        ("2026-12-24", "2026-12-23", "The last day cannot be before the first day."),
        ("2026-11-01", "2026-11-30", "These days are over already."),
        ("2026-12-24", "2028-01-02", "A closure is at most 366 days long."),
        ("1899-12-24", "2026-12-24", "Enter a date between"),
        ("24.12.2026", "2026-12-24", "Enter a valid date."),
    ],
)
def test_a_bad_range_is_a_form_error_and_saves_nothing(
    client: Client, world: World, first: str, last: str, error: str
) -> None:
    booking = make_booking(world.a_service, datetime(2026, 12, 24, 9, 0, tzinfo=UTC))
    response = client.post(CLOSE, _form(first, last, choice="cancel", shown=[str(booking.pk)]))
    assert response.status_code == 200
    assert error in response.content.decode()
    _nothing_saved(world, booking)


def test_bookings_made_meanwhile_are_shown_again_before_anything_is_saved(
    client: Client, world: World
) -> None:
    shown = make_booking(world.a_service, datetime(2026, 12, 24, 9, 0, tzinfo=UTC))
    newer = make_booking(
        world.a_service, datetime(2026, 12, 24, 13, 0, tzinfo=UTC), customer_name="Late Comer"
    )
    response = client.post(CLOSE, _form(choice="cancel", shown=[str(shown.pk)]))
    page = response.content.decode()
    assert "The bookings concerned changed meanwhile." in page
    assert "Late Comer" in page and f'name="shown" value="{newer.pk}"' in page
    _nothing_saved(world, shown, newer)


def test_another_partners_bookings_are_never_shown_or_touched(client: Client, world: World) -> None:
    mine = make_booking(world.a_service, datetime(2026, 12, 24, 9, 0, tzinfo=UTC))
    theirs = make_booking(
        world.b_service, datetime(2026, 12, 24, 15, 0, tzinfo=UTC), customer_name=B_CUSTOMER
    )
    page = client.post(CLOSE, _form()).content.decode()
    assert f'name="shown" value="{mine.pk}"' in page
    assert B_CUSTOMER not in page and f'name="shown" value="{theirs.pk}"' not in page
    # Forging the other partner's booking into the shown list only refuses the closure.
    client.post(CLOSE, _form(choice="cancel", shown=[str(mine.pk), str(theirs.pk)]))
    _nothing_saved(world, mine, theirs)
    # Naming the other partner is a 404.
    assert client.get(f"{CLOSE}?partner={world.b.pk}").status_code == 404
    assert client.post(CLOSE, _form(partner=str(world.b.pk))).status_code == 404


# --- a staff member's absence ---------------------------------------------------------------


def test_an_absence_shows_the_persons_bookings_only_and_cancels_them(
    client: Client, world: World, django_capture_on_commit_callbacks: Any
) -> None:
    hers = make_booking(
        world.a_service,
        datetime(2026, 12, 24, 9, 0, tzinfo=UTC),
        staff=world.a_staff,
        customer_email="claire@example.com",
        language="fr",
    )
    teams = make_booking(world.a_service, datetime(2026, 12, 24, 9, 0, tzinfo=UTC))
    who = str(world.a_staff.pk)
    page = client.post(CLOSE, _form(who=who)).content.decode()
    assert "This absence of Quentina Alphastylist covers 1 booking" in page
    assert (
        f'name="shown" value="{hers.pk}"' in page and f'name="shown" value="{teams.pk}"' not in page
    )
    assert not StaffAbsence.objects.filter(staff=world.a_staff).exists()
    assert _free(world, CHRISTMAS_EVE, world.a_staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(CLOSE, _form(who=who, choice="cancel", shown=[str(hers.pk)]))
    assert response["Location"] == f"/admin/booking/staffmember/{world.a_staff.pk}/change/"
    absence = StaffAbsence.objects.get(staff=world.a_staff)
    # From the first day's local midnight to the one after the last day (Zurich, UTC+1).
    assert absence.starts_at == datetime(2026, 12, 22, 23, 0, tzinfo=UTC)
    assert absence.ends_at == datetime(2027, 1, 2, 23, 0, tzinfo=UTC)
    hers.refresh_from_db()
    teams.refresh_from_db()
    assert hers.status == Booking.Status.CANCELLED
    assert teams.status == Booking.Status.CONFIRMED
    (to_claire,) = [m for m in mail.outbox if m.to == ["claire@example.com"]]
    assert to_claire.subject.startswith("Réservation annulée : ")
    event = SecurityEvent.objects.get(event_type=BookingEvent.ABSENCE_CREATED)
    assert event.actor == world.owner and event.detail["staff_id"] == world.a_staff.pk
    assert _free(world, CHRISTMAS_EVE, world.a_staff) == []
    assert _free(world, CHRISTMAS_EVE)  # the team still works that day


def test_an_absence_kept_leaves_the_booking_and_offers_no_new_times(
    client: Client, world: World
) -> None:
    hers = make_booking(
        world.a_service, datetime(2026, 12, 24, 9, 0, tzinfo=UTC), staff=world.a_staff
    )
    who = str(world.a_staff.pk)
    client.post(CLOSE, _form(who=who, choice="keep", shown=[str(hers.pk)]))
    hers.refresh_from_db()
    assert hers.status == Booking.Status.CONFIRMED
    assert StaffAbsence.objects.filter(staff=world.a_staff).count() == 1
    assert mail.outbox == []
    assert _free(world, CHRISTMAS_EVE, world.a_staff) == []


def test_another_partners_person_cannot_be_chosen(client: Client, world: World) -> None:
    response = client.post(CLOSE, _form(who=str(world.b_staff.pk), choice="keep"))
    assert response.status_code == 200
    assert "Select a valid choice." in response.content.decode()
    assert not StaffAbsence.objects.filter(note="Holidays").exists()
    assert not Closure.objects.exists()


# --- the service on its own -----------------------------------------------------------------


def test_the_service_refuses_when_the_covered_bookings_are_not_the_ones_shown(
    world: World,
) -> None:
    booking = make_booking(world.a_service, datetime(2026, 12, 24, 9, 0, tzinfo=UTC))
    with pytest.raises(CoveredChanged):
        closure_create(
            partner=world.a,
            actor=Actor.user(world.owner, via=Via.ADMIN),
            first_day=CHRISTMAS_EVE,
            last_day=CHRISTMAS_EVE,
            note="",
            choice=CoveredChoice.CANCEL,
            shown=set(),
            now=NOW,
        )
    _nothing_saved(world, booking)


def test_the_days_cannot_be_stored_backwards(world: World) -> None:
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Closure.objects.create(
            partner=world.a, first_day=date(2026, 12, 24), last_day=date(2026, 12, 23)
        )


# --- the admin around it ----------------------------------------------------------------------


def test_the_closure_list_leads_to_the_closure_page(client: Client, world: World) -> None:
    page = client.get("/admin/booking/closure/").content.decode()
    assert f'href="{CLOSE}"' in page
    assert client.get(CLOSE).status_code == 200
    assert client.put(CLOSE).status_code == 405


def test_a_date_override_says_that_no_ranges_means_closed(client: Client, world: World) -> None:
    page = client.get("/admin/booking/dateoverride/add/").content.decode()
    assert "Without any time range the business is closed that day." in page


def test_a_failing_cancellation_leaves_no_closure_and_no_cancellation(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One transaction: when the second cancellation fails, the first is undone with the
    closure (a fault injected into the cancellation service, not a stand-in for it)."""
    from booking import services

    first = make_booking(world.a_service, datetime(2026, 12, 24, 9, 0, tzinfo=UTC))
    second = make_booking(world.a_service, datetime(2026, 12, 24, 13, 0, tzinfo=UTC))
    real_cancel = services.booking_cancel

    def cancel_then_fail(*, booking: Booking, **kwargs: Any) -> Booking:
        if booking.pk == second.pk:
            raise RuntimeError("the database went away")
        return real_cancel(booking=booking, **kwargs)

    monkeypatch.setattr(services, "booking_cancel", cancel_then_fail)
    with pytest.raises(RuntimeError):
        closure_create(
            partner=world.a,
            actor=Actor.user(world.owner, via=Via.ADMIN),
            first_day=CHRISTMAS_EVE,
            last_day=CHRISTMAS_EVE,
            note="Holidays",
            choice=CoveredChoice.CANCEL,
            shown={first.pk, second.pk},
            now=NOW,
        )
    _nothing_saved(world, first, second)
    assert not SecurityEvent.objects.filter(event_type=BookingEvent.BOOKING_CANCELLED).exists()


def test_deleting_a_closure_opens_the_days_again_and_is_logged(
    client: Client, world: World
) -> None:
    client.post(CLOSE, _form("2026-12-24", "2026-12-24"))
    closure = Closure.objects.get()
    assert _free(world, CHRISTMAS_EVE) == []
    response = client.post(f"/admin/booking/closure/{closure.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Closure.objects.exists()
    assert _free(world, CHRISTMAS_EVE)
    event = SecurityEvent.objects.get(event_type=BookingEvent.CLOSURE_DELETED)
    assert event.actor == world.owner and event.target == f"closure:{closure.pk}"


def test_a_closure_cannot_be_changed_in_place(client: Client, world: World) -> None:
    client.post(CLOSE, _form("2026-12-24", "2026-12-24"))
    closure = Closure.objects.get()
    url = f"/admin/booking/closure/{closure.pk}/change/"
    client.post(url, {"partner": world.a.pk, "first_day": "2026-12-20", "last_day": "2026-12-31"})
    closure.refresh_from_db()
    assert (closure.first_day, closure.last_day) == (CHRISTMAS_EVE, CHRISTMAS_EVE)


def test_a_persons_absence_can_be_part_of_a_day(client: Client, world: World) -> None:
    """A dentist's appointment from 14:00 to 16:00 (Zurich): only the booking inside is shown
    and cancelled; the morning stays bookable."""
    inside = make_booking(
        world.a_service, datetime(2026, 12, 24, 14, 0, tzinfo=UTC), staff=world.a_staff
    )  # 15:00 in Zurich
    morning = make_booking(
        world.a_service, datetime(2026, 12, 24, 9, 0, tzinfo=UTC), staff=world.a_staff
    )  # 10:00 in Zurich
    away = _form("2026-12-24", "2026-12-24", who=str(world.a_staff.pk))
    away |= {"from_time": "14:00", "until_time": "16:00"}
    page = client.post(CLOSE, away).content.decode()
    assert "covers 1 booking" in page
    assert (
        f'name="shown" value="{inside.pk}"' in page
        and f'name="shown" value="{morning.pk}"' not in page
    )
    client.post(CLOSE, away | {"choice": "cancel", "shown": [str(inside.pk)]})
    absence = StaffAbsence.objects.get(staff=world.a_staff)
    assert (absence.starts_at, absence.ends_at) == (
        datetime(2026, 12, 24, 13, 0, tzinfo=UTC),
        datetime(2026, 12, 24, 15, 0, tzinfo=UTC),
    )
    inside.refresh_from_db()
    morning.refresh_from_db()
    assert (inside.status, morning.status) == (Booking.Status.CANCELLED, Booking.Status.CONFIRMED)
    free = [t.astimezone(world.a.zone).hour for t in _free(world, CHRISTMAS_EVE, world.a_staff)]
    assert 12 in free and 14 not in free and 15 not in free and 16 in free


@pytest.mark.parametrize(
    ("who", "times", "field"),
    [
        ("", {"from_time": "14:00"}, "from_time"),  # the business closes whole days
        ("staff", {"from_time": "16:00", "until_time": "14:00"}, "until_time"),
        ("staff", {"from_time": "16:00", "until_time": "16:00"}, "until_time"),
        ("staff", {"from_time": "25:00"}, "from_time"),
    ],
)
def test_times_that_make_no_absence_are_a_form_error(
    client: Client, world: World, who: str, times: dict[str, str], field: str
) -> None:
    who = str(world.a_staff.pk) if who == "staff" else ""
    form = _form("2026-12-24", "2026-12-24", who=who) | times
    response = client.post(CLOSE, form | {"choice": "keep"})
    assert response.status_code == 200
    assert response.context["form"].errors.get(field)
    _nothing_saved(world)
