"""What the customer pages share: the private-page headers, the 404 lookups, error pages and the
week paging of the booking and reschedule pages."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import wraps
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers

from booking import selectors, slots
from booking.forms import WeekQueryForm, utc_iso
from booking.models import Booking, Partner, Service

DAYS_PER_PAGE = 7

# Offered in the time-zone menu, plus the partner's zone and the one the customer chose.
COMMON_ZONES = (
    "UTC",
    "Europe/London",
    "Europe/Lisbon",
    "Europe/Zurich",
    "Europe/Berlin",
    "Europe/Paris",
    "Europe/Rome",
    "Europe/Vienna",
    "Europe/Helsinki",
    "Europe/Istanbul",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Australia/Sydney",
)

View = Callable[..., HttpResponse]


# Not "no-referrer": under it browsers send `Origin: null` with every form POST, which Django's
# CSRF check rightly refuses, so cancel and reschedule would fail. "strict-origin" sends at most
# the bare origin, never the path: the token stays out of every Referer, same-site or not.
PRIVATE_REFERRER_POLICY = "strict-origin"


def mark_private(response: HttpResponse) -> HttpResponse:
    """Headers for responses whose URL (or Location) holds the manage token."""
    add_never_cache_headers(response)
    response["Referrer-Policy"] = PRIVATE_REFERRER_POLICY
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def private_page(view: View) -> View:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return mark_private(view(request, *args, **kwargs))

    return wrapper


# --- helpers ------------------------------------------------------------------------------------


def _partner_or_404(slug: str) -> Partner:
    partner = selectors.partner_get(slug=slug)
    if partner is None:
        raise Http404("No such business.")
    return partner


def _service_or_404(partner: Partner, slug: str) -> Service:
    service = selectors.service_get_active(partner=partner, slug=slug)
    if service is None:
        raise Http404("No such service.")
    service.partner = partner  # already loaded: spares the slot engine a query
    return service


def _query(**params: str) -> str:
    return "?" + urlencode({k: v for k, v in params.items() if v})


def _zone_choices(*extra: str) -> list[str]:
    return sorted({*COMMON_ZONES, *(z for z in extra if z)})


def _errors_of(form: Form) -> list[str]:
    return [str(message) for messages in form.errors.values() for message in messages]


def bad_request(
    request: HttpRequest, messages: list[str], *, back_url: str = "", back_text: str = ""
) -> HttpResponse:
    return render(
        request,
        "400.html",
        {"error_messages": messages, "back_url": back_url, "back_text": back_text or "Back"},
        status=400,
    )


def _add_validation_errors(form: Form, exc: ValidationError) -> None:
    """Errors of booking_create's full_clean() onto the fields the customer can fix."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return slots.local_to_utc(zone, day, time(0))


@dataclass
class Week:
    """One page of free times: DAYS_PER_PAGE local dates of the customer's zone."""

    first: date | None
    days: list[tuple[date, list[dict[str, Any]]]] = field(default_factory=list)
    previous: date | None = None
    next: date | None = None
    too_far: bool = False
    last_day: date | None = None


def _last_bookable_day(service: Service, zone: ZoneInfo, now: datetime) -> date:
    """The customer-local date of the last instant the service's horizon allows (the slot engine
    offers starts up to the end of the partner-local day `today + horizon_days`)."""
    partner_zone = service.partner.zone
    horizon_end = slots.local_to_utc(
        partner_zone,
        now.astimezone(partner_zone).date() + timedelta(days=service.horizon_days + 1),
        time(0),
    )
    return (horizon_end - timedelta(microseconds=1)).astimezone(zone).date()


def _week(
    *,
    service: Service,
    zone: ZoneInfo,
    requested: date | None,
    now: datetime,
    exclude_booking_id: int | None = None,
) -> Week:
    """1. Start at the requested date, never before today in the customer's zone.
    2. Beyond the horizon nothing is asked (and the page says so).
    3. Otherwise ask the selector for the UTC window of the 7 local days and group by local date.
    Previous/next exist only where they lead to a bookable day."""
    today = now.astimezone(zone).date()
    last = _last_bookable_day(service, zone, now)
    first = max(requested or today, today)
    if first > last:
        return Week(first=None, too_far=True, last_day=last)
    days = [first + timedelta(days=i) for i in range(DAYS_PER_PAGE)]
    found = selectors.service_slots(
        service=service,
        window_start=_local_midnight(days[0], zone),
        window_end=_local_midnight(days[-1] + timedelta(days=1), zone),
        now=now,
        exclude_booking_id=exclude_booking_id,
    )
    by_day = slots.group_by_local_date(found, zone)
    return Week(
        first=first,
        days=[
            (day, [{"start": s, "value": utc_iso(s)} for s in by_day.get(day, [])]) for day in days
        ],
        previous=max(first - timedelta(days=DAYS_PER_PAGE), today) if first > today else None,
        next=days[-1] + timedelta(days=1) if days[-1] < last else None,
        last_day=last,
    )


def _payment_context(service: Service) -> dict[str, bool]:
    paid = selectors.service_is_paid(service)
    return {"paid": paid, "payments_missing": paid and not selectors.payments_enabled()}


def _change_refusal(booking: Booking, now: datetime) -> str:
    return selectors.booking_change_refusal(booking=booking, now=now) or ""


# --- the private manage link (also the payment pages' way in) -----------------------------------


def booking_or_404(token: str) -> Booking:
    booking = selectors.booking_get_by_token(token=token)
    if booking is None:
        # Unknown, forged and malformed tokens all get the same 404.
        raise Http404("No such booking.")
    booking.service.partner = booking.partner
    return booking


def customer_zone(request: HttpRequest, booking: Booking) -> str:
    """The zone from ?tz= when it is a real zone, else the partner's (a bad tz on a page that
    only shows a booking is not worth refusing)."""
    form = WeekQueryForm(
        {"tz": request.GET.get("tz", "")}, default_time_zone=booking.partner.time_zone
    )
    return form.cleaned_data["tz"] if form.is_valid() else booking.partner.time_zone
