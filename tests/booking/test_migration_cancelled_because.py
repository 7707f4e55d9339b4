"""Migration 0007: every cancelled booking gets its typed cause from what the old code left."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [
    ("booking", "0006_booking_hold_expires_at"),
    ("admin", "0003_logentry_add_action_flag_choices"),
]
AFTER = [("booking", "0008_booking_cancelled_because_constraint")]


@pytest.fixture(autouse=True)
def _back_to_the_latest_schema():
    """Later migrations exist: the tests after this one need the whole schema back."""
    yield
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


def _migrate(targets: list[tuple[str, str]]):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def back_to_the_latest_schema() -> Iterator[None]:
    """Leave the database at the newest migration of every app, whatever this test migrated to:
    the tests that run after it (and later migrations) need the whole schema."""
    yield
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("back_to_the_latest_schema")
def test_each_cancelled_booking_gets_its_cause_and_cause_texts_are_cleared() -> None:
    apps = _migrate(BEFORE)
    Partner = apps.get_model("booking", "Partner")
    Service = apps.get_model("booking", "Service")
    Booking = apps.get_model("booking", "Booking")
    ContentType = apps.get_model("contenttypes", "ContentType")
    LogEntry = apps.get_model("admin", "LogEntry")
    User = apps.get_model("accounts", "User")
    partner = Partner.objects.create(name="P", slug="p", contact_email="p@example.com")
    service = Service.objects.create(partner=partner, name="S", slug="s", duration_minutes=30)
    start = datetime(2026, 5, 4, 9, tzinfo=UTC)
    made = iter(range(100))

    def booking(status: str = "cancelled", reason: str = "", **extra: object):
        n = next(made)
        at = start + timedelta(hours=n)
        return Booking.objects.create(
            partner=partner,
            service=service,
            start=at,
            end=at + timedelta(minutes=30),
            busy_start=at,
            busy_end=at + timedelta(minutes=30),
            customer_name="C",
            customer_email="c@example.com",
            status=status,
            manage_token_hash=f"{n:064d}",
            cancelled_at=at if status == "cancelled" else None,
            cancellation_reason=reason,
            **extra,
        )

    released = booking(
        reason="Not paid in time: the reserved time was released.", hold_expires_at=start
    )
    moved = booking(reason="Rescheduled")
    successor = booking(status="confirmed", rescheduled_from=moved)
    by_partner = booking(reason="Closed for a funeral")
    by_customer = booking(reason="Ill, sorry")
    silent_customer = booking()
    confirmed = booking(status="confirmed")
    content_type, _ = ContentType.objects.get_or_create(app_label="booking", model="booking")
    user = User.objects.create(email="owner@example.com")
    LogEntry.objects.create(
        content_type=content_type,
        object_id=str(by_partner.pk),
        object_repr="x",
        action_flag=2,
        change_message="Cancelled by the partner.",
        user=user,
        action_time=start,
    )

    apps = _migrate(AFTER)
    Booking = apps.get_model("booking", "Booking")
    rows = {b.pk: (b.cancelled_because, b.cancellation_reason) for b in Booking.objects.all()}
    assert rows[released.pk] == ("hold_expired", "")
    assert rows[moved.pk] == ("rescheduled", "")
    assert rows[by_partner.pk] == ("partner", "Closed for a funeral")
    assert rows[by_customer.pk] == ("customer", "Ill, sorry")
    assert rows[silent_customer.pk] == ("customer", "")
    assert rows[successor.pk] == ("", "")
    assert rows[confirmed.pk] == ("", "")
    # Back to the latest state for the tests that follow.
    _migrate(
        MigrationExecutor(connection).loader.graph.leaf_nodes()
    )  # every app: payments follows booking
