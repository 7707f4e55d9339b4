"""The anchor of the security event log (C31). The hash chain shows an edited or removed row
in the middle, but not rows deleted from its end: the table alone cannot tell its last row was
not always the last. So once a day (and on demand) the chain's head, its id, hash and time, is
written as a small signed file to every anchor store and mailed to the operators; `verify`
checks the log against the newest anchor and names a missing tail.

Stores: security's own writes to the folders of ANCHOR_DESTINATIONS (DATA_DIR/anchors in
development). Other apps may add theirs at start-up with `register_anchor_store` (the backup
destinations, so the anchors live off the server with the backups). The signature is an HMAC
under SECRET_KEY (SECRET_KEY_FALLBACKS still verify older files): a file planted by someone who
can write to a store but does not hold the key is refused.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings
from django.core.mail import mail_admins
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from security.events import SecurityEventType, record_event
from security.models import SecurityEvent

logger = logging.getLogger("security.anchor")
_SALT = "security.anchor"
PREFIX = "event-log-anchor-"


class AnchorStore(Protocol):
    label: str

    def write(self, name: str, data: bytes) -> None: ...

    def read_all(self) -> list[tuple[str, bytes]]: ...


class FolderStore:
    """A folder of anchor files (ANCHOR_DESTINATIONS)."""

    def __init__(self, path: str) -> None:
        self.path = Path(path)
        self.label = str(self.path)

    def write(self, name: str, data: bytes) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        temporary = self.path / f".{name}.partial"
        temporary.write_bytes(data)
        temporary.replace(self.path / name)

    def read_all(self) -> list[tuple[str, bytes]]:
        if not self.path.is_dir():
            return []
        return [(p.name, p.read_bytes()) for p in sorted(self.path.glob(f"{PREFIX}*.json"))]


_extra_stores: list[AnchorStore] = []


def register_anchor_store(store: AnchorStore) -> None:
    if all(existing.label != store.label for existing in _extra_stores):
        _extra_stores.append(store)


def stores() -> list[AnchorStore]:
    return [*(FolderStore(p) for p in settings.ANCHOR_DESTINATIONS), *_extra_stores]


def _signature(body: dict[str, Any], secret: str | bytes | None = None) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return salted_hmac(_SALT, canonical, secret=secret, algorithm="sha256").hexdigest()


@dataclass(frozen=True)
class Anchor:
    event_id: int
    hash: str
    event_time: str
    anchored_at: str
    source: str = ""  # the store and file it was read from

    def body(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "hash": self.hash,
            "event_time": self.event_time,
            "anchored_at": self.anchored_at,
        }

    def to_bytes(self) -> bytes:
        body = self.body()
        document = {"anchor": body, "hmac_sha256": _signature(body)}
        return (json.dumps(document, indent=2, sort_keys=True) + "\n").encode()


class BadAnchor(ValueError):
    pass


def parse(data: bytes, *, source: str = "") -> Anchor:
    try:
        document = json.loads(data)
        body = document["anchor"]
        signature = str(document["hmac_sha256"])
        anchor = Anchor(
            event_id=int(body["event_id"]),
            hash=str(body["hash"]),
            event_time=str(body["event_time"]),
            anchored_at=str(body["anchored_at"]),
            source=source,
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise BadAnchor(f"{source}: not an anchor file") from exc
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    if not any(constant_time_compare(signature, _signature(anchor.body(), s)) for s in secrets):
        raise BadAnchor(f"{source}: the signature does not match (not written by this platform)")
    return anchor


def anchor_write(*, now: datetime | None = None, mail: bool = True) -> Anchor | None:
    """Write the head of the chain to every store and mail it to the operators. None when the
    log is empty. A store that fails is logged and alerted; the others are still written."""
    now = now or timezone.now()
    head = SecurityEvent.objects.order_by("-id").first()
    if head is None:
        return None
    anchor = Anchor(
        event_id=head.pk,
        hash=head.hash,
        event_time=head.created_at.isoformat(),
        anchored_at=now.isoformat(),
    )
    name = f"{PREFIX}{now:%Y%m%dT%H%M%SZ}-{head.pk}.json"
    data = anchor.to_bytes()
    written, failed = [], {}
    for store in stores():
        try:
            store.write(name, data)
            written.append(store.label)
        except Exception as exc:  # one store down must not stop the others
            logger.exception("anchor not written", extra={"store": store.label})
            failed[store.label] = str(exc) or type(exc).__name__
    record_event(
        event_type=SecurityEventType.LOG_ANCHORED,
        target=f"event:{head.pk}",
        detail={"hash": head.hash, "file": name, "stores": written, "failed": failed},
    )
    if mail:
        mail_admins(
            f"[security] event log anchor: event {head.pk}",
            "The head of the security event log, for your records (keep this mail: it lets "
            "manage.py security_events --verify prove that no event was deleted from the end "
            "of the log).\n\n"
            f"File {name}, written to: {', '.join(written) or 'no store'}"
            + (f"\nNot written to: {failed}" if failed else "")
            + "\n\n"
            + data.decode()
            + _compliance_lines(),
            fail_silently=True,
        )
    if failed:
        from security.alerts import ops_alert

        ops_alert(
            source="anchor",
            subject="event log anchor not written everywhere",
            message="\n".join(f"{label}: {error}" for label, error in failed.items()),
        )
    return anchor


def _compliance_lines() -> str:
    from security.models import ComplianceState

    states = ComplianceState.objects.exclude(status="pass").order_by("control")
    if not states:
        return "\nCompliance: every control passed at the last hourly check.\n"
    lines = [f"{s.control} {s.status}: {s.reason}" for s in states]
    return "\nCompliance, controls not passing:\n" + "\n".join(lines) + "\n"


@dataclass
class AnchorCheck:
    anchor: Anchor | None
    problems: list[str]
    bad_files: list[str]


def newest_anchor() -> tuple[Anchor | None, list[str]]:
    """The newest validly signed anchor in any store, and the files that were refused."""
    best: Anchor | None = None
    bad: list[str] = []
    for store in stores():
        try:
            files = store.read_all()
        except Exception as exc:
            bad.append(f"{store.label}: cannot be read ({exc})")
            continue
        for name, data in files:
            try:
                anchor = parse(data, source=f"{store.label}/{name}")
            except BadAnchor as exc:
                bad.append(str(exc))
                continue
            if best is None or (anchor.event_id, anchor.anchored_at) > (
                best.event_id,
                best.anchored_at,
            ):
                best = anchor
    return best, bad


def verify_against_anchor() -> AnchorCheck:
    """Does the log still hold the event the newest anchor names, with the same hash? If not,
    name what is missing: the events from the first absent id up to the anchored one."""
    anchor, bad = newest_anchor()
    problems = [f"anchor file refused: {b}" for b in bad]
    if anchor is None:
        return AnchorCheck(None, problems, bad)
    # A row re-sealed after the anchor was written (migration 0011) keeps its old hash beside the
    # new one, inside what the new hash covers.
    hashes = (
        SecurityEvent.objects.filter(pk=anchor.event_id).values_list("hash", "legacy_hash").first()
    )
    if hashes is None:
        last = (
            SecurityEvent.objects.filter(pk__lt=anchor.event_id)
            .order_by("-id")
            .values_list("id", flat=True)
            .first()
        )
        first_missing = (last or 0) + 1
        problems.append(
            f"events {first_missing} to {anchor.event_id} are missing: the anchor of "
            f"{anchor.anchored_at} ({anchor.source}) names event {anchor.event_id} with hash "
            f"{anchor.hash}, and the log ends at event {last or 'none'} before it "
            "(a tail was deleted)"
        )
    elif anchor.hash not in hashes:
        problems.append(
            f"event {anchor.event_id} does not match the anchor of {anchor.anchored_at} "
            f"({anchor.source}): the log was rewritten up to it"
        )
    return AnchorCheck(anchor, problems, bad)
