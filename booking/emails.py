"""Emails about a booking: the customer's confirmation, cancellation and move (each with a calendar
entry) and a notice to the partner.

Called by `booking.tasks.booking_notify` after the booking's transaction committed. Nothing here
can reach the customer's manage token: only its hash is stored, so the emails point the customer
to the link on their confirmation page instead.

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
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from booking import ics
from booking.i18n import when
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
        summary=_("%(service)s – %(partner)s")
        % {"service": booking.service.local_name, "partner": partner.name},
        description=_(
            "%(service)s with %(staff)s at %(partner)s. To cancel or reschedule, use the link "
            "from your confirmation page."
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
        return _render(replace(message, context=_context(booking, event)))


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


def _messages(booking: Booking, event: Notice) -> list[_Message]:
    partner = booking.partner
    context = _context(booking, event)
    customer = booking.customer_email
    if event == Notice.CONFIRMED:
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
    notice = _Message("partner_notice", partner.contact_email, customer, context)
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
