"""C25, proven end to end: a partner deleted today is in no live row at once, and 31 days of
backups later in no backup anywhere (offline copy included), searched after decrypting each
backup and every encrypted field inside it with the keys."""

from __future__ import annotations

import gzip
import re
import sqlite3
import subprocess
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.db import connection

from backups import services
from backups.crypto import decrypt_stream, load_identity
from backups.destinations import destination_for
from backups.selectors import complete_ids
from backups.services.base import trusted_keys
from backups.services.copies import download, read_manifest
from backups.snapshot import PG_RESTORE
from booking.deletion import partner_delete
from booking.models import Booking, Partner
from security.actors import Actor, Via
from security.events import verify_chain
from security.fieldcrypto import PREFIX, blind_index, decrypt
from tests.customers import customer_record
from tests.staffing import team

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
MARKER = "Zq7marker"
MARKER_EMAIL = f"{MARKER.lower()}@customer.example"
_TOKEN = re.compile(re.escape(PREFIX) + r"[A-Za-z0-9_\-=]+")
OPERATOR = Actor.system("partner_delete", via=Via.COMMAND)


def _hits(text: str) -> list[str]:
    """Where the marker shows: in plain text, as the email's blind index, or inside any
    encrypted field once decrypted with the keys."""
    found = []
    if MARKER.lower() in text.lower():
        found.append("plain text")
    if blind_index(MARKER_EMAIL) in text:
        found.append("blind index")
    for token in _TOKEN.findall(text):
        if MARKER.lower() in decrypt(token).lower():
            found.append(f"encrypted field {token[:16]}…")
    return found


def _sqlite_text(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return "\n".join(
            repr(row)
            for table in tables
            for row in conn.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - names from the file itself
        )
    finally:
        conn.close()


def _backup_text(url: str, backup_id: str, work: Path) -> str:
    """The backup on this destination, verified, downloaded, decrypted and made readable."""
    destination = destination_for(url)
    manifest = read_manifest(destination, backup_id, trusted_keys())
    encrypted = download(destination, manifest, work)
    plain = work / f"{backup_id}.plain"
    with open(encrypted, "rb") as source, open(plain, "wb") as target:
        decrypt_stream(source, target, load_identity(services_identity_file()))
    if connection.vendor == "sqlite":
        database = work / f"{backup_id}.sqlite3"
        database.write_bytes(gzip.decompress(plain.read_bytes()))
        return _sqlite_text(database)
    # pg_dump's custom format, as SQL text (COPY data included): no database needed.
    return subprocess.run(
        [PG_RESTORE, "--file=-", str(plain)], check=True, capture_output=True, text=True
    ).stdout


def services_identity_file() -> str:
    from django.conf import settings

    return str(settings.BACKUP_IDENTITY_FILE)


def _live_text() -> str:
    with connection.cursor() as cursor:
        rows = []
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 - introspected names
            rows.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(rows)


@pytest.fixture
def marked_partner(transactional_db) -> Partner:
    partner = Partner.objects.create(
        name=f"Salon {MARKER}", slug="marked", contact_email=f"owner@{MARKER.lower()}.example"
    )
    service = partner.services.create(name="Cut", slug="cut", duration_minutes=30)
    team(partner)
    for days in (-3, 5):  # one past, one future booking
        at = T0 + timedelta(days=days)
        Booking.objects.create(
            partner=partner,
            service=service,
            staff=partner.staff.get(),
            customer=customer_record(partner, MARKER_EMAIL, f"Ada {MARKER}", phone="+41 79"),
            start=at,
            end=at + timedelta(minutes=30),
            busy_start=at,
            busy_end=at + timedelta(minutes=30),
            customer_name=f"Ada {MARKER}",
            customer_email=MARKER_EMAIL,
            notes=f"Allergic to {MARKER} shampoo",
        )
    return partner


@pytest.fixture
def everywhere(backup_settings, sftp_server, s3_bucket, tmp_path) -> list[str]:
    """A local folder, an SFTP server and an S3 bucket, plus the offline destination."""
    backup_settings.BACKUP_DESTINATIONS = [str(tmp_path / "local"), sftp_server.url(), s3_bucket]
    return [*backup_settings.BACKUP_DESTINATIONS, backup_settings.BACKUP_OFFLINE_DESTINATION]


def test_31_days_after_deletion_no_backup_on_any_destination_holds_the_partners_customers(
    everywhere, marked_partner, tmp_path
) -> None:
    with time_machine.travel(T0, tick=False):
        before = services.backup_run().backup_id
        services.offline_copy()
    # The search finds what is there: the backup taken before the deletion holds the marker.
    assert _hits(_backup_text(everywhere[1], before, tmp_path))

    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        partner_delete(partner=marked_partner, actor=OPERATOR, reason="contract ended")
    assert _hits(_live_text()) == []
    assert verify_chain() == []

    for days in (10, 20, 30):
        with time_machine.travel(T0 + timedelta(days=days, minutes=30), tick=False):
            services.backup_run()
            services.offline_copy()
    with time_machine.travel(T0 + timedelta(days=31, hours=2), tick=False):
        result = services.backup_purge()
        assert result.failed == {} and result.kept_only_backup is None
        searched = 0
        for url in everywhere:
            held = complete_ids(destination_for(url))
            assert before not in held, url
            for backup_id in held:
                with tempfile.TemporaryDirectory(dir=tmp_path) as work:
                    assert _hits(_backup_text(url, backup_id, Path(work))) == [], (url, backup_id)
                searched += 1
    # The three later backups on each of the four destinations, offline medium included.
    assert searched == 4 * 3
