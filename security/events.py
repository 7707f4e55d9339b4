"""The append-only, tamper-evident security event log (C31).

`record_event` is the only writer. Every row carries the hash of the row before it, so the rows
form one chain: an edited row no longer matches its own hash, a deleted row leaves the next row
pointing at a hash that is not its predecessor's. `verify_chain` walks the chain.

The chain must stay linear when several processes write at once: two writers that both read
"the last row" and both append after it would fork it. So each append runs in a transaction that
first takes a table lock that only writers of this table take (SHARE ROW EXCLUSIVE conflicts
with itself, not with readers) and only then reads the last row: under READ COMMITTED the read
after the lock sees the other writer's committed row. (Locking the last row with
SELECT ... FOR UPDATE is not enough: the waiting writer's query has already chosen its "last"
row and would append after the same one.) On SQLite, write transactions are IMMEDIATE
(settings), so writers are serialised already.

Every event is also logged as one structured JSON line (logger "security.events"), hash
included: a copy outside the database. A deleted tail (the last rows) is visible only against
such a copy: security.anchor writes the head daily as a signed file and `verify` names it.

Personal data in the log and the right to erasure (C25): rows are written in hash format 2,
where the chain covers a salted commitment to the personal fields (actor_email, ip, target,
detail) rather than the fields themselves (SecurityEvent). `events_pseudonymise` replaces those
fields by a keyed pseudonym and drops the salt: the chain still verifies through the stored
commitment, while an edit of anything else in the row (time, type, the commitment itself) still
breaks it. Format 1 rows, written before, were re-sealed into format 2 by migration 0011 when
their chain verified (each keeps its old hash in `legacy_hash`, covered by the new hash, so an
anchor written before still finds its event; the re-seal is an event of its own). Rows of a chain
that did not verify stay in format 1: re-sealing them would launder the edit; they keep being
reported and cannot be pseudonymised.
"""

from __future__ import annotations

import enum
import hashlib
import json
import logging
import re
import secrets
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.db.models import TextChoices
from django.utils import timezone
from django.utils.crypto import salted_hmac

from security.actors import Actor
from security.models import SecurityEvent

logger = logging.getLogger("security.events")

GENESIS = ""

# --- Event types ---------------------------------------------------------------------------------
# Each app declares its own event types as a TextChoices enum (value: the stored type, label: what
# people read) and registers it in its AppConfig.ready(). security knows no app's vocabulary and a
# new type needs no migration; record_event refuses a type nobody registered, and a plain string
# (where a typo would pass silently) is refused too.

_EVENT_TYPE = re.compile(r"[a-z][a-z0-9_]*")
_registry: dict[str, type[TextChoices]] = {}


def register_event_types(types: type[TextChoices]) -> None:
    """Make the members of `types` valid event types. Values must be unique across apps and fit
    the column; registering the same enum again changes nothing."""
    max_length = SecurityEvent._meta.get_field("event_type").max_length or 0
    for member in types:
        value = str(member.value)
        owner = _registry.get(value)
        if owner is not None and owner is not types:
            raise ImproperlyConfigured(
                f"Security event type {value!r} of {types.__qualname__} is already registered by "
                f"{owner.__module__}.{owner.__qualname__}."
            )
        if not _EVENT_TYPE.fullmatch(value) or len(value) > max_length:
            raise ImproperlyConfigured(
                f"Security event type {value!r}: use lower_case_words, at most {max_length} characters."
            )
    for member in types:
        _registry[str(member.value)] = types


def event_types() -> list[tuple[str, str]]:
    """Every registered (type, label), sorted by type: for filters, menus and help texts."""
    return sorted((value, str(types(value).label)) for value, types in _registry.items())


def event_type_label(value: str) -> str:
    """What people read for a stored type; a type no app registers any more shows as stored."""
    types = _registry.get(value)
    return str(types(value).label) if types is not None else value


def _checked_type(event_type: object) -> str:
    if not isinstance(event_type, enum.Enum):
        raise TypeError(
            f"record_event takes a registered event type enum member, not {type(event_type).__name__} "
            f"{event_type!r}."
        )
    value = str(event_type.value)
    if _registry.get(value) is not type(event_type):
        raise ValueError(f"Unknown security event type {value!r}: register its enum at start-up.")
    return value


class SecurityEventType(TextChoices):
    """The event types security itself records."""

    LOGIN_SUCCESS = "login_success", "Login succeeded"
    LOGIN_FAILURE = "login_failure", "Login failed"
    LOCKOUT = "lockout", "Address locked out"
    ACCOUNT_LOCKOUT = "account_lockout", "Account locked for new addresses"
    UNLOCK = "unlock", "Address unlocked"
    MFA_FAILURE = "mfa_failure", "MFA code refused"
    PASSWORD_CHANGE = "password_change", "Password changed"
    OPS_ALERT = "ops_alert", "Operations alert (backups, compliance)"
    IDS_BLOCK = "ids_block", "Client blocked by intrusion detection"
    IDS_DETECT = "ids_detect", "Intrusion threshold reached (detect mode)"
    IDS_UNBLOCK = "ids_unblock", "Intrusion block lifted"
    INTEGRITY_BASELINE = "integrity_baseline", "File integrity baseline recorded"
    PERSONNEL_RECORD = "personnel_record", "Confidentiality agreement or training recorded"
    ACCESS_REVIEW = "access_review", "Access review signed off"
    ACCOUNT_DEACTIVATED = "account_deactivated", "Unused account deactivated"
    LOG_ANCHORED = "log_anchored", "Event log head anchored"
    LOG_RESEALED = "log_resealed", "Event log re-sealed in the commitment format"
    ENCRYPTION_ROTATED = "encryption_rotated", "Customer data re-encrypted under the newest key"


@dataclass(frozen=True)
class ChainProblem:
    event_id: int
    message: str

    def __str__(self) -> str:
        return f"event {self.event_id}: {self.message}"


def _normalise(detail: dict[str, Any] | None) -> dict[str, Any]:
    # What is hashed must be exactly what the database gives back: JSON types only.
    normalised: dict[str, Any] = json.loads(json.dumps(detail or {}, default=str))
    return normalised


def _canonical_time(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def event_hash(
    *,
    prev_hash: str,
    created_at: datetime,
    event_type: str,
    actor_email: str,
    ip: str,
    target: str,
    detail: dict[str, Any],
) -> str:
    body = json.dumps(
        {
            "created_at": _canonical_time(created_at),
            "event_type": event_type,
            "actor_email": actor_email,
            "ip": ip,
            "target": target,
            "detail": detail,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def _personal(event: SecurityEvent) -> dict[str, Any]:
    return {
        "actor_email": event.actor_email,
        "ip": event.ip,
        "target": event.target,
        "detail": event.detail,
    }


def personal_digest(*, salt: str, personal: dict[str, Any]) -> str:
    """The commitment to a row's personal fields: SHA-256 over the row's random salt and their
    canonical JSON. Without the salt (dropped on pseudonymisation) it reveals nothing."""
    body = json.dumps(personal, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((salt + body).encode()).hexdigest()


def committed_hash(
    *,
    prev_hash: str,
    created_at: datetime,
    event_type: str,
    personal_digest: str,
    legacy_hash: str = "",
) -> str:
    """Hash format 2: the chain covers the row's time, type and personal-fields commitment, and
    for a re-sealed row (migration 0011) the hash it had before."""
    content: dict[str, Any] = {
        "version": 2,
        "created_at": _canonical_time(created_at),
        "event_type": event_type,
        "personal_digest": personal_digest,
    }
    if legacy_hash:
        content["legacy_hash"] = legacy_hash
    body = json.dumps(content, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def _row_hash(event: SecurityEvent) -> str:
    if event.hash_version == SecurityEvent.HashVersion.COMMITMENT:
        return committed_hash(
            prev_hash=event.prev_hash,
            created_at=event.created_at,
            event_type=event.event_type,
            personal_digest=event.personal_digest,
            legacy_hash=event.legacy_hash,
        )
    return event_hash(
        prev_hash=event.prev_hash,
        created_at=event.created_at,
        event_type=event.event_type,
        actor_email=event.actor_email,
        ip=event.ip,
        target=event.target,
        detail=event.detail,
    )


# What a pseudonymised row may hold in place of its personal fields; anything else in such a
# row is an edit (the commitment no longer stands for it, so this is what verify checks).
_PSEUDONYM = re.compile(r"(pseudonym-[0-9a-f]{16})?")
PSEUDONYMISED_DETAIL: dict[str, Any] = {"pseudonymised": True}


def pseudonym(value: str) -> str:
    """A stable keyed pseudonym: the same person (or target) gets the same one in every row, so
    the trail stays readable; without SECRET_KEY it cannot be linked back to the value."""
    if not value:
        return ""
    digest = salted_hmac("security.events.pseudonym", value.strip().lower(), algorithm="sha256")
    return f"pseudonym-{digest.hexdigest()[:16]}"


def _commitment_problem(event: SecurityEvent) -> str | None:
    if event.pseudonymised_at is None:
        if not event.personal_salt or event.personal_digest != personal_digest(
            salt=event.personal_salt, personal=_personal(event)
        ):
            return "its personal fields do not match their commitment (the row was edited)"
        return None
    if (
        event.ip
        or event.detail != PSEUDONYMISED_DETAIL
        or not _PSEUDONYM.fullmatch(event.actor_email)
        or not _PSEUDONYM.fullmatch(event.target)
    ):
        return "a pseudonymised row holds more than pseudonyms (the row was edited)"
    return None


@dataclass(frozen=True)
class PseudonymiseResult:
    pseudonymised: int
    # Rows of hash format 1 among those asked for: their hash covers the fields, so they stay.
    legacy_kept: int


def events_pseudonymise(
    *, event_ids: Collection[int], now: datetime | None = None
) -> PseudonymiseResult:
    """Replace the personal fields of the given events by pseudonyms (partner deletion, customer
    erasure), in the caller's transaction. The chain keeps verifying: each row's commitment
    stays, its salt goes. Rows already pseudonymised are left; format 1 rows are counted and
    left (their hash covers the fields themselves)."""
    now = now or timezone.now()
    rows = SecurityEvent.objects.filter(pk__in=list(event_ids), pseudonymised_at__isnull=True)
    legacy = rows.filter(hash_version=SecurityEvent.HashVersion.FIELDS).count()
    done = 0
    for event in rows.filter(hash_version=SecurityEvent.HashVersion.COMMITMENT).iterator():
        event.actor_email = pseudonym(event.actor_email)
        event.target = pseudonym(event.target)
        event.ip = ""
        event.detail = dict(PSEUDONYMISED_DETAIL)
        event.personal_salt = ""
        event.actor = None
        event.pseudonymised_at = now
        event.save(
            update_fields=[
                "actor_email",
                "target",
                "ip",
                "detail",
                "personal_salt",
                "actor",
                "pseudonymised_at",
            ]
        )
        done += 1
    if legacy:
        logger.warning(
            "security events of hash format 1 kept unpseudonymised", extra={"count": legacy}
        )
    return PseudonymiseResult(pseudonymised=done, legacy_kept=legacy)


def _lock_chain() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # The table name is our model's own constant, never input: no injection path.
            cursor.execute(f"LOCK TABLE {SecurityEvent._meta.db_table} IN SHARE ROW EXCLUSIVE MODE")


def record_event(
    *,
    event_type: TextChoices,
    actor: Actor | Any = None,
    ip: str = "",
    target: str = "",
    detail: dict[str, Any] | None = None,
) -> SecurityEvent:
    """Append one event to the chain and log it. `event_type` is a member of a registered enum;
    `actor` an Actor (what kind of actor, and how it came: kept in the detail), a user, or None
    (anonymous). Runs in the caller's transaction when there is one, so the event exists exactly
    when the change it records does."""
    type_value = _checked_type(event_type)
    detail = dict(detail or {})
    account: Any = actor
    if isinstance(actor, Actor):
        account = actor.account
        ip = ip or actor.ip
        detail.update(actor.describe())
    authenticated = account is not None and getattr(account, "is_authenticated", False)
    event = SecurityEvent(
        created_at=timezone.now(),
        event_type=type_value,
        actor=account if authenticated else None,
        actor_email=(account.get_username() if authenticated else "")[:254],
        ip=(ip or "")[:45],
        target=(target or "")[:500],
        detail=_normalise(detail),
        hash_version=SecurityEvent.HashVersion.COMMITMENT,
        personal_salt=secrets.token_hex(32),
    )
    event.personal_digest = personal_digest(salt=event.personal_salt, personal=_personal(event))
    with transaction.atomic():
        _lock_chain()
        last = SecurityEvent.objects.order_by("-id").values_list("hash", flat=True).first()
        event.prev_hash = last or GENESIS
        event.hash = _row_hash(event)
        event.save(force_insert=True)
    logger.info(
        "security event",
        extra={
            "security_event": event.event_type,
            "event_id": event.pk,
            "actor": event.actor_email,
            "client_ip": event.ip,
            "target": event.target,
            "detail": event.detail,
            "hash": event.hash,
        },
    )
    return event


def verify_chain() -> list[ChainProblem]:
    """Problems in the chain, oldest first; empty when every row is intact and in place."""
    problems: list[ChainProblem] = []
    previous = GENESIS
    for event in SecurityEvent.objects.order_by("id").iterator(chunk_size=2000):
        if event.prev_hash != previous:
            problems.append(
                ChainProblem(
                    event.pk, "does not follow the row before it (a row was deleted or inserted)"
                )
            )
        if _row_hash(event) != event.hash:
            problems.append(
                ChainProblem(event.pk, "its content does not match its hash (the row was edited)")
            )
        elif event.hash_version == SecurityEvent.HashVersion.COMMITMENT:
            problem = _commitment_problem(event)
            if problem:
                problems.append(ChainProblem(event.pk, problem))
        previous = event.hash
    return problems
