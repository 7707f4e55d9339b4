"""Deploy checks of the backup configuration (C21-C25), one id per mistake, so that
`manage.py check --deploy` names what is wrong:

E001 no public key to encrypt to; E002 fewer than three destinations; E003 a destination that is
a folder on this server; E004 a destination URL that cannot be used; E005 two destinations on one
server (prefixes in one bucket, paths on one host, buckets on one S3 endpoint); E006 no offline
destination; E007 an offline destination under DATA_DIR; E008 an offline destination on the
server of a regular one; E009 no usable manifest signing key; E010 trusted signing keys that are
malformed or do not include the signing key.
"""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, register

from backups import signing
from backups.destinations import Destination, LocalDestination, destination_for
from backups.selectors import is_under_data_dir


def _destination(url: str, errors: list[Error], what: str) -> Destination | None:
    try:
        return destination_for(url)
    except ValueError as exc:
        errors.append(Error(f"{what}: {exc}", id="backups.E004"))
        return None


@register("backups", deploy=True)
def check_backup_settings(app_configs: object = None, **kwargs: object) -> list[Error]:
    errors: list[Error] = []
    if not settings.BACKUP_PUBLIC_KEY:
        errors.append(
            Error(
                "BACKUP_PUBLIC_KEY is not set: backups cannot be encrypted.",
                hint="age-keygen -o identity.txt on the machine that restores; set BACKUP_PUBLIC_KEY to the age1... line.",
                id="backups.E001",
            )
        )
    regular = _regular(errors)
    _offline(regular, errors)
    _signing(errors)
    return errors


def _regular(errors: list[Error]) -> list[Destination]:
    urls = settings.BACKUP_DESTINATIONS
    if len(set(urls)) < 3:
        errors.append(
            Error(
                "BACKUP_DESTINATIONS must name at least 3 different destinations.",
                id="backups.E002",
            )
        )
    destinations = []
    for url in urls:
        destination = _destination(url, errors, "BACKUP_DESTINATIONS")
        if destination is None:
            continue
        destinations.append(destination)
        if isinstance(destination, LocalDestination):
            errors.append(
                Error(
                    f"Backup destination {url!r} is a local directory: it dies with this server.",
                    hint="Use sftp:// or s3:// destinations on other servers.",
                    id="backups.E003",
                )
            )
    servers: dict[str, list[str]] = {}
    for destination in destinations:
        if not isinstance(destination, LocalDestination):
            servers.setdefault(destination.server, []).append(destination.label)
    for server, labels in sorted(servers.items()):
        if len(labels) > 1:
            errors.append(
                Error(
                    f"Backup destinations {', '.join(labels)} are on the same server ({server}): "
                    "one failure or one compromised account takes them all.",
                    hint="Three destinations on three different hosts or S3 endpoints.",
                    id="backups.E005",
                )
            )
    return destinations


def _offline(regular: list[Destination], errors: list[Error]) -> None:
    url = settings.BACKUP_OFFLINE_DESTINATION
    if not url:
        errors.append(
            Error(
                "BACKUP_OFFLINE_DESTINATION is not set: there is no offline copy (C22).",
                hint="A folder on a removable medium that exists only while it is mounted, or a destination URL on its own server.",
                id="backups.E006",
            )
        )
        return
    destination = _destination(url, errors, "BACKUP_OFFLINE_DESTINATION")
    if destination is None:
        return
    if is_under_data_dir(url):
        errors.append(
            Error(
                f"BACKUP_OFFLINE_DESTINATION {url!r} is under DATA_DIR: that is this server's "
                "own state (the development default), not an offline copy.",
                hint="Mount the offline medium elsewhere, or use a destination URL.",
                id="backups.E007",
            )
        )
    elif not isinstance(destination, LocalDestination) and any(
        destination.server == other.server for other in regular
    ):
        errors.append(
            Error(
                f"BACKUP_OFFLINE_DESTINATION {destination.label} is on the server of a regular "
                f"destination ({destination.server}): it is not a copy of its own.",
                id="backups.E008",
            )
        )


def _signing(errors: list[Error]) -> None:
    own = None
    if not settings.BACKUP_SIGNING_KEY:
        errors.append(
            Error(
                "BACKUP_SIGNING_KEY is not set: backups cannot be signed, and the app servers "
                "refuse to write unsigned ones.",
                hint="manage.py backup_signing_key --generate /secure/backup-signing.pem; give "
                "it as BACKUP_SIGNING_KEY_FILE.",
                id="backups.E009",
            )
        )
    else:
        try:
            own = signing.Signer.from_pem(settings.BACKUP_SIGNING_KEY).key_id
        except signing.SigningKeyError as exc:
            errors.append(Error(f"BACKUP_SIGNING_KEY: {exc}", id="backups.E009"))
    trusted = []
    for text in settings.BACKUP_SIGNING_PUBLIC_KEYS:
        try:
            trusted.append(signing.public_text(signing.parse_public(text)))
        except signing.SigningKeyError as exc:
            errors.append(Error(f"BACKUP_SIGNING_PUBLIC_KEYS: {exc}", id="backups.E010"))
            return
    if own and trusted and own not in trusted:
        errors.append(
            Error(
                "BACKUP_SIGNING_PUBLIC_KEYS does not list the public key of BACKUP_SIGNING_KEY: "
                "every backup this server signs would be refused as untrusted.",
                hint=f"Add {own}",
                id="backups.E010",
            )
        )
