"""A partner's admin home: today and tomorrow per staff member, the unpaid holds still running,
the latest cancellations, and the way to the calendar and to booking by hand. Every time in the
partner's zone, named. Partner users only (operators keep the admin's index: they work across
partners); a stylist with a login sees her own bookings, as everywhere (scoping.py).
A fixed number of queries, whatever the number of bookings."""

from __future__ import annotations

from django.contrib.admin import AdminSite
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from booking import selectors
from booking.admin.scoping import request_scope, scope_queryset
from booking.models import Booking, StaffMember


def dashboard_home(request: HttpRequest, site: AdminSite) -> TemplateResponse | None:
    scope = request_scope(request)
    if not (scope.is_partner and scope.partner and request.user.has_perm("booking.view_booking")):
        return None
    partner = scope.partner
    staff = scope_queryset(request, StaffMember.objects.all())
    if scope.own_bookings_only:
        staff = staff.filter(pk__in=scope.own_staff_ids)
    now = timezone.now()
    overview = selectors.partner_day_overview(
        bookings=scope_queryset(request, Booking.objects.all()),
        staff=staff,
        zone=partner.zone,
        now=now,
    )
    today = overview.days[0].date
    calendar = reverse("admin:booking_booking_calendar")
    context = {
        **site.each_context(request),
        "title": _("Today at %(partner)s") % {"partner": partner.name},
        "subtitle": None,
        "app_list": site.get_app_list(request),
        "overview": overview,
        "zone_name": partner.time_zone,
        "now": now,
        "week_url": calendar,
        "day_url": f"{calendar}?day={today.isoformat()}",
        "tomorrow_url": f"{calendar}?day={overview.days[1].date.isoformat()}",
        "add_url": reverse("admin:booking_booking_add")
        if request.user.has_perm("booking.add_booking")
        else "",
        "list_url": reverse("admin:booking_booking_changelist"),
        "hours_url": reverse("admin:booking_partner_hours")
        if request.user.has_perm("booking.change_openinghours")
        else "",
        "close_url": reverse("admin:booking_closure_add")
        if request.user.has_perm("booking.add_closure")
        else "",
        "feeds_url": reverse("admin:booking_booking_feeds"),
    }
    request.current_app = site.name
    return TemplateResponse(request, "admin/booking/dashboard.html", context)
