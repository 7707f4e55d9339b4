"""Input parsing for the widget API. Forms only parse and check shapes; the booking rules (is this
a slot, is it free) stay in booking.services."""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from booking.forms import CustomerDetailsForm, StaffField
from booking.models import validate_time_zone
from booking.services import CustomerDetails
from security.inputs import parse_date, validate_year

MAX_RANGE_DAYS = 62
# The work of one slots request is the local days asked for times the people whose calendars
# are computed (one, or everyone performing the service for "anyone"); above this the request
# is refused, so a cheap URL cannot buy seconds of CPU (a month of 16 people fits).
MAX_STAFF_DAYS = 500


def slots_work_refusal(*, days: int, people: int) -> str | None:
    """Why a slots request of `days` local dates over `people` calendars is too much work, or
    None if it is not."""
    if days * max(people, 1) <= MAX_STAFF_DAYS:
        return None
    return (
        f"This asks for {days} days of {people} staff members' calendars; at most "
        f"{MAX_STAFF_DAYS} days x staff members at a time. Ask for fewer days or one staff member."
    )


# RFC 3339 date-time (seconds and fractions optional). The offset is captured separately so that
# a missing one can be told apart from garbage: a naive time is the most likely client mistake.
_DATETIME = re.compile(
    r"(?P<local>\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)(?P<offset>[Zz]|[+-]\d{2}:\d{2})?",
    re.ASCII,
)


class SlotsQueryForm(forms.Form):
    """?start=YYYY-MM-DD&end=YYYY-MM-DD&tz=Area/City&staff=any|<id>: customer-local dates, both
    inclusive; anyone (the default) or one staff member."""

    start = forms.CharField(max_length=10, strip=False)
    end = forms.CharField(max_length=10, strip=False)
    tz = forms.CharField(
        max_length=64, required=False, strip=False, validators=[validate_time_zone]
    )
    staff = StaffField(widget=forms.TextInput)

    def __init__(self, *args: Any, default_time_zone: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.default_time_zone = default_time_zone

    def clean_start(self) -> date:
        return parse_date(self.cleaned_data["start"])

    def clean_end(self) -> date:
        return parse_date(self.cleaned_data["end"])

    def clean_tz(self) -> str:
        # An empty tz (as a form with an unset field sends it) means "the partner's zone", which
        # is checked too: a row saved around model validation must not reach ZoneInfo().
        value = self.cleaned_data["tz"] or self.default_time_zone
        validate_time_zone(value)
        return value

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end, tz = cleaned.get("start"), cleaned.get("end"), cleaned.get("tz")
        if not isinstance(start, date) or not isinstance(end, date):
            return cleaned
        if end < start:
            self.add_error(
                "end",
                ValidationError("The end date must not be before the start date.", code="order"),
            )
            return cleaned
        if (end - start).days + 1 > MAX_RANGE_DAYS:
            self.add_error(
                "end",
                ValidationError(f"Ask for at most {MAX_RANGE_DAYS} days at a time.", code="range"),
            )
            return cleaned
        if tz:
            cleaned["zone"] = zoneinfo.ZoneInfo(tz)
        return cleaned


class BookingForm(CustomerDetailsForm):
    """The JSON body of POST .../bookings: the service, the start, and the customer's details
    with the model's own fields and validators (as on the booking page and in the admin)."""

    service = forms.SlugField(max_length=60)
    start = forms.CharField(max_length=40, strip=False)
    # Optional, so clients written before staff existed keep working: absent means anyone.
    staff = StaffField(widget=forms.TextInput)
    # Optional: the zone the customer saw the times in (the widget sends the visitor's); the
    # booking's emails and manage page show the time in it. Absent: the partner's zone.
    tz = forms.CharField(
        max_length=64, required=False, strip=False, validators=[validate_time_zone]
    )

    def customer(self, *, language: str) -> CustomerDetails:
        return replace(super().customer(language=language), time_zone=self.cleaned_data["tz"])

    def clean_start(self) -> datetime:
        value = self.cleaned_data["start"]
        match = _DATETIME.fullmatch(value)
        if not match:
            raise ValidationError(
                "Enter the start as an ISO 8601 date and time with its offset, e.g. 2025-03-31T09:00:00+02:00.",
                code="invalid",
            )
        if not match["offset"]:
            raise ValidationError(
                "The start needs a UTC offset (e.g. +02:00 or Z): a time without one is ambiguous.",
                code="naive",
            )
        try:
            parsed = datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
        except ValueError:
            raise ValidationError("Enter a real date and time.", code="invalid") from None
        validate_year(parsed)
        return parsed
