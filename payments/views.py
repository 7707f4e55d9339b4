"""The customer's payment pages and Stripe's webhook endpoint.

The payment page is the only page whose Content-Security-Policy lets anything in from outside:
Stripe.js, its frames and its API (payments.stripe_api.payment_page_csp). The card is typed
into Stripe's own fields and goes from the browser to Stripe; our server never receives it.
The return page shows what Stripe says, fetched server-side with our secret key.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

import stripe
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe

from booking import selectors as booking_selectors
from booking.models import Booking
from booking.views import booking_or_404, customer_zone, private_page
from payments import selectors, services, stripe_api
from payments.models import Payment
from payments.money import AmountError, format_minor, to_minor
from payments.webhooks import webhook_receive
from security.client_ip import client_ip
from security.inputs import content_length

logger = logging.getLogger(__name__)


def _base_context(request: HttpRequest, booking: Booking, token: str) -> dict[str, Any]:
    tz = customer_zone(request, booking)
    query = "?" + urlencode({"tz": tz})
    service = booking.service
    return {
        "booking": booking,
        "partner": booking.partner,
        "service": service,
        "tz": tz,
        "price": f"{service.currency} {service.price}" if service.price is not None else "",
        "manage_url": request.build_absolute_uri(reverse("booking:manage", args=[token])),
        "manage_path": reverse("booking:manage", args=[token]) + query,
        "pay_path": reverse("payments:pay", args=[token]) + query,
        "status_path": reverse("payments:status", args=[token]) + query,
        "book_again_path": reverse("booking:service", args=[booking.partner.slug, service.slug]),
    }


@private_page
@require_safe
def pay(request: HttpRequest, token: str) -> HttpResponse:
    booking = booking_or_404(token)
    context = _base_context(request, booking, token)
    now = timezone.now()
    if booking.status == Booking.Status.CONFIRMED:
        return HttpResponseRedirect(context["status_path"])
    if not booking.is_hold or booking.hold_expires_at is None or booking.hold_expires_at <= now:
        context["ended"] = True
        return render(request, "payments/pay.html", context, status=410)
    if not settings.PAYMENTS_ENABLED:
        context["payments_missing"] = True
        return render(request, "payments/pay.html", context, status=503)
    try:
        payment, intent = services.payment_start(booking=booking, now=now)
    except services.PaymentNotPossible:
        context["ended"] = True
        return render(request, "payments/pay.html", context, status=410)
    except stripe.StripeError:
        logger.exception(
            "stripe unavailable for the payment page", extra={"booking_id": booking.pk}
        )
        context["unavailable"] = True
        return render(request, "payments/pay.html", context, status=503)
    if intent["status"] not in (
        "requires_payment_method",
        "requires_confirmation",
        "requires_action",
    ):
        return HttpResponseRedirect(context["status_path"])  # paid, processing or cancelled already
    context.update(
        {
            "amount": format_minor(payment.amount, payment.currency),
            "stripe_js_url": settings.STRIPE_JS_URL,
            "publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
            # Lets the browser confirm this one intent with Stripe; shown only on this private,
            # never-cached page.
            "client_secret": intent["client_secret"],
            "status_url": request.build_absolute_uri(context["status_path"]),
        }
    )
    response = render(request, "payments/pay.html", context)
    response._csp_update = stripe_api.payment_page_csp()  # type: ignore[attr-defined]  # django-csp reads it
    return response


def _state(booking: Booking, payment: Payment | None) -> str:
    if payment is not None and hasattr(payment, "refund"):
        return {
            "succeeded": "refunded",
            "failed": "refund_failed",
            "canceled": "refund_failed",
        }.get(payment.refund.status, "refund_pending")
    if payment is not None and payment.status == Payment.Status.SUCCEEDED:
        return "paid" if booking.status == Booking.Status.CONFIRMED else "refund_pending"
    if booking.status == Booking.Status.CANCELLED:
        return "released"
    if payment is None:
        return "not_started"
    if payment.status == Payment.Status.PROCESSING:
        return "processing"
    if payment.status == Payment.Status.REQUIRES_PAYMENT_METHOD and payment.last_error_code:
        return "failed"
    return "not_paid"


@private_page
@require_safe
def pay_status(request: HttpRequest, token: str) -> HttpResponse:
    booking = booking_or_404(token)
    payment = selectors.payment_for_booking(booking=booking)
    if payment is not None and payment.status in Payment.OPEN and settings.PAYMENTS_ENABLED:
        try:
            payment = services.payment_refresh(payment=payment)
        except stripe.StripeError:
            logger.warning(
                "stripe unavailable for the return page", extra={"payment_id": payment.pk}
            )
        booking.refresh_from_db()
    context = _base_context(request, booking, token)
    context["payment"] = payment
    context["state"] = _state(booking, payment)
    context["is_hold_open"] = (
        booking.is_hold
        and booking.hold_expires_at is not None
        and booking.hold_expires_at > timezone.now()
    )
    price = booking.service.price
    if payment is not None:
        context["amount"] = format_minor(payment.amount, payment.currency)
    elif booking_selectors.service_is_paid(booking.service) and price is not None:
        try:
            context["amount"] = format_minor(
                to_minor(price, booking.service.currency), booking.service.currency
            )
        except AmountError:
            context["amount"] = context["price"]
    return render(request, "payments/status.html", context)


@csrf_exempt  # Stripe cannot send a CSRF token; the Stripe-Signature check authenticates instead
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    if not settings.PAYMENTS_ENABLED:
        return JsonResponse({"error": "payments_not_configured"}, status=503)
    length = content_length(request.META.get("CONTENT_LENGTH"))
    if length is None or length > settings.STRIPE_WEBHOOK_MAX_BYTES:
        return JsonResponse({"error": "too_large_or_no_length"}, status=413)
    payload = request.read(settings.STRIPE_WEBHOOK_MAX_BYTES + 1)
    if len(payload) > settings.STRIPE_WEBHOOK_MAX_BYTES:
        return JsonResponse({"error": "too_large_or_no_length"}, status=413)
    result = webhook_receive(
        payload=payload, signature=request.headers.get("Stripe-Signature"), ip=client_ip(request)
    )
    return JsonResponse(result.body, status=result.status)
