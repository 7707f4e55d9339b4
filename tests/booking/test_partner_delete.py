"""Partner deletion (C25): one service deletes everything the partner owns at once, tells the
customers of future bookings, and keeps the audit trail with pseudonyms."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from axes.models import AccessAttempt, AccessLog
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from booking.deletion import partner_delete, partner_deletion_preview_for
from booking.models import (
    Booking,
    Customer,
    Partner,
    PartnerMembership,
    Resource,
    Service,
    StaffMember,
    SupportGrant,
)
from booking.services import booking_cancel
from security.actors import Actor, Via
from security.events import verify_chain
from security.models import SecurityEvent
from tests.actors import partner_staff
from tests.booking.conftest import zurich
from tests.otp_login import login_verified, mfa_device

NOW = zurich(2026, 3, 2, 8)  # a Monday
OPERATOR = Actor.system("partner_delete", via=Via.COMMAND)


@pytest.fixture
def world(partner: Partner, service: Service, other_partner: Partner, book):
    with time_machine.travel(NOW - timedelta(days=14), tick=False):
        past, _ = book(service, zurich(2026, 2, 17, 10), customer_email="past@example.com")
    with time_machine.travel(NOW, tick=False):
        future, _ = book(service, zurich(2026, 3, 4, 10), customer_email="future@example.com")
        Booking.objects.filter(pk=future.pk).update(language="de")
        cancelled, _ = book(service, zurich(2026, 3, 5, 10), customer_email="gone@example.com")
        booking_cancel(booking=cancelled, actor=partner_staff(partner))
        other_service = other_partner.services.get()
        survivor, _ = book(
            other_service,
            datetime(2026, 3, 4, 9, tzinfo=other_partner.zone),
            customer_email="future@example.com",
        )
    Resource.objects.create(partner=partner, name="Basin", kind="wash-basin")
    mail.outbox.clear()
    return {"past": past, "future": future, "cancelled": cancelled, "survivor": survivor}


def _owner(partner: Partner) -> object:
    owner = get_user_model().objects.create_user(
        "owner@salon-alpha.example", password="a long owner passphrase", is_staff=True
    )
    PartnerMembership.objects.create(partner=partner, user=owner, role=PartnerMembership.Role.OWNER)
    return owner


def _delete(partner: Partner, actor: Actor = OPERATOR, **kwargs):
    with time_machine.travel(NOW, tick=False):
        return partner_delete(partner=partner, actor=actor, reason="contract ended", **kwargs)


def test_every_row_of_the_partner_goes_and_the_other_partner_keeps_its_own(
    world, partner: Partner, other_partner: Partner, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        summary = _delete(partner)
    assert not Partner.objects.filter(pk=partner.pk).exists()
    for model in (Service, StaffMember, Resource, Customer, Booking, SupportGrant):
        assert not model.objects.filter(partner_id=partner.pk).exists(), model
    assert Booking.objects.filter(pk=world["survivor"].pk).exists()
    assert Customer.objects.filter(partner=other_partner).count() == 1
    assert summary.cancelled == 1 and summary.customers_told == 1
    assert summary.counts["booking"] == 3


def test_the_customer_of_a_future_booking_is_told_in_their_language(
    world, partner: Partner, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        _delete(partner)
    assert [m.to for m in mail.outbox] == [["future@example.com"]]
    message = mail.outbox[0]
    assert "Salon Alpha" in message.subject and "Buchung" in message.subject
    assert "cancel.ics" in str(message.message())
    assert "ß" not in message.body


def test_nothing_is_sent_before_the_deletion_commits(world, partner: Partner) -> None:
    _delete(partner)  # the test's transaction never commits
    assert mail.outbox == []


def test_without_a_reason_nothing_is_deleted(world, partner: Partner) -> None:
    with pytest.raises(ValidationError):
        partner_delete(partner=partner, actor=OPERATOR, reason="  ")
    assert Booking.objects.filter(partner=partner).count() == 3


def test_the_partners_users_go_with_their_sessions_devices_and_lockout_records(
    world, partner: Partner
) -> None:
    owner = _owner(partner)
    device = mfa_device(owner)
    client = Client()
    login_verified(client, owner)
    assert client.get("/admin/").status_code == 200
    AccessAttempt.objects.create(
        username=owner.email, ip_address="192.0.2.7", user_agent="x", failures_since_start=2
    )
    AccessLog.objects.create(username=owner.email, ip_address="192.0.2.7", user_agent="x")
    root = get_user_model().objects.create_superuser("root@example.com", password="x" * 20)
    PartnerMembership.objects.create(partner=partner, user=root)

    summary = _delete(partner)

    assert not get_user_model().objects.filter(pk=owner.pk).exists()
    assert not type(device).objects.filter(pk=device.pk).exists()
    assert not AccessAttempt.objects.filter(username=owner.email).exists()
    assert not AccessLog.objects.filter(username=owner.email).exists()
    assert client.get("/admin/").status_code == 302  # the session is gone
    assert get_user_model().objects.filter(pk=root.pk).exists()  # a superuser keeps the account
    assert summary.users_deleted == 2  # the owner and the member who cancelled a booking


def test_the_admin_history_of_the_partners_rows_goes(world, partner: Partner) -> None:
    root = get_user_model().objects.create_superuser("root@example.com", password="x" * 20)
    booking = world["future"]
    LogEntry.objects.log_actions(
        user_id=root.pk, queryset=[booking], action_flag=CHANGE, change_message="Moved Ada"
    )
    LogEntry.objects.log_actions(
        user_id=root.pk, queryset=[world["survivor"]], action_flag=CHANGE, change_message="kept"
    )
    _delete(partner)
    kind = ContentType.objects.get_for_model(Booking)
    assert list(LogEntry.objects.filter(content_type=kind).values_list("object_id", flat=True)) == [
        str(world["survivor"].pk)
    ]


def test_security_events_are_kept_with_pseudonyms_and_the_chain_verifies(
    world, partner: Partner
) -> None:
    owner = _owner(partner)
    before = SecurityEvent.objects.count()
    _delete(partner, actor=Actor.user(owner, ip="192.0.2.99"))
    # The future booking's cancellation and the deletion itself; nothing removed.
    assert SecurityEvent.objects.count() == before + 2
    whole = SecurityEvent.objects.filter(pseudonymised_at__isnull=True)
    leftovers = " ".join(f"{e.actor_email} {e.ip} {e.target} {e.detail}" for e in whole)
    assert "owner@salon-alpha.example" not in leftovers
    for booking in ("past", "future", "cancelled"):
        assert f"booking:{world[booking].pk}" not in leftovers.split()
    deleted = SecurityEvent.objects.get(event_type="partner_deleted")
    assert deleted.pseudonymised_at is not None  # the deleting owner is one of the deleted people
    assert SecurityEvent.objects.get(target=f"booking:{world['survivor'].pk}")
    assert verify_chain() == []


def test_the_preview_names_what_will_go_and_until_when_backups_keep_it(
    world, partner: Partner, settings
) -> None:
    _owner(partner)
    with time_machine.travel(NOW, tick=False):
        preview = partner_deletion_preview_for(partner=partner)
    assert preview.counts["bookings"] == 3 and preview.counts["customers"] == 3
    assert preview.future_bookings == 1 and preview.refunds == 0
    assert preview.users == ["owner@salon-alpha.example", "staff@salon-alpha.example"]
    assert preview.backups_hold_until == NOW.astimezone(UTC) + timedelta(
        days=settings.BACKUP_RETENTION_DAYS, hours=settings.BACKUP_PURGE_INTERVAL_HOURS
    )


def test_the_command_refuses_without_a_terminal_unless_yes(
    world, partner: Partner, monkeypatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO())
    with pytest.raises(CommandError, match="--yes"):
        call_command("partner_delete", partner.slug, reason="contract ended")
    assert Partner.objects.filter(pk=partner.pk).exists()


def test_the_command_refuses_an_unknown_partner(db) -> None:
    with pytest.raises(CommandError, match="No partner"):
        call_command("partner_delete", "nobody", reason="x", yes=True)


def test_the_command_deletes_through_the_service_with_yes(world, partner: Partner) -> None:
    out = io.StringIO()
    with time_machine.travel(NOW, tick=False):
        call_command("partner_delete", partner.slug, reason="contract ended", yes=True, stdout=out)
    assert not Partner.objects.filter(pk=partner.pk).exists()
    text = out.getvalue()
    assert "Future bookings cancelled: 1" in text and "Deleted Salon Alpha" in text
    event = SecurityEvent.objects.get(event_type="partner_deleted")
    assert event.detail["reason"] == "contract ended" and event.detail["job"] == "partner_delete"


def test_the_command_asks_for_the_slug_on_a_terminal(world, partner: Partner, monkeypatch) -> None:
    monkeypatch.setattr("sys.stdin.isatty", lambda: True, raising=False)
    monkeypatch.setattr("builtins.input", lambda prompt: "wrong")
    with pytest.raises(CommandError, match="Not confirmed"):
        call_command("partner_delete", partner.slug, reason="contract ended", stdout=io.StringIO())
    assert Partner.objects.filter(pk=partner.pk).exists()


def test_deleting_the_rows_moves_no_slots_version_per_row(world, partner: Partner) -> None:
    """The cancellations move the partner's slots version (their times are free again until the
    partner goes); deleting its bookings afterwards does not, one statement per row, since
    nothing of the partner is offered any more."""
    with CaptureQueriesContext(connection) as queries:
        summary = _delete(partner)
    moves = [q["sql"] for q in queries if "slots_version" in q["sql"] and "UPDATE" in q["sql"]]
    assert summary.counts["booking"] == 3
    assert len(moves) == summary.cancelled
