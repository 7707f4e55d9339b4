"""Reads about backups: what each destination holds, and how fresh it is."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from backups.destinations import Destination, destination_for
from backups.format import backup_time, is_backup_id, is_complete
from backups.models import BackupLog


def regular_destinations() -> list[Destination]:
    return [destination_for(url) for url in settings.BACKUP_DESTINATIONS]


def offline_destination() -> Destination:
    """The offline medium. A folder must be there already (a missing one is an unplugged
    medium, not an empty one), except the development default under DATA_DIR, which is made on
    first use; production refuses an offline folder under DATA_DIR (backups.E007)."""
    url = settings.BACKUP_OFFLINE_DESTINATION
    return destination_for(url, must_exist=not is_under_data_dir(url))


def is_under_data_dir(url: str) -> bool:
    """A folder URL inside DATA_DIR: this server's own state, the opposite of offline."""
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(url)
    if parts.scheme not in ("", "file"):
        return False
    path = Path(unquote(parts.path) if parts.scheme == "file" else url).resolve()
    data_dir = Path(settings.DATA_DIR).resolve()
    return path == data_dir or data_dir in path.parents


@dataclass(frozen=True)
class Verification:
    """The latest check of one copy: a `backup_verify`, or the read-back when it was written."""

    result: str  # ok, missing, truncated, tampered, wrong_key
    at: datetime
    detail: str


@dataclass
class BackupCopy:
    backup_id: str
    destination: str
    created_at: datetime
    size: int
    complete: bool  # the manifest is there: every file was written and read back
    verification: Verification | None  # None: never checked
    offline: bool = False

    @property
    def age(self) -> timedelta:
        return timezone.now() - self.created_at


@dataclass
class BackupListing:
    copies: list[BackupCopy]
    # Destinations that could not be listed: label -> error.
    unreachable: dict[str, str]


def copies_on(destination: Destination) -> dict[str, dict[str, int]]:
    """backup id -> {file name: size}, partial files included (they mark incomplete copies)."""
    held: dict[str, dict[str, int]] = defaultdict(dict)
    for entry in destination.list():
        backup_id, _, name = entry.key.partition("/")
        if is_backup_id(backup_id) and name:
            held[backup_id][name] = entry.size
    return dict(held)


def complete_ids(destination: Destination) -> list[str]:
    return sorted(bid for bid, files in copies_on(destination).items() if is_complete(files))


def backup_list(*, include_offline: bool = True, include_incomplete: bool = False) -> BackupListing:
    """Every backup on every destination, newest first, with its latest verification; a
    destination that cannot be listed is reported in `unreachable`, the others still listed."""
    destinations = [(d, False) for d in regular_destinations()]
    if include_offline:
        destinations.append((offline_destination(), True))
    latest: dict[tuple[str, str], Verification] = {}
    for log in BackupLog.objects.filter(action=BackupLog.Action.VERIFY).order_by(
        "created_at", "id"
    ):
        latest[(log.backup_id, log.destination)] = Verification(
            log.code, log.created_at, log.detail
        )
    listing = BackupListing(copies=[], unreachable={})
    for destination, offline in destinations:
        try:
            held = copies_on(destination)
        except Exception as exc:  # one unreachable destination must not hide the others
            listing.unreachable[destination.label] = str(exc) or type(exc).__name__
            continue
        finally:
            destination.close()
        for backup_id, files in held.items():
            complete = is_complete(files)
            if complete or include_incomplete:
                listing.copies.append(
                    BackupCopy(
                        backup_id=backup_id,
                        destination=destination.label,
                        created_at=backup_time(backup_id),
                        size=sum(files.values()),
                        complete=complete,
                        verification=latest.get((backup_id, destination.label)),
                        offline=offline,
                    )
                )
    listing.copies.sort(key=lambda c: (c.backup_id, c.destination), reverse=True)
    return listing


@dataclass
class Freshness:
    destination: str
    newest: str | None
    age_hours: float | None
    limit_hours: int
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error and self.age_hours is not None and self.age_hours <= self.limit_hours


def backup_freshness(
    *, genuine: Callable[[Destination, str], bool] | None = None
) -> list[Freshness]:
    """C21/C22: the newest complete backup on each destination, against its age limit. With
    `genuine`, the newest one it accepts (a check of the signed manifest): a forged or
    future-dated copy must not make a stale destination look fresh."""
    now = timezone.now()
    result = []
    checks = [(d, settings.BACKUP_MAX_AGE_HOURS) for d in regular_destinations()]
    checks.append((offline_destination(), settings.BACKUP_OFFLINE_MAX_AGE_HOURS))
    for destination, limit in checks:
        try:
            ids = complete_ids(destination)
        except Exception as exc:  # an unreachable destination is a finding, not a crash
            result.append(Freshness(destination.label, None, None, limit, error=str(exc)))
            continue
        if genuine is not None:
            ids = [b for b in ids if backup_time(b) <= now]  # the future cannot be fresh
            while ids and not genuine(destination, ids[-1]):
                ids.pop()
        newest = ids[-1] if ids else None
        age = (now - backup_time(newest)).total_seconds() / 3600 if newest else None
        result.append(Freshness(destination.label, newest, age, limit))
    return result
