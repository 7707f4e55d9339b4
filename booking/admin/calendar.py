"""The week calendar in the admin: one partner's bookings and opening hours for a week in the
partner's zone, a row per day and a column per staff member (their hours, absences and
bookings). Server-rendered; a static stylesheet lays it out as a table on a laptop and a list on
a phone, and a small generated stylesheet (staff.css, same origin: the strict CSP allows no
inline styles) gives each person their colour. A stylist with a login sees her own column only.
?day= shows one day as a time grid (booking.admin.day_grid). A fixed number of queries,
whatever the number of bookings."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
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

from booking import selectors, slots
from booking.admin.booking_list import booking_payment, payment_text
from booking.admin.day_grid import day_grid, week_grid
from booking.admin.scoping import PARTNER, request_scope, scope_queryset
from booking.admin.support import customer_access
from booking.models import Booking, CancelledBecause, Partner, StaffAbsence, StaffMember
from security.admin_guard import admin_bad_request
from security.inputs import parse_date, parse_id


def _payment_label(booking: Booking) -> str:
    """The payment's amount and state ("CHF 150.00 · Paid"), or nothing for an unpaid service."""
    return "" if booking_payment(booking) is None else payment_text(booking)


def _status_label(booking: Booking) -> str:
    """What a block says besides its time: a moved booking's old time is not a cancellation,
    and an unpaid hold is not a booking yet."""
    if booking.status == Booking.Status.CANCELLED:
        moved = booking.cancelled_because == CancelledBecause.RESCHEDULED
        return str(_("moved") if moved else _("cancelled"))
    if booking.status == Booking.Status.PENDING_PAYMENT:
        return str(_("unpaid hold"))
    return ""


def _week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _week_staff(
    partner: Partner, bookings: list[Booking], own: frozenset[int]
) -> list[StaffMember]:
    """The columns: the active staff members, and anyone else who has a booking that week (an
    inactive person's old bookings stay visible); only `own` ones if given."""
    booked = {b.staff_id for b in bookings}
    staff = StaffMember.objects.filter(partner=partner).prefetch_related("hours")
    if own:
        staff = staff.filter(pk__in=own)
    return [
        s for s in staff.order_by("display_order", "name", "pk") if s.is_active or s.pk in booked
    ]


def _absences(
    staff: list[StaffMember], week: selectors.PartnerWeek
) -> dict[tuple[int, date], list[tuple[datetime, datetime]]]:
    """(staff id, local date) -> the person's absences that day, as instants clipped to it."""
    zone = next(iter(staff)).partner.zone if staff else None
    away: dict[tuple[int, date], list[tuple[datetime, datetime]]] = {}
    if zone is None:
        return away
    absences = StaffAbsence.objects.filter(
        staff__in=staff, starts_at__lt=week.end, ends_at__gt=week.start
    ).order_by("starts_at")
    for absence in absences:
        for week_day in week.days:
            day_start = slots.local_midnight(zone, week_day.date)
            day_end = slots.local_midnight(zone, week_day.date + timedelta(days=1))
            if absence.starts_at < day_end and absence.ends_at > day_start:
                away.setdefault((absence.staff_id, week_day.date), []).append(
                    (max(absence.starts_at, day_start), min(absence.ends_at, day_end))
                )
    return away


def staff_css_view(model_admin: admin.ModelAdmin) -> Callable[[HttpRequest], HttpResponse]:
    """Each staff member's calendar colour as a CSS custom property of `.cal-staff-<id>`. The
    colour is #rrggbb (validated by the model and a database constraint), so nothing else can
    reach the stylesheet. Partner users get their own partner's; platform staff ?partner=<id>."""

    def view(request: HttpRequest) -> HttpResponse:
        if not model_admin.has_view_permission(request):
            raise PermissionDenied
        scope = request_scope(request)
        staff = scope_queryset(request, StaffMember.objects.all())
        if scope.kind != PARTNER:
            staff = staff.filter(partner_id=parse_id(request.GET.get("partner", "")) or 0)
        rules = [
            f".cal-staff-{pk} {{ --staff-colour: {colour}; }}\n"
            for pk, colour in staff.values_list("pk", "colour")
        ]
        response = HttpResponse("".join(rules), content_type="text/css; charset=utf-8")
        response["Cache-Control"] = "private, no-cache"
        return response

    return view


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
        # ?day= shows that day on a time grid; ?week= (or nothing) the week.
        wanted_day = request.GET.get("day", "")
        wanted_week = wanted_day or request.GET.get("week", "")
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
        own = scope.own_staff_ids if scope.own_bookings_only else frozenset()
        week = selectors.partner_week(partner=partner, monday=monday, staff_ids=own or None)
        staff = _week_staff(partner, week.bookings, own)
        away = _absences(staff, week)
        access = customer_access(request)

        def link(day: date, view: str = "week", person: int | None = None) -> str:
            query = {view: day.isoformat()}
            if person is not None:
                query["staff"] = str(person)
            if scope.kind != PARTNER:
                query["partner"] = str(partner.pk)
            return f"{request.path}?{urlencode(query)}"

        days = []
        for week_day in week.days:
            cells: dict[int, dict[str, Any]] = {
                member.pk: {
                    "staff": member,
                    "ranges": _staff_ranges(member, week_day),
                    "spans": _staff_spans(member, week_day),
                    "away": bool(away.get((member.pk, week_day.date))),
                    "absences": away.get((member.pk, week_day.date), []),
                    "bookings": [],
                }
                for member in staff
            }
            for booking in week_day.bookings:
                cell = cells.get(booking.staff_id)
                if cell is None:
                    continue
                local_start, local_end = (
                    booking.start.astimezone(zone),
                    booking.end.astimezone(zone),
                )
                cell["bookings"].append(
                    {
                        "start": local_start.strftime("%H:%M"),
                        "end": local_end.strftime("%H:%M"),
                        "service": booking.service.name,
                        "customer": access.value(booking, "customer_name"),
                        "cancelled": booking.status == Booking.Status.CANCELLED,
                        "label": _status_label(booking),
                        "pending": booking.status == Booking.Status.PENDING_PAYMENT,
                        "payment": _payment_label(booking),
                        "url": reverse("admin:booking_booking_change", args=[booking.pk]),
                        "booking": booking,
                    }
                )
            days.append(
                {
                    "date": week_day.date,
                    "is_today": week_day.date == today,
                    "ranges": [f"{r.start:%H:%M}–{r.end:%H:%M}" for r in week_day.ranges],
                    "is_override": week_day.is_override,
                    "open": week_day.ranges,
                    "cells": list(cells.values()),
                    "day_url": link(week_day.date, view="day"),
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
                "staff": staff,
                "staff_css_url": reverse("admin:booking_booking_staff_css")
                + ("" if scope.kind == PARTNER else "?" + urlencode({"partner": partner.pk})),
                "previous_url": link(monday - timedelta(days=7)),
                "next_url": link(monday + timedelta(days=7)),
                "today_url": link(today),
                "title": _("Week of %(monday)s") % {"monday": date_format(monday, "j F Y")},
            }
        )
        if wanted_day:
            row = next(d for d in days if d["date"] == day)
            context.update(
                {
                    "day": row,
                    "grid": day_grid(
                        row,
                        zone=zone,
                        now=timezone.now(),
                        book_url=reverse("admin:booking_booking_add")
                        if model_admin.has_add_permission(request)
                        else "",
                    ),
                    "previous_url": link(day - timedelta(days=1), view="day"),
                    "next_url": link(day + timedelta(days=1), view="day"),
                    "today_url": link(today, view="day"),
                    "week_url": link(day),
                    # date_format: the weekday and month in the admin's language.
                    "title": _("Calendar of %(day)s") % {"day": date_format(day, "l j F Y")},
                }
            )
            return TemplateResponse(request, "admin/booking/calendar_day.html", context)
        context["grid_links"] = [(member, link(monday, person=member.pk)) for member in staff]
        wanted_staff = request.GET.get("staff", "")
        if not wanted_staff:
            return TemplateResponse(request, "admin/booking/calendar.html", context)
        # ?staff= shows that person's week on a time grid (one of the columns shown: another
        # partner's person, or a colleague for a stylist who sees her own only, is not found).
        staff_id = parse_id(wanted_staff)
        if staff_id is None:
            return admin_bad_request(
                request,
                model_admin.admin_site,
                [_("Choose a staff member from the list.")],
                back_url=link(monday),
                back_text=_("Show this week"),
            )
        member = next((m for m in staff if m.pk == staff_id), None)
        if member is None:
            raise Http404(_("No such staff member."))
        context.update(
            {
                "grid": week_grid(
                    days,
                    member.pk,
                    zone=zone,
                    now=timezone.now(),
                    book_url=reverse("admin:booking_booking_add")
                    if model_admin.has_add_permission(request)
                    else "",
                ),
                "member": member,
                "previous_url": link(monday - timedelta(days=7), person=member.pk),
                "next_url": link(monday + timedelta(days=7), person=member.pk),
                "today_url": link(today, person=member.pk),
                "week_url": link(monday),
                "title": _("Week of %(monday)s: %(name)s")
                % {"monday": date_format(monday, "j F Y"), "name": member.name},
            }
        )
        return TemplateResponse(request, "admin/booking/calendar_week_grid.html", context)

    return view


def _staff_spans(member: StaffMember, day: selectors.WeekDay) -> list[tuple[time, time]]:
    """The person's working ranges that day as the calendar shows them (the partner's opening
    ranges for a person who works whenever the business is open; otherwise their own weekly
    hours, which the slots also meet with the opening ranges)."""
    if member.works_opening_hours:
        return [(r.start, r.end) for r in day.ranges]
    if not day.ranges:
        return []
    weekday = day.date.weekday()
    return [
        (h.start, h.end)
        for h in sorted(member.hours.all(), key=lambda h: h.start)
        if h.weekday == weekday
    ]


def _staff_ranges(member: StaffMember, day: selectors.WeekDay) -> list[str]:
    return [f"{a:%H:%M}–{b:%H:%M}" for a, b in _staff_spans(member, day)]
