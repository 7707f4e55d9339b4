"""The week calendar in the admin: one partner's bookings and opening hours for a week in the
partner's zone. Server-rendered; a static stylesheet lays it out as a 7-column grid on a laptop
and a list of days on a phone. A fixed number of queries, whatever the number of bookings."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from booking import selectors
from booking.admin.scoping import PARTNER, request_scope, scope_queryset
from booking.admin.support import customer_access
from booking.models import Booking, Partner


def _week_start(value: str, today: date) -> date:
    try:
        day = date.fromisoformat(value) if value else today
    except ValueError:
        day = today
    return day - timedelta(days=day.weekday())


def calendar_view(model_admin: admin.ModelAdmin) -> Callable[[HttpRequest], HttpResponse]:
    def view(request: HttpRequest) -> HttpResponse:
        if not model_admin.has_view_permission(request):
            raise PermissionDenied
        scope = request_scope(request)
        context: dict[str, Any] = {
            **model_admin.admin_site.each_context(request),
            "opts": model_admin.opts,
            "title": "Week calendar",
        }
        if scope.kind == PARTNER:
            partner: Partner | None = scope.partner
        else:
            wanted = request.GET.get("partner", "")
            partners = scope_queryset(request, Partner.objects.order_by("name"))
            partner = partners.filter(pk=int(wanted)).first() if wanted.isdigit() else None
            if partner is None:
                # Platform staff choose a partner first.
                context["partners"] = [
                    (p, f"{request.path}?{urlencode({'partner': p.pk})}")
                    for p in partners.only("pk", "name")
                ]
                return TemplateResponse(request, "admin/booking/calendar.html", context)
        assert partner is not None  # noqa: S101 - narrowed above
        zone = partner.zone
        monday = _week_start(request.GET.get("week", ""), timezone.localdate(timezone=zone))
        week = selectors.partner_week(partner=partner, monday=monday)
        access = customer_access(request)

        def link(day: date) -> str:
            query = {"week": day.isoformat()}
            if scope.kind != PARTNER:
                query["partner"] = str(partner.pk)
            return f"{request.path}?{urlencode(query)}"

        days = []
        for day in week.days:
            entries = []
            for booking in day.bookings:
                entries.append(
                    {
                        "start": booking.start.astimezone(zone).strftime("%H:%M"),
                        "end": booking.end.astimezone(zone).strftime("%H:%M"),
                        "service": booking.service.name,
                        "customer": access.value(booking, "customer_name"),
                        "cancelled": booking.status == Booking.Status.CANCELLED,
                        "pending": booking.status == Booking.Status.PENDING_PAYMENT,
                        "url": reverse("admin:booking_booking_change", args=[booking.pk]),
                    }
                )
            days.append(
                {
                    "date": day.date,
                    "is_today": day.date == timezone.localdate(timezone=zone),
                    "ranges": [f"{r.start:%H:%M}–{r.end:%H:%M}" for r in day.ranges],
                    "is_override": day.is_override,
                    "bookings": entries,
                }
            )
        access.audit(view="calendar", bookings=week.bookings)
        context.update(
            {
                "partner": partner,
                "zone_name": zone.key,
                "monday": monday,
                "sunday": monday + timedelta(days=6),
                "days": days,
                "previous_url": link(monday - timedelta(days=7)),
                "next_url": link(monday + timedelta(days=7)),
                "today_url": link(timezone.localdate(timezone=zone)),
                "title": f"Week of {monday:%d %B %Y}",
            }
        )
        return TemplateResponse(request, "admin/booking/calendar.html", context)

    return view
