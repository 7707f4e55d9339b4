"""Migration 0013: bookings made before derived links each get their own link version, and the
hash of the link their customer already holds stays, so that link keeps working."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client

from booking.tokens import new_manage_token

BEFORE = [("booking", "0012_staff_roles")]
AFTER = [("booking", "0013_manage_link_version")]


def _migrate(targets: list[tuple[str, str]]):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture(autouse=True)
def _back_to_the_latest_schema():
    yield
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_old_bookings_get_their_own_versions_and_keep_their_links() -> None:
    apps = _migrate(BEFORE)
    Partner = apps.get_model("booking", "Partner")
    Service = apps.get_model("booking", "Service")
    Booking = apps.get_model("booking", "Booking")
    StaffMember = apps.get_model("booking", "StaffMember")
    partner = Partner.objects.create(name="P", slug="p", contact_email="p@example.com")
    service = Service.objects.create(partner=partner, name="S", slug="s", duration_minutes=30)
    staff = StaffMember.objects.create(partner=partner, name="Team")
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    tokens = []
    for n in range(3):
        token, digest = new_manage_token()
        tokens.append(token)
        at = start + timedelta(hours=n)
        Booking.objects.create(
            partner=partner,
            service=service,
            staff=staff,
            start=at,
            end=at + timedelta(minutes=30),
            busy_start=at,
            busy_end=at + timedelta(minutes=30),
            customer_name="C",
            customer_email="c@example.com",
            status="confirmed",
            manage_token_hash=digest,
        )

    apps = _migrate(AFTER)
    Booking = apps.get_model("booking", "Booking")
    versions = list(Booking.objects.values_list("manage_link_version", flat=True))
    assert len(set(versions)) == 3 and all(len(v) == 32 for v in versions)

    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    for token in tokens:
        assert Client().get(f"/manage/{token}/").status_code == 200
