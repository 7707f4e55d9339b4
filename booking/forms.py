"""Input parsing for the customer pages. Forms parse and check shapes only; whether a time is a
slot, whether it is free and whether a booking may still change is decided in booking.services.

Limits mirror booking.models.Booking, so the model's full_clean() rarely has anything left to say.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from booking.models import Booking, validate_text, validate_time_zone
from booking.services import CustomerDetails
from booking.validators import validate_plain_email
from security.inputs import parse_date, validate_year

# ISO 8601 / RFC 3339 date-time with a mandatory offset: the slot links carry UTC ("...Z").
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?(?:Z|[+-]\d{2}:\d{2})", re.ASCII)


# "00" to "59": month, day, hour, minute and second as strftime's %m, %d, %H, %M, %S write them.
TWO_DIGITS = tuple(f"{n:02d}" for n in range(60))


def utc_iso(moment: datetime) -> str:
    """The form in which slot links and buttons carry a start: 2025-03-31T07:00:00Z.

    What strftime("%Y-%m-%dT%H:%M:%SZ") writes, at a third of its cost (a week page writes one
    per slot, a hundred-odd)."""
    u = moment.astimezone(UTC)
    two = TWO_DIGITS
    return f"{u.year}-{two[u.month]}-{two[u.day]}T{two[u.hour]}:{two[u.minute]}:{two[u.second]}Z"


ANY_STAFF = "any"
_STAFF_ID = re.compile(r"[1-9][0-9]{0,17}", re.ASCII)


def parse_staff(value: str) -> int | None:
    """A `staff` choice as pages and the API carry it: "any" (or nothing) for anyone, else the
    id of a staff member (whether it is one of this service's is for the view to find out)."""
    if value in ("", ANY_STAFF):
        return None
    if not _STAFF_ID.fullmatch(value):
        raise ValidationError(
            _('Give "any" or the id of a staff member (see the staff list of the service).'),
            code="invalid",
        )
    return int(value)


class StaffField(forms.CharField):
    """`staff`: "any" (the default) or a staff member's id; cleans to an int or None."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", forms.HiddenInput)
        super().__init__(max_length=20, required=False, strip=False, **kwargs)

    def clean(self, value: Any) -> int | None:
        return parse_staff(super().clean(value))


class TimeZoneMixin(forms.Form):
    """`tz`: an IANA zone name; empty (or absent) means the partner's zone."""

    tz = forms.CharField(max_length=64, required=False, strip=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, default_time_zone: str, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.default_time_zone = default_time_zone
        self.fields["tz"].error_messages["max_length"] = _(
            "Unknown time zone. Choose one from the list."
        )

    def clean_tz(self) -> str:
        value = self.cleaned_data["tz"] or self.default_time_zone
        validate_time_zone(value)
        return value


class WeekQueryForm(TimeZoneMixin):
    """GET ?week=YYYY-MM-DD&tz=Area/City&staff=any|<id> of the slot pages; week empty means "this
    week", staff empty "anyone"."""

    staff = StaffField()

    week = forms.CharField(
        max_length=10,
        required=False,
        strip=False,
        error_messages={"max_length": _("Enter the week as a date, YYYY-MM-DD.")},
    )

    def clean_week(self) -> date | None:
        value = self.cleaned_data["week"]
        if not value:
            return None
        return parse_date(value, message=_("Enter the week as a real calendar date, YYYY-MM-DD."))


class SlotChoiceForm(TimeZoneMixin):
    """A chosen start time (as the slot links carry it), the customer's zone and the person."""

    start = forms.CharField(max_length=40, strip=False, widget=forms.HiddenInput)
    staff = StaffField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["start"].error_messages["required"] = _("Choose a time first.")
        self.fields["start"].error_messages["max_length"] = _(
            "The chosen time is not valid. Please choose a time from the list."
        )

    def clean_start(self) -> datetime:
        value = self.cleaned_data["start"]
        if not _DATETIME.fullmatch(value):
            raise ValidationError(
                _(
                    "The chosen time is not valid (expected e.g. 2025-03-31T07:00:00Z). Please "
                    "choose a time from the list."
                ),
                code="invalid",
            )
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValidationError(
                _("The chosen time is not a real date and time."), code="invalid"
            ) from None
        validate_year(moment)  # in range, it converts to UTC without overflow
        return moment.astimezone(UTC)


# Fields a customer fills in, in page order.
CUSTOMER_FIELDS = ("customer_name", "customer_email", "customer_phone", "notes")


class CustomerDetailsForm(forms.ModelForm):
    """The customer's details. The fields, their limits and their validators are the model's
    (Booking): ModelForm runs the model's validation on them, so the booking pages, the widget API
    and the admin check exactly what `booking_create`'s full_clean() checks. Never saved: the
    booking is created by booking.services."""

    # The model lets a booking by hand go without an email; a customer always gives one (the
    # model field's own form field and validators, required).
    customer_email = Booking._meta.get_field("customer_email").formfield(
        required=True,
        label=_("Email"),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    class Meta:
        model = Booking
        fields = CUSTOMER_FIELDS
        labels = {
            "customer_name": _("Name"),
            "customer_email": _("Email"),
            "customer_phone": _("Phone (optional)"),
            "notes": _("Notes (optional)"),
        }
        widgets = {
            "customer_name": forms.TextInput(attrs={"autocomplete": "name"}),
            "customer_email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "customer_phone": forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
            "notes": forms.Textarea(attrs={"rows": 4}),
        }

    def customer(self, *, language: str) -> CustomerDetails:
        """The details, with the language the page was shown in (request.LANGUAGE_CODE)."""
        data = self.cleaned_data
        return CustomerDetails(
            name=data["customer_name"],
            email=data["customer_email"],
            phone=data.get("customer_phone", ""),
            notes=data.get("notes", ""),
            language=language,
        )


class BookingForm(SlotChoiceForm, CustomerDetailsForm):
    """The booking page's form: the chosen time and zone (hidden), the customer's details and the
    optional marketing consent (never ticked by default)."""

    CUSTOMER_FIELDS = CUSTOMER_FIELDS

    # Changing this text means a new booking.services.MARKETING_NOTICE_VERSION.
    marketing_consent = forms.BooleanField(
        label=_(
            "Yes, this business may send me news and offers (optional; you can withdraw this "
            "at any time by telling the business)."
        ),
        required=False,
        initial=False,
    )

    def customer(self, *, language: str) -> CustomerDetails:
        """The details, with the zone the times were shown in and the consent."""
        return replace(
            super().customer(language=language),
            time_zone=self.cleaned_data["tz"],
            marketing_consent=bool(self.cleaned_data.get("marketing_consent")),
        )


class CancelForm(TimeZoneMixin):
    reason = forms.CharField(
        label=_("Reason (optional)"),
        max_length=500,
        required=False,
        validators=[validate_text],
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class LostLinkForm(forms.Form):
    email = forms.EmailField(
        label=_("Your email address"),
        max_length=254,
        validators=[validate_plain_email],
        help_text=_("The address you booked with."),
    )
