"""What every backup job shares: errors, keys, the work folder, destinations with their time
budget, alerts, the journal and the lock.

Every job that writes to destinations holds one lock (a PostgreSQL advisory lock, or a file lock
on SQLite), so two never overlap; a second copy is refused with BackupLocked. Alerts go to the
operators (mail_admins), to the "backups" logger at ERROR level and to the security event log.
"""

from __future__ import annotations

import fcntl
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core.mail import mail_admins
from django.db import connection
from pyrage import x25519

from backups import crypto, signing
from backups.destinations import Destination, destination_for
from backups.models import BackupLog, CopyState
from backups.selectors import offline_destination
from backups.snapshot import Target, first_value
from security.events import SecurityEventType, record_event

logger = logging.getLogger("backups")
Progress = Callable[[str], None]
LOCK_KEY = 0x6261636B7570  # "backup": the advisory lock id shared by every writing job


class BackupError(Exception):
    pass


class BackupLocked(BackupError):
    """Another backup job holds the lock."""


def quiet(message: str) -> None:
    pass


@contextmanager
def closing(destinations: list[Destination]) -> Iterator[list[Destination]]:
    """Destinations keep a connection (SFTP, S3) for the length of one job."""
    try:
        yield destinations
    finally:
        for destination in destinations:
            destination.close()


def budgeted(destinations: list[Destination]) -> list[Destination]:
    """Starts each destination's time budget for this job (BACKUP_DESTINATION_BUDGET_SECONDS)."""
    for destination in destinations:
        destination.start_budget(settings.BACKUP_DESTINATION_BUDGET_SECONDS)
    return destinations


def regular(*, budget: bool = True) -> list[Destination]:
    """The three destinations of BACKUP_DESTINATIONS, each with its time budget for this job."""
    destinations = [destination_for(url) for url in settings.BACKUP_DESTINATIONS]
    return budgeted(destinations) if budget else destinations


def offline(*, budget: bool = True) -> Destination:
    destination = offline_destination()
    return budgeted([destination])[0] if budget else destination


# --- keys, places, alerts --------------------------------------------------------------------
def work_dir() -> Path:
    path = Path(settings.BACKUP_WORK_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def dev_identity_path() -> Path:
    return Path(settings.DATA_DIR) / "backups" / "dev-identity.txt"


def public_key() -> str:
    """The recipient backups are encrypted to. Development without a configured key gets a key
    pair generated under DATA_DIR on first use; anything else refuses to back up unencrypted."""
    if settings.BACKUP_PUBLIC_KEY:
        return settings.BACKUP_PUBLIC_KEY
    if settings.DEBUG:
        path = dev_identity_path()
        if path.exists():
            return crypto.public_key_of(crypto.load_identity(path))
        return crypto.generate_identity_file(path)
    raise BackupError(
        "BACKUP_PUBLIC_KEY is not set; refusing to write backups (see manage.py check --deploy)."
    )


def identity() -> x25519.Identity | None:
    """The private key, on machines that verify and restore; None elsewhere."""
    if settings.BACKUP_IDENTITY_FILE:
        return crypto.load_identity(settings.BACKUP_IDENTITY_FILE)
    if settings.DEBUG and not settings.BACKUP_PUBLIC_KEY and dev_identity_path().exists():
        return crypto.load_identity(dev_identity_path())
    return None


def purge_cutoff(now: datetime) -> datetime:
    """Backups made before this are past retention by the time the next purge runs (hourly), so
    the purge deletes them now and nothing copies them anywhere any more."""
    return now - timedelta(
        days=settings.BACKUP_RETENTION_DAYS, hours=-settings.BACKUP_PURGE_INTERVAL_HOURS
    )


def dev_signing_key_path() -> Path:
    return Path(settings.DATA_DIR) / "backups" / "dev-signing-key.pem"


def signer() -> signing.Signer:
    """The key manifests are signed with (app servers). Development without one gets a key
    generated under DATA_DIR on first use; anything else refuses to write unsigned backups."""
    if settings.BACKUP_SIGNING_KEY:
        try:
            return signing.Signer.from_pem(settings.BACKUP_SIGNING_KEY)
        except signing.SigningKeyError as exc:
            raise BackupError(f"BACKUP_SIGNING_KEY: {exc}") from exc
    if settings.DEBUG:
        path = dev_signing_key_path()
        if not path.exists():
            signing.write_new_key_file(path)
        return signing.Signer.from_pem(path.read_text(encoding="utf-8"))
    raise BackupError(
        "BACKUP_SIGNING_KEY is not set; refusing to write unsigned backups (see manage.py "
        "check --deploy)."
    )


def trusted_keys() -> signing.TrustedKeys:
    """The public keys whose signatures are believed: BACKUP_SIGNING_PUBLIC_KEYS, or else the
    signing key's own (an app server checking what it wrote). With neither, nothing can be
    vouched for, and verification refuses to run rather than call any copy good."""
    try:
        if settings.BACKUP_SIGNING_PUBLIC_KEYS:
            return signing.TrustedKeys(list(settings.BACKUP_SIGNING_PUBLIC_KEYS))
    except signing.SigningKeyError as exc:
        raise BackupError(f"BACKUP_SIGNING_PUBLIC_KEYS: {exc}") from exc
    if settings.BACKUP_SIGNING_KEY or (settings.DEBUG and dev_signing_key_path().exists()):
        return signing.TrustedKeys([signer().key_id])
    raise BackupError(
        "no public key to check manifest signatures with: set BACKUP_SIGNING_PUBLIC_KEYS on "
        "this machine (manage.py backup_signing_key prints it where the signing key is)."
    )


def alert(subject: str, message: str, **fields: object) -> None:
    """Tell the operators: an ERROR log line, an email, and an ops_alert security event."""
    logger.error(
        "backup alert: %s",
        subject,
        extra={"event": "backup_alert", "subject": subject, "detail": message, **fields},
    )
    mail_admins(f"[backups] {subject}", message, fail_silently=True)
    try:
        record_event(
            event_type=SecurityEventType.OPS_ALERT,
            target="backups",
            detail={"subject": subject, "message": message[:2000]},
        )
    except Exception:  # the alert must reach the operators even when the database does not answer
        logger.exception("backup alert not written to the security event log")


def journal(
    action: BackupLog.Action,
    *,
    backup_id: str = "",
    destination: str = "",
    ok: bool,
    code: str = "",
    detail: str = "",
) -> None:
    BackupLog.objects.create(
        action=action,
        backup_id=backup_id,
        destination=destination[:300],
        ok=ok,
        code=code,
        detail=detail[:5000],
    )


def journal_read_back(backup_id: str, destination: str) -> None:
    """A copy this job wrote was read back and its size and SHA-256 checked before its manifest
    made it complete (store_copy): that is a verification, the one backup_verify does without
    the identity, so backup_list shows it as such."""
    journal(
        BackupLog.Action.VERIFY,
        backup_id=backup_id,
        destination=destination,
        ok=True,
        code=CopyState.OK,
        detail="read back after writing: size and SHA-256 match",
    )


@contextmanager
def backup_lock() -> Iterator[None]:
    """Session-level advisory lock on PostgreSQL (released when the process dies with its
    connection); flock on a file otherwise (released by the kernel likewise)."""
    if connection.vendor == "postgresql":
        conn = Target.from_settings(connection.settings_dict).connect(autocommit=True)
        try:
            if not first_value(
                conn.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,)).fetchone()
            ):
                raise BackupLocked("another backup job is running (advisory lock held)")
            try:
                yield
            finally:
                # Released explicitly: closing the connection releases it too, but the server
                # notices a closed connection a moment later, and a job started in that moment
                # would be refused as if another were running.
                conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
        finally:
            conn.close()
        return
    path = Path(settings.DATA_DIR) / "backups" / "backups.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BackupLocked("another backup job is running (lock file held)") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
