"""The customer pages: pick a service, pick a time, book, and manage the booking through the
private link. Server-rendered HTML that works without JavaScript.

Each view parses its input with a form (booking.forms), calls a selector or one service and
renders; the booking rules (what is a slot, what is free, until when a booking may change) stay
in booking.services / booking.selectors. Error pages carry a message a customer can act on.

The manage pages have the customer's secret in their URL, so they are never cached, never send
their path as Referer, and ask search engines not to index them.

Slightly over the house limit of ~400 lines: the week paging (`_week`) is presentation shared by
the booking and reschedule pages only. When the partner-facing views arrive, split this module
into a package (customer pages / manage pages) rather than growing it.
"""

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
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from booking import selectors, services, slots
from booking.forms import BookingForm, CancelForm, SlotChoiceForm, WeekQueryForm, utc_iso
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


def bad_request(request: HttpRequest, messages: list[str], *, back_url: str = "", back_text: str = "") -> HttpResponse:
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
        partner_zone, now.astimezone(partner_zone).date() + timedelta(days=service.horizon_days + 1), time(0)
    )
    return (horizon_end - timedelta(microseconds=1)).astimezone(zone).date()


def _week(
    *, service: Service, zone: ZoneInfo, requested: date | None, now: datetime, exclude_booking_id: int | None = None
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
        days=[(day, [{"start": s, "value": utc_iso(s)} for s in by_day.get(day, [])]) for day in days],
        previous=max(first - timedelta(days=DAYS_PER_PAGE), today) if first > today else None,
        next=days[-1] + timedelta(days=1) if days[-1] < last else None,
        last_day=last,
    )


def _payment_context(service: Service) -> dict[str, bool]:
    paid = selectors.service_is_paid(service)
    return {"paid": paid, "payments_missing": paid and not selectors.payments_enabled()}


def _change_refusal(booking: Booking, now: datetime) -> str:
    return selectors.booking_change_refusal(booking=booking, now=now) or ""


# --- /book/<partner>/ ---------------------------------------------------------------------------


@require_safe
def partner_page(request: HttpRequest, partner_slug: str) -> HttpResponse:
    partner = _partner_or_404(partner_slug)
    services_ = list(selectors.service_list_active(partner=partner))
    return render(request, "booking/partner.html", {"partner": partner, "services": services_})


# --- /book/<partner>/<service>/?week=&tz= --------------------------------------------------------


@require_safe
def service_page(request: HttpRequest, partner_slug: str, service_slug: str) -> HttpResponse:
    partner = _partner_or_404(partner_slug)
    service = _service_or_404(partner, service_slug)
    here = reverse("booking:service", args=[partner.slug, service.slug])
    form = WeekQueryForm(request.GET, default_time_zone=partner.time_zone)
    if not form.is_valid():
        return bad_request(request, _errors_of(form), back_url=here, back_text=f"Show the times of {service.name}")
    tz = form.cleaned_data["tz"]
    zone = ZoneInfo(tz)
    week = _week(service=service, zone=zone, requested=form.cleaned_data["week"], now=timezone.now())
    book_url = reverse("booking:book", args=[partner.slug, service.slug])
    for _, day_slots in week.days:
        for slot in day_slots:
            slot["url"] = book_url + _query(start=slot["value"], tz=tz)
    return render(
        request,
        "booking/service.html",
        {
            "partner": partner,
            "service": service,
            "tz": tz,
            "zone_choices": _zone_choices(partner.time_zone, tz),
            "week": week,
            "here": here,
            **_payment_context(service),
            "previous_url": week.previous and here + _query(week=week.previous.isoformat(), tz=tz),
            "next_url": week.next and here + _query(week=week.next.isoformat(), tz=tz),
            "first_week_url": here + _query(tz=tz),
        },
    )


# --- /book/<partner>/<service>/book/?start=&tz= --------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
def book(request: HttpRequest, partner_slug: str, service_slug: str) -> HttpResponse:
    """GET shows the form for the chosen time; POST books it and redirects to the manage page
    (Post/Redirect/Get), whose URL carries the private token and tells the page it is new."""
    partner = _partner_or_404(partner_slug)
    service = _service_or_404(partner, service_slug)
    times_url = reverse("booking:service", args=[partner.slug, service.slug])
    back = {"back_url": times_url, "back_text": f"Choose another time for {service.name}"}

    if request.method == "POST":
        form = BookingForm(request.POST, default_time_zone=partner.time_zone)
        form.is_valid()
        choice: Form = form
    else:
        choice = SlotChoiceForm(request.GET, default_time_zone=partner.time_zone)
        choice.is_valid()
    choice_errors = [str(m) for name in ("start", "tz") for m in choice.errors.get(name, [])]
    if choice_errors:
        return bad_request(request, choice_errors, **back)
    start, tz = choice.cleaned_data["start"], choice.cleaned_data["tz"]
    if request.method != "POST":
        form = BookingForm(initial={"start": utc_iso(start), "tz": tz}, default_time_zone=partner.time_zone)
    context: dict[str, Any] = {
        "partner": partner, "service": service, "form": form, "start": start,
        "end": start + timedelta(minutes=service.duration_minutes), "tz": tz,
        "times_url": times_url + _query(week=start.astimezone(ZoneInfo(tz)).date().isoformat(), tz=tz),
        **_payment_context(service),
    }
    if context["payments_missing"]:
        return render(request, "booking/book.html", context, status=503)

    if request.method != "POST":
        status = selectors.service_slot_status(service=service, start=start, now=timezone.now())
        if status is selectors.SlotStatus.NOT_OFFERED:
            return bad_request(
                request, ["This time is not available for booking. Please choose one of the offered times."], **back
            )
        if status is selectors.SlotStatus.TAKEN:
            context["taken"] = "Sorry, this time was just taken. Please choose another one."
            return render(request, "booking/book.html", context, status=409)
        return render(request, "booking/book.html", context)

    if form.errors:
        return render(request, "booking/book.html", context, status=400)
    data = form.cleaned_data
    try:
        booking, token = services.booking_create_for_customer(
            service=service,
            start=start,
            customer_name=data["customer_name"],
            customer_email=data["customer_email"],
            customer_phone=data["customer_phone"],
            notes=data["notes"],
        )
    except services.SlotTaken as exc:
        context["taken"] = str(exc)
        return render(request, "booking/book.html", context, status=409)
    except services.SlotNotOffered as exc:
        return bad_request(request, [str(exc)], **back)
    except services.PaymentsUnavailable:
        context["payments_missing"] = True
        return render(request, "booking/book.html", context, status=503)
    except ValidationError as exc:
        _add_validation_errors(form, exc)
        return render(request, "booking/book.html", context, status=400)
    if booking.is_hold:  # paid service: on to the payment page (payments, linked by URL name)
        return mark_private(HttpResponseRedirect(reverse("payments:pay", args=[token]) + _query(tz=tz)))
    return mark_private(HttpResponseRedirect(reverse("booking:manage", args=[token]) + _query(created="1", tz=tz)))


# --- /manage/<token>/ ----------------------------------------------------------------------------


def _booking_or_404(token: str) -> Booking:
    booking = selectors.booking_get_by_token(token=token)
    if booking is None:
        # Unknown, forged and malformed tokens all get the same 404.
        raise Http404("No such booking.")
    booking.service.partner = booking.partner
    return booking


def _customer_zone(request: HttpRequest, booking: Booking) -> str:
    """The zone from ?tz= when it is a real zone, else the partner's (a bad tz on a page that
    only shows a booking is not worth refusing)."""
    form = WeekQueryForm({"tz": request.GET.get("tz", "")}, default_time_zone=booking.partner.time_zone)
    return form.cleaned_data["tz"] if form.is_valid() else booking.partner.time_zone


def _manage_context(request: HttpRequest, booking: Booking, token: str, tz: str, now: datetime) -> dict[str, Any]:
    manage_path = reverse("booking:manage", args=[token])
    return {
        "booking": booking,
        "partner": booking.partner,
        "service": booking.service,
        "tz": tz,
        "refusal": _change_refusal(booking, now),
        "cutoff": booking.start - timedelta(hours=booking.partner.cancellation_cutoff_hours),
        "manage_url": request.build_absolute_uri(manage_path),
        "manage_path": manage_path,
        "reschedule_url": reverse("booking:reschedule", args=[token]) + _query(tz=tz),
        "cancel_url": reverse("booking:cancel", args=[token]),
        "zone_choices": _zone_choices(booking.partner.time_zone, tz),
        "cancel_form": CancelForm(initial={"tz": tz}, default_time_zone=booking.partner.time_zone),
        "is_cancelled": booking.status == Booking.Status.CANCELLED,
        "is_hold": booking.is_hold and booking.hold_expires_at > now,
        "paid": selectors.service_is_paid(booking.service),
        "pay_url": reverse("payments:pay", args=[token]) + _query(tz=tz),
        "payment_status_url": reverse("payments:status", args=[token]) + _query(tz=tz),
    }


@private_page
@require_safe
def manage(request: HttpRequest, token: str) -> HttpResponse:
    booking = _booking_or_404(token)
    tz = _customer_zone(request, booking)
    context = _manage_context(request, booking, token, tz, timezone.now())
    context["created"] = request.GET.get("created") == "1" and booking.is_blocking
    context["rescheduled"] = request.GET.get("rescheduled") == "1" and booking.is_blocking
    return render(request, "booking/manage.html", context)


@private_page
@require_POST
def manage_cancel(request: HttpRequest, token: str) -> HttpResponse:
    booking = _booking_or_404(token)
    form = CancelForm(request.POST, default_time_zone=booking.partner.time_zone)
    valid = form.is_valid()
    tz = form.cleaned_data.get("tz") or booking.partner.time_zone
    if valid:
        try:
            services.booking_cancel(booking=booking, reason=form.cleaned_data["reason"], by_customer=True)
        except (services.ChangeNotAllowed, ValidationError) as exc:
            messages = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
        else:
            return HttpResponseRedirect(reverse("booking:manage", args=[token]) + _query(tz=tz))
    else:
        messages = _errors_of(form)
    context = _manage_context(request, booking, token, tz, timezone.now())
    context["error_messages"] = messages
    context["cancel_form"] = form
    return render(request, "booking/manage.html", context, status=400)


# --- /manage/<token>/reschedule/ ---------------------------------------------------------------


@private_page
@require_http_methods(["GET", "HEAD", "POST"])
def manage_reschedule(request: HttpRequest, token: str) -> HttpResponse:
    """GET lists the free times of the same service (the booking's own time counts as free);
    POST moves the booking to the chosen one and redirects to the manage page."""
    booking = _booking_or_404(token)
    partner, service = booking.partner, booking.service
    here = reverse("booking:reschedule", args=[token])
    query = request.POST if request.method == "POST" else request.GET
    week_form = WeekQueryForm(
        {"week": query.get("week", ""), "tz": query.get("tz", "")}, default_time_zone=partner.time_zone
    )
    if not week_form.is_valid():
        return bad_request(request, _errors_of(week_form), back_url=here, back_text="Show the free times")
    tz = week_form.cleaned_data["tz"]
    now = timezone.now()
    context = _manage_context(request, booking, token, tz, now)
    if booking.is_hold:
        context["refusal"] = "This time is reserved for you until it is paid; it can be changed once it is paid."
    status = 200
    if request.method == "POST":
        form = SlotChoiceForm(request.POST, default_time_zone=partner.time_zone)
        if not form.is_valid():
            return bad_request(request, _errors_of(form), back_url=here + _query(tz=tz), back_text="Show the free times")
        try:
            services.booking_reschedule(booking=booking, new_start=form.cleaned_data["start"], by_customer=True, now=now)
        except services.SlotTaken as exc:
            context["error_messages"], status = [str(exc)], 409
        except (services.SlotNotOffered, services.ChangeNotAllowed) as exc:
            context["error_messages"], status = [str(exc)], 400
        except ValidationError as exc:
            context["error_messages"], status = exc.messages, 400
        else:
            return HttpResponseRedirect(reverse("booking:manage", args=[token]) + _query(rescheduled="1", tz=tz))
    if context["refusal"]:
        # Past the cut-off (or cancelled): no times to offer, and the page says why.
        return render(request, "booking/reschedule.html", context, status=400 if status == 200 else status)
    week = _week(
        service=service, zone=ZoneInfo(tz), requested=week_form.cleaned_data["week"], now=now,
        exclude_booking_id=booking.pk,
    )
    context.update(
        {
            "week": week,
            "here": here,
            "current_value": utc_iso(booking.start),
            "previous_url": week.previous and here + _query(week=week.previous.isoformat(), tz=tz),
            "next_url": week.next and here + _query(week=week.next.isoformat(), tz=tz),
            "first_week_url": here + _query(tz=tz),
            "week_value": week.first.isoformat() if week.first else "",
        }
    )
    return render(request, "booking/reschedule.html", context, status=status)
