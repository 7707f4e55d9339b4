"""A backup holds customer data as the database does, encrypted (C26): restored with the field
keys, the customers read back; with other keys, a clear error instead of garbage; and the
restored rows show no customer's name to anyone without the keys."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet
from django.test import override_settings

from backups import services
from backups.snapshot import Target
from booking.models import Booking, Partner
from security import fieldcrypto
from security.actors import Actor, Via
from security.fieldcrypto import FieldDecryptionError
from tests.customers import customer_record

RESTORER = Actor.system("backup_restore", via=Via.COMMAND)
NAME = "Hedy Qx81Lamarr"


@pytest.fixture
def customer_booking(some_data) -> Booking:
    partner = Partner.objects.get(slug="salon")
    at = datetime(2026, 5, 4, 9, tzinfo=UTC)
    return Booking.objects.create(
        partner=partner,
        service=partner.services.get(),
        staff=partner.staff.get(),
        customer=customer_record(partner, "hedy@example.com", NAME),
        start=at,
        end=at + timedelta(minutes=30),
        busy_start=at,
        busy_end=at + timedelta(minutes=30),
        customer_name=NAME,
        customer_email="hedy@example.com",
        notes="Frequency hopping",
        manage_token_hash="1" * 64,
    )


def _restored_rows(url: str) -> list[tuple[str, str, str]]:
    query = "SELECT customer_name, customer_email, notes FROM booking_booking"
    target = Target.from_url(url)
    if target.engine == "sqlite":
        with sqlite3.connect(target.name) as conn:
            return conn.execute(query).fetchall()
    with target.connect() as conn:
        return conn.execute(query).fetchall()


def test_a_restored_backup_reads_back_with_the_keys_and_not_without(
    backup_settings, customer_booking, scratch_url
) -> None:
    backup_id = services.backup_run().backup_id
    services.backup_restore(
        actor=RESTORER, backup_id=backup_id, target_url=scratch_url, confirm=lambda prompt: True
    )

    [row] = _restored_rows(scratch_url)
    assert "Qx81" not in " ".join(row) and "hedy" not in " ".join(row)
    assert [fieldcrypto.decrypt(value) for value in row] == [
        NAME,
        "hedy@example.com",
        "Frequency hopping",
    ]
    with (
        override_settings(FIELD_ENCRYPTION_KEYS=[Fernet.generate_key().decode()]),
        pytest.raises(FieldDecryptionError, match="restored with the wrong keys"),
    ):
        fieldcrypto.decrypt(row[0])
