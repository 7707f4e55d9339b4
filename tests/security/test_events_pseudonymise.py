"""Pseudonymising security events (C25 with C31): personal fields give way to pseudonyms, the
chain still verifies, and every other edit still shows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from booking.events import BookingEvent
from security.events import (
    SecurityEventType,
    event_hash,
    events_pseudonymise,
    pseudonym,
    record_event,
    verify_chain,
)
from security.models import SecurityEvent

pytestmark = pytest.mark.django_db
TABLE = SecurityEvent._meta.db_table


def _update(column: str, value: object, pk: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {TABLE} SET {column} = %s WHERE id = %s", [value, pk])  # noqa: S608 - our table and column names


def _events() -> list[SecurityEvent]:
    user = get_user_model().objects.create_user("owner@salon.example")
    return [
        record_event(event_type=SecurityEventType.LOGIN_SUCCESS, actor=user, ip="192.0.2.1"),
        record_event(
            event_type=BookingEvent.BOOKING_CANCELLED,
            actor=user,
            ip="192.0.2.1",
            target="booking:7",
            detail={"partner_id": 3, "reason": "owner@salon.example"},
        ),
        record_event(event_type=SecurityEventType.LOGIN_FAILURE, ip="198.51.100.4"),
    ]


def test_a_pseudonymised_row_holds_no_personal_data_and_the_chain_verifies() -> None:
    first, second, third = _events()
    result = events_pseudonymise(event_ids=[first.pk, second.pk])
    assert (result.pseudonymised, result.legacy_kept) == (2, 0)
    second.refresh_from_db()
    raw = f"{second.actor_email} {second.ip} {second.target} {second.detail} {second.personal_salt}"
    assert "owner@salon.example" not in raw and "192.0.2.1" not in raw and "booking:7" not in raw
    assert second.actor_email == pseudonym("owner@salon.example") and second.actor is None
    assert second.personal_salt == "" and second.pseudonymised_at is not None
    assert verify_chain() == []
    third.refresh_from_db()
    assert third.ip == "198.51.100.4"  # not asked for: untouched


def test_the_same_person_gets_the_same_pseudonym_and_a_second_run_changes_nothing() -> None:
    first, second, _ = _events()
    events_pseudonymise(event_ids=[first.pk, second.pk])
    assert events_pseudonymise(event_ids=[first.pk, second.pk]).pseudonymised == 0
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.actor_email == second.actor_email.lower() != ""


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("event_type", "login_failure"),
        ("created_at", datetime(2020, 1, 1, tzinfo=UTC)),
        ("personal_digest", "0" * 64),
    ],
)
def test_editing_a_pseudonymised_rows_other_fields_breaks_the_chain(
    column: str, value: object
) -> None:
    _, second, _ = _events()
    events_pseudonymise(event_ids=[second.pk])
    _update(column, value, second.pk)
    assert [p.event_id for p in verify_chain()] == [second.pk]


def test_writing_something_else_than_a_pseudonym_into_a_pseudonymised_row_is_found() -> None:
    _, second, _ = _events()
    events_pseudonymise(event_ids=[second.pk])
    _update("actor_email", "someone-else@example.com", second.pk)
    problems = verify_chain()
    assert [p.event_id for p in problems] == [second.pk]
    assert "pseudonymised" in str(problems[0])


@pytest.mark.parametrize(
    ("column", "value"), [("actor_email", "x@example.com"), ("ip", "10.0.0.1"), ("target", "t")]
)
def test_editing_a_whole_rows_personal_fields_breaks_its_commitment(
    column: str, value: str
) -> None:
    _, second, _ = _events()
    _update(column, value, second.pk)
    problems = verify_chain()
    assert [p.event_id for p in problems] == [second.pk]
    assert "edited" in str(problems[0])


def test_a_stolen_digest_cannot_be_tested_against_guessed_addresses() -> None:
    """Without the salt the commitment of a pseudonymised row does not confirm a guess."""
    from security.events import personal_digest

    _, second, _ = _events()
    personal = {
        "actor_email": second.actor_email,
        "ip": second.ip,
        "target": second.target,
        "detail": second.detail,
    }
    events_pseudonymise(event_ids=[second.pk])
    second.refresh_from_db()
    assert personal_digest(salt="", personal=personal) != second.personal_digest


def test_rows_of_the_first_hash_format_keep_verifying_and_are_left_as_they_are() -> None:
    """Rows written before the commitment format: their hash covers the fields themselves."""
    created = datetime(2025, 1, 1, tzinfo=UTC)
    fields = {
        "created_at": created,
        "event_type": "login_success",
        "actor_email": "old@salon.example",
        "ip": "192.0.2.5",
        "target": "",
        "detail": {},
    }
    legacy = SecurityEvent.objects.create(
        **fields, prev_hash="", hash=event_hash(prev_hash="", **fields), hash_version=1
    )
    after = record_event(event_type=SecurityEventType.LOGIN_FAILURE, ip="192.0.2.6")
    assert after.prev_hash == legacy.hash
    result = events_pseudonymise(event_ids=[legacy.pk])
    assert (result.pseudonymised, result.legacy_kept) == (0, 1)
    legacy.refresh_from_db()
    assert legacy.actor_email == "old@salon.example"
    assert verify_chain() == []
    _update("ip", "10.9.9.9", legacy.pk)
    assert [p.event_id for p in verify_chain()] == [legacy.pk]
