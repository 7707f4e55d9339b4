"""Migration 0011: rows of the first hash format (their hash covers the personal fields
themselves) are re-sealed into the commitment format, so a partner's deletion or a customer's
erasure can pseudonymise the events written before the commitment format existed too. The
re-seal keeps each row's old hash (an anchor written before still finds its event) and records
itself as an event; a chain that no longer verifies is left exactly as it is (re-sealing it would
launder the tampering)."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from security.anchor import PREFIX, Anchor, FolderStore, verify_against_anchor
from security.events import (
    GENESIS,
    SecurityEventType,
    committed_hash,
    event_hash,
    events_pseudonymise,
    personal_digest,
    verify_chain,
)
from security.models import SecurityEvent
from tests.migrating import migrate_to, migrate_to_latest

BEFORE = [("security", "0010_securityevent_commitment")]
AFTER = [("security", "0011_reseal_first_format")]

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _back_to_the_latest_schema():
    yield
    migrate_to_latest()


def _old_chain(apps) -> list[tuple[int, str]]:
    """Two rows of format 1, then one of format 2 after them (written between the two
    migrations); returns (id, hash) as the log held them."""
    Event = apps.get_model("security", "SecurityEvent")
    start = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
    previous = GENESIS
    rows = []
    for n, (email, ip) in enumerate([("old@salon.example", "192.0.2.5"), ("", "192.0.2.6")]):
        fields = {
            "created_at": start + timedelta(minutes=n),
            "event_type": "login_success",
            "actor_email": email,
            "ip": ip,
            "target": f"booking:{n}",
            "detail": {"n": n},
        }
        digest = event_hash(prev_hash=previous, **fields)
        row = Event.objects.create(**fields, prev_hash=previous, hash=digest, hash_version=1)
        rows.append((row.pk, digest))
        previous = digest
    salt = secrets.token_hex(32)
    personal = {"actor_email": "", "ip": "192.0.2.7", "target": "", "detail": {}}
    commitment = personal_digest(salt=salt, personal=personal)
    created = start + timedelta(minutes=5)
    digest = committed_hash(
        prev_hash=previous,
        created_at=created,
        event_type="login_failure",
        personal_digest=commitment,
    )
    row = Event.objects.create(
        created_at=created,
        event_type="login_failure",
        ip="192.0.2.7",
        detail={},
        prev_hash=previous,
        hash=digest,
        hash_version=2,
        personal_salt=salt,
        personal_digest=commitment,
    )
    rows.append((row.pk, digest))
    return rows


def test_old_rows_are_resealed_keep_their_old_hash_and_can_then_be_pseudonymised() -> None:
    old = _old_chain(migrate_to(BEFORE))
    migrate_to(AFTER)

    assert verify_chain() == []
    events = list(SecurityEvent.objects.order_by("id"))
    assert all(e.hash_version == SecurityEvent.HashVersion.COMMITMENT for e in events)
    assert [(e.pk, e.legacy_hash) for e in events[:3]] == old
    assert all(e.hash != legacy for e, (_id, legacy) in zip(events, old, strict=False))
    # The re-seal is itself in the log, naming the head it replaced and how many rows it touched.
    reseal = events[-1]
    assert reseal.event_type == SecurityEventType.LOG_RESEALED
    assert reseal.detail["previous_head"] == {"id": old[-1][0], "hash": old[-1][1]}
    assert reseal.detail["rows"] == 3

    # The person of the first row can now be erased from it, and the chain still verifies.
    result = events_pseudonymise(event_ids=[old[0][0]])
    assert (result.pseudonymised, result.legacy_kept) == (1, 0)
    first = SecurityEvent.objects.get(pk=old[0][0])
    assert first.actor_email.startswith("pseudonym-")
    assert first.ip == ""
    assert verify_chain() == []

    # Editing what the chain still covers is found, as before.
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {SecurityEvent._meta.db_table} SET event_type = %s WHERE id = %s",  # noqa: S608
            ["unlock", old[0][0]],
        )
    assert [p.event_id for p in verify_chain()] == [old[0][0]]


def test_an_anchor_written_before_the_reseal_still_finds_its_event(settings, tmp_path) -> None:
    old = _old_chain(migrate_to(BEFORE))
    settings.ANCHOR_DESTINATIONS = [str(tmp_path / "anchors")]
    settings.BACKUP_DESTINATIONS = [str(tmp_path / f"backups-{n}") for n in range(3)]
    settings.BACKUP_OFFLINE_DESTINATION = str(tmp_path / "offline")
    (tmp_path / "offline").mkdir()
    event_id, digest = old[1]
    anchor = Anchor(
        event_id=event_id,
        hash=digest,
        event_time="2025-03-01T09:01:00+00:00",
        anchored_at="2025-03-02T00:00:00+00:00",
    )
    FolderStore(str(tmp_path / "anchors")).write(f"{PREFIX}2025-03-02.json", anchor.to_bytes())
    migrate_to(AFTER)
    assert verify_against_anchor().problems == []

    # A forged log whose row no longer carries the anchored hash in either column is found.
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {SecurityEvent._meta.db_table} SET legacy_hash = %s WHERE id = %s",  # noqa: S608
            ["0" * 64, event_id],
        )
    assert verify_against_anchor().problems


def test_a_chain_that_does_not_verify_is_not_resealed() -> None:
    old = _old_chain(migrate_to(BEFORE))
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE security_securityevent SET ip = %s WHERE id = %s", ["10.9.9.9", old[0][0]]
        )
    migrate_to(AFTER)
    events = list(SecurityEvent.objects.order_by("id"))
    assert [e.hash for e in events] == [h for _id, h in old]
    assert [e.hash_version for e in events] == [1, 1, 2]
    assert [p.event_id for p in verify_chain()] == [old[0][0]]


def test_an_empty_log_stays_empty() -> None:
    migrate_to(BEFORE)
    migrate_to(AFTER)
    assert not SecurityEvent.objects.exists()
