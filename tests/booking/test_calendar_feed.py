"""Private calendar feeds (booking.feeds): made and revoked in the workspace, read by calendar
clients without a session. The feed is parsed with icalendar, as a calendar client would; the
attacker's side: revoked, replaced, forged and another partner's URLs, the rate limit, the
database and the logs."""

from __future__ import annotations

import io
import json
import logging
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from admin_world import (
    A_CUSTOMER,
    A_EMAIL,
    A_NOTES,
    A_PHONE,
    A_SERVICE,
    A_STYLIST,
    B_CUSTOMER,
    World,
    build_world,
)
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from icalendar import Calendar

from booking import services
from booking.deletion import partner_delete
from booking.events import BookingEvent
from booking.models import CalendarFeed, PartnerMembership
from security.actors import Actor, Via
from security.logging import JsonFormatter
from security.models import SecurityEvent
from tests.otp_login import login_verified

pytestmark = pytest.mark.django_db

PAGE = "/admin/booking/booking/calendar/feeds/"
URL = re.compile(r'value="(https?://[^"]+/feed/[^"]+\.ics)"')


@pytest.fixture
def world() -> World:
    cache.clear()  # the rate-limit counters of earlier tests
    return build_world()


def make_feed(client, user, scope: str) -> str:
    """Log in as `user`, make a feed of `scope` on the page, return its URL (shown once)."""
    login_verified(client, user)
    response = client.post(PAGE, {"scope": scope})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    (url,) = URL.findall(response.content.decode())
    client.logout()
    return url


def path_of(url: str) -> str:
    return urlsplit(url).path


def fetch(client, url: str):
    return client.get(path_of(url))


def events(response) -> list:
    assert response.status_code == 200
    calendar = Calendar.from_ical(response.content)
    return list(calendar.walk("VEVENT"))


def test_a_stylists_feed_lists_her_bookings_with_first_names_in_local_time(client, world) -> None:
    url = make_feed(client, world.stylist_a, "own")
    response = fetch(client, url)
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = Calendar.from_ical(response.content)
    assert str(calendar["X-WR-CALNAME"]) == "Zephyrine Atelier: my bookings"
    assert str(calendar["VERSION"]) == "2.0" and calendar["PRODID"]
    (zone,) = calendar.walk("VTIMEZONE")
    assert str(zone["TZID"]) == "Europe/Zurich"

    (event,) = calendar.walk("VEVENT")  # hers only: not the team's booking, nor partner B's
    booking = world.a_own_booking
    assert str(event["SUMMARY"]) == f"{A_SERVICE}: Olivia"
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    assert start == booking.start and end == booking.end
    assert (
        str(start.tzinfo) == "Europe/Zurich" and event["DTSTART"].params["TZID"] == "Europe/Zurich"
    )
    assert start.hour == booking.start.astimezone(start.tzinfo).hour
    assert event.decoded("DTSTAMP") == booking.created_at.replace(microsecond=0)
    assert event["DTSTAMP"].to_ical().endswith(b"Z")  # RFC 5545: in UTC
    assert str(event["UID"]) == f"feed-booking-{booking.pk}@{settings.SITE_DOMAIN}"
    assert str(Calendar.from_ical(fetch(client, url).content).walk("VEVENT")[0]["UID"]) == str(
        event["UID"]
    )  # stable between fetches

    body = response.content.decode()
    for private in ("Ownclient", "olivia@own-client.example", A_CUSTOMER, A_EMAIL):
        assert private not in body


def test_the_owners_feed_lists_everyone_with_first_names_only(client, world) -> None:
    url = make_feed(client, world.owner, "all")
    found = events(fetch(client, url))
    summaries = sorted(str(e["SUMMARY"]) for e in found)
    assert summaries == sorted(
        [
            f"{A_SERVICE}: {A_CUSTOMER.split()[0]} (Team)",
            f"{A_SERVICE}: Olivia ({A_STYLIST})",
        ]
    )
    body = fetch(client, url).content.decode()
    surname = A_CUSTOMER.split()[-1]
    for private in (surname, A_EMAIL, A_PHONE, A_NOTES, "Ownclient", B_CUSTOMER):
        assert private not in body


def test_cancelled_and_moved_bookings_leave_the_feed(client, world) -> None:
    url = make_feed(client, world.owner, "all")
    actor = Actor.user(world.owner, via=Via.ADMIN)
    services.booking_cancel(booking=world.a_booking, actor=actor)
    moved = services.booking_reschedule(
        booking=world.a_own_booking,
        new_start=world.a_own_booking.start + timedelta(hours=2),
        actor=actor,
    )
    (event,) = events(fetch(client, url))
    assert str(event["UID"]).startswith(f"feed-booking-{moved.pk}@")
    assert event.decoded("DTSTART") == moved.start


def test_a_member_who_is_nobodys_login_cannot_make_a_feed(client, world) -> None:
    login_verified(client, world.member_b)
    assert client.post(PAGE, {"scope": "own"}).status_code == 403
    assert client.post(PAGE, {"scope": "all"}).status_code == 403
    login_verified(client, world.stylist_a)
    assert client.post(PAGE, {"scope": "all"}).status_code == 403  # only owners see everyone's
    assert not CalendarFeed.objects.exists()


def _not_found_body(client) -> bytes:
    response = client.get("/feed/zephyrine/" + "A" * 43 + ".ics")
    assert response.status_code == 404
    return response.content


def test_revoking_ends_the_feed_at_the_next_request(client, world) -> None:
    url = make_feed(client, world.stylist_a, "own")
    assert fetch(client, url).status_code == 200
    feed = CalendarFeed.objects.get()
    login_verified(client, world.owner)  # the owner revokes the stylist's feed
    page = client.get(PAGE).content.decode()
    assert "stylist@zephyrine.example" in page and "(Europe/Zurich)" in page
    response = client.post(PAGE, {"action": "revoke", "feed": feed.pk})
    assert response.status_code == 302
    client.logout()
    gone = fetch(client, url)
    assert gone.status_code == 404 and gone.content == _not_found_body(client)
    event = SecurityEvent.objects.get(event_type=BookingEvent.CALENDAR_FEED_REVOKED)
    assert event.actor == world.owner and event.target == f"calendar_feed:{feed.pk}"


def test_a_new_address_replaces_the_old_one(client, world) -> None:
    old = make_feed(client, world.stylist_a, "own")
    new = make_feed(client, world.stylist_a, "own")
    assert old != new
    assert fetch(client, old).status_code == 404
    assert fetch(client, new).status_code == 200
    assert CalendarFeed.objects.count() == 1
    created = SecurityEvent.objects.filter(event_type=BookingEvent.CALENDAR_FEED_CREATED)
    assert created.count() == 2 and {e.actor for e in created} == {world.stylist_a}


def test_forged_and_foreign_urls_get_the_same_404(client, world) -> None:
    url = make_feed(client, world.stylist_a, "own")
    secret = path_of(url).rsplit("/", 1)[1].removesuffix(".ics")
    expected = _not_found_body(client)
    for path in (
        f"/feed/yodelmark/{secret}.ics",  # the right secret under another partner
        f"/feed/zephyrine/{secret[:-1]}B.ics",  # one character changed
        f"/feed/zephyrine/{secret[:-1]}.ics",  # too short
        f"/feed/zephyrine/{secret}x.ics",  # too long
        "/feed/zephyrine/%27%20OR%201=1.ics",
        "/feed/nobody/" + "A" * 43 + ".ics",
    ):
        response = client.get(path)
        assert response.status_code == 404 and response.content == expected, path


def test_another_partners_user_cannot_see_or_revoke_a_feed(client, world) -> None:
    url = make_feed(client, world.stylist_a, "own")
    feed = CalendarFeed.objects.get()
    login_verified(client, world.member_b)
    assert "stylist@zephyrine.example" not in client.get(PAGE).content.decode()
    assert client.post(PAGE, {"action": "revoke", "feed": feed.pk}).status_code == 404
    assert client.post(PAGE, {"action": "revoke", "feed": "x"}).status_code == 404
    client.logout()
    assert fetch(client, url).status_code == 200


def test_a_stylist_cannot_revoke_anothers_feed(client, world) -> None:
    make_feed(client, world.owner, "all")
    feed = CalendarFeed.objects.get()
    login_verified(client, world.stylist_a)
    assert client.post(PAGE, {"action": "revoke", "feed": feed.pk}).status_code == 404
    assert CalendarFeed.objects.filter(pk=feed.pk).exists()


def test_leaving_the_business_or_the_owner_role_ends_the_feed(client, world) -> None:
    own = make_feed(client, world.stylist_a, "own")
    everyone = make_feed(client, world.owner, "all")
    PartnerMembership.objects.filter(user=world.owner).update(role=PartnerMembership.Role.MEMBER)
    world.stylist_a.is_active = False
    world.stylist_a.save()
    assert fetch(client, everyone).status_code == 404
    assert fetch(client, own).status_code == 404


def test_the_feed_is_rate_limited_per_feed(client, world, settings) -> None:
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "feed": {"rate": "3/m", "fail_open": True}}
    # The limit counts per minute of the clock: the four fetches must fall in one minute (run
    # across a minute's turn, the first counted in the minute before and the fourth was let
    # through). The clock stands a second into the next minute.
    minute = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1, seconds=1)
    with time_machine.travel(minute, tick=False):
        url = make_feed(client, world.stylist_a, "own")
        other = make_feed(client, world.owner, "all")
        assert [fetch(client, url).status_code for _ in range(3)] == [200, 200, 200]
        refused = fetch(client, url)
        assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
        assert fetch(client, other).status_code == 200  # another feed is not held back


def test_headers_cache_nothing_and_leak_no_session(client, world) -> None:
    url = make_feed(client, world.stylist_a, "own")
    login_verified(client, world.stylist_a)  # a browser with a staff session opens the URL
    response = fetch(client, url)
    assert response.status_code == 200
    assert "private" in response["Cache-Control"] and "no-store" in response["Cache-Control"]
    assert "Cookie" not in response.get("Vary", "")
    assert not response.cookies
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert client.post(path_of(url)).status_code == 405


def test_the_database_holds_no_usable_secret(client, world) -> None:
    url = make_feed(client, world.stylist_a, "own")
    secret = path_of(url).rsplit("/", 1)[1].removesuffix(".ics")
    dump = io.StringIO()
    call_command("dumpdata", stdout=dump)
    assert secret not in dump.getvalue()
    stored = CalendarFeed.objects.get().secret_hash
    assert re.fullmatch(r"[0-9a-f]{64}", stored)
    # The stored hash is no way in.
    assert client.get(f"/feed/zephyrine/{stored}.ics").status_code == 404


def test_the_secret_reaches_no_log_line(client, world, caplog) -> None:
    url = make_feed(client, world.stylist_a, "own")
    secret = path_of(url).rsplit("/", 1)[1].removesuffix(".ics")
    with caplog.at_level(logging.DEBUG):
        fetch(client, url)
        client.get(path_of(url).replace(secret, secret[:-1] + "Z"))  # a 404, logged by Django
    lines = [JsonFormatter().format(record) for record in caplog.records]
    assert any("Not Found" in line for line in lines)
    assert not [line for line in lines if secret in line or secret[:-1] in line]
    assert all(json.loads(line) for line in lines)


def test_deleting_the_partner_deletes_its_feeds(client, world) -> None:
    make_feed(client, world.stylist_a, "own")
    partner_delete(
        partner=world.a, actor=Actor.user(world.superuser, via=Via.ADMIN), reason="Closed"
    )
    assert not CalendarFeed.objects.exists()


def test_operators_have_no_feeds_page(client, world) -> None:
    for user in (world.support, world.superuser):
        login_verified(client, user)
        assert client.get(PAGE).status_code == 403
        assert client.post(PAGE, {"scope": "all"}).status_code == 403
