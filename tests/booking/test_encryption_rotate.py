"""`manage.py encryption_rotate` (C26): after a new key is put in front, every row is sealed
under it, so the old key can go; an interrupted run resumes; the blind indexes follow a new
index key. (Here rather than under tests/security: the rows it rotates are bookings.)"""

from __future__ import annotations

import json
from collections.abc import Iterator
from io import StringIO

import pytest
import time_machine
from cryptography.fernet import Fernet
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings

from booking.models import Booking
from security.fieldcrypto import FieldDecryptionError, blind_index
from security.models import SecurityEvent
from tests.booking.conftest import zurich

pytestmark = pytest.mark.django_db

NEW_KEY = Fernet.generate_key().decode()


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(zurich(2026, 2, 25, 9), tick=False):
        yield


@pytest.fixture
def bookings(service, book) -> list[Booking]:
    return [
        book(service, zurich(2026, 3, 2, 9 + i), customer_email=f"person{i}@example.com")[0]
        for i in range(5)
    ]


def _rotate(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("encryption_rotate", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def _stored_names() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT customer_name FROM booking_booking ORDER BY id")
        return [row[0] for row in cursor.fetchall()]


def test_after_rotation_the_old_key_is_no_longer_needed(bookings: list[Booking]) -> None:
    old_keys = list(settings.FIELD_ENCRYPTION_KEYS)
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY, *old_keys]):
        out, _ = _rotate("--batch-size", "2")
    assert "10 rows checked, 10 re-encrypted" in out  # five bookings, their five customers
    assert "booking.Booking: 2/5 rows checked" in out  # progress, batch by batch

    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY]):
        assert [b.customer_email for b in Booking.objects.order_by("id")] == [
            f"person{i}@example.com" for i in range(5)
        ]
    with pytest.raises(FieldDecryptionError):
        list(Booking.objects.all())  # the old key alone no longer opens them
    assert SecurityEvent.objects.filter(event_type="encryption_rotated").count() == 1


def test_a_second_run_finds_nothing_to_do(bookings: list[Booking]) -> None:
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY, *settings.FIELD_ENCRYPTION_KEYS]):
        _rotate()
        before = _stored_names()
        out, _ = _rotate("--json")

    # Five bookings and the five customers they made.
    assert json.loads(out) == {
        "checked": 10,
        "rewritten": 0,
        "models": {"booking.Booking": 0, "booking.Customer": 0},
    }
    assert _stored_names() == before


def test_an_interrupted_rotation_is_resumed_by_running_again(bookings: list[Booking]) -> None:
    keys = [NEW_KEY, *settings.FIELD_ENCRYPTION_KEYS]
    with override_settings(FIELD_ENCRYPTION_KEYS=keys):
        # What a run that stopped after two rows leaves behind: two rows under the new key.
        for booking in bookings[:2]:
            booking.save()
            booking.customer.save()
        out, _ = _rotate("--json")

    assert json.loads(out)["rewritten"] == 6


def test_a_new_blind_index_key_reindexes_every_email(bookings: list[Booking]) -> None:
    new_index_key = "a-new-blind-index-key-of-sufficient-length-2026"
    with override_settings(FIELD_BLIND_INDEX_KEY=new_index_key):
        assert not Booking.objects.filter(
            customer_email_index=blind_index("PERSON3@example.com")
        ).exists()
        _rotate()
        found = Booking.objects.get(customer_email_index=blind_index("PERSON3@example.com"))
    assert found == bookings[3]


def test_rows_no_listed_key_opens_stop_the_run_with_a_clear_error(bookings: list[Booking]) -> None:
    with (
        override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY]),
        pytest.raises(CommandError, match="cannot be decrypted with the configured"),
    ):
        _rotate()


def test_malformed_keys_are_refused_before_anything_is_touched(bookings: list[Booking]) -> None:
    before = _stored_names()
    with (
        override_settings(FIELD_ENCRYPTION_KEYS=["not-a-key", *settings.FIELD_ENCRYPTION_KEYS]),
        pytest.raises(CommandError, match="item 1 is not a Fernet key"),
    ):
        _rotate()
    assert _stored_names() == before


def test_a_batch_size_out_of_range_is_refused() -> None:
    with pytest.raises(CommandError, match="--batch-size"):
        _rotate("--batch-size", "0")
