"""Private calendar feeds: a partner user's upcoming bookings as an iCalendar subscription
(RFC 5545) that Google, Apple and Outlook calendars poll.

- The URL is /feed/<partner slug>/<secret>.ics. The secret is 256 random bits, shown once when
  the feed is made; only its SHA-256 is stored (a database dump or backup holds no usable URL),
  and the logs redact it (security.logging).
- A staff member's login gets the bookings of the people it is the login of (scope OWN); an owner
  also every staff member's (scope ALL). Whether the user still may is checked on every request
  (still active, still a member of the partner, still the owner), so removing someone from the
  business stops their feed at once, as revoking does (the row is deleted: the next request 404s).
- Making a feed replaces the user's feed of that scope (the old URL stops working). Every create
  and revoke is one service taking the actor and writing its security event in its transaction.
- What a feed shows is minimal: the service, the time, the customer's first name (and the
  person, in the owner's feed). No email, phone, notes or surname: calendars get synced and
  shared far beyond the workspace.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from booking.events import BookingEvent
from booking.models import Booking, CalendarFeed, CalendarFeedScope, PartnerMembership, StaffMember
from security.actors import Actor
from security.events import record_event

logger = logging.getLogger(__name__)

# URL-safe base64 of 32 random bytes, as secrets.token_urlsafe(32) writes them.
_SECRET = re.compile(r"[A-Za-z0-9_-]{43}")
# Bookings of the last days stay in the feed: a calendar client deletes what leaves the feed, and
# this morning's appointments should not vanish from the day's view at noon.
LOOK_BACK = timedelta(days=7)
# How far ahead, and at most how many bookings one feed lists (a busy salon's year is well below).
HORIZON = timedelta(days=365)
MAX_EVENTS = 5000


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def feed_url(feed: CalendarFeed, secret: str) -> str:
    """The subscription URL (absolute: it is pasted into a calendar app)."""
    path = reverse("booking:calendar-feed", args=[feed.partner.slug, secret])
    return settings.SITE_URL + path


def webcal_url(url: str) -> str:
    """The same URL with the webcal scheme: a click opens the subscription in Apple Calendar
    and Outlook."""
    return "webcal://" + url.partition("://")[2]


# --- who may have which feed --------------------------------------------------------------------


def _membership(user: Any, partner_id: int | None = None) -> PartnerMembership | None:
    if not getattr(user, "is_active", False):
        return None
    memberships = PartnerMembership.objects.select_related("partner").filter(user=user)
    if partner_id is not None:
        memberships = memberships.filter(partner_id=partner_id)
    return memberships.first()


def scopes_allowed(user: Any) -> list[CalendarFeedScope]:
    """The feeds `user` may have: their own bookings if they are a staff member's login, and
    everyone's if they own the business."""
    membership = _membership(user)
    if membership is None:
        return []
    allowed = []
    if StaffMember.objects.filter(partner_id=membership.partner_id, user=user).exists():
        allowed.append(CalendarFeedScope.OWN)
    if membership.role == PartnerMembership.Role.OWNER:
        allowed.append(CalendarFeedScope.ALL)
    return allowed


def _is_owner(user: Any, partner_id: int) -> bool:
    membership = _membership(user, partner_id)
    return membership is not None and membership.role == PartnerMembership.Role.OWNER


# --- services -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewFeed:
    feed: CalendarFeed
    url: str  # shown once; never stored


def calendar_feed_create(*, actor: Actor, scope: CalendarFeedScope) -> NewFeed:
    """A new feed of `scope` for the acting user, replacing their feed of that scope (whose URL
    stops working). PermissionDenied when the user may not have such a feed."""
    user: Any = actor.account
    membership = _membership(user) if user is not None else None
    if membership is None or scope not in scopes_allowed(user):
        raise PermissionDenied(_("You cannot have this calendar feed."))
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        # The user's row serialises their feed changes: two clicks at once replace one another
        # instead of the second failing on the one-feed-per-scope constraint.
        get_user_model().objects.select_for_update().get(pk=user.pk)
        replaced = list(
            CalendarFeed.objects.filter(user=user, scope=scope).values_list("pk", flat=True)
        )
        CalendarFeed.objects.filter(pk__in=replaced).delete()
        feed = CalendarFeed(
            partner=membership.partner, user=user, scope=scope, secret_hash=secret_hash(secret)
        )
        feed.full_clean()
        feed.save()
        record_event(
            event_type=BookingEvent.CALENDAR_FEED_CREATED,
            actor=actor,
            target=f"calendar_feed:{feed.pk}",
            detail={
                "partner_id": membership.partner_id,
                "scope": str(scope.value),
                "replaced_feed_ids": replaced,
            },
        )
    logger.info(
        "calendar feed created",
        extra={"feed_id": feed.pk, "partner_id": feed.partner_id, "replaced": len(replaced)},
    )
    return NewFeed(feed=feed, url=feed_url(feed, secret))


def calendar_feed_revoke(*, feed: CalendarFeed, actor: Actor) -> None:
    """Revoke a feed: its URL answers 404 from the next request on. The feed's own user, or an
    owner of its partner; anyone else gets PermissionDenied (views answer 404 before that for
    another partner's feed)."""
    user = actor.account
    if user is None or not (feed.user_id == user.pk or _is_owner(user, feed.partner_id)):
        raise PermissionDenied(_("You cannot revoke this calendar feed."))
    with transaction.atomic():
        deleted, _rows = CalendarFeed.objects.filter(pk=feed.pk).delete()
        if not deleted:
            raise ValidationError(_("This calendar feed was already revoked."))
        record_event(
            event_type=BookingEvent.CALENDAR_FEED_REVOKED,
            actor=actor,
            target=f"calendar_feed:{feed.pk}",
            detail={
                "partner_id": feed.partner_id,
                "scope": feed.scope,
                "feed_user_id": feed.user_id,
            },
        )
    logger.info("calendar feed revoked", extra={"feed_id": feed.pk, "partner_id": feed.partner_id})


# --- selectors ----------------------------------------------------------------------------------


def calendar_feeds_for(user: Any) -> QuerySet[CalendarFeed]:
    """The feeds a partner user sees on their feeds page: their own, and for an owner every feed
    of the partner (to revoke a departed stylist's, say)."""
    membership = _membership(user)
    if membership is None:
        return CalendarFeed.objects.none()
    feeds = CalendarFeed.objects.filter(partner_id=membership.partner_id).select_related(
        "user", "partner"
    )
    if membership.role != PartnerMembership.Role.OWNER:
        feeds = feeds.filter(user=user)
    return feeds.order_by("user__email", "scope")


def calendar_feed_for_secret(*, partner_slug: str, secret: str) -> CalendarFeed | None:
    """The live feed of this URL, or None (unknown, malformed, revoked, another partner's slug,
    or a user who may no longer have it): the caller answers all of them alike."""
    if _SECRET.fullmatch(secret) is None:
        return None
    feed = (
        CalendarFeed.objects.select_related("partner", "user")
        .filter(secret_hash=secret_hash(secret), partner__slug=partner_slug)
        .first()
    )
    if feed is None:
        return None
    membership = _membership(feed.user, feed.partner_id)
    if membership is None:
        return None
    if feed.scope == CalendarFeedScope.ALL and membership.role != PartnerMembership.Role.OWNER:
        return None
    return feed


def feed_bookings(feed: CalendarFeed, *, now: datetime) -> QuerySet[Booking]:
    """The confirmed bookings the feed lists. Cancelled ones (a move cancels the old booking) and
    unpaid holds are left out: see `feed_calendar`."""
    bookings = Booking.objects.filter(
        partner_id=feed.partner_id,
        status=Booking.Status.CONFIRMED,
        end__gte=now - LOOK_BACK,
        start__lt=now + HORIZON,
    )
    if feed.scope == CalendarFeedScope.OWN:
        bookings = bookings.filter(staff__user_id=feed.user_id)
    return bookings.select_related("service", "staff", "resource").order_by("start", "pk")[
        :MAX_EVENTS
    ]


def first_name(name: str) -> str:
    """The first word of the customer's name: enough to greet them, not enough to find them."""
    words = name.split()
    return words[0] if words else ""


def feed_calendar(feed: CalendarFeed, *, now: datetime) -> bytes:
    """The feed as iCalendar bytes.

    Cancelled bookings are removed, not sent with STATUS:CANCELLED: a subscribed calendar is
    replaced by the feed's content at every refresh, so a removed event disappears in every
    client, whereas Outlook shows a STATUS:CANCELLED event of a subscription as a normal
    appointment and Google shows it as well in some views; and an unpaid hold is not an
    appointment yet. Times carry the partner's zone (TZID, with its VTIMEZONE from the zone
    database), so every client shows the local time, and converts it for a user elsewhere.
    UIDs are per booking and stable (a move makes a new booking, hence a new event)."""
    partner = feed.partner
    zone = partner.zone
    domain = settings.SITE_DOMAIN or "booking.local"
    with translation.override(settings.LANGUAGE_CODE):  # the workspace's language, like its emails
        if feed.scope == CalendarFeedScope.ALL:
            name = _("%(partner)s: everyone's bookings") % {"partner": partner.name}
        else:
            name = _("%(partner)s: my bookings") % {"partner": partner.name}
        calendar = Calendar()
        calendar.add("prodid", f"-//{domain}//Calendar feed//EN")
        calendar.add("version", "2.0")
        calendar.add("calscale", "GREGORIAN")
        calendar.add("method", "PUBLISH")
        calendar.add("x-wr-calname", name)
        calendar.add("x-wr-timezone", zone.key)
        # How often clients should ask again (Apple, Outlook read these; Google has its own).
        calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
        calendar.add("x-published-ttl", timedelta(hours=1))
        for booking in feed_bookings(feed, now=now):
            calendar.add_component(_event(booking, feed, zone, domain))
        calendar.add_missing_timezones()
    return bytes(calendar.to_ical())


def _event(booking: Booking, feed: CalendarFeed, zone: ZoneInfo, domain: str) -> Event:
    summary = _("%(service)s: %(customer)s") % {
        "service": booking.service.name,
        "customer": first_name(booking.customer_name) or _("customer"),
    }
    if feed.scope == CalendarFeedScope.ALL:
        summary = _("%(summary)s (%(staff)s)") % {"summary": summary, "staff": booking.staff.name}
    event = Event()
    event.add("uid", f"feed-booking-{booking.pk}@{domain}")
    event.add("dtstamp", booking.created_at)
    event.add("dtstart", booking.start.astimezone(zone))
    event.add("dtend", booking.end.astimezone(zone))
    event.add("summary", summary)
    event.add("status", "CONFIRMED")
    event.add("transp", "OPAQUE")
    event.add("sequence", 0)
    if booking.resource is not None:
        event.add("location", booking.resource.name)
    return event


def calendar_feed_body(feed: CalendarFeed, *, now: datetime | None = None) -> bytes:
    return feed_calendar(feed, now=now or timezone.now())
