"""The week calendar in the admin: one partner's bookings and opening hours for a week in the
partner's zone. Server-rendered; a static stylesheet lays it out as a 7-column grid on a laptop
and a list of days on a phone. A fixed number of queries, whatever the number of bookings."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from booking import selectors
from booking.admin.scoping import PARTNER, request_scope, scope_queryset
from booking.admin.support import customer_access
from booking.models import Booking, Partner
from security.admin_guard import admin_bad_request
from security.inputs import parse_date, parse_id


def _week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def calendar_view(model_admin: admin.ModelAdmin) -> Callable[[HttpRequest], HttpResponse]:
    def view(request: HttpRequest) -> HttpResponse:
        if not model_admin.has_view_permission(request):
            raise PermissionDenied
        scope = request_scope(request)
        context: dict[str, Any] = {
            **model_admin.admin_site.each_context(request),
            "opts": model_admin.opts,
            "title": _("Week calendar"),
        }
        if scope.kind == PARTNER:
            partner: Partner | None = scope.partner
        else:
            wanted = request.GET.get("partner", "")
            partners = scope_queryset(request, Partner.objects.order_by("name"))
            if not wanted:
                # Platform staff choose a partner first.
                context["partners"] = [
                    (p, f"{request.path}?{urlencode({'partner': p.pk})}")
                    for p in partners.only("pk", "name")
                ]
                return TemplateResponse(request, "admin/booking/calendar.html", context)
            partner_id = parse_id(wanted)
            if partner_id is None:
                return admin_bad_request(
                    request,
                    model_admin.admin_site,
                    [_("Choose a partner from the list.")],
                    back_url=request.path,
                    back_text=_("Choose a partner"),
                )
            partner = partners.filter(pk=partner_id).first()
        if partner is None:
            raise Http404(_("No such partner."))
        zone = partner.zone
        today = timezone.localdate(timezone=zone)
        wanted_week = request.GET.get("week", "")
        try:
            day = (
                parse_date(wanted_week, message=_("Enter the week as a date, YYYY-MM-DD."))
                if wanted_week
                else today
            )
        except ValidationError as exc:
            this_week = request.path
            if scope.kind != PARTNER:
                this_week += "?" + urlencode({"partner": partner.pk})
            return admin_bad_request(
                request,
                model_admin.admin_site,
                exc.messages,
                back_url=this_week,
                back_text=_("Show this week"),
            )
        monday = _week_start(day)
        week = selectors.partner_week(partner=partner, monday=monday)
        access = customer_access(request)

        def link(day: date) -> str:
            query = {"week": day.isoformat()}
            if scope.kind != PARTNER:
                query["partner"] = str(partner.pk)
            return f"{request.path}?{urlencode(query)}"

        days = []
        for week_day in week.days:
            entries = []
            for booking in week_day.bookings:
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
                    "date": week_day.date,
                    "is_today": week_day.date == timezone.localdate(timezone=zone),
                    "ranges": [f"{r.start:%H:%M}–{r.end:%H:%M}" for r in week_day.ranges],
                    "is_override": week_day.is_override,
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
                "today_url": link(today),
                "title": _("Week of %(monday)s") % {"monday": date_format(monday, "j F Y")},
            }
        )
        return TemplateResponse(request, "admin/booking/calendar.html", context)

    return view
