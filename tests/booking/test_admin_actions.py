"""Partner actions in the admin: cancel with reason, reschedule, create by hand, CSV export."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from admin_world import A_EMAIL, build_world, make_booking
from django.core import mail
from django.utils import timezone

from booking.admin.csv_export import csv_safe
from booking.models import Booking
from security.events import verify_chain
from security.fieldcrypto import blind_index
from security.models import SecurityEvent
from tests import hostile_inputs as hostile
from tests.otp_login import login_verified

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(client):
    world = build_world()
    login_verified(client, world.owner)
    return world


def _local(world, days: int, hour: int) -> str:
    day = timezone.localdate(timezone=world.a.zone) + timedelta(days=days)
    return f"{day.isoformat()}T{hour:02d}:00"


def test_cancel_page_asks_for_a_reason_then_cancels_and_emails_the_customer(
    client, world, django_capture_on_commit_callbacks
) -> None:
    url = f"/admin/booking/booking/{world.a_booking.pk}/cancel/"
    page = client.get(url).content.decode()
    assert 'name="reason"' in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"reason": "Stylist is ill"})
    assert response.status_code == 302
    world.a_booking.refresh_from_db()
    assert world.a_booking.status == Booking.Status.CANCELLED
    assert world.a_booking.cancellation_reason == "Stylist is ill"
    assert A_EMAIL in [addr for m in mail.outbox for addr in m.to]


def test_cancel_twice_is_a_form_error(client, world) -> None:
    url = f"/admin/booking/booking/{world.a_booking.pk}/cancel/"
    client.post(url, {"reason": ""})
    response = client.post(url, {"reason": ""})
    assert response.status_code == 200 and "already cancelled" in response.content.decode()


def test_cancel_is_possible_inside_the_customer_cutoff(client, world) -> None:
    soon = make_booking(world.a_service, timezone.now() + timedelta(hours=2))
    assert (
        client.post(f"/admin/booking/booking/{soon.pk}/cancel/", {"reason": "x"}).status_code == 302
    )
    soon.refresh_from_db()
    assert soon.status == Booking.Status.CANCELLED


def test_bulk_cancel_shows_a_confirmation_then_cancels(
    client, world, django_capture_on_commit_callbacks
) -> None:
    data = {"action": "cancel_selected", "_selected_action": [world.a_booking.pk]}
    confirm = client.post("/admin/booking/booking/", data)
    assert confirm.status_code == 200 and 'name="reason"' in confirm.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/admin/booking/booking/", {**data, "confirm": "yes", "reason": "Closed"})
    world.a_booking.refresh_from_db()
    assert world.a_booking.status == Booking.Status.CANCELLED
    assert any(A_EMAIL in m.to for m in mail.outbox)


def test_reschedule_moves_the_booking(client, world, django_capture_on_commit_callbacks) -> None:
    url = f"/admin/booking/booking/{world.a_booking.pk}/reschedule/"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"start": _local(world, 4, 14)})
    assert response.status_code == 302
    new = Booking.objects.get(rescheduled_from=world.a_booking)
    assert new.start.astimezone(world.a.zone).hour == 14
    assert response["Location"] == f"/admin/booking/booking/{new.pk}/change/"
    world.a_booking.refresh_from_db()
    assert world.a_booking.status == Booking.Status.CANCELLED
    assert any(A_EMAIL in m.to for m in mail.outbox)


def test_reschedule_to_a_closed_time_is_a_form_error(client, world) -> None:
    response = client.post(
        f"/admin/booking/booking/{world.a_booking.pk}/reschedule/", {"start": _local(world, 4, 22)}
    )
    assert response.status_code == 200 and "not available" in response.content.decode()
    assert not Booking.objects.filter(rescheduled_from=world.a_booking).exists()


def _create(client, world, start: str, staff: object = ""):
    return client.post(
        "/admin/booking/booking/add/",
        {
            "service": world.a_service.pk,
            "staff": staff,
            "start": start,
            "customer_name": "Walk In",
            "customer_email": "walkin@example.com",
            "customer_phone": "",
            "notes": "",
        },
    )


def test_create_by_hand_books_through_the_service(
    client, world, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = _create(client, world, _local(world, 3, 9))
    assert response.status_code == 302
    booking = Booking.objects.get(customer_email_index=blind_index("walkin@example.com"))
    assert (
        booking.partner == world.a
        and booking.busy_start == booking.start
        and booking.manage_link_version
    )
    assert any("walkin@example.com" in m.to for m in mail.outbox)


def test_create_by_hand_refuses_a_taken_slot_with_a_form_error(client, world) -> None:
    taken = world.a_booking.start.astimezone(world.a.zone).strftime("%Y-%m-%dT%H:%M")
    response = _create(client, world, taken, staff=world.a_booking.staff_id)
    assert response.status_code == 200
    assert "just taken" in response.content.decode()
    assert not Booking.objects.filter(
        customer_email_index=blind_index("walkin@example.com")
    ).exists()


def test_create_by_hand_refuses_a_time_that_is_not_offered(client, world) -> None:
    response = _create(client, world, _local(world, 3, 23))
    assert response.status_code == 200 and "not available" in response.content.decode()


def test_csv_export_contains_own_bookings_and_writes_an_event(client, world) -> None:
    response = client.get("/admin/booking/booking/export/")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    own = [world.a_booking.pk, world.a_own_booking.pk]  # the team's and the stylist's
    assert [r["id"] for r in rows] == [str(pk) for pk in own]
    assert rows[0]["customer_email"] == A_EMAIL and rows[0]["service"] == world.a_service.name
    assert "busy_start" not in rows[0] and "manage_token_hash" not in rows[0]
    event = SecurityEvent.objects.get(event_type="data_export")
    assert event.actor == world.owner and event.target == f"booking:{own[0]},{own[1]}"
    assert event.detail["rows"] == 2
    assert verify_chain() == []


def test_csv_export_neutralises_formulas(client, world) -> None:
    make_booking(
        world.a_service,
        timezone.now() + timedelta(days=5),
        customer_name='=HYPERLINK("http://evil")',
        customer_email="x@example.com",
        notes="@SUM(A1)",
        customer_phone="-1+1",
    )
    body = client.get("/admin/booking/booking/export/").content.decode()
    row = next(
        r for r in csv.DictReader(io.StringIO(body)) if r["customer_email"] == "x@example.com"
    )
    assert row["customer_name"] == '\'=HYPERLINK("http://evil")'
    assert row["notes"] == "'@SUM(A1)" and row["customer_phone"] == "'-1+1"


# What a spreadsheet runs as a formula at the start of a cell (full-width forms included).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
SPLIT_FORMULAS = {
    "customer_phone": "0;=2+5;0",
    "customer_name": 'Eve;=HYPERLINK("http://x","y")',
    "notes": "ok,@SUM(A1)|+1\n-2\t=3\r\n\uff1dcmd|' /C calc'!A0, =4",
}


def _cells(body: str, split) -> list[str]:
    return [cell for line in body.splitlines() for cell in split(line)]


def test_csv_export_neutralises_formulas_after_any_separator(client, world) -> None:
    make_booking(
        world.a_service,
        timezone.now() + timedelta(days=5),
        customer_email="eve@example.com",
        **SPLIT_FORMULAS,
    )
    response = client.get("/admin/booking/booking/export/")
    assert response.status_code == 200
    body = response.content.decode()
    readers = {
        "csv ,": lambda line: next(csv.reader([line], delimiter=",")),
        "csv ;": lambda line: next(csv.reader([line], delimiter=";")),
        "csv tab": lambda line: next(csv.reader([line], delimiter="\t")),
        "split ;": lambda line: line.split(";"),
        "split ,": lambda line: line.split(","),
        "split |": lambda line: line.split("|"),
        "split tab": lambda line: line.split("\t"),
    }
    for name, split in readers.items():
        for cell in _cells(body, split):
            stripped = cell.lstrip(' "')
            assert not stripped.startswith(FORMULA_STARTS), (name, cell)
    # Every cell is quoted, and the values stay readable: an apostrophe before each formula.
    rows = list(csv.reader(io.StringIO(body)))
    assert body.startswith('"id","partner","service",')
    assert f'\r\n"{world.a_booking.pk}","' in body  # numbers are quoted too
    row = next(
        r for r in csv.DictReader(io.StringIO(body)) if r["customer_email"] == "eve@example.com"
    )
    assert row["customer_phone"] == "0;'=2+5;0"
    assert row["customer_name"] == 'Eve;\'=HYPERLINK("http://x","y")'
    assert row["notes"] == "ok,'@SUM(A1)|'+1\n'-2\t'=3\r\n'\uff1dcmd|' /C calc'!A0, '=4"
    assert len(rows) == 4  # header and three bookings: line breaks stay inside their quoted cell


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@x", "'@x"),
        ("\tx", "'\tx"),
        ("ok", "ok"),
        (None, ""),
        (5, "5"),
    ],
)
def test_csv_safe(value: object, safe: str) -> None:
    assert csv_safe(value) == safe


def test_booking_detail_never_shows_derived_fields(client, world) -> None:
    body = client.get(f"/admin/booking/booking/{world.a_booking.pk}/change/").content.decode()
    assert world.a_booking.manage_token_hash not in body
    assert "busy" not in body.lower()
    # Read-only: posting a change is refused; changes go through cancel/reschedule.
    assert (
        client.post(
            f"/admin/booking/booking/{world.a_booking.pk}/change/", {"customer_name": "X"}
        ).status_code
        == 403
    )


def test_member_without_change_rights_cannot_cancel(client, world) -> None:
    login_verified(client, world.support)
    assert (
        client.post(
            f"/admin/booking/booking/{world.a_booking.pk}/cancel/", {"reason": "x"}
        ).status_code
        == 403
    )


# --- hostile input: a form error or a 4xx, never a 500 ---------------------------------------------


@pytest.mark.parametrize("start", ["9999-12-31T23:59", "0001-01-01T00:00"])
def test_reschedule_to_the_ends_of_the_calendar_is_a_form_error(client, world, start: str) -> None:
    response = client.post(
        f"/admin/booking/booking/{world.a_booking.pk}/reschedule/", {"start": start}
    )
    assert response.status_code == 200
    assert "Enter a date between 1900 and 2999." in response.content.decode()


@pytest.mark.parametrize("start", hostile.LOCAL_DATETIMES)
def test_hostile_reschedule_starts_are_form_errors(client, world, start: str) -> None:
    response = client.post(
        f"/admin/booking/booking/{world.a_booking.pk}/reschedule/", {"start": start}
    )
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    assert not Booking.objects.filter(rescheduled_from=world.a_booking).exists()


@pytest.mark.parametrize("start", hostile.LOCAL_DATETIMES)
def test_hostile_starts_of_a_booking_by_hand_are_form_errors(client, world, start: str) -> None:
    response = _create(client, world, start)
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    assert not Booking.objects.filter(
        customer_email_index=blind_index("walkin@example.com")
    ).exists()


@pytest.mark.parametrize("value", hostile.NUMBERS)
def test_hostile_services_of_a_booking_by_hand_are_form_errors(client, world, value: str) -> None:
    response = client.post(
        "/admin/booking/booking/add/",
        {
            "service": value,
            "start": _local(world, 3, 9),
            "customer_name": "Walk In",
            "customer_email": "walkin@example.com",
        },
    )
    assert response.status_code == 200 and "errorlist" in response.content.decode()


@pytest.mark.parametrize("wanted", hostile.NUMBERS[:-1])
def test_staff_exporting_a_malformed_partner_get_400_and_no_file(
    client, world, wanted: str
) -> None:
    login_verified(client, world.superuser)
    response = client.get("/admin/booking/booking/export/", {"partner": wanted})
    assert response.status_code == 400
    assert "Choose a partner from the list." in response.content.decode()
    assert not SecurityEvent.objects.filter(event_type="data_export").exists()


def test_staff_exporting_an_unknown_partner_get_an_empty_file(client, world) -> None:
    login_verified(client, world.superuser)
    response = client.get("/admin/booking/booking/export/", {"partner": "999999"})
    assert response.status_code == 200
    assert list(csv.DictReader(io.StringIO(response.content.decode()))) == []
