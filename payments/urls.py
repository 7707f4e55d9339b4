"""The payment pages live under the booking's private link (/manage/<token>/pay/), so they are
as private as the manage page; the webhook is Stripe's way in."""

from __future__ import annotations

from django.urls import path

from payments import views

app_name = "payments"

urlpatterns = [
    path("manage/<str:token>/pay/", views.pay, name="pay"),
    path("manage/<str:token>/pay/status/", views.pay_status, name="status"),
    path("payments/stripe/webhook", views.stripe_webhook, name="stripe_webhook"),
]
