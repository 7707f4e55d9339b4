"""The customer's own data through their manage link (GDPR): download it (JSON, or a readable
page) and delete it (a confirmation step first). Private pages like the rest of /manage/."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from booking import erasure, errors
from booking.models import Booking, Customer
from booking.views.common import booking_or_404, private_page
from security.actors import Actor, Via
from security.client_ip import client_ip


def _customer_or_404(token: str) -> tuple[Booking, Customer]:
    from django.http import Http404

    booking = booking_or_404(token)
    if booking.customer is None:  # anonymised: nobody's data left here
        raise Http404
    return booking, booking.customer


def _actor(request: HttpRequest) -> Actor:
    return Actor.customer(via=Via.MANAGE_LINK, ip=client_ip(request))


@private_page
@require_safe
def my_data_json(request: HttpRequest, token: str) -> HttpResponse:
    _booking, customer = _customer_or_404(token)
    data = erasure.customer_export(customer=customer, actor=_actor(request), format="json")
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2), content_type="application/json"
    )
    response["Content-Disposition"] = 'attachment; filename="my-data.json"'
    return response


@private_page
@require_safe
def my_data_page(request: HttpRequest, token: str) -> HttpResponse:
    booking, customer = _customer_or_404(token)
    erasure.customer_export(customer=customer, actor=_actor(request), format="html")
    bookings = customer.bookings.select_related("service", "staff", "resource").order_by("start")
    return render(
        request,
        "booking/my_data.html",
        {
            "partner": booking.partner,
            "customer": customer,
            "bookings": bookings,
            "zone_name": booking.partner.zone.key,
            "json_url": reverse("booking:my-data-json", args=[token]),
            "manage_url": reverse("booking:manage", args=[token]),
        },
    )


@private_page
@require_http_methods(["GET", "HEAD", "POST"])
def my_data_erase(request: HttpRequest, token: str) -> HttpResponse:
    booking, customer = _customer_or_404(token)
    context = {
        "partner": booking.partner,
        "upcoming": customer.bookings.filter(
            status__in=Booking.BLOCKING, end__gt=timezone.now()
        ).count(),
        "manage_url": reverse("booking:manage", args=[token]),
        "zone_name": booking.partner.zone.key,
    }
    if request.method == "POST":
        if request.POST.get("confirm") != "yes":
            return render(request, "booking/my_data_erase.html", context, status=400)
        try:
            summary = erasure.customer_erase(customer=customer, actor=_actor(request))
        except erasure.ErasureRefused as exc:
            context["error_messages"] = errors.messages(exc)
            return render(request, "booking/my_data_erase.html", context, status=400)
        return render(
            request,
            "booking/my_data_erased.html",
            {
                **context,
                "summary": summary,
                "until": summary.backups_hold_until.astimezone(booking.partner.zone),
            },
        )
    return render(request, "booking/my_data_erase.html", context)
