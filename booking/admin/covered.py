"""Never silently: when a saved absence or closed day covers bookings, the page that saved it
says which ones (each linked, in the partner's zone) and that they were kept, so the owner can
move or cancel them (cancelling tells the customer and refunds a paid one)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.contrib import messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import ngettext

from booking import slots
from booking.i18n import zoned
from booking.models import Booking, DateOverride, StaffAbsence

ACTIVE = (Booking.Status.CONFIRMED, Booking.Status.PENDING_PAYMENT)


def covered_by_absences(absences: Iterable[StaffAbsence]) -> QuerySet[Booking]:
    """The person's bookings that overlap any of the absences."""
    overlap = Q(pk__in=[])
    for absence in absences:
        overlap |= Q(
            staff_id=absence.staff_id, start__lt=absence.ends_at, end__gt=absence.starts_at
        )
    return Booking.objects.filter(overlap, status__in=ACTIVE)


def covered_by_override(override: DateOverride) -> list[Booking]:
    """The partner's bookings that day that do not fit the day's ranges (all of them when the
    day is closed)."""
    zone = override.partner.zone
    day_start = slots.local_midnight(zone, override.date)
    day_end = slots.local_midnight(zone, override.date + timedelta(days=1))
    ranges = [(r.start, r.end) for r in override.ranges.all()]
    found = []
    for booking in Booking.objects.filter(
        partner_id=override.partner_id, status__in=ACTIVE, start__lt=day_end, end__gt=day_start
    ).select_related("service"):
        start, end = booking.start.astimezone(zone), booking.end.astimezone(zone)
        fits = start.date() == end.date() == override.date and any(
            a <= start.time() and (end.time() <= b or b.hour == b.minute == 0) for a, b in ranges
        )
        if not fits:
            found.append(booking)
    return found


def warn_covered(request: HttpRequest, bookings: Iterable[Booking]) -> None:
    rows = list(bookings)
    if not rows:
        return
    links = format_html_join(
        ", ",
        '<a href="{}">{}</a>',
        (
            (
                reverse("admin:booking_booking_change", args=[b.pk]),
                f"{b.service.name}, {zoned(b.start)}",
            )
            for b in rows
        ),
    )
    text = ngettext(
        "This covers %(count)d booking, which was kept:",
        "This covers %(count)d bookings, which were kept:",
        len(rows),
    ) % {"count": len(rows)}
    advice = ngettext(
        "Move or cancel it (cancelling emails the customer and refunds a payment).",
        "Move or cancel them (cancelling emails each customer and refunds payments).",
        len(rows),
    )
    messages.warning(request, format_html("{} {}. {}", text, links, advice))
