"""Migrations 0009-0011: every existing partner becomes a one-person business with one staff
member, "the team", who works its opening hours, performs every service and has every booking."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("booking", "0008_booking_cancelled_because_constraint")]
AFTER = [("booking", "0011_booking_staff_guarantees")]


def _migrate(targets: list[tuple[str, str]]):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_each_partner_gets_its_team_with_its_hours_services_and_bookings() -> None:
    apps = _migrate(BEFORE)
    Partner = apps.get_model("booking", "Partner")
    Service = apps.get_model("booking", "Service")
    OpeningHours = apps.get_model("booking", "OpeningHours")
    Booking = apps.get_model("booking", "Booking")
    salon = Partner.objects.create(name="Salon", slug="salon", contact_email="s@example.com")
    clinic = Partner.objects.create(name="Clinic", slug="clinic", contact_email="c@example.com")
    OpeningHours.objects.create(partner=salon, weekday=0, start=time(9), end=time(12))
    OpeningHours.objects.create(partner=salon, weekday=0, start=time(13), end=time(0))
    OpeningHours.objects.create(partner=clinic, weekday=5, start=time(8), end=time(10))
    cut = Service.objects.create(partner=salon, name="Cut", slug="cut", duration_minutes=30)
    old = Service.objects.create(
        partner=salon, name="Old", slug="old", duration_minutes=30, is_active=False
    )
    check = Service.objects.create(partner=clinic, name="Check", slug="check", duration_minutes=30)
    start = datetime(2026, 5, 4, 9, tzinfo=UTC)
    rows = []
    for n, (service, status) in enumerate(
        [(cut, "confirmed"), (old, "cancelled"), (check, "confirmed")]
    ):
        rows.append(
            Booking.objects.create(
                partner=service.partner,
                service=service,
                start=start,
                end=start + timedelta(minutes=30),
                busy_start=start,
                busy_end=start + timedelta(minutes=30),
                customer_name="C",
                customer_email="c@example.com",
                status=status,
                cancelled_at=start if status == "cancelled" else None,
                cancelled_because="customer" if status == "cancelled" else "",
                manage_token_hash=f"{n:064d}",
            )
        )

    apps = _migrate(AFTER)
    StaffMember = apps.get_model("booking", "StaffMember")
    Booking = apps.get_model("booking", "Booking")
    salon_team, clinic_team = (StaffMember.objects.get(partner_id=p.pk) for p in (salon, clinic))
    assert (salon_team.name, salon_team.is_active, salon_team.works_opening_hours) == (
        "Team",
        True,
        True,
    )
    assert sorted((h.weekday, h.start, h.end) for h in salon_team.hours.all()) == [
        (0, time(9), time(12)),
        (0, time(13), time(0)),
    ]
    assert [(h.weekday, h.start, h.end) for h in clinic_team.hours.all()] == [
        (5, time(8), time(10))
    ]
    assert sorted(s.slug for s in salon_team.services.all()) == ["cut", "old"]
    assert [s.slug for s in clinic_team.services.all()] == ["check"]
    staff_of = dict(Booking.objects.values_list("pk", "staff_id"))
    assert staff_of == {
        rows[0].pk: salon_team.pk,
        rows[1].pk: salon_team.pk,
        rows[2].pk: clinic_team.pk,
    }
    # Back to the latest state for the tests that follow.
    _migrate(
        MigrationExecutor(connection).loader.graph.leaf_nodes()
    )  # every app: payments follows booking
