"""How the bookings list reads: upcoming first, the filters a salon asks for ("today", "this
week", "unpaid", "cancelled", "moved"), and a state that tells a confirmed booking from an unpaid
hold, a cancellation and a moved booking's old time ("moved to …", linked), with what was paid.

Payments are another app's (booking never imports payments): the payment is reached through the
reverse relation `payment`, by name.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.contrib import admin
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Case, F, QuerySet, When
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from booking import slots
from booking.i18n import zoned
from booking.models import Booking, CancelledBecause

MOVED = Booking.Status.CANCELLED, CancelledBecause.RESCHEDULED


def _today_window(days: int, *, week: bool = False) -> tuple[datetime, datetime]:
    """[start, end) of today (or this week, Monday to Sunday) in the active zone: the partner's
    for a partner's users."""
    zone = timezone.get_current_timezone()
    today = timezone.localdate(timezone=zone)
    first = today - timedelta(days=today.weekday()) if week else today
    return (
        slots.local_midnight(zone, first),
        slots.local_midnight(zone, first + timedelta(days=days)),
    )


class ShowFilter(admin.SimpleListFilter):
    title = _("show")
    parameter_name = "show"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [
            ("today", _("Today")),
            ("week", _("This week")),
            ("upcoming", _("Upcoming")),
            ("unpaid", _("Unpaid holds")),
            ("cancelled", _("Cancelled")),
            ("moved", _("Moved")),
            ("past", _("Past")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any] | None:
        value, now = self.value(), timezone.now()
        if value in ("today", "week"):
            start, end = _today_window(7 if value == "week" else 1, week=value == "week")
            return queryset.filter(start__lt=end, end__gt=start)
        if value == "upcoming":
            return queryset.filter(end__gt=now).exclude(status=Booking.Status.CANCELLED)
        if value == "unpaid":
            return queryset.filter(status=Booking.Status.PENDING_PAYMENT)
        if value == "cancelled":
            return queryset.filter(status=Booking.Status.CANCELLED).exclude(
                cancelled_because=CancelledBecause.RESCHEDULED
            )
        if value == "moved":
            return queryset.filter(cancelled_because=CancelledBecause.RESCHEDULED)
        if value == "past":
            return queryset.filter(end__lte=now)
        return queryset


def upcoming_first(queryset: QuerySet[Booking]) -> QuerySet[Booking]:
    """Annotated for `UPCOMING_FIRST`: the next booking at the top, then the past ones, the
    most recent first."""
    now = timezone.now()
    return queryset.annotate(
        upcoming_start=Case(When(end__gt=now, then=F("start"))),
        past_start=Case(When(end__lte=now, then=F("start"))),
    )


UPCOMING_FIRST = (
    F("upcoming_start").asc(nulls_last=True),
    F("past_start").desc(),
    "-pk",
)


def is_moved(booking: Booking) -> bool:
    return (booking.status, booking.cancelled_because) == MOVED


def booking_payment(booking: Booking) -> Any:
    """The booking's payment, or None (another app's row, reached by the relation's name)."""
    try:
        return booking.payment  # payments' reverse one-to-one
    except (ObjectDoesNotExist, AttributeError):
        return None


def state_html(booking: Booking) -> SafeString:
    """Confirmed / unpaid hold (until …) / cancelled / moved to … (a link to the new booking)."""
    if is_moved(booking):
        new = getattr(booking, "rescheduled_to", None)
        if new is None:
            return format_html("{}", _("Moved"))
        return format_html(
            '{} <a href="{}">{}</a>',
            _("Moved to"),
            reverse("admin:booking_booking_change", args=[new.pk]),
            zoned(new.start),
        )
    if booking.status == Booking.Status.PENDING_PAYMENT:
        return format_html(
            "{}<br>{}",
            _("Unpaid hold"),
            _("until %(time)s") % {"time": zoned(booking.hold_expires_at)},
        )
    if booking.status == Booking.Status.CANCELLED:
        return format_html("{}", _("Cancelled"))
    return format_html("{}", _("Confirmed"))


def payment_text(booking: Booking) -> str:
    payment = booking_payment(booking)
    if payment is None:
        return "–"
    text = f"{payment.amount_display} · {payment.get_status_display()}"
    if payment.amount_refunded:
        text += " · " + str(_("refunded"))
    return text


def paid_through_moves(booking: Booking) -> str:
    """The payment text of the booking, or of the booking it was moved from: the payment stays
    with the booking it paid for, so a moved booking's is further back."""
    current: Booking | None = booking
    for _step in range(50):
        if current is None or booking_payment(current) is not None:
            break
        current = current.rescheduled_from
    return payment_text(current or booking)
