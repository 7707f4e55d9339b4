"""backups.E001 (deploy): production needs the public key and three remote destinations (C21)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, register

from backups.destinations import LocalDestination, destination_for


@register("backups", deploy=True)
def check_backup_settings(app_configs: object = None, **kwargs: object) -> list[Error]:
    errors = []
    if not settings.BACKUP_PUBLIC_KEY:
        errors.append(
            Error(
                "BACKUP_PUBLIC_KEY is not set: backups cannot be encrypted.",
                hint="age-keygen -o identity.txt on the machine that restores; set BACKUP_PUBLIC_KEY to the age1... line.",
                id="backups.E001",
            )
        )
    if len(set(settings.BACKUP_DESTINATIONS)) < 3:
        errors.append(
            Error(
                "BACKUP_DESTINATIONS must name at least 3 different destinations.",
                id="backups.E001",
            )
        )
    for url in settings.BACKUP_DESTINATIONS:
        try:
            local = isinstance(destination_for(url), LocalDestination)
        except ValueError as exc:
            errors.append(Error(str(exc), id="backups.E001"))
            continue
        if local:
            errors.append(
                Error(
                    f"Backup destination {url!r} is a local directory: it dies with this server.",
                    hint="Use sftp:// or s3:// destinations on other servers.",
                    id="backups.E001",
                )
            )
    return errors
