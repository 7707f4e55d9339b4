"""Fixtures shared by the booking tests: a partner open Mon-Fri 09:00-17:00 in Europe/Zurich
with a 60-minute service, and a helper that books through the real service layer."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from booking import services
from booking.models import Booking, OpeningHours, Partner, Service
from tests.actors import BOOKING_CUSTOMER, customer_details
from tests.staffing import team

ZURICH = ZoneInfo("Europe/Zurich")


@pytest.fixture
def partner(db) -> Partner:
    partner = Partner.objects.create(
        name="Salon Alpha",
        slug="salon-alpha",
        time_zone="Europe/Zurich",
        contact_email="owner@alpha.example",
        cancellation_cutoff_hours=24,
    )
    for weekday in range(5):
        OpeningHours.objects.create(partner=partner, weekday=weekday, start=time(9), end=time(17))
    return partner


@pytest.fixture
def service(partner: Partner) -> Service:
    service = Service.objects.create(
        partner=partner,
        name="Haircut",
        slug="haircut",
        duration_minutes=60,
        min_notice_minutes=60,
        horizon_days=30,
    )
    team(partner)
    return service


@pytest.fixture
def other_partner(db) -> Partner:
    other = Partner.objects.create(
        name="Clinic Beta",
        slug="clinic-beta",
        time_zone="America/New_York",
        contact_email="owner@beta.example",
    )
    for weekday in range(5):
        OpeningHours.objects.create(partner=other, weekday=weekday, start=time(8), end=time(12))
    Service.objects.create(partner=other, name="Check-up", slug="check-up", duration_minutes=30)
    team(other)
    return other


def zurich(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZURICH)


@pytest.fixture
def book() -> Callable[..., tuple[Booking, str]]:
    """book(service, start, **customer) through booking_create; returns (booking, token). A
    service nobody performs yet gets the partner's team (tests of a one-person business)."""

    def _book(service: Service, start: datetime, **extra: Any) -> tuple[Booking, str]:
        if not service.staff.exists():
            team(service.partner)
        customer, rest = customer_details(**extra)
        rest.setdefault("actor", BOOKING_CUSTOMER)
        return services.booking_create(service=service, start=start, customer=customer, **rest)

    return _book


# The workspace tests' "now": Tuesday 1 December 2026, 08:00 in Zurich.
WORKSPACE_NOW = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)


@pytest.fixture
def december_first() -> Iterator[None]:
    """Time frozen at WORKSPACE_NOW (pytest.mark.usefixtures("december_first"))."""
    with time_machine.travel(WORKSPACE_NOW, tick=False):
        yield
