"""Manifests are signed (Ed25519): someone with write access to one destination cannot make a
backup of their own that we verify, restore or spread to the other destinations. Against real SFTP
and S3 servers; the attacker writes straight into the SFTP server's folder."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from _backup_helpers import counts, signing_key_pair
from django.core.management import CommandError, call_command
from django.utils import timezone

from backups import services
from backups.destinations import destination_for
from backups.format import MANIFEST
from backups.models import BackupLog
from backups.selectors import copies_on
from booking.models import Partner, Service
from security.actors import Actor, Via
from security.models import SecurityEvent

RESTORER = Actor.system("backup_restore", via=Via.COMMAND)


@pytest.fixture
def three_servers(backup_settings, sftp_server, s3_bucket, tmp_path: Path):
    backup_settings.BACKUP_DESTINATIONS = [str(tmp_path / "local"), sftp_server.url(), s3_bucket]
    return backup_settings.BACKUP_DESTINATIONS


def _forge_on_sftp(backup_settings, sftp_server, tmp_path: Path) -> str:
    """The attack of the issue: a dump of a database with no partners, encrypted to our public
    key (it is in every manifest), a manifest with the right SHA-256 values and a later id, made
    with the attacker's own signing key by our own code, and written onto one destination."""
    Service.objects.all().delete()
    Partner.objects.all().delete()
    genuine_keys = backup_settings.BACKUP_SIGNING_PUBLIC_KEYS
    genuine_key, genuine_destinations = (
        backup_settings.BACKUP_SIGNING_KEY,
        backup_settings.BACKUP_DESTINATIONS,
    )
    backup_settings.BACKUP_SIGNING_KEY, attacker_public = signing_key_pair()
    backup_settings.BACKUP_SIGNING_PUBLIC_KEYS = [attacker_public]
    backup_settings.BACKUP_DESTINATIONS = [str(tmp_path / "attacker")]
    forged = services.backup_run().backup_id
    backup_settings.BACKUP_SIGNING_KEY = genuine_key
    backup_settings.BACKUP_SIGNING_PUBLIC_KEYS = genuine_keys
    backup_settings.BACKUP_DESTINATIONS = genuine_destinations
    shutil.copytree(tmp_path / "attacker" / forged, sftp_server.root / "backups" / forged)
    return forged


def _alerts() -> list[dict]:
    return [e.detail for e in SecurityEvent.objects.filter(event_type="ops_alert")]


def test_a_forged_backup_on_one_destination_is_tampered_not_latest_and_not_spread(
    three_servers, backup_settings, some_data, sftp_server, tmp_path, mailoutbox, scratch_url
) -> None:
    with time_machine.travel(timezone.now() - timedelta(hours=2)):
        genuine = services.backup_run().backup_id
    forged = _forge_on_sftp(backup_settings, sftp_server, tmp_path)
    assert forged > genuine
    BackupLog.objects.all().delete()

    with pytest.raises(CommandError) as failure:
        call_command("backup_verify", forged)
    assert failure.value.returncode == 5  # tampered
    check = BackupLog.objects.get(action="verify", backup_id=forged, code="tampered")
    assert check.destination == destination_for(sftp_server.url()).label
    assert "not trusted" in check.detail
    assert any(forged in alert["message"] for alert in _alerts())
    assert any(forged in mail.body for mail in mailoutbox)

    call_command("backup_restore", "--latest", "--target-database", scratch_url, "--yes")
    assert counts(scratch_url, ["booking_partner"]) == {"booking_partner": 1}
    assert BackupLog.objects.get(action="restore").backup_id == genuine

    services.backup_run()
    local, s3 = three_servers[0], three_servers[2]
    assert forged not in copies_on(destination_for(local))
    assert forged not in copies_on(destination_for(s3))


def test_a_manifest_naming_our_key_with_someone_elses_signature_is_tampered(
    three_servers, backup_settings, some_data, sftp_server
) -> None:
    backup_id = services.backup_run().backup_id
    path = sftp_server.root / "backups" / backup_id / MANIFEST
    raw = path.read_bytes()
    # The attacker keeps our key's name and replaces the signature with one of their own.
    import json

    body = json.loads(raw)
    body["row_counts"]["booking_partner"] = 0
    body["signature"] = body["signature"][::-1]
    path.write_bytes(json.dumps(body).encode())

    with pytest.raises(CommandError) as failure:
        call_command("backup_verify", backup_id)
    assert failure.value.returncode == 5
    check = BackupLog.objects.filter(action="verify", code="tampered").latest("id")
    assert "signature" in check.detail


def test_a_backup_dated_in_the_future_is_refused_even_with_our_signature(
    backup_settings, some_data
) -> None:
    # An app server whose clock runs a day ahead (or whoever holds the signing key) would make
    # its backup the "latest" for a day, hiding every real one made meanwhile.
    with time_machine.travel(timezone.now() + timedelta(days=1)):
        future = services.backup_run().backup_id
    checks = services.backup_verify(backup_id=future)
    assert {c.code for c in checks} == {"tampered"}
    assert all("future" in c.detail for c in checks)
    with pytest.raises(services.BackupError, match="no good copy"):
        services.backup_restore(actor=RESTORER, backup_id=future, confirm=lambda prompt: True)


def test_a_run_whose_clock_is_behind_the_newest_backup_refuses_and_alerts(
    backup_settings, some_data, mailoutbox
) -> None:
    newest = services.backup_run().backup_id
    with time_machine.travel(timezone.now() - timedelta(hours=3)):
        with pytest.raises(services.BackupError, match="clock"):
            services.backup_run()
    assert all(
        set(copies_on(destination_for(u))) == {newest} for u in backup_settings.BACKUP_DESTINATIONS
    )
    assert any("clock" in m.subject or "clock" in m.body for m in mailoutbox)


def test_a_verifier_without_a_signing_public_key_refuses_to_vouch_for_anything(
    backup_settings, some_data
) -> None:
    backup_id = services.backup_run().backup_id
    backup_settings.BACKUP_SIGNING_KEY = ""
    backup_settings.BACKUP_SIGNING_PUBLIC_KEYS = []
    with pytest.raises(services.BackupError, match="BACKUP_SIGNING_PUBLIC_KEYS"):
        services.backup_verify(backup_id=backup_id)


def test_a_rotated_signing_key_still_verifies_backups_signed_with_the_old_one(
    backup_settings, some_data
) -> None:
    old = services.backup_run().backup_id
    old_public = backup_settings.BACKUP_SIGNING_PUBLIC_KEYS[0]
    backup_settings.BACKUP_SIGNING_KEY, new_public = signing_key_pair()
    backup_settings.BACKUP_SIGNING_PUBLIC_KEYS = [new_public, old_public]
    new = services.backup_run().backup_id
    assert {c.code for c in services.backup_verify(all_backups=True)} == {"ok"}
    backup_settings.BACKUP_SIGNING_PUBLIC_KEYS = [new_public]  # the old key retired
    codes = {c.backup_id: c.code for c in services.backup_verify(all_backups=True)}
    assert codes == {old: "tampered", new: "ok"}


def test_a_forged_recent_backup_does_not_make_a_stale_destination_look_fresh(
    backup_settings, some_data, tmp_path
) -> None:
    with time_machine.travel(timezone.now() - timedelta(hours=30)):
        genuine = services.backup_run().backup_id
        services.offline_copy()
    backup_settings.BACKUP_SIGNING_KEY, attacker_public = signing_key_pair()
    genuine_keys = backup_settings.BACKUP_SIGNING_PUBLIC_KEYS
    backup_settings.BACKUP_SIGNING_PUBLIC_KEYS = [attacker_public]
    destinations = backup_settings.BACKUP_DESTINATIONS
    backup_settings.BACKUP_DESTINATIONS = [str(tmp_path / "attacker")]
    forged = services.backup_run().backup_id
    shutil.copytree(
        tmp_path / "attacker" / forged, Path(backup_settings.BACKUP_OFFLINE_DESTINATION) / forged
    )
    backup_settings.BACKUP_DESTINATIONS = destinations
    backup_settings.BACKUP_SIGNING_KEY, _ = signing_key_pair()  # the app server's own key again
    backup_settings.BACKUP_SIGNING_PUBLIC_KEYS = [
        *genuine_keys,
        services.signer().key_id,
    ]

    status = services.ensure_fresh()

    offline = status[-1]
    assert offline.newest == genuine and not offline.ok
    assert any("stale" in e.detail["subject"] for e in SecurityEvent.objects.all())
