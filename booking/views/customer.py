"""The booking pages: a partner's services, a service's week of free times, and the booking form
(a paid service's time becomes a hold and the customer goes on to the payment page)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from booking import selectors, services
from booking.forms import BookingForm, SlotChoiceForm, WeekQueryForm, utc_iso
from booking.views.common import (
    _add_validation_errors,
    _errors_of,
    _partner_or_404,
    _payment_context,
    _query,
    _service_or_404,
    _week,
    _zone_choices,
    bad_request,
    mark_private,
)

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
        return bad_request(
            request, _errors_of(form), back_url=here, back_text=f"Show the times of {service.name}"
        )
    tz = form.cleaned_data["tz"]
    zone = ZoneInfo(tz)
    week = _week(
        service=service, zone=zone, requested=form.cleaned_data["week"], now=timezone.now()
    )
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
        form = BookingForm(
            initial={"start": utc_iso(start), "tz": tz}, default_time_zone=partner.time_zone
        )
    context: dict[str, Any] = {
        "partner": partner,
        "service": service,
        "form": form,
        "start": start,
        "end": start + timedelta(minutes=service.duration_minutes),
        "tz": tz,
        "times_url": times_url
        + _query(week=start.astimezone(ZoneInfo(tz)).date().isoformat(), tz=tz),
        **_payment_context(service),
    }
    if context["payments_missing"]:
        return render(request, "booking/book.html", context, status=503)

    if request.method != "POST":
        status = selectors.service_slot_status(service=service, start=start, now=timezone.now())
        if status is selectors.SlotStatus.NOT_OFFERED:
            return bad_request(
                request,
                ["This time is not available for booking. Please choose one of the offered times."],
                **back,
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
        return mark_private(
            HttpResponseRedirect(reverse("payments:pay", args=[token]) + _query(tz=tz))
        )
    return mark_private(
        HttpResponseRedirect(reverse("booking:manage", args=[token]) + _query(created="1", tz=tz))
    )
