"""The weekly hours editor: the whole week of the business, or of one person, on one page (Monday
to Sunday, several ranges a day, closed days named), saved at once by booking.hours.
weekly_hours_set. A plain form: works without JavaScript, each field labelled.

When the new hours would leave upcoming bookings outside, the page shows them before anything is
saved and asks, as the closure page does, whether to cancel them (each customer told, paid ones
refunded) or to keep them."""

from __future__ import annotations

import re
from datetime import time
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from booking.admin.closures import covered_rows, page_partner
from booking.closures import ClosureResult, CoveredChanged, CoveredChoice
from booking.hours import (
    date_override_set,
    outside_day,
    outside_hours,
    week_of,
    weekly_hours_set,
)
from booking.models import MIDNIGHT, Partner, StaffMember, Weekday
from security.actors import Actor, Via
from security.inputs import validate_year

# Rows a day can have on one page; a day shows its ranges and one empty row (two at least).
MAX_ROWS = 8
_FIELD = re.compile(r"d([0-6])_([0-9])_(?:start|end)")
_DAY = 24 * 60


def _minutes(t: time, *, is_end: bool) -> int:
    return _DAY if is_end and t == MIDNIGHT else t.hour * 60 + t.minute


def clean_ranges(
    form: forms.Form, data: dict[str, Any], names: list[tuple[str, str]]
) -> list[tuple[time, time]]:
    """One day's ranges from the (start, end) field pairs `names`, in order: a half-filled row,
    an end not after its start (00:00 is midnight at the end of the day) or an overlap is an
    error on the field concerned; empty rows are skipped. The weekly editor and the special hours
    of a date share it."""
    ranges: list[tuple[time, time, str]] = []
    for start_name, end_name in names:
        start, end = data.get(start_name), data.get(end_name)
        if start_name in form.errors or end_name in form.errors or (start, end) == (None, None):
            continue
        if start is None or end is None:
            form.add_error(
                start_name if start is None else end_name,
                _("Give both a start and an end, or neither."),
            )
            continue
        if end != MIDNIGHT and end <= start:
            form.add_error(
                end_name,
                _("The end must be after the start (00:00 means midnight at the end of the day)."),
            )
            continue
        ranges.append((start, end, start_name))
    ranges.sort(key=lambda r: r[0])
    for before, after in zip(ranges, ranges[1:], strict=False):
        if _minutes(after[0], is_end=False) < _minutes(before[1], is_end=True):
            form.add_error(
                after[2],
                _("This range overlaps %(start)s–%(end)s.")
                % {"start": f"{before[0]:%H:%M}", "end": f"{before[1]:%H:%M}"},
            )
    return [(a, b) for a, b, _name in ranges]


def _time_field(label: Any) -> forms.TimeField:
    return forms.TimeField(
        label=label,
        required=False,
        # HH:MM as typed or picked; HH:MM:SS only as the page's own hidden copy carries it.
        input_formats=["%H:%M", "%H:%M:%S"],
        widget=forms.TimeInput(format="%H:%M", attrs={"type": "time", "step": 300}),
    )


class WeekForm(forms.Form):
    """Fields d<weekday>_<row>_start / _end. `week` holds the result once valid."""

    def __init__(self, *args: Any, rows: dict[int, int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rows = rows
        for day in range(7):
            for row in range(rows[day]):
                self.fields[f"d{day}_{row}_start"] = _time_field(_("From"))
                self.fields[f"d{day}_{row}_end"] = _time_field(_("to"))
        self.week: dict[int, list[tuple[time, time]]] = {}

    def days(self) -> list[dict[str, Any]]:
        """The template's view: per weekday its name and bound field pairs."""
        out = []
        for day in range(7):
            pairs = [
                (self[f"d{day}_{row}_start"], self[f"d{day}_{row}_end"])
                for row in range(self.rows[day])
            ]
            has_range = any(start.value() and end.value() for start, end in pairs)
            out.append(
                {"day": day, "name": Weekday(day).label, "pairs": pairs, "closed": not has_range}
            )
        return out

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for day in range(7):
            names = [(f"d{day}_{row}_start", f"d{day}_{row}_end") for row in range(self.rows[day])]
            self.week[day] = clean_ranges(self, data, names)
        return data


def _rows_for(request: HttpRequest, stored: dict[int, list[tuple[time, time]]]) -> dict[int, int]:
    rows = {day: max(2, len(stored[day]) + 1) for day in range(7)}
    for key in request.POST:
        match = _FIELD.fullmatch(key)
        if match:
            day, row = int(match[1]), int(match[2])
            rows[day] = max(rows[day], row + 1)
    return {day: min(n, MAX_ROWS) for day, n in rows.items()}


def _initial(stored: dict[int, list[tuple[time, time]]]) -> dict[str, time]:
    initial = {}
    for day, ranges in stored.items():
        for row, (start, end) in enumerate(ranges):
            initial[f"d{day}_{row}_start"] = start
            initial[f"d{day}_{row}_end"] = end
    return initial


def _staff_of(request: HttpRequest, partner: Partner) -> StaffMember | None:
    asked = request.POST.get("staff") or request.GET.get("staff") or ""
    if not asked:
        return None
    if not asked.isdigit():
        raise Http404
    staff = StaffMember.objects.filter(partner=partner, pk=int(asked)).first()
    if staff is None:
        raise Http404
    return staff


def _saved(head: Any, result: ClosureResult) -> str:
    """The saved message: what happened to the bookings left outside, if any."""
    text = str(head)
    if result.cancelled:
        text += " " + ngettext(
            "%(count)d booking outside them was cancelled; its customer is told by email.",
            "%(count)d bookings outside them were cancelled; each customer is told by email.",
            len(result.cancelled),
        ) % {"count": len(result.cancelled)}
    elif result.kept:
        text += " " + ngettext(
            "%(count)d booking outside them was kept.",
            "%(count)d bookings outside them were kept.",
            len(result.kept),
        ) % {"count": len(result.kept)}
    return text


def hours_view(model_admin: admin.ModelAdmin[Any], request: HttpRequest) -> HttpResponse:
    asks_staff = bool(request.POST.get("staff") or request.GET.get("staff"))
    perm = "booking.change_staffhours" if asks_staff else "booking.change_openinghours"
    partner = page_partner(request, perm)
    staff = _staff_of(request, partner)
    stored = week_of(partner=partner, staff=staff)
    submitted = request.method == "POST"
    form = WeekForm(
        request.POST if submitted else None,
        rows=_rows_for(request, stored),
        initial=_initial(stored),
    )
    here = reverse("admin:booking_partner_hours")
    query = f"?partner={partner.pk}" + (f"&staff={staff.pk}" if staff else "")
    can_staff = request.user.has_perm("booking.change_staffhours")
    context: dict[str, Any] = {
        **model_admin.admin_site.each_context(request),
        "title": (
            _("Weekly hours of %(name)s") % {"name": staff.name}
            if staff
            else _("Opening hours of %(name)s") % {"name": partner.name}
        ),
        "opts": model_admin.model._meta,
        "partner": partner,
        "staff": staff,
        "people": StaffMember.objects.filter(partner=partner) if can_staff else [],
        "form": form,
        "zone_name": partner.time_zone,
        "choices": CoveredChoice,
        "here": here,
    }
    if not (submitted and form.is_valid()):
        return TemplateResponse(request, "admin/booking/hours/week.html", context)
    now = timezone.now()
    outside = outside_hours(partner=partner, week=form.week, now=now, staff=staff)
    raw_choice = request.POST.get("choice", "")
    if raw_choice not in CoveredChoice.values and outside:
        return TemplateResponse(
            request,
            "admin/booking/hours/week.html",
            {**context, "covered": covered_rows(outside, partner)},
        )
    shown = {int(v) for v in request.POST.getlist("shown") if v.isdigit()}
    try:
        result = weekly_hours_set(
            partner=partner,
            actor=Actor.from_request(request, via=Via.ADMIN),
            week=form.week,
            choice=CoveredChoice(raw_choice) if raw_choice else CoveredChoice.KEEP,
            shown=shown,
            staff=staff,
            now=now,
        )
    except CoveredChanged as exc:
        fresh = outside_hours(partner=partner, week=form.week, now=timezone.now(), staff=staff)
        form.add_error(None, exc.messages[0])
        return TemplateResponse(
            request,
            "admin/booking/hours/week.html",
            {**context, "covered": covered_rows(fresh, partner)},
        )
    except ValidationError as exc:
        for error in exc.messages:
            form.add_error(None, error)
        return TemplateResponse(request, "admin/booking/hours/week.html", context)
    messages.success(request, _saved(_("The weekly hours were saved."), result))
    return HttpResponseRedirect(here + query)


# --- special hours on one date -----------------------------------------------------------------
# The one way to set them (DateOverrideAdmin.add_view leads here): the date, a note and its
# ranges; the bookings of that day the ranges leave outside are shown first, as on the week's
# page, and booking.hours.date_override_set saves.

DAY_ROWS = 4


class DayForm(forms.Form):
    date = forms.DateField(
        label=_("Date"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_(
            "The times below replace the weekly hours on this day. Without any time range "
            "the business is closed that day. To close several days (holidays), use "
            '"Close over dates".'
        ),
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=200)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for row in range(DAY_ROWS):
            self.fields[f"r{row}_start"] = _time_field(_("From"))
            self.fields[f"r{row}_end"] = _time_field(_("to"))
        self.ranges: list[tuple[time, time]] = []

    def clean_date(self) -> Any:
        day = self.cleaned_data["date"]
        validate_year(day)  # the one date rule; the calendar and slot pages refuse other years
        return day

    def pairs(self) -> list[tuple[Any, Any]]:
        return [(self[f"r{row}_start"], self[f"r{row}_end"]) for row in range(DAY_ROWS)]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        names = [(f"r{row}_start", f"r{row}_end") for row in range(DAY_ROWS)]
        self.ranges = clean_ranges(self, data, names)
        return data


def override_view(model_admin: admin.ModelAdmin[Any], request: HttpRequest) -> HttpResponse:
    partner = page_partner(request, "booking.add_dateoverride")
    submitted = request.method == "POST"
    form = DayForm(request.POST if submitted else None, initial={"date": request.GET.get("day")})
    template = "admin/booking/dateoverride/day.html"
    here = reverse("admin:booking_dateoverride_add")
    context: dict[str, Any] = {
        **model_admin.admin_site.each_context(request),
        "title": _("Special hours on a date"),
        "opts": model_admin.model._meta,
        "partner": partner,
        "form": form,
        "zone_name": partner.time_zone,
        "choices": CoveredChoice,
        "here": here,
    }
    if not (submitted and form.is_valid()):
        return TemplateResponse(request, template, context)
    day = form.cleaned_data["date"]
    now = timezone.now()
    raw_choice = request.POST.get("choice", "")
    try:
        outside = outside_day(partner=partner, day=day, ranges=form.ranges, now=now)
        if raw_choice not in CoveredChoice.values and outside:
            # Shown first: nothing is saved until the owner chose what happens to these bookings.
            return TemplateResponse(
                request, template, {**context, "covered": covered_rows(outside, partner)}
            )
        shown = {int(v) for v in request.POST.getlist("shown") if v.isdigit()}
        result = date_override_set(
            partner=partner,
            actor=Actor.from_request(request, via=Via.ADMIN),
            day=day,
            ranges=form.ranges,
            note=form.cleaned_data["note"],
            choice=CoveredChoice(raw_choice) if raw_choice else CoveredChoice.KEEP,
            shown=shown,
            now=now,
        )
    except CoveredChanged as exc:
        fresh = outside_day(partner=partner, day=day, ranges=form.ranges, now=timezone.now())
        form.add_error(None, exc.messages[0])
        return TemplateResponse(
            request, template, {**context, "covered": covered_rows(fresh, partner)}
        )
    except ValidationError as exc:
        for field, errors in exc.message_dict.items():
            for error in errors:
                form.add_error(field if field in form.fields else None, error)
        return TemplateResponse(request, template, context)
    messages.success(request, _saved(_("The special hours were saved."), result))
    return HttpResponseRedirect(reverse("admin:booking_dateoverride_changelist"))
