"""`manage.py demo_data`: a demo partner with real services and opening hours, plus two accounts to
log in with (`make run` calls it). Idempotent: a second run creates and changes nothing.

Passwords come from DEMO_ADMIN_PASSWORD / DEMO_PARTNER_PASSWORD, or are generated and shown once,
when the account is created. The command refuses to run with production settings: it creates
accounts whose passwords have been printed to a terminal.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from decimal import Decimal
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.core.management.base import CommandError
from django.db import models, transaction
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from booking import selectors, services
from booking.models import (
    Booking,
    DateOverride,
    OpeningHours,
    Partner,
    PartnerMembership,
    Service,
    ServiceStaff,
    StaffHours,
    StaffMember,
)
from booking.roles import PARTNER_OWNER, roles_ensure
from booking.services import CustomerDetails
from security.actors import Actor, Via
from security.operator_output import OperatorCommand

ADMIN_EMAIL = "admin@example.com"
PARTNER_EMAIL = "owner@demo-salon.example"
# Names of environment variables, not passwords.
ADMIN_PASSWORD_ENV = "DEMO_ADMIN_PASSWORD"  # noqa: S105
PARTNER_PASSWORD_ENV = "DEMO_PARTNER_PASSWORD"  # noqa: S105

PARTNER = {
    "slug": "demo-salon",
    "name": "Demo Salon",
    "time_zone": "Europe/Zurich",
    "contact_email": "hello@demo-salon.example",
}
SERVICES: list[dict[str, Any]] = [
    {
        "slug": "haircut",
        "name": "Haircut",
        "description": "Wash, cut and blow-dry.",
        "duration_minutes": 45,
        "slot_interval_minutes": 15,
        "buffer_after_minutes": 10,
    },
    {
        "slug": "colour-consultation",
        "name": "Colour consultation",
        "description": "We look at your hair together and plan the colour.",
        "duration_minutes": 30,
    },
    {
        "slug": "full-colour",
        "name": "Full colour",
        "description": "Full colour including wash and blow-dry.",
        "duration_minutes": 120,
        "buffer_before_minutes": 5,
        "buffer_after_minutes": 15,
        "price": Decimal("150.00"),
        "currency": "CHF",
    },
]
W = OpeningHours.Weekday
_WEEKDAY_RANGES = [(time(9, 0), time(12, 0)), (time(13, 0), time(18, 30))]
OPENING_HOURS: list[tuple[int, time, time]] = [
    *(
        (day, start, end)
        for day in (W.TUESDAY, W.WEDNESDAY, W.THURSDAY, W.FRIDAY)
        for start, end in _WEEKDAY_RANGES
    ),
    (W.SATURDAY, time(9, 0), time(16, 0)),
]
CHRISTMAS_NOTE = "Closed for Christmas"
DEMO_TEAM = "Team"
# Demo customers for a few bookings in the coming days (only when the partner has none yet).
DEMO_CUSTOMERS = [
    CustomerDetails(name="Mia Muster", email="mia@customer.example", phone="+41 79 000 00 01"),
    CustomerDetails(name="Luca Rossi", email="luca@customer.example"),
    CustomerDetails(
        name="Anna Keller", email="anna@customer.example", notes="Prefers a quiet corner."
    ),
]
DEMO_DATA_JOB = Actor.system("demo_data", via=Via.COMMAND)

M = TypeVar("M", bound=models.Model)


@dataclass
class AccountResult:
    email: str
    created: bool
    # Set only when this run generated the password: the one time it can be shown.
    generated_password: str | None = None
    # The environment variable whose value became the password in this run, if any.
    password_from_env: str | None = None


@dataclass
class Changes:
    """What one run wrote, by model: rows created and rows updated."""

    created: dict[type[models.Model], int] = field(default_factory=dict)
    updated: dict[type[models.Model], int] = field(default_factory=dict)
    accounts: list[AccountResult] = field(default_factory=list)

    def count(self, model: type[models.Model], *, created: bool) -> None:
        counter = self.created if created else self.updated
        counter[model] = counter.get(model, 0) + 1


@dataclass
class DemoDataResult:
    partner: Partner
    changes: Changes


def _ensure(
    model: type[M], *, lookup: dict[str, Any], values: dict[str, Any], changes: Changes
) -> M:
    """update_or_create, but with full_clean() before the write, and no write at all when the
    row already holds these values (so a second run leaves the database untouched)."""
    try:
        obj = model._default_manager.get(**lookup)
    except ObjectDoesNotExist:  # get() raises only model.DoesNotExist, a subclass
        obj = model(**lookup, **values)
        created = True
    else:
        changed = [name for name, value in values.items() if getattr(obj, name) != value]
        if not changed:
            return obj
        for name in changed:
            setattr(obj, name, values[name])
        created = False
    obj.full_clean()
    obj.save()
    changes.count(model, created=created)
    return obj


def _ensure_account(*, email: str, is_superuser: bool, env_var: str, changes: Changes) -> Any:
    """The account exists, is staff (and superuser when asked) and, when `env_var` is set, has that
    password. An existing account's password is otherwise never touched."""
    User = get_user_model()
    env_password = os.environ.get(env_var) or None
    user = User.objects.filter(email__iexact=email).first()
    account = AccountResult(email=email, created=user is None)
    if user is None:
        user = User(email=email)
        password: str | None = env_password or secrets.token_urlsafe(12)
        account.generated_password = None if env_password else password
    elif env_password and not user.check_password(env_password):
        # The environment is the operator's statement of what the password is.
        password = env_password
    else:
        password = None
    if password is not None and env_password:
        account.password_from_env = env_var
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise CommandError(
                f"{env_var} is not an acceptable password: {' '.join(exc.messages)}"
            ) from None

    flags_wrong = not user.is_staff or user.is_superuser != is_superuser
    if account.created or password is not None or flags_wrong:
        user.is_staff = True
        user.is_superuser = is_superuser
        if password is not None:
            user.set_password(password)
        user.full_clean()
        user.save()
        changes.count(User, created=account.created)
    changes.accounts.append(account)
    return user


@transaction.atomic
def demo_data_ensure(*, today: date | None = None) -> DemoDataResult:
    """Create or complete the demo partner and its accounts, in one transaction. (A service-style
    function kept beside its only caller: nothing else in the product needs demo data.)"""
    today = today or timezone.localdate(timezone=ZoneInfo(PARTNER["time_zone"]))
    changes = Changes()
    partner = _ensure(
        Partner,
        lookup={"slug": PARTNER["slug"]},
        values={k: v for k, v in PARTNER.items() if k != "slug"},
        changes=changes,
    )

    _ensure_account(
        email=ADMIN_EMAIL, is_superuser=True, env_var=ADMIN_PASSWORD_ENV, changes=changes
    )
    owner = _ensure_account(
        email=PARTNER_EMAIL, is_superuser=False, env_var=PARTNER_PASSWORD_ENV, changes=changes
    )
    _ensure(
        PartnerMembership,
        lookup={"user": owner},
        values={"partner": partner, "role": PartnerMembership.Role.OWNER},
        changes=changes,
    )
    roles_ensure()
    owner_group = Group.objects.get(name=PARTNER_OWNER)
    if not owner.groups.filter(pk=owner_group.pk).exists():
        owner.groups.add(owner_group)
        changes.count(Group, created=False)

    for spec in SERVICES:
        values = {k: v for k, v in spec.items() if k != "slug"}
        _ensure(
            Service,
            lookup={"partner": partner, "slug": spec["slug"]},
            values=values,
            changes=changes,
        )
    for weekday, start, end in OPENING_HOURS:
        _ensure(
            OpeningHours,
            lookup={"partner": partner, "weekday": weekday, "start": start},
            values={"end": end},
            changes=changes,
        )

    # One person doing everything in the salon's hours, as every partner had before staff existed.
    team = _ensure(
        StaffMember,
        lookup={"partner": partner, "name": DEMO_TEAM},
        values={"works_opening_hours": True},
        changes=changes,
    )
    for weekday, start, end in OPENING_HOURS:
        _ensure(
            StaffHours,
            lookup={"staff": team, "weekday": weekday, "start": start},
            values={"end": end},
            changes=changes,
        )
    for service in Service.objects.filter(partner=partner):
        _ensure(
            ServiceStaff, lookup={"service": service, "staff": team}, values={}, changes=changes
        )

    christmas = date(today.year, 12, 25)
    if christmas < today:
        christmas = date(today.year + 1, 12, 25)
    # An override without ranges means closed all day.
    _ensure(
        DateOverride,
        lookup={"partner": partner, "date": christmas},
        values={"note": CHRISTMAS_NOTE},
        changes=changes,
    )
    _ensure_demo_bookings(partner=partner, changes=changes)
    return DemoDataResult(partner=partner, changes=changes)


def _ensure_demo_bookings(*, partner: Partner, changes: Changes) -> None:
    """A few bookings in the coming days, through booking_create like any other, so the
    admin's calendar has something to show. Only when the partner has no booking at all."""
    if Booking.objects.filter(partner=partner).exists():
        return
    service = Service.objects.select_related("partner").get(partner=partner, slug="haircut")
    now = timezone.now()
    free = selectors.service_slots(
        service=service,
        window_start=now + timedelta(days=1),
        window_end=now + timedelta(days=8),
        now=now,
    )
    # Spread them out: one every ~10 slots.
    for customer, start in zip(DEMO_CUSTOMERS, free[::10], strict=False):
        services.booking_create(
            service=service, start=start, customer=customer, actor=DEMO_DATA_JOB
        )
        changes.count(Booking, created=True)


class Command(OperatorCommand):
    help = format_lazy(
        gettext_lazy(
            "Create the demo partner 'Demo Salon' with services and opening hours, the accounts "
            "{admin} (superuser) and {owner} (partner owner, group 'Partner owner'), and a few "
            "demo bookings if there are none. Safe to run again. Passwords: ${admin_env} / "
            "${owner_env}, else generated and shown once. Refuses production settings."
        ),
        admin=ADMIN_EMAIL,
        owner=PARTNER_EMAIL,
        admin_env=ADMIN_PASSWORD_ENV,
        owner_env=PARTNER_PASSWORD_ENV,
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.SETTINGS_MODULE == "settings.prod":
            raise CommandError(
                _(
                    "demo_data creates accounts whose passwords are shown on the terminal; "
                    "it refuses to run with production settings (settings.prod)."
                )
            )
        result = demo_data_ensure()
        partner, changes = result.partner, result.changes

        for account in changes.accounts:
            values = {"email": account.email, "variable": account.password_from_env}
            if account.generated_password:
                self.stdout.write(
                    self.style.SUCCESS(
                        _("Created %(email)s with password: %(password)s")
                        % {**values, "password": account.generated_password}
                    )
                )
                self.stdout.write(_("  (shown only this once: note it now)"))
            elif account.created:
                self.stdout.write(
                    self.style.SUCCESS(
                        _("Created %(email)s with the password from %(variable)s.") % values
                    )
                )
            elif account.password_from_env:
                self.stdout.write(
                    _("%(email)s already exists; password set from %(variable)s.") % values
                )
            else:
                self.stdout.write(_("%(email)s already exists; password unchanged.") % values)

        def _summary(counts: dict[type[models.Model], int]) -> str:
            return ", ".join(
                f"{n} {model._meta.verbose_name if n == 1 else model._meta.verbose_name_plural}"
                for model, n in counts.items()
            )

        if changes.created:
            self.stdout.write(_("Created: %(summary)s.") % {"summary": _summary(changes.created)})
        if changes.updated:
            self.stdout.write(_("Updated: %(summary)s.") % {"summary": _summary(changes.updated)})
        if not changes.created and not changes.updated:
            self.stdout.write(_("Demo data already present: nothing created or changed."))
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "Demo data ready: %(name)s (%(slug)s), %(services)d services, %(ranges)d "
                    "opening ranges. Log in at %(url)s/admin/"
                )
                % {
                    "name": partner.name,
                    "slug": partner.slug,
                    "services": partner.services.count(),
                    "ranges": partner.opening_hours.count(),
                    "url": settings.SITE_URL,
                }
            )
        )
        self.stdout.write(
            _(
                "At their first login, staff accounts set up two-factor authentication (an "
                "authenticator app, or `oathtool --totp -b SECRET`): see README, Demo logins."
            )
        )
