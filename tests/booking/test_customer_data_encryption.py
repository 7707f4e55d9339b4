"""Customer data is encrypted at rest (C26): the rows hold ciphertexts only, the wrong or a
missing key gives a clear error instead of garbage, and emails are found through the keyed
blind index, case-insensitively."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import time_machine
from cryptography.fernet import Fernet
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.db import connection
from django.test import override_settings

from booking.models import Booking
from security import fieldcrypto
from security.compliance import Status, evaluate
from security.fieldcrypto import FieldDecryptionError, blind_index
from tests.booking.conftest import zurich

pytestmark = pytest.mark.django_db

MARKER = "Zq7Marker"
OTHER_KEY = Fernet.generate_key().decode()


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(zurich(2026, 2, 25, 9), tick=False):
        yield


@pytest.fixture
def booking(service, book) -> Booking:
    booking, _token = book(
        service,
        zurich(2026, 3, 2, 10),
        customer_name=f"Ada {MARKER} Lovelace",
        customer_email=f"Ada.{MARKER}@Example.com",
        customer_phone="+41 79 555 12 34",
        notes=f"Allergic to {MARKER} shampoo",
    )
    return booking


def _raw_row(booking_id: int) -> list[object]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM booking_booking WHERE id = %s", [booking_id])
        return list(cursor.fetchone())


def test_the_database_row_holds_no_plaintext_customer_data(booking: Booking) -> None:
    row = " ".join(str(value) for value in _raw_row(booking.pk))

    for plaintext in (MARKER, MARKER.lower(), "Lovelace", "555 12 34", "shampoo"):
        assert plaintext not in row
    assert row.count(fieldcrypto.PREFIX) == 4


def test_the_application_reads_the_data_back(booking: Booking) -> None:
    fresh = Booking.objects.get(pk=booking.pk)

    assert fresh.customer_name == f"Ada {MARKER} Lovelace"
    assert fresh.customer_email == f"Ada.{MARKER}@Example.com"
    assert fresh.customer_phone == "+41 79 555 12 34"
    assert fresh.notes == f"Allergic to {MARKER} shampoo"


def test_two_bookings_with_one_name_have_different_ciphertexts(service, book) -> None:
    first, _ = book(service, zurich(2026, 3, 2, 10), customer_name="Same Name")
    second, _ = book(service, zurich(2026, 3, 2, 12), customer_name="Same Name")

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT customer_name FROM booking_booking WHERE id IN (%s, %s)", [first.pk, second.pk]
        )
        names = {row[0] for row in cursor.fetchall()}
    assert len(names) == 2


def test_the_wrong_key_gives_a_clear_error_not_garbage(booking: Booking) -> None:
    with (
        override_settings(FIELD_ENCRYPTION_KEYS=[OTHER_KEY]),
        pytest.raises(FieldDecryptionError, match="cannot be decrypted with the configured"),
    ):
        Booking.objects.get(pk=booking.pk)


def test_no_key_at_all_gives_a_clear_error(booking: Booking) -> None:
    with (
        override_settings(FIELD_ENCRYPTION_KEYS=[]),
        pytest.raises(ImproperlyConfigured, match="FIELD_ENCRYPTION_KEYS is not set"),
    ):
        Booking.objects.get(pk=booking.pk)


def test_an_altered_ciphertext_is_refused(booking: Booking) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT customer_name FROM booking_booking WHERE id = %s", [booking.pk])
        stored = cursor.fetchone()[0]
        flipped = stored[:-6] + ("A" if stored[-6] != "A" else "B") + stored[-5:]
        cursor.execute(
            "UPDATE booking_booking SET customer_name = %s WHERE id = %s", [flipped, booking.pk]
        )

    with pytest.raises(FieldDecryptionError):
        Booking.objects.get(pk=booking.pk)


def test_plaintext_written_around_the_application_is_reported_as_such(booking: Booking) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE booking_booking SET notes = %s WHERE id = %s", ["typed in by hand", booking.pk]
        )

    with pytest.raises(FieldDecryptionError, match="not encrypted by this application"):
        Booking.objects.get(pk=booking.pk)


def test_an_old_key_still_listed_reads_old_data(booking: Booking) -> None:
    from django.conf import settings

    with override_settings(FIELD_ENCRYPTION_KEYS=[OTHER_KEY, *settings.FIELD_ENCRYPTION_KEYS]):
        assert Booking.objects.get(pk=booking.pk).customer_name == f"Ada {MARKER} Lovelace"


def test_an_email_is_found_through_the_blind_index_whatever_its_case(booking: Booking) -> None:
    for typed in (f"ada.{MARKER.lower()}@example.com", f" ADA.{MARKER.upper()}@EXAMPLE.COM "):
        assert list(Booking.objects.filter(customer_email_index=blind_index(typed))) == [booking]
    assert not Booking.objects.filter(customer_email_index=blind_index("ada@example.com"))


def test_the_blind_index_is_useless_without_its_key(booking: Booking) -> None:
    with override_settings(FIELD_BLIND_INDEX_KEY="another-secret-of-at-least-32-characters!!"):
        assert not Booking.objects.filter(
            customer_email_index=blind_index(f"ada.{MARKER}@example.com")
        ).exists()


@pytest.mark.parametrize(
    "lookup", ["customer_email", "customer_email__iexact", "customer_name__icontains", "notes"]
)
def test_filtering_on_an_encrypted_column_fails_loudly(lookup: str) -> None:
    # A silent empty result would look like "no such customer".
    with pytest.raises(FieldError, match="is encrypted"):
        Booking.objects.filter(**{lookup: "ada@example.com"}).exists()


def test_the_compliance_check_passes_and_fails_on_a_plaintext_value(booking: Booking) -> None:
    (result,) = evaluate(["C26"])
    assert result.status == Status.PASS, result.reason
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE booking_booking SET customer_phone = %s WHERE id = %s",
            ["0791234567", booking.pk],
        )

    (result,) = evaluate(["C26"])
    assert result.status == Status.FAIL
    assert "1 values stored without encryption in booking_booking.customer_phone" in result.reason
