"""Forms of the admin's booking screens. Times are typed in the partner's local time."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from booking.forms import CUSTOMER_FIELDS, CustomerDetailsForm
from booking.models import Service, StaffMember
from security.inputs import validate_year

_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S")


class LocalDateTimeField(forms.Field):
    """A wall-clock date and time without a zone; the form attaches the partner's zone."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")

    def to_python(self, value: Any) -> datetime | None:
        if value in self.empty_values:
            return None
        if isinstance(value, datetime):
            return value.replace(tzinfo=None)
        text = str(value).strip()
        # strptime() would read other scripts' digits too; the date rule is ASCII everywhere.
        for fmt in _FORMATS if text.isascii() else ():
            try:
                moment = datetime.strptime(text, fmt)  # noqa: DTZ007 - naive on purpose
            except ValueError:
                continue
            validate_year(moment)  # in range, attaching any zone cannot overflow
            return moment
        raise ValidationError(_("Enter a date and time like 2026-03-30 10:00."), code="invalid")


def local_to_aware(naive: datetime, zone: ZoneInfo) -> datetime:
    """The local time in `zone`; a time skipped by a clock change is refused, a repeated one
    means its first occurrence."""
    aware = naive.replace(tzinfo=zone, fold=0)
    if aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
        raise ValidationError(
            _("%(time)s does not exist in %(zone)s (the clocks change then). Choose another time."),
            params={"time": naive.strftime("%Y-%m-%d %H:%M"), "zone": zone.key},
            code="nonexistent",
        )
    return aware


class CancelForm(forms.Form):
    reason = forms.CharField(
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Sent to the customer with the cancellation."),
    )


class RescheduleForm(forms.Form):
    start = LocalDateTimeField(label=_("New start"))

    def __init__(self, *args: Any, zone: ZoneInfo, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.zone = zone
        self.fields["start"].help_text = _("Local time in %(zone)s.") % {"zone": zone.key}

    def clean_start(self) -> datetime:
        return local_to_aware(self.cleaned_data["start"], self.zone)


NO_EMAIL_HELP = _(
    "Leave empty for a walk-in or a phone customer without email: the customer then gets no "
    "emails at all (no confirmation, reminder, link to manage the booking or cancellation "
    "notice); tell them the time yourself."
)

ANYONE = _("Anyone (whoever is free with the fewest bookings that day)")


class _PickFields:
    """The service, person and date fields shared by the free-times query and the booking form,
    their choices limited to the request's scope."""

    def pick(self, *, services: Any, staff: Any, zone_name: str) -> None:
        fields = self.fields  # type: ignore[attr-defined]  # a mixin of forms
        cast("forms.ModelChoiceField[Service]", fields["service"]).queryset = services
        cast("forms.ModelChoiceField[StaffMember]", fields["staff"]).queryset = staff
        fields["day"].help_text = _("Local date in %(zone)s.") % {"zone": zone_name}

    def clean_day(self) -> date | None:
        day: date | None = self.cleaned_data.get("day")  # type: ignore[attr-defined]  # a mixin of forms
        if day is not None:
            validate_year(day)
        return day


def _service_field() -> forms.ModelChoiceField[Service]:
    return forms.ModelChoiceField(queryset=Service.objects.none())


def _staff_field() -> forms.ModelChoiceField[StaffMember]:
    return forms.ModelChoiceField(
        queryset=StaffMember.objects.none(),
        required=False,
        empty_label=ANYONE,
        label=_("Staff member"),
    )


def _day_field() -> forms.DateField:
    return forms.DateField(
        required=False,
        label=_("Free times on"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


class FreeTimesForm(_PickFields, forms.Form):
    """Whose free times to show on the booking-by-hand page: a service, a person (or anyone),
    a partner-local date."""

    service = _service_field()
    staff = _staff_field()
    day = _day_field()

    def __init__(self, *args: Any, services: Any, staff: Any, zone_name: str, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.pick(services=services, staff=staff, zone_name=zone_name)


class BookingCreateForm(_PickFields, CustomerDetailsForm):
    """A booking by hand: the service, the person (or anyone), the partner-local start, and the
    customer's details with the model's own fields and validators (as on the booking page and in
    the widget API). The page lists the person's free times as the choices for the start."""

    service = _service_field()
    staff = _staff_field()
    day = _day_field()
    start = LocalDateTimeField()

    class Meta(CustomerDetailsForm.Meta):
        labels = {}  # the model's own labels, as everywhere in the admin
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    field_order = ("service", "staff", "day", "start", *CUSTOMER_FIELDS)

    def __init__(
        self,
        *args: Any,
        services: Any,
        staff: Any,
        zone_name: str,
        may_override: bool = False,
        **kw: Any,
    ) -> None:
        super().__init__(*args, **kw)
        self.pick(services=services, staff=staff, zone_name=zone_name)
        # A walk-in or a phone customer may have no email (or not want to give it).
        email = self.fields["customer_email"]
        email.required = False
        email.label = _("Email (optional)")
        email.help_text = NO_EMAIL_HELP
        self.fields["start"].help_text = _("Local time in %(zone)s.") % {"zone": zone_name}
        if may_override:  # owners only: the view decides
            self.fields["override"] = forms.BooleanField(
                required=False,
                label=_("Override the rules"),
                help_text=_(
                    "Book this exact time for the chosen person even if it is not one of the "
                    "offered times (outside opening hours, without notice). Another booking of "
                    "the person at that time still refuses it. The override is recorded."
                ),
            )

    def offer(self, times: list[datetime], zone: ZoneInfo) -> None:
        """Show `times` (the person's free starts) as the choices for the start."""
        local = [t.astimezone(zone) for t in times]
        self.fields["start"].widget = forms.RadioSelect(
            choices=[(t.strftime("%Y-%m-%dT%H:%M"), t.strftime("%H:%M")) for t in local],
            attrs={"class": "free-times"},
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        service, start = data.get("service"), data.get("start")
        if service is not None and start is not None:
            try:
                data["start"] = local_to_aware(start, service.partner.zone)
            except ValidationError as exc:
                self.add_error("start", exc)
        return data
