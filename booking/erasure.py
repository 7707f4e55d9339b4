"""Customers' own rights (GDPR) and the partner's retention period (C25).

- `customer_export`: everything about one customer at one partner, as data (the manage link's
  "download my data", the partner's export action); logged as a data export.
- `customer_erase`: "delete my data" (through the manage link) or the partner's "anonymise":
  future bookings cancelled (paid ones refunded through `booking_cancelled`), every booking of
  the customer anonymised (time, service, staff and amounts stay for the partner's accounts; name,
  email, phone, notes and the reason typed go), the customer record deleted, the security events
  that hold the customer's address pseudonymised. The customer is told when no backup will hold
  them any more.
- `retention_enforce`: the daily job anonymising bookings that ended longer ago than the
  partner's retention period.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from booking import emails, selectors
from booking.deletion import backups_hold_until
from booking.events import BookingEvent
from booking.models import Booking, CancelledBecause, Customer, Partner
from booking.tokens import new_link_version
from security.actors import Actor
from security.events import events_pseudonymise, record_event
from security.models import SecurityEvent

logger = logging.getLogger(__name__)


# Every model that can refer to a customer, through a chain of foreign keys, and how erasure
# covers it (tests/booking/test_partner_deletion_coverage.py walks every model).
CUSTOMER_DATA: dict[str, str] = {
    "booking.Customer": "deleted",
    "booking.Booking": "anonymised: time, service, staff and status stay; personal fields go",
    "booking.BookingReminder": "kept: when a reminder went out, about an anonymised booking",
}


def register_customer_data(label: str, coverage: str) -> None:
    """Another app's model that refers to a customer's bookings, and why erasure leaves it
    without personal data (payments: amounts and Stripe ids only)."""
    CUSTOMER_DATA[label] = coverage


class ErasureRefused(ValidationError):
    """The message is safe to show the person asking."""


@dataclass(frozen=True)
class ErasureSummary:
    cancelled: int
    anonymised: int
    backups_hold_until: datetime


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def customer_data(customer: Customer) -> dict[str, Any]:
    """The customer's data at this partner, as JSON-ready values (times in UTC, ISO 8601)."""
    bookings = customer.bookings.select_related("service", "staff", "resource").order_by("start")
    return {
        "business": {
            "name": customer.partner.name,
            "contact_email": customer.partner.contact_email,
        },
        "customer": {
            "name": customer.name,
            "email": customer.email,
            "phone": customer.phone,
            "created_at": _iso(customer.created_at),
        },
        "bookings": [
            {
                "id": b.pk,
                "service": b.service.name,
                "staff": b.staff.name,
                "resource": b.resource.name if b.resource else None,
                "start": _iso(b.start),
                "end": _iso(b.end),
                "status": b.status,
                "name": b.customer_name,
                "email": b.customer_email,
                "phone": b.customer_phone,
                "notes": b.notes,
                "language": b.language,
                "booked_at": _iso(b.created_at),
                "cancelled_at": _iso(b.cancelled_at),
                "cancellation_reason": b.cancellation_reason,
                "time_zone": b.time_zone,
                "marketing_consent": (
                    {
                        "given_at": _iso(b.marketing_consent_at),
                        "notice_version": b.marketing_notice_version,
                    }
                    if b.marketing_consent_at
                    else None
                ),
            }
            for b in bookings
        ],
        "time_zone_of_times": "UTC",
    }


def customer_export(*, customer: Customer, actor: Actor, format: str) -> dict[str, Any]:
    """The customer's data (customer_data), the export written to the security log."""
    data = customer_data(customer)
    record_event(
        event_type=BookingEvent.DATA_EXPORT,
        actor=actor,
        target=f"customer:{customer.pk}",
        detail={
            "partner_id": customer.partner_id,
            "customer_id": customer.pk,
            "rows": len(data["bookings"]),
            "format": format,
        },
    )
    return data


def _anonymise(bookings: QuerySet[Booking], now: datetime) -> int:
    """Personal fields of the bookings gone, their links revoked; time, service, staff, status
    and what was paid stay. Inside the caller's transaction."""
    return bookings.filter(anonymised_at__isnull=True).update(
        customer=None,
        anonymised_at=now,
        customer_name="",
        customer_email="",
        customer_email_index="",
        customer_phone="",
        notes="",
        cancellation_reason="",
        # The zone the customer booked in says where they were; times then show in the
        # partner's zone. A consent without its person means nothing.
        time_zone="",
        marketing_consent_at=None,
        marketing_notice_version="",
        manage_link_version=new_link_version(),
        manage_token_hash=None,
    )


def _customer_events(customer: Customer, booking_ids: list[int]) -> set[int]:
    """Events holding the customer's traces: their own actions on their bookings (their IP
    address) and lost-link requests for their address (a keyed hash of it)."""
    targets = [f"booking:{pk}" for pk in booking_ids]
    traces = Q(target__in=targets, detail__actor_kind="customer") | Q(
        target=f"customer:{customer.pk}"
    )
    if customer.email:  # a customer booked by hand without one asked for no link
        traces |= Q(detail__email_fingerprint=selectors.email_fingerprint(customer.email))
    rows = SecurityEvent.objects.filter(traces)
    return set(rows.values_list("pk", flat=True))


def customer_erase(
    *, customer: Customer, actor: Actor, now: datetime | None = None
) -> ErasureSummary:
    """Erase one customer at one partner (module docstring). A customer (through their link) is
    held to the cut-off: an appointment too close to cancel online refuses the erasure until it
    is over; the business cancels such bookings itself first. Raises ErasureRefused."""
    from booking.services import bookings_cancel_for_erasure, partner_lock

    now = now or timezone.now()
    with transaction.atomic():
        partner_lock(customer.partner_id)
        customer = (
            Customer.objects.select_for_update().select_related("partner").get(pk=customer.pk)
        )
        future = list(
            customer.bookings.filter(status__in=Booking.BLOCKING, end__gt=now).select_related(
                "partner", "service", "staff", "resource"
            )
        )
        if future and not actor.is_customer:
            raise ErasureRefused(
                _("This customer has upcoming bookings: cancel them first, then anonymise.")
            )
        for booking in future:
            refusal = selectors.booking_change_refusal(booking=booking, now=now)
            if refusal:
                raise ErasureRefused(
                    _(
                        "An appointment is too close to be cancelled online. Contact the "
                        "business, or erase your data once it is over."
                    )
                )
        until = backups_hold_until(now)
        outbox = [emails.customer_erased_email(customer, until)] if actor.is_customer else []
        bookings_cancel_for_erasure(
            bookings=future, actor=actor, because=CancelledBecause.CUSTOMER, now=now
        )
        booking_ids = list(customer.bookings.values_list("pk", flat=True))
        event_ids = _customer_events(customer, booking_ids)
        anonymised = _anonymise(Booking.objects.filter(pk__in=booking_ids), now)
        customer_pk, partner_id = customer.pk, customer.partner_id
        customer.delete()
        erased = record_event(
            event_type=BookingEvent.CUSTOMER_ERASED,
            actor=actor,
            target=f"customer:{customer_pk}",
            detail={
                "partner_id": partner_id,
                "cancelled": len(future),
                "anonymised": anonymised,
            },
        )
        if actor.is_customer:
            event_ids.add(erased.pk)  # the customer's own request: their IP address
        events_pseudonymise(event_ids=event_ids, now=now)
        for email in outbox:
            transaction.on_commit(email.send, robust=True)
    logger.info(
        "customer erased",
        extra={"partner_id": partner_id, "cancelled": len(future), "anonymised": anonymised},
    )
    return ErasureSummary(cancelled=len(future), anonymised=anonymised, backups_hold_until=until)


def _months_before(moment: datetime, months: int) -> datetime:
    month_index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(month_index, 12)
    day = min(moment.day, 28)  # every month has a 28th: a day early at worst, never late
    return moment.replace(year=year, month=month + 1, day=day)


RETENTION_JOB = Actor.system("retention_enforce")


def retention_enforce(*, now: datetime | None = None) -> dict[str, int]:
    """Anonymise the bookings that ended longer ago than their partner's retention period, and
    delete the customer records left without bookings. Safe to run twice: an anonymised booking
    is not anonymised again. Returns the number anonymised per partner slug."""
    now = now or timezone.now()
    done: dict[str, int] = {}
    for partner in Partner.objects.filter(retention_months__isnull=False).order_by("pk"):
        cutoff = _months_before(now, partner.retention_months or 0)
        with transaction.atomic():
            from booking.services import partner_lock

            partner_lock(partner.pk)
            old = Booking.objects.filter(
                partner=partner, end__lt=cutoff, anonymised_at__isnull=True
            )
            customer_ids = set(old.values_list("customer_id", flat=True))
            count = _anonymise(old, now)
            if not count:
                continue
            gone = Customer.objects.filter(pk__in=customer_ids, bookings__isnull=True)
            removed = gone.count()
            gone.delete()
            record_event(
                event_type=BookingEvent.RETENTION_APPLIED,
                actor=RETENTION_JOB,
                target=f"partner:{partner.pk}",
                detail={
                    "partner_id": partner.pk,
                    "anonymised": count,
                    "customers_deleted": removed,
                    "months": partner.retention_months,
                },
            )
        done[partner.slug] = count
    if done:
        logger.info("retention applied", extra={"anonymised": done})
    return done
