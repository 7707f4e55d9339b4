"""Partners, their staff, resources, services and hours, and bookings.

The "no double booking" rule lives in the database: on PostgreSQL exclusion constraints over the
busy ranges (buffers included) of blocking bookings of each staff member and of each resource,
and composite foreign keys that keep a booking's staff member and resource within its partner;
on SQLite, booking writes are serialised (IMMEDIATE transactions, see settings) and checked inside
the transaction.
"""

from __future__ import annotations

import ipaddress
import re
import zoneinfo
from datetime import datetime, time, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import (
    MaxValueValidator,
    MinValueValidator,
    RegexValidator,
    URLValidator,
)
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

# Imported here too: older migrations name them as booking.models.validate_*.
from booking.i18n import zoned
from booking.tokens import new_link_version
from booking.validators import validate_plain_email, validate_single_line, validate_text
from security.fields import (
    BlindIndexField,
    EncryptedEmailField,
    EncryptedMultilineField,
    EncryptedTextField,
)

if TYPE_CHECKING:
    from accounts.models import User


@cache
def _available_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(value: str) -> None:
    if value not in _available_zones():
        raise ValidationError(
            "%(value)s is not a known time zone (use Area/City, e.g. Europe/Zurich).",
            params={"value": value},
        )


MIDNIGHT = time(0, 0)
# The longest reminder lead time a service may set: two weeks.
REMINDER_MAX_HOURS = 14 * 24
_LOCAL_HOSTS = {"localhost", "127.0.0.1", "[::1]"}
_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$"
)


_DEFAULT_PORTS = {"http": 80, "https": 443}


def _browser_host(hostname: str) -> str | None:
    """The host as a browser writes it in Origin: IPv6 in brackets, IDN in punycode."""
    if ":" in hostname:
        return f"[{hostname}]"
    try:
        return hostname.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return None


def _valid_host(host: str) -> bool:
    if host.startswith("["):
        try:
            return ipaddress.ip_address(host[1:-1]).version == 6
        except ValueError:
            return False
    return bool(_HOSTNAME.match(host))


def parse_origins(text: str) -> list[str]:
    """One origin a line, exactly `scheme://host[:port]`; returns them normalised (lower case).
    https anywhere; http only for local development hosts."""
    origins: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        try:
            parts = urlsplit(line)
            port = parts.port
        except ValueError:
            parts, port = None, None
        if port == 0:
            parts = None
        host = _browser_host(parts.hostname) if parts and parts.hostname else None
        if parts is not None and port == _DEFAULT_PORTS.get(parts.scheme):
            port = None  # browsers leave the default port out of Origin
        valid = (
            parts is not None
            and parts.scheme in ("http", "https")
            and host is not None
            and _valid_host(host)
            and parts.username is None
            and parts.password is None
            and not (parts.path or parts.query or parts.fragment or "?" in line or "#" in line)
            and (parts.scheme == "https" or host in _LOCAL_HOSTS)
        )
        if parts is None or not valid:
            raise ValidationError(
                "%(line)s is not an origin. Write one per line as https://www.example.com "
                "(with :port if needed, no path).",
                params={"line": line[:100]},
            )
        origins.append(f"{parts.scheme}://{host}{f':{port}' if port else ''}")
    return origins


def validate_origins(text: str) -> None:
    parse_origins(text)


class Partner(models.Model):
    """A business that takes bookings."""

    name = models.CharField(max_length=120, validators=[validate_single_line])
    slug = models.SlugField(max_length=60, unique=True)
    time_zone = models.CharField(
        max_length=64, default="Europe/Zurich", validators=[validate_time_zone]
    )
    contact_email = models.EmailField(
        validators=[validate_single_line],
        help_text=_(
            "Shown to customers on the booking pages and in their emails, which it answers."
        ),
    )
    # How customers reach the business, shown on the booking and manage pages and in emails.
    address = models.TextField(_("address"), blank=True, max_length=300, validators=[validate_text])
    phone = models.CharField(
        _("phone"), max_length=40, blank=True, validators=[validate_single_line]
    )
    # The business's own privacy notice (it is the controller of its customers' data); https only,
    # as it is a link on our pages.
    privacy_notice_url = models.URLField(
        _("privacy notice"),
        blank=True,
        validators=[URLValidator(schemes=["https"])],
        help_text=_("The address of your privacy notice, https://…"),
    )
    cancellation_cutoff_hours = models.PositiveIntegerField(
        default=24,
        validators=[MaxValueValidator(24 * 60)],
        help_text="Customers can cancel or reschedule until this many hours before the start.",
    )
    widget_origins = models.TextField(
        blank=True,
        validators=[validate_origins],
        help_text="Websites allowed to embed the booking widget, one origin a line, e.g. https://www.example.com.",
    )
    # Annotated: the plugin cannot resolve a through model named before it is defined.
    users: models.ManyToManyField[User, PartnerMembership] = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="PartnerMembership", related_name="partners"
    )
    # Bookings that ended longer ago than this are anonymised by the daily retention job
    # (booking.erasure.retention_enforce); empty: kept until the customer or the partner erases.
    retention_months = models.PositiveSmallIntegerField(
        _("keep customer details for (months)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(120)],
        help_text=_(
            "Bookings that ended longer ago are anonymised every night: time, service and "
            "amounts stay, the customer's details go. Empty: kept."
        ),
    )
    created_at = models.DateTimeField(default=timezone.now)
    # Moves on every write that changes which times are free (booking.slot_cache): the version
    # the cached free starts of the partner's services are filed under. Only ever incremented in
    # the database (F() + 1), never written from an instance, so it cannot move back.
    slots_version = models.PositiveBigIntegerField(default=0, editable=False)
    # Moves with slots_version on every write of what decides whether a time is offered at all
    # (hours, overrides, closures, people, their hours and absences, resources, services, the
    # zone), never on a booking write: a booking reads it before its check and again under the
    # partner lock (booking.services.booking_create), and checks again when it moved. Written
    # like slots_version, only ever incremented in the database.
    rules_version = models.PositiveBigIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(cancellation_cutoff_hours__lte=24 * 60), name="partner_cutoff_range"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        """An update writes every field but the versions (an instance's copy may be stale)."""
        if not self._state.adding and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [
                f.name
                for f in self._meta.concrete_fields
                if not f.primary_key and f.name not in ("slots_version", "rules_version")
            ]
            super().save(*args, **kwargs)
            # Its zone decides every slot: what was cached for it is stale.
            Partner.objects.filter(pk=self.pk).update(
                slots_version=F("slots_version") + 1, rules_version=F("rules_version") + 1
            )
            return
        super().save(*args, **kwargs)

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class PartnerMembership(models.Model):
    """A user who manages a partner. A user belongs to at most one partner."""

    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        MEMBER = "member", "Member"

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="memberships")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)

    class Meta:
        constraints = [
            # The target of the PostgreSQL foreign key that keeps a staff member's login one of
            # its partner's (user alone is unique already).
            models.UniqueConstraint(fields=["partner", "user"], name="membership_partner_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()} of {self.partner})"


class StaffChoice(models.TextChoices):
    """Who a customer books a service with."""

    # The rule is booking.slots' (fewest bookings that local day, then display order), and the
    # label says so: "the first free person" made partners expect display order alone.
    ANY = (
        "any",
        _(
            "The customer may choose anyone (of those free, the person with the fewest bookings that "
            "day is assigned, then the first in display order)"
        ),
    )
    CUSTOMER_CHOOSES = "choose", _("The customer must choose a person")


class Service(models.Model):
    StaffChoice = StaffChoice

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="services")
    name = models.CharField(max_length=120, validators=[validate_single_line])
    slug = models.SlugField(max_length=60)
    description = models.TextField(blank=True, max_length=2000)
    duration_minutes = models.PositiveIntegerField(
        validators=[MinValueValidator(5), MaxValueValidator(24 * 60)]
    )
    price = models.DecimalField(
        max_digits=9, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    currency = models.CharField(
        max_length=3,
        blank=True,
        validators=[RegexValidator(r"^[A-Z]{3}$", "Use a 3-letter ISO currency code, e.g. CHF.")],
    )
    buffer_before_minutes = models.PositiveIntegerField(
        default=0, validators=[MaxValueValidator(24 * 60)]
    )
    buffer_after_minutes = models.PositiveIntegerField(
        default=0, validators=[MaxValueValidator(24 * 60)]
    )
    min_notice_minutes = models.PositiveIntegerField(
        default=60, validators=[MaxValueValidator(60 * 24 * 90)]
    )
    horizon_days = models.PositiveIntegerField(default=60, validators=[MaxValueValidator(730)])
    slot_interval_minutes = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(5), MaxValueValidator(24 * 60)],
        help_text="Minutes between offered start times; empty means the duration.",
    )
    is_active = models.BooleanField(default=True)
    # Up to two reminder emails before each booking of this service (booking.reminders).
    reminder_hours = models.PositiveSmallIntegerField(
        _("first reminder (hours before)"),
        null=True,
        blank=True,
        default=24,
        validators=[MinValueValidator(1), MaxValueValidator(REMINDER_MAX_HOURS)],
        help_text=_("Hours before the appointment the customer gets a reminder; empty: none."),
    )
    second_reminder_hours = models.PositiveSmallIntegerField(
        _("second reminder (hours before)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(REMINDER_MAX_HOURS)],
        help_text=_("Optional, e.g. 2 for a reminder two hours before as well."),
    )
    staff_choice = models.CharField(
        max_length=10,
        choices=StaffChoice.choices,
        default=StaffChoice.ANY,
        help_text='Whether customers may book "anyone" or must pick a person.',
    )
    required_resource_kind = models.SlugField(
        max_length=40,
        blank=True,
        help_text="Each booking needs one free resource of this kind (e.g. wash-basin); "
        "empty: none.",
    )
    # Annotated for the same reason as Partner.users.
    staff: models.ManyToManyField[StaffMember, ServiceStaff] = models.ManyToManyField(
        "StaffMember", through="ServiceStaff", related_name="services", blank=True
    )

    class Meta:
        ordering = ["partner", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "slug"], name="service_slug_unique_per_partner"
            ),
            models.CheckConstraint(
                condition=Q(staff_choice__in=StaffChoice.values), name="service_staff_choice_valid"
            ),
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=5) & Q(duration_minutes__lte=24 * 60),
                name="service_duration_range",
            ),
            models.CheckConstraint(
                condition=Q(slot_interval_minutes__isnull=True) | Q(slot_interval_minutes__gte=5),
                name="service_interval_min",
            ),
            models.CheckConstraint(
                condition=Q(price__isnull=True, currency="")
                | Q(price__gte=0, currency__regex=r"^[A-Z]{3}$"),
                name="service_price_has_currency",
            ),
            models.CheckConstraint(
                condition=(
                    Q(reminder_hours__isnull=True)
                    | Q(reminder_hours__gte=1, reminder_hours__lte=REMINDER_MAX_HOURS)
                )
                & (
                    Q(second_reminder_hours__isnull=True)
                    | Q(
                        second_reminder_hours__gte=1,
                        second_reminder_hours__lte=REMINDER_MAX_HOURS,
                    )
                )
                & ~Q(second_reminder_hours=F("reminder_hours")),
                name="service_reminder_hours_range",
                violation_error_message=_(
                    "Reminders are 1 to 336 hours before the appointment, and the second one "
                    "needs another lead time than the first."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.partner})"

    def clean(self) -> None:
        super().clean()
        if (self.price is None) != (not self.currency):
            raise ValidationError(
                {"currency": "A price needs a currency, and a currency needs a price."}
            )

    @property
    def interval_minutes(self) -> int:
        return self.slot_interval_minutes or self.duration_minutes

    @property
    def reminder_leads(self) -> list[int]:
        """The reminder lead times in hours, without repeats."""
        return sorted({h for h in (self.reminder_hours, self.second_reminder_hours) if h})

    def _translation(self) -> ServiceTranslation | None:
        """The partner's wording in the active language, if they entered one. Reads the
        prefetched `translations` when the selector prefetched them (no query per service)."""
        language = translation.get_language() or settings.LANGUAGE_CODE
        for item in self.translations.all():
            if item.language == language:
                return item
        return None

    @property
    def local_name(self) -> str:
        """The name in the reader's language; the default (the `name` field) where the partner
        entered none."""
        found = self._translation()
        return found.name if found is not None else self.name

    @property
    def local_description(self) -> str:
        """Falls back field by field: a translated name with no translated description shows the
        default description rather than nothing."""
        found = self._translation()
        return found.description if found is not None and found.description else self.description


class ServiceTranslation(models.Model):
    """A service's name and description in one more language, entered by the partner.

    A table rather than a JSON field on Service: each row is typed and validated by the same
    field validators as the default wording (single line, lengths), the language is limited by a
    constraint and unique per service, the admin edits it as an inline with no custom widget,
    and a missing row is simply the fallback to the default wording."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="translations")
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    name = models.CharField(_("name"), max_length=120, validators=[validate_single_line])
    description = models.TextField(_("description"), blank=True, max_length=2000)

    class Meta:
        ordering = ["service", "language"]
        verbose_name = _("translation")
        verbose_name_plural = _("translations")
        constraints = [
            models.UniqueConstraint(
                fields=["service", "language"], name="service_translation_unique_language"
            ),
            models.CheckConstraint(
                condition=Q(language__in=[code for code, _name in settings.LANGUAGES]),
                name="service_translation_language_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.language})"


def _range_clean(start: time, end: time) -> None:
    if end != MIDNIGHT and end <= start:
        raise ValidationError(
            {"end": "The end must be after the start (00:00 means midnight at the end of the day)."}
        )


_RANGE_ORDER = Q(end__gt=F("start")) | Q(end=MIDNIGHT)


class Weekday(models.IntegerChoices):
    MONDAY = 0
    TUESDAY = 1
    WEDNESDAY = 2
    THURSDAY = 3
    FRIDAY = 4
    SATURDAY = 5
    SUNDAY = 6


class WeeklyRange(models.Model):
    """A weekly range in the partner's local time; several per weekday are allowed."""

    Weekday = Weekday

    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start = models.TimeField()
    end = models.TimeField(help_text="00:00 means midnight at the end of the day.")

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start:%H:%M}-{self.end:%H:%M}"

    def clean(self) -> None:
        super().clean()
        _range_clean(self.start, self.end)


_WEEKDAY_RANGE = Q(weekday__gte=0) & Q(weekday__lte=6)


class OpeningHours(WeeklyRange):
    """A weekly opening range of the partner: nobody is booked outside them."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="opening_hours")

    class Meta:
        ordering = ["partner", "weekday", "start"]
        verbose_name_plural = "opening hours"
        constraints = [
            models.CheckConstraint(condition=_WEEKDAY_RANGE, name="opening_hours_weekday_range"),
            models.CheckConstraint(condition=_RANGE_ORDER, name="opening_hours_end_after_start"),
        ]


class DateOverride(models.Model):
    """Replaces the weekly hours on one local date: closed (no ranges) or the ranges given."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="date_overrides")
    date = models.DateField()
    note = models.CharField(max_length=200, blank=True, validators=[validate_single_line])

    class Meta:
        ordering = ["partner", "date"]
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "date"], name="date_override_unique_per_partner"
            )
        ]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d}"


class Closure(models.Model):
    """The business is closed on every local date first_day..last_day (holidays): those days
    are closed whatever the weekly hours or a date override say. Created through
    booking.closures.closure_create, which shows the bookings it covers first."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="closures")
    first_day = models.DateField(_("first day"))
    last_day = models.DateField(_("last day"))
    note = models.CharField(
        _("note"), max_length=200, blank=True, validators=[validate_single_line]
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["partner", "first_day"]
        verbose_name = _("closure")
        verbose_name_plural = _("closures")
        constraints = [
            models.CheckConstraint(
                condition=Q(last_day__gte=F("first_day")), name="closure_last_day_not_before_first"
            ),
        ]
        indexes = [models.Index(fields=["partner", "last_day"], name="closure_partner_last_day")]

    def __str__(self) -> str:
        return f"{self.first_day:%Y-%m-%d} – {self.last_day:%Y-%m-%d}"

    def clean(self) -> None:
        super().clean()
        if self.first_day and self.last_day and self.last_day < self.first_day:
            raise ValidationError({"last_day": _("The last day cannot be before the first day.")})


class DateOverrideRange(models.Model):
    override = models.ForeignKey(DateOverride, on_delete=models.CASCADE, related_name="ranges")
    start = models.TimeField()
    end = models.TimeField(help_text="00:00 means midnight at the end of the day.")

    class Meta:
        ordering = ["override", "start"]
        constraints = [
            models.CheckConstraint(
                condition=_RANGE_ORDER, name="date_override_range_end_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"

    def clean(self) -> None:
        super().clean()
        _range_clean(self.start, self.end)


_COLOUR = r"^#[0-9a-f]{6}$"


def _is_member(user_id: int | None, partner_id: int | None) -> bool:
    if user_id is None:
        return True
    return partner_id is not None and (
        PartnerMembership.objects.filter(user_id=user_id, partner_id=partner_id).exists()
    )


class StaffMember(models.Model):
    """A bookable person of a partner. Bookings of one staff member never overlap (the database
    guarantees it, as it did per partner before staff existed)."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="staff")
    name = models.CharField(max_length=120, validators=[validate_single_line])
    # The person's own login, if they have one: a member of the same partner (clean() and the
    # services check it; a login of another business would see nothing of this one anyway).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="staff_members",
    )
    is_active = models.BooleanField(default=True)
    # The one-person business: "the team" works whenever the business is open, date overrides
    # (a special opening, a closure) included, so that a partner's changes of its opening hours
    # keep applying as they did before staff existed. Off: the person's own hours, met with the
    # business's.
    works_opening_hours = models.BooleanField(
        default=False,
        help_text="Works whenever the business is open, instead of own hours.",
    )
    display_order = models.PositiveSmallIntegerField(default=0)
    colour = models.CharField(
        max_length=7,
        default="#4a7ab5",
        validators=[RegexValidator(_COLOUR, "Use a colour as #rrggbb, e.g. #4a7ab5.")],
        help_text="The staff member's colour in the calendar, #rrggbb.",
    )

    class Meta:
        ordering = ["display_order", "name"]
        constraints = [
            # Names tell people apart on booking pages and in emails: one name, one person
            # (inactive ones included, so old bookings stay unambiguous).
            models.UniqueConstraint(
                fields=["partner", "name"], name="staff_name_unique_per_partner"
            ),
            # The target of the PostgreSQL foreign key (partner, staff) of bookings, which makes
            # a booking's staff member one of its partner's.
            models.UniqueConstraint(fields=["partner", "id"], name="staff_partner_id_unique"),
            models.CheckConstraint(condition=Q(colour__regex=_COLOUR), name="staff_colour_format"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        if not _is_member(self.user_id, self.partner_id):
            raise ValidationError({"user": _("This login does not belong to this business.")})


class StaffHours(WeeklyRange):
    """A weekly working range of a staff member; they are offered only where the partner is open
    too."""

    staff = models.ForeignKey(StaffMember, on_delete=models.CASCADE, related_name="hours")

    class Meta:
        ordering = ["staff", "weekday", "start"]
        verbose_name_plural = "staff hours"
        constraints = [
            models.CheckConstraint(condition=_WEEKDAY_RANGE, name="staff_hours_weekday_range"),
            models.CheckConstraint(condition=_RANGE_ORDER, name="staff_hours_end_after_start"),
        ]


class Absence(models.Model):
    """A date-time range (aware instants) in which someone or something cannot be booked."""

    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    note = models.CharField(max_length=200, blank=True, validators=[validate_single_line])

    class Meta:
        abstract = True

    def __str__(self) -> str:
        # In the active time zone (the partner's in the workspace), named.
        return f"{zoned(self.starts_at)} – {zoned(self.ends_at)}"

    def clean(self) -> None:
        super().clean()
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": _("The end must be after the start.")})


class StaffAbsence(Absence):
    staff = models.ForeignKey(StaffMember, on_delete=models.CASCADE, related_name="absences")

    class Meta:
        ordering = ["staff", "starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="staff_absence_ends_after_start"
            )
        ]


class Resource(models.Model):
    """Something a booking may need, one booking at a time (a room, a chair, a machine):
    capacity 1. A service needing a kind gets any free resource of that kind."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="resources")
    name = models.CharField(max_length=120, validators=[validate_single_line])
    kind = models.SlugField(max_length=40, help_text="e.g. wash-basin, treatment-room")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["kind", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "name"], name="resource_name_unique_per_partner"
            ),
            models.UniqueConstraint(fields=["partner", "id"], name="resource_partner_id_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class ResourceAbsence(Absence):
    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="absences")

    class Meta:
        ordering = ["resource", "starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="resource_absence_ends_after_start"
            )
        ]


class ServiceStaff(models.Model):
    """A staff member performs a service, optionally in their own time."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="staff_links")
    staff = models.ForeignKey(StaffMember, on_delete=models.CASCADE, related_name="service_links")
    duration_minutes = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(5), MaxValueValidator(24 * 60)],
        help_text="This person's duration of the service; empty: the service's.",
    )

    class Meta:
        ordering = ["service", "staff"]
        verbose_name_plural = "service staff"
        constraints = [
            models.UniqueConstraint(fields=["service", "staff"], name="service_staff_unique"),
            models.CheckConstraint(
                condition=Q(duration_minutes__isnull=True)
                | (Q(duration_minutes__gte=5) & Q(duration_minutes__lte=24 * 60)),
                name="service_staff_duration_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.staff} performs {self.service.name}"

    def clean(self) -> None:
        super().clean()
        if self.service_id and self.staff_id and self.service.partner_id != self.staff.partner_id:
            raise ValidationError({"staff": _("This person works for another business.")})


class Customer(models.Model):
    """A partner's customer: one record per email address at one partner (matched through the
    keyed blind index, so case does not matter and the database never compares plaintext); a
    walk-in or phone customer booked by hand without an email is a record of their own.
    Bookings point to it; it is what customers' own data requests and partners' customer list
    act on. The booking keeps the details typed for it (the customer record is not rewritten by
    whoever books with the same address)."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="customers")
    # Encrypted at rest (C26), as on bookings.
    name = EncryptedTextField(max_length=120, validators=[validate_single_line])
    # Empty only for a walk-in or phone customer booked by hand without one (`by_hand`): such a
    # customer is their own record (never matched to another) and is sent no emails.
    email = EncryptedEmailField(max_length=254, blank=True, validators=[validate_single_line])
    email_index = BlindIndexField(source="email")
    phone = EncryptedTextField(max_length=40, blank=True, validators=[validate_single_line])
    # Made by a booking by hand in the admin (not by the customer on a booking page or the API).
    by_hand = models.BooleanField(_("booked by hand"), default=False, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "email_index"],
                condition=~Q(email_index=""),
                name="customer_one_record_per_email",
            ),
            # A customer without an email index is one a partner booked by hand without an
            # address; any other would be a customer no one can find (saved around the field).
            models.CheckConstraint(
                condition=~Q(email_index="") | Q(by_hand=True),
                name="customer_email_index_present_unless_by_hand",
            ),
        ]

    def __str__(self) -> str:
        return f"Customer #{self.pk}"


class BookingStatus(models.TextChoices):
    PENDING_PAYMENT = "pending_payment", _("Pending payment")
    CONFIRMED = "confirmed", _("Confirmed")
    CANCELLED = "cancelled", _("Cancelled")


class CancelledBecause(models.TextChoices):
    """Why a booking was cancelled: what code branches on (a payment arriving after its hold was
    released may still confirm it; nothing else may). The free-text reason is for people only."""

    CUSTOMER = "customer", _("Cancelled by the customer")
    PARTNER = "partner", _("Cancelled by the business")
    HOLD_EXPIRED = "hold_expired", _("Not paid in time: the reserved time was released")
    RESCHEDULED = "rescheduled", _("Moved to another time")


# The longest busy range a booking can have: a service's duration and each of its buffers are at
# most a day (their validators). A database constraint holds every booking to it, so "bookings
# overlapping [a, b)" is an index range on busy_start from a - BOOKING_MAX_BUSY.
BOOKING_MAX_BUSY = timedelta(days=3)
_BLOCKING_STATUSES = [BookingStatus.PENDING_PAYMENT, BookingStatus.CONFIRMED]


class Booking(models.Model):
    # Module-level enums (the constraints below need them; Meta cannot see nested classes),
    # reachable as Booking.Status / Booking.CancelledBecause like Django's own choices.
    Status = BookingStatus
    CancelledBecause = CancelledBecause

    # Statuses whose busy range blocks other bookings (holds included).
    BLOCKING = (Status.PENDING_PAYMENT, Status.CONFIRMED)

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="bookings")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="bookings")
    # Who and what the booking occupies: the database keeps each one's blocking bookings apart.
    staff = models.ForeignKey(StaffMember, on_delete=models.PROTECT, related_name="bookings")
    resource = models.ForeignKey(
        Resource, null=True, blank=True, on_delete=models.PROTECT, related_name="bookings"
    )
    # Who booked (one record per email per partner). Deleting a customer goes through erasure,
    # which anonymises or deletes their bookings first: never implicitly.
    # Empty only once the booking was anonymised (customer erasure, the partner's retention
    # period): time, service and amounts stay for the partner's accounts, the person is gone.
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="bookings"
    )
    anonymised_at = models.DateTimeField(null=True, blank=True, editable=False)
    start = models.DateTimeField()
    end = models.DateTimeField()
    # start/end widened by the service's buffers at booking time: what the constraint compares.
    busy_start = models.DateTimeField(editable=False)
    busy_end = models.DateTimeField(editable=False)
    # The validators run in full_clean(), which every way in reaches (services, forms, API).
    # Encrypted at rest (C26): the database holds ciphertexts; lookups by email go through the
    # keyed blind index below (case-insensitive), never through the encrypted column.
    customer_name = EncryptedTextField(max_length=120, validators=[validate_single_line])
    # Empty for a walk-in or phone customer booked by hand without one (then no customer emails
    # are sent; booking_create refuses it from a customer) and once anonymised.
    customer_email = EncryptedEmailField(
        max_length=254, blank=True, validators=[validate_single_line, validate_plain_email]
    )
    customer_email_index = BlindIndexField(source="customer_email")
    customer_phone = EncryptedTextField(
        max_length=40, blank=True, validators=[validate_single_line]
    )
    notes = EncryptedMultilineField(blank=True, max_length=2000, validators=[validate_text])
    # The language the customer booked in: every later email about the booking is written in it.
    language = models.CharField(
        _("language"),
        max_length=8,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
        editable=False,
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.CONFIRMED)
    # A hold (pending payment) blocks its slot until this moment; afterwards it no longer counts
    # as busy and is released (cancelled). Kept after the hold ends, as a record.
    hold_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Links sent before derived links (booking.tokens): SHA-256 of their random token, accepted
    # until they expire. New bookings have none.
    manage_token_hash = models.CharField(
        max_length=64, unique=True, null=True, blank=True, default=None, editable=False
    )
    # The manage link is derived from the id and this version under a key that is not in the
    # database (booking.tokens); a new version revokes every older link.
    manage_link_version = models.CharField(max_length=32, default=new_link_version, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    cancelled_at = models.DateTimeField(null=True, blank=True, editable=False)
    cancelled_because = models.CharField(
        max_length=20, choices=CancelledBecause.choices, blank=True, editable=False
    )
    # What a person wrote when cancelling (shown to the customer and the partner); never branched on.
    cancellation_reason = models.CharField(max_length=500, blank=True, validators=[validate_text])
    rescheduled_from = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="rescheduled_to",
        editable=False,
    )
    # The zone the customer saw the times in when booking: the manage page and every email show
    # the time in it (and the partner's beside it). Empty (bookings made before it was stored, or
    # through the admin): the partner's zone.
    time_zone = models.CharField(
        _("customer's time zone"),
        max_length=64,
        blank=True,
        validators=[validate_time_zone],
        editable=False,
    )
    # Optional marketing consent, ticked by the customer on the booking form (unticked by
    # default): when, and under which version of the notice (MARKETING_NOTICE_VERSION).
    marketing_consent_at = models.DateTimeField(
        _("marketing consent given at"), null=True, blank=True, editable=False
    )
    marketing_notice_version = models.CharField(
        _("marketing notice version"), max_length=20, blank=True, editable=False
    )

    class Meta:
        ordering = ["start"]
        indexes = [
            models.Index(
                fields=["partner", "status", "start"], name="booking_partner_status_start"
            ),
            models.Index(fields=["staff", "status", "start"], name="booking_staff_status_start"),
            # The slot engine's and the booking write's question: blocking bookings of these
            # people (or resources) whose busy range meets [a, b).
            models.Index(
                fields=["staff", "busy_start"],
                name="booking_staff_blocking_busy",
                condition=Q(status__in=_BLOCKING_STATUSES),
            ),
            models.Index(
                fields=["resource", "busy_start"],
                name="booking_resource_blocking_busy",
                condition=Q(status__in=_BLOCKING_STATUSES, resource__isnull=False),
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="booking_end_after_start"),
            models.CheckConstraint(
                condition=Q(busy_start__lte=F("start")) & Q(busy_end__gte=F("end")),
                name="booking_busy_covers_booking",
            ),
            models.CheckConstraint(
                condition=Q(busy_end__lte=F("busy_start") + BOOKING_MAX_BUSY),
                name="booking_busy_at_most_max",
                violation_error_message=_("A booking's busy time is at most three days."),
            ),
            models.CheckConstraint(
                condition=Q(status=BookingStatus.CANCELLED, cancelled_at__isnull=False)
                | (~Q(status=BookingStatus.CANCELLED) & Q(cancelled_at__isnull=True)),
                name="booking_cancelled_at_matches_status",
            ),
            models.CheckConstraint(
                condition=Q(status__in=BookingStatus.values), name="booking_status_valid"
            ),
            # Consent is recorded with the notice it was given under, or not at all.
            models.CheckConstraint(
                condition=(Q(marketing_consent_at__isnull=True) & Q(marketing_notice_version=""))
                | (Q(marketing_consent_at__isnull=False) & ~Q(marketing_notice_version="")),
                name="booking_marketing_consent_has_notice_version",
            ),
            models.CheckConstraint(
                condition=~Q(status=BookingStatus.PENDING_PAYMENT)
                | Q(hold_expires_at__isnull=False),
                name="booking_hold_has_expiry",
            ),
            models.CheckConstraint(
                condition=Q(
                    status=BookingStatus.CANCELLED, cancelled_because__in=CancelledBecause.values
                )
                | (~Q(status=BookingStatus.CANCELLED) & Q(cancelled_because="")),
                name="booking_cancelled_because_matches_status",
            ),
            models.CheckConstraint(
                condition=Q(language__in=[code for code, _name in settings.LANGUAGES]),
                name="booking_language_valid",
            ),
            models.CheckConstraint(
                condition=Q(customer__isnull=True, anonymised_at__isnull=False)
                | Q(customer__isnull=False, anonymised_at__isnull=True),
                name="booking_customer_unless_anonymised",
            ),
        ]

    def __str__(self) -> str:
        # In the active time zone (the partner's in the workspace, UTC for operators), named.
        return f"{self.service.name} at {zoned(self.start)}"

    def clean(self) -> None:
        """A booking's person performs its service and works for its partner; its resource is
        its partner's and of the kind the service needs. The booking services only ever assign
        such; this catches a forged form (the admin's, say) before the database does."""
        super().clean()
        errors: dict[str, object] = {}
        if self.staff_id is not None and self.service_id is not None:
            if self.staff.partner_id != self.partner_id:
                errors["staff"] = _("This person works for another business.")
            elif not ServiceStaff.objects.filter(
                service_id=self.service_id, staff_id=self.staff_id
            ).exists():
                errors["staff"] = _("This person does not perform this service.")
        resource = self.resource if self.resource_id is not None else None
        if resource is not None and self.service_id is not None:
            kind = self.service.required_resource_kind
            if resource.partner_id != self.partner_id:
                errors["resource"] = _("This resource belongs to another business.")
            elif resource.kind != kind:
                errors["resource"] = (
                    _("This service needs a resource of the kind %(kind)s.") % {"kind": kind}
                    if kind
                    else _("This service needs no resource.")
                )
        if errors:
            raise ValidationError(errors)

    @property
    def customer_zone(self) -> zoneinfo.ZoneInfo:
        """The zone the customer booked in (the partner's for bookings without one)."""
        return zoneinfo.ZoneInfo(self.time_zone or self.partner.time_zone)

    @property
    def is_blocking(self) -> bool:
        return self.status in self.BLOCKING

    @property
    def is_hold(self) -> bool:
        return self.status == self.Status.PENDING_PAYMENT

    @property
    def hold_was_released(self) -> bool:
        """Cancelled because its hold ran out unpaid (not by anyone's choice)."""
        return (
            self.status == BookingStatus.CANCELLED
            and self.cancelled_because == CancelledBecause.HOLD_EXPIRED
        )


# The longest a support grant may run: hours, not weeks.
SUPPORT_GRANT_MAX_HOURS = 72


class SupportGrant(models.Model):
    """Permission for one platform support user to see one partner's customer data unmasked,
    for a few hours. Created by a superuser or the partner's owner; every unmasked view under it
    is written to the security event log (C15)."""

    MAX_HOURS = SUPPORT_GRANT_MAX_HOURS

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="support_grants")
    granted_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="support_grants_received"
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="support_grants_given",
    )
    reason = models.CharField(max_length=300, validators=[validate_single_line])
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["granted_to", "partner", "expires_at"], name="support_grant_lookup"
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=F("created_at"))
                & Q(expires_at__lte=F("created_at") + timedelta(hours=SUPPORT_GRANT_MAX_HOURS)),
                name="support_grant_expiry_within_limit",
            ),
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True) | Q(revoked_at__gte=F("created_at")),
                name="support_grant_revoked_after_created",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.granted_to} for {self.partner} until {zoned(self.expires_at)}"

    def is_active(self, now: datetime | None = None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and self.created_at <= now < self.expires_at


class ReminderState(models.TextChoices):
    PLANNED = "planned", _("Planned")
    SENDING = "sending", _("Being sent")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Not sent (booking cancelled, moved or unpaid)")


class BookingReminder(models.Model):
    """One reminder email of a booking at one lead time, and what became of it. The row is the
    claim: a sender moves it from PLANNED to SENDING in a transaction that locked it (SKIP
    LOCKED), so two workers or two overlapping beat runs never send it twice. A sender that
    dies after the claim leaves it SENDING until the claim is older than any live sender can be
    (booking.reminders.RECLAIM_AFTER); then another sender claims it again."""

    State = ReminderState

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="reminders")
    lead_hours = models.PositiveSmallIntegerField()
    due_at = models.DateTimeField()
    state = models.CharField(
        max_length=10, choices=ReminderState.choices, default=ReminderState.PLANNED
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    # How often a sender has claimed it: the claim's fencing token (a sender finishes only the
    # claim it made) and the limit on re-claims after senders died (booking.reminders).
    claims = models.PositiveSmallIntegerField(default=0)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Why it failed or was skipped, for the partner and operators (an exception's class name
    # or a fixed phrase; never the customer's data).
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["due_at"]
        indexes = [models.Index(fields=["state", "due_at"], name="booking_reminder_due")]
        constraints = [
            models.UniqueConstraint(
                fields=["booking", "lead_hours"], name="booking_reminder_once_per_lead"
            ),
            models.CheckConstraint(
                condition=Q(state__in=ReminderState.values), name="booking_reminder_state_valid"
            ),
            models.CheckConstraint(
                condition=Q(state=ReminderState.PLANNED) | Q(claimed_at__isnull=False),
                name="booking_reminder_claimed_when_not_planned",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.lead_hours} h reminder ({self.get_state_display()})"


INVITATION_LIFETIME = timedelta(hours=72)


class InvitationStatus(models.TextChoices):
    """Where an invitation stands. "Expired" is no state of its own: a pending invitation whose
    `expires_at` has passed (nothing has to run for a link to stop working)."""

    PENDING = "pending", _("Pending")
    ACCEPTED = "accepted", _("Accepted")
    REVOKED = "revoked", _("Revoked")


class Invitation(models.Model):
    """An invitation by email to work for a partner, as its owner or as a member (optionally as
    the login of one of its staff members), so that nobody ever emails a password
    (booking.invitations: the writes, the link and its refusals).

    The link's secret is never stored: `token_hash` is its SHA-256, set when the email is sent
    (empty before: no link exists yet, and nothing matches an empty hash). A new email (re-send)
    sets a new hash, which ends the older link."""

    Status = InvitationStatus

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(_("email address"), max_length=254)
    role = models.CharField(
        _("role"), max_length=10, choices=PartnerMembership.Role.choices, default="member"
    )
    staff_member = models.ForeignKey(
        StaffMember,
        verbose_name=_("staff member"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="invitations",
        help_text=_("Optional: the person of your team whose login this will be (members only)."),
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="invitations_sent",
    )
    status = models.CharField(
        max_length=10, choices=InvitationStatus.choices, default=InvitationStatus.PENDING
    )
    # The email's language: the inviter's when they invited (a re-send keeps it).
    language = models.CharField(
        max_length=8, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    token_hash = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)  # accepted or revoked
    accepted_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="invitation_accepted",
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=InvitationStatus.values), name="invitation_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(role__in=["owner", "member"]), name="invitation_role_valid"
            ),
            # A staff member's login is a member's; an owner is nobody's login.
            models.CheckConstraint(
                condition=Q(staff_member__isnull=True) | Q(role="member"),
                name="invitation_staff_member_only_for_members",
            ),
            models.CheckConstraint(
                condition=Q(expires_at__gt=F("created_at")), name="invitation_expires_after_created"
            ),
            models.CheckConstraint(
                condition=Q(status=InvitationStatus.PENDING) | Q(finished_at__isnull=False),
                name="invitation_finished_when_not_pending",
            ),
            # One open invitation per address and partner: a second one would be a second
            # working link for the same person.
            models.UniqueConstraint(
                "partner",
                Lower("email"),
                condition=Q(status=InvitationStatus.PENDING),
                name="invitation_one_pending_per_email",
                violation_error_message=_("This address has a pending invitation already."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} ({self.get_role_display()} of {self.partner})"

    def is_expired(self, now: datetime | None = None) -> bool:
        return self.expires_at <= (now or timezone.now())

    def clean(self) -> None:
        super().clean()
        self.email = self.email.strip().lower()
        if self.staff_member_id is not None:
            staff = self.staff_member
            if staff is None or staff.partner_id != self.partner_id:
                raise ValidationError({"staff_member": _("Choose a person of this business.")})
            if self.role != PartnerMembership.Role.MEMBER:
                raise ValidationError(
                    {"staff_member": _("Only a member can be the login of a staff member.")}
                )
            if staff.user_id is not None:
                raise ValidationError({"staff_member": _("This person has a login already.")})


class CalendarFeedScope(models.TextChoices):
    """Whose bookings a calendar feed lists."""

    # The bookings of the staff members whose login the feed's user is.
    OWN = "own", _("My bookings")
    # Every staff member's bookings of the partner: owners only.
    ALL = "all", _("Everyone's bookings")


class CalendarFeed(models.Model):
    """A private calendar subscription (iCalendar over HTTPS) of a partner user's upcoming
    bookings, for Google, Apple or Outlook calendars. The URL carries a random secret; only its
    SHA-256 is stored (booking.feeds), so neither the database nor a backup holds a usable URL.
    Revoking deletes the row; making a new one replaces the user's feed of that scope."""

    Scope = CalendarFeedScope

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="calendar_feeds")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feeds"
    )
    scope = models.CharField(max_length=10, choices=CalendarFeedScope.choices)
    secret_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["partner", "user", "scope"]
        constraints = [
            models.UniqueConstraint(fields=["user", "scope"], name="calendar_feed_one_per_scope"),
            models.CheckConstraint(
                condition=Q(scope__in=CalendarFeedScope.values), name="calendar_feed_scope_valid"
            ),
            models.CheckConstraint(
                # A hash's shape (ruff takes the field name for a password).
                condition=Q(secret_hash__regex=r"^[0-9a-f]{64}$"),  # noqa: S106
                name="calendar_feed_secret_is_a_hash",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_scope_display()} ({self.user})"
