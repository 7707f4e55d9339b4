"""The widget API, mounted at /api/v1/ by settings.urls. Paths are part of the public contract
(booking/api/openapi.py describes them; settings.RATE_LIMIT_RULES and booking.cors match them)."""

from __future__ import annotations

from django.urls import path, re_path

from booking.api import views

app_name = "api"

urlpatterns = [
    path("partners/<slug:slug>/services/", views.service_list, name="service-list"),
    path(
        "partners/<slug:slug>/services/<slug:service_slug>/slots",
        views.service_slots,
        name="service-slots",
    ),
    path(
        "partners/<slug:slug>/services/<slug:service_slug>/staff",
        views.service_staff,
        name="service-staff",
    ),
    path("partners/<slug:slug>/bookings", views.booking_create, name="booking-create"),
    path("partners/<slug:slug>/messages", views.widget_messages, name="widget-messages"),
    path("openapi.json", views.openapi, name="openapi"),
    # Last: every other path under /api/v1/ answers a JSON 404 instead of the HTML page.
    re_path(r"", views.not_found),
]
