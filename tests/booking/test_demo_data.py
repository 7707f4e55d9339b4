"""`manage.py demo_data`: creates the demo partner and accounts once, shows generated passwords
once, takes passwords from the environment when given, and refuses production settings."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import time
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from booking.models import DateOverride, OpeningHours, Partner, PartnerMembership, Service
from tests.production import PRODUCTION_FIELD_ENCRYPTION_ENV

pytestmark = pytest.mark.django_db

ADMIN = "admin@example.com"
OWNER = "owner@demo-salon.example"
MODELS = (get_user_model(), Partner, PartnerMembership, Service, OpeningHours, DateOverride)


@pytest.fixture(autouse=True)
def _no_env_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DEMO_ADMIN_PASSWORD", raising=False)
    monkeypatch.delenv("DEMO_PARTNER_PASSWORD", raising=False)


def _run() -> str:
    out = StringIO()
    call_command("demo_data", stdout=out)
    return out.getvalue()


def _counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def _generated_passwords(output: str) -> dict[str, str]:
    return dict(re.findall(r"Created (\S+) with password: (\S+)", output))


def test_first_run_creates_the_demo_salon_with_its_services_and_hours() -> None:
    _run()
    partner = Partner.objects.get(slug="demo-salon")
    assert (partner.name, partner.time_zone) == ("Demo Salon", "Europe/Zurich")
    assert partner.contact_email
    services = {s.name: s for s in partner.services.all()}
    assert set(services) == {"Haircut", "Colour consultation", "Full colour"}
    haircut, full = services["Haircut"], services["Full colour"]
    assert (
        haircut.duration_minutes,
        haircut.slot_interval_minutes,
        haircut.buffer_after_minutes,
    ) == (45, 15, 10)
    assert services["Colour consultation"].duration_minutes == 30
    assert (full.duration_minutes, full.buffer_before_minutes, full.buffer_after_minutes) == (
        120,
        5,
        15,
    )
    assert (full.price, full.currency) == (Decimal("150.00"), "CHF")

    hours = {(h.weekday, h.start, h.end) for h in partner.opening_hours.all()}
    weekday_ranges = {
        (d, s, e) for d in (1, 2, 3, 4) for s, e in [(time(9), time(12)), (time(13), time(18, 30))]
    }
    assert hours == weekday_ranges | {(5, time(9), time(16))}

    christmas = partner.date_overrides.get()
    assert (christmas.date.month, christmas.date.day) == (12, 25)
    assert christmas.note and not christmas.ranges.exists()


def test_first_run_creates_staff_accounts_and_shows_generated_passwords_once() -> None:
    output = _run()
    passwords = _generated_passwords(output)
    assert set(passwords) == {ADMIN, OWNER}
    User = get_user_model()
    admin, owner = User.objects.get(email=ADMIN), User.objects.get(email=OWNER)
    assert admin.check_password(passwords[ADMIN]) and owner.check_password(passwords[OWNER])
    assert admin.is_staff and admin.is_superuser
    assert owner.is_staff and not owner.is_superuser
    membership = PartnerMembership.objects.get(user=owner)
    assert (membership.partner.slug, membership.role) == (
        "demo-salon",
        PartnerMembership.Role.OWNER,
    )


def test_second_run_creates_nothing_and_keeps_the_passwords() -> None:
    first = _generated_passwords(_run())
    counts = _counts()
    hashes = dict(get_user_model().objects.values_list("email", "password"))

    output = _run()

    assert _counts() == counts
    assert dict(get_user_model().objects.values_list("email", "password")) == hashes
    assert f"{ADMIN} already exists; password unchanged." in output
    assert f"{OWNER} already exists; password unchanged." in output
    assert "nothing created or changed" in output
    assert not any(password in output for password in first.values())


def test_passwords_from_the_environment_are_used_and_not_shown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DEMO_ADMIN_PASSWORD", "admin-pass-phrase-for-tests")
    monkeypatch.setenv("DEMO_PARTNER_PASSWORD", "owner-pass-phrase-for-tests")
    output = _run()
    User = get_user_model()
    assert User.objects.get(email=ADMIN).check_password("admin-pass-phrase-for-tests")
    assert User.objects.get(email=OWNER).check_password("owner-pass-phrase-for-tests")
    assert "pass-phrase" not in output
    assert "with the password from DEMO_ADMIN_PASSWORD" in output


def test_a_weak_password_from_the_environment_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEMO_ADMIN_PASSWORD", "short")
    with pytest.raises(CommandError, match="DEMO_ADMIN_PASSWORD is not an acceptable password"):
        _run()
    # One transaction: nothing of the half-done run is left.
    assert not Partner.objects.exists()


def test_refuses_to_run_with_production_settings(tmp_path: Path) -> None:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DJANGO_SETTINGS_MODULE": "settings.prod",
        "SECRET_KEY": "x" * 20 + "production-like-secret-key-for-this-test-only",
        "ALLOWED_HOSTS": "booking.example",
        "DATA_DIR": str(tmp_path),
        **PRODUCTION_FIELD_ENCRYPTION_ENV,
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "demo_data"],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "refuses to run with production settings" in result.stderr
    assert not (tmp_path / "db.sqlite3").exists()


def test_demo_salon_has_three_stylists_one_on_holiday_next_week_and_two_wash_basins() -> None:
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    from booking.models import Booking, Resource, StaffMember

    _run()
    partner = Partner.objects.get(slug="demo-salon")
    stylists = list(StaffMember.objects.filter(partner=partner, is_active=True))
    assert len(stylists) == 3 and all(s.name != "Team" for s in stylists)
    weekly = [frozenset((h.weekday, h.start, h.end) for h in s.hours.all()) for s in stylists]
    assert len(set(weekly)) == 3 and all(weekly)  # three different weeks, none empty
    assert len({s.colour for s in stylists}) == 3
    zone = ZoneInfo("Europe/Zurich")
    today = timezone.localdate(timezone=zone)
    next_monday = today + timedelta(days=7 - today.weekday())
    week = (
        datetime.combine(next_monday, time(0), tzinfo=zone),
        datetime.combine(next_monday + timedelta(days=7), time(0), tzinfo=zone),
    )
    away = [
        s
        for s in stylists
        if s.absences.filter(starts_at__lte=week[0], ends_at__gte=week[1]).exists()
    ]
    assert len(away) == 1
    basins = Resource.objects.filter(partner=partner, kind="wash-basin", is_active=True)
    assert basins.count() == 2
    assert Service.objects.get(partner=partner, slug="full-colour").required_resource_kind == (
        "wash-basin"
    )
    # The demo bookings went to the stylists.
    assert set(Booking.objects.filter(partner=partner).values_list("staff__name", flat=True)) <= {
        s.name for s in stylists
    }


def test_demo_owner_is_in_the_partner_owner_group_and_has_demo_bookings() -> None:
    from booking.models import Booking
    from booking.roles import PARTNER_OWNER

    _run()
    owner = get_user_model().objects.get(email=OWNER)
    assert owner.groups.filter(name=PARTNER_OWNER).exists()
    assert owner.has_perm("booking.change_partner") and owner.has_perm("booking.add_booking")
    bookings = Booking.objects.filter(partner__slug="demo-salon")
    assert 1 <= bookings.count() <= 3
    count = bookings.count()
    _run()
    assert bookings.count() == count


@pytest.mark.slow
def test_at_a_terminal_it_shows_only_its_own_report_and_no_false_warning(tmp_path: Path) -> None:
    from tests.terminal import on_pipes, on_terminal, operator_env

    env = operator_env(
        tmp_path,
        STRIPE_SECRET_KEY="sk_test_x",
        STRIPE_PUBLISHABLE_KEY="pk_test_x",
        STRIPE_WEBHOOK_SECRET="whsec_x",
    )
    assert on_pipes(["migrate", "--noinput", "-v0"], env).returncode == 0

    status, screen = on_terminal(["demo_data"], env)

    assert status == 0, screen
    assert "WARNING" not in screen and "{" not in screen, screen
    lines = [line for line in screen.splitlines() if line.strip()]
    assert lines[0].startswith("Created admin@example.com with password:"), screen
    assert "Created: 1 partner, 2 users, 1 partner membership, 3 services" in screen, screen
