"""Emails about a booking: the customer's confirmation, cancellation and move (each with a calendar
entry) and a notice to the partner.

Called by `booking.tasks.booking_notify` after the booking's transaction committed. Every email
to the customer carries the booking's manage link, derived afresh (booking.tokens: nothing usable
is stored); the partner's notice never does, it links to the booking in the workspace instead.
The partner gets exactly one notice per change, and none for a change its own people made
(booking.services decides, knowing the actor).

Each message carries one iCalendar object with one METHOD (RFC 6047): a move therefore sends the
customer two messages, the new time (REQUEST) and the removal of the old one (CANCEL).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime
from email import encoders
from email.mime.base import MIMEBase
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import TextChoices
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from booking import ics, links
from booking.i18n import customer_when, when
from booking.models import Booking

logger = logging.getLogger(__name__)


class Notice(TextChoices):
    """What happened to a booking, as its emails tell it (the templates compare the value)."""

    CONFIRMED = "confirmed", "Confirmed"
    CANCELLED = "cancelled", "Cancelled"
    RESCHEDULED = "rescheduled", "Rescheduled"


class Audience(TextChoices):
    """Each audience is its own task, so a retry after the partner's mail server failed does not
    send the customer's messages again."""

    CUSTOMER = "customer", "Customer"
    PARTNER = "partner", "Partner"


_TEMPLATES = "booking/email"
# SEQUENCE of a booking's calendar entry: created once, cancelled at most once (a move makes a
# new booking with a new UID), so two numbers are enough and need no column.
_SEQUENCE = {"REQUEST": 0, "CANCEL": 1}


@dataclass(frozen=True)
class _Message:
    template: str
    to: str
    reply_to: str
    context: dict[str, Any]
    calendars: tuple[tuple[ics.Method, Booking], ...] = ()


def _site_domain() -> str:
    return getattr(settings, "SITE_DOMAIN", "") or "booking.local"


def _calendar(booking: Booking, method: ics.Method, stamp: datetime) -> bytes:
    partner = booking.partner
    return ics.booking_ics(
        uid=ics.booking_uid(booking_id=booking.pk, domain=_site_domain()),
        start=booking.start,
        end=booking.end,
        # No manage link here: calendar entries get synced and shared far more than emails.
        summary=_("%(service)s – %(partner)s")
        % {"service": booking.service.local_name, "partner": partner.name},
        description=_(
            "%(service)s with %(staff)s at %(partner)s. To cancel or reschedule, use the link "
            "in your confirmation email."
        )
        % {
            "service": booking.service.local_name,
            "staff": booking.staff.name,
            "partner": partner.name,
        },
        # The room or chair, where the service needs one: what the customer looks for on arrival.
        location=f"{booking.resource.name}, {partner.name}" if booking.resource else "",
        organizer_email=partner.contact_email,
        organizer_name=partner.name,
        attendee_email=booking.customer_email,
        attendee_name=booking.customer_name,
        method=method,
        sequence=_SEQUENCE[method],
        stamp=stamp,
    )


def _render(message: _Message) -> EmailMultiAlternatives:
    subject: str = render_to_string(f"{_TEMPLATES}/{message.template}_subject.txt", message.context)
    # A subject is one header line: user text (a name) must not break it, and Django would
    # refuse a newline anyway (BadHeaderError), losing the whole email.
    subject = " ".join(subject.split())
    text = render_to_string(f"{_TEMPLATES}/{message.template}.txt", message.context)
    html = render_to_string(f"{_TEMPLATES}/{message.template}.html", message.context)
    email = EmailMultiAlternatives(
        subject=subject,
        body=text,
        to=[message.to],
        reply_to=[message.reply_to] if message.reply_to else None,
    )
    email.attach_alternative(html, "text/html")
    stamp = timezone.now()
    for method, booking in message.calendars:
        email.attach(_calendar_part(_calendar(booking, method, stamp), method))
    return email


def _render_in(message: _Message, booking: Booking, event: Notice) -> EmailMultiAlternatives:
    """The customer's messages in the language they booked in, whatever language the sender (a
    worker, or the partner's admin session) runs in; the partner's notice in the platform's
    default language, which is also the admin's."""
    language = settings.LANGUAGE_CODE if message.template == "partner_notice" else booking.language
    with translation.override(language):
        # The context again, in that language: it holds the formatted times.
        # The manage link (customer messages only) is kept; it does not depend on the language.
        fresh = _context(booking, event)
        if message.template != "partner_notice":
            fresh.update(_customer_times(booking, event))
        return _render(replace(message, context={**message.context, **fresh}))


def _calendar_part(data: bytes, method: ics.Method) -> MIMEBase:
    """The .ics as its own MIME part: base64 keeps its CRLF line endings byte for byte (iCalendar
    requires them; 8bit transfer may rewrite them), and the Content-Type carries the iTIP method
    the way calendar clients look for it."""
    part = MIMEBase("text", "calendar")
    part.replace_header("Content-Type", f"text/calendar; method={method}; charset=utf-8")
    part.set_payload(data)
    encoders.encode_base64(part)
    part.add_header(
        "Content-Disposition",
        "attachment",
        filename="invite.ics" if method == "REQUEST" else "cancel.ics",
    )
    return part


def _admin_url(booking: Booking) -> str:
    """The booking's page in the partner's workspace, absolute (the email is read outside the
    site): the partner's way to the booking, where the customer's emails carry the manage link."""
    return settings.SITE_URL + reverse("admin:booking_booking_change", args=[booking.pk])


def _context(booking: Booking, event: Notice) -> dict[str, Any]:
    zone = booking.partner.zone
    context: dict[str, Any] = {
        "event": event,
        "booking": booking,
        "partner": booking.partner,
        "service": booking.service,
        "when": when(booking.start, booking.end, zone),
        "zone_name": zone.key,
    }
    previous = booking.rescheduled_from
    if event == Notice.RESCHEDULED and previous is not None:
        context["previous_when"] = when(previous.start, previous.end, zone)
    return context


def _customer_times(booking: Booking, event: Notice) -> dict[str, str]:
    times = {"when": customer_when(booking, booking.start, booking.end)}
    previous = booking.rescheduled_from
    if event == Notice.RESCHEDULED and previous is not None:
        times["previous_when"] = customer_when(booking, previous.start, previous.end)
    return times


def _messages(booking: Booking, event: Notice) -> list[_Message]:
    partner = booking.partner
    partner_context = _context(booking, event)
    # Only the customer's messages hold the link: the business has its own way in. Their times
    # are in the zone the customer booked in, the partner's beside them where it differs.
    context = {
        **partner_context,
        **_customer_times(booking, event),
        "manage_url": links.manage_url(booking),
    }
    customer = booking.customer_email
    if not customer:
        # Booked by hand without an email (a walk-in, a phone customer): the business only.
        customer_messages = []
    elif event == Notice.CONFIRMED:
        customer_messages = [
            _Message(
                "confirmed_customer",
                customer,
                partner.contact_email,
                context,
                (("REQUEST", booking),),
            )
        ]
    elif event == Notice.CANCELLED:
        customer_messages = [
            _Message(
                "cancelled_customer",
                customer,
                partner.contact_email,
                context,
                (("CANCEL", booking),),
            )
        ]
    else:
        customer_messages = [
            _Message(
                "rescheduled_customer",
                customer,
                partner.contact_email,
                context,
                (("REQUEST", booking),),
            )
        ]
        previous = booking.rescheduled_from
        if previous is not None:
            customer_messages.append(
                _Message(
                    "rescheduled_previous_customer",
                    customer,
                    partner.contact_email,
                    context,
                    (("CANCEL", previous),),
                )
            )
    notice = _Message(
        "partner_notice",
        partner.contact_email,
        customer,
        {
            **partner_context,
            "admin_url": _admin_url(booking),
            # A confirmed hold: the customer paid online before it became a booking.
            "paid": booking.hold_expires_at is not None,
        },
    )
    return [*customer_messages, notice]


def _should_send(booking: Booking, event: Notice) -> bool:
    """A hold awaiting payment is not a booking the customer can put in a calendar yet; and a
    confirmation that arrives after the booking was cancelled would only mislead."""
    if event == Notice.CONFIRMED:
        return booking.status == Booking.Status.CONFIRMED
    if event == Notice.RESCHEDULED:
        return booking.status != Booking.Status.PENDING_PAYMENT
    return booking.status == Booking.Status.CANCELLED


def send_booking_event(*, booking_id: int, event: str, audience: str | None = None) -> None:
    """Send the emails for `event` (a Notice) of a booking, to one audience or, without one,
    to both. Takes the plain values a Celery task carries; an unknown one is a ValueError."""
    try:
        notice = Notice(event)
        to = Audience(audience) if audience is not None else None
    except ValueError:
        raise ValueError(f"Unknown booking event {event!r} or audience {audience!r}.") from None
    booking = (
        Booking.objects.select_related(
            "partner", "service", "staff", "resource", "rescheduled_from__service"
        )
        .filter(pk=booking_id)
        .first()
    )
    log = {"booking_id": booking_id, "booking_event": str(notice.value)}
    if booking is None:
        # Deleted in the meantime (e.g. the partner deleted their account): nothing to tell.
        logger.warning("booking email skipped: booking no longer exists", extra=log)
        return
    if not _should_send(booking, notice):
        logger.info(
            "booking email skipped: status changed", extra={**log, "status": booking.status}
        )
        return
    selected = [
        m
        for m in _messages(booking, notice)
        if to is None or (to == Audience.PARTNER) == (m.template == "partner_notice")
    ]
    messages = [_render_in(message, booking, notice) for message in selected]
    for email in messages:
        email.send()
    logger.info(
        "booking emails sent",
        extra={**log, "partner_id": booking.partner_id, "count": len(messages)},
    )


def send_manage_links(*, booking_ids: list[int], language: str | None = None) -> None:
    """One email with a fresh manage link for each of the given bookings (the lost-link form, a
    renewed link). They share one customer address: the email goes to it. Bookings gone or no
    longer upcoming in the meantime are left out; with none left, nothing is sent. In `language`
    (the language of the page the customer asked from), else in the first booking's language."""
    bookings = list(
        Booking.objects.select_related("partner", "service")
        .filter(pk__in=booking_ids)
        .order_by("start")
    )
    if not bookings:
        logger.info("manage links email skipped: no bookings", extra={"count": 0})
        return
    first = bookings[0]
    bookings = [b for b in bookings if b.customer_email.lower() == first.customer_email.lower()]
    with translation.override(_supported(language or first.language)):
        _render(_links_message(first, bookings)).send()
    logger.info(
        "manage links email sent",
        extra={"partner_id": first.partner_id, "booking_ids": [b.pk for b in bookings]},
    )


def _supported(language: str) -> str:
    """A language the platform has (a task argument may come from an older release)."""
    try:
        return translation.get_supported_language_variant(language)
    except LookupError:
        return str(settings.LANGUAGE_CODE)


def _links_message(first: Booking, bookings: list[Booking]) -> _Message:
    entries: list[dict[str, Any]] = [
        {
            "booking": booking,
            "service": booking.service,
            "when": customer_when(booking, booking.start, booking.end),
            "manage_url": links.manage_url(booking),
        }
        for booking in bookings
    ]
    return _Message(
        "manage_links",
        first.customer_email,
        first.partner.contact_email,
        {"partner": first.partner, "entries": entries, "customer_name": first.customer_name},
    )


def send_reminder(*, booking: Booking) -> None:
    """The reminder before an appointment: when, the manage link and the calendar entry. Raises
    what the mail backend raises (the caller records the failure). In the language the customer
    booked in, like the booking's other customer emails (the sender is a worker)."""
    if not booking.customer_email:  # the planner leaves such bookings out; a guard all the same
        logger.info("reminder skipped: no email address", extra={"booking_id": booking.pk})
        return
    with translation.override(booking.language):
        context = {
            **_context(booking, Notice.CONFIRMED),
            **_customer_times(booking, Notice.CONFIRMED),
            "manage_url": links.manage_url(booking),
        }
        message = _Message(
            "reminder_customer",
            booking.customer_email,
            booking.partner.contact_email,
            context,
            (("REQUEST", booking),),
        )
        _render(message).send()
    logger.info("reminder sent", extra={"booking_id": booking.pk})


def partner_closed_email(booking: Booking) -> EmailMultiAlternatives:
    """The customer of a future booking, told that the business deleted its account (so the
    booking is cancelled, and refunded when paid): rendered while the booking still exists, in
    the language they booked in, and sent after the deletion committed."""
    with translation.override(booking.language):
        return _render(
            _Message(
                "partner_closed_customer",
                booking.customer_email,
                booking.partner.contact_email,
                _context(booking, Notice.CANCELLED),
                (("CANCEL", booking),),
            )
        )


def customer_erased_email(customer: Any, backups_until: datetime) -> EmailMultiAlternatives:
    """The customer who erased their data, told it is done and until when backups hold it:
    rendered before the address goes, sent after the erasure committed. In the language of
    their latest booking."""
    latest = customer.bookings.order_by("-created_at").first()
    language = latest.language if latest is not None else settings.LANGUAGE_CODE
    partner = customer.partner
    with translation.override(language):
        return _render(
            _Message(
                "customer_erased",
                customer.email,
                partner.contact_email,
                {
                    "partner": partner,
                    "name": customer.name,
                    "until": backups_until.astimezone(partner.zone),
                    "zone_name": partner.zone.key,
                },
            )
        )
