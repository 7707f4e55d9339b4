"""Re-seal the rows of hash format 1 into format 2 (the commitment format), so that partner
deletion and customer erasure (C25) can pseudonymise events written before format 2 existed.

Only a chain that verifies is re-sealed: re-sealing a chain with an edited or missing row would
give the edit a valid hash. Such a chain is left exactly as it is (verify keeps reporting it;
its format 1 rows cannot be pseudonymised) and the migration says so.

Every row from the first format 1 row on gets a new hash (its predecessor's hash changed); each
keeps the hash it had in `legacy_hash`, which the new hash covers, so the newest anchor written
before still finds its event. The re-seal appends an event of its own naming the head it replaced.
The hashing functions are the ones verify uses (security.events), imported on purpose: the
migration must produce exactly what verification recomputes.
"""

from __future__ import annotations

import logging
import secrets

from django.db import migrations, models
from django.utils import timezone

logger = logging.getLogger("security.events")

FIELDS, COMMITMENT = 1, 2


def _personal(row) -> dict:
    return {
        "actor_email": row.actor_email,
        "ip": row.ip,
        "target": row.target,
        "detail": row.detail,
    }


def _verifies(rows, events) -> bool:
    # verify_chain's walk, over the historical rows: verify_chain itself queries the current
    # model, whose later columns an older database does not have yet.
    previous = events.GENESIS
    for row in rows:
        if row.prev_hash != previous:
            return False
        if row.hash_version == COMMITMENT:
            expected = events.committed_hash(
                prev_hash=row.prev_hash,
                created_at=row.created_at,
                event_type=row.event_type,
                personal_digest=row.personal_digest,
            )
            if row.pseudonymised_at is None and row.personal_digest != events.personal_digest(
                salt=row.personal_salt, personal=_personal(row)
            ):
                return False
        else:
            expected = events.event_hash(
                prev_hash=row.prev_hash,
                created_at=row.created_at,
                event_type=row.event_type,
                **_personal(row),
            )
        if expected != row.hash:
            return False
        previous = row.hash
    return True


def reseal(apps, schema_editor) -> None:
    from security import events

    Event = apps.get_model("security", "SecurityEvent")
    rows = list(Event.objects.order_by("id"))
    if not any(row.hash_version == FIELDS for row in rows):
        return
    if not _verifies(rows, events):
        logger.warning(
            "security event log not re-sealed: the chain does not verify; its format 1 rows stay "
            "as they are (security_events --verify names the problem)"
        )
        return
    previous_head = {"id": rows[-1].pk, "hash": rows[-1].hash}
    previous = events.GENESIS
    changed = 0
    for row in rows:
        if row.hash_version == FIELDS:
            row.hash_version = COMMITMENT
            row.personal_salt = secrets.token_hex(32)
            row.personal_digest = events.personal_digest(
                salt=row.personal_salt, personal=_personal(row)
            )
        elif row.prev_hash == previous:
            previous = row.hash  # before the first format 1 row: nothing changes
            continue
        row.legacy_hash = row.legacy_hash or row.hash
        row.prev_hash = previous
        row.hash = events.committed_hash(
            prev_hash=row.prev_hash,
            created_at=row.created_at,
            event_type=row.event_type,
            personal_digest=row.personal_digest,
            legacy_hash=row.legacy_hash,
        )
        row.save(
            update_fields=[
                "hash_version",
                "personal_salt",
                "personal_digest",
                "legacy_hash",
                "prev_hash",
                "hash",
            ]
        )
        previous = row.hash
        changed += 1
    detail = {"previous_head": previous_head, "rows": changed}
    salt = secrets.token_hex(32)
    personal = {"actor_email": "", "ip": "", "target": "", "detail": detail}
    created = timezone.now()
    digest = events.personal_digest(salt=salt, personal=personal)
    Event.objects.create(
        created_at=created,
        event_type=events.SecurityEventType.LOG_RESEALED.value,
        detail=detail,
        prev_hash=previous,
        hash=events.committed_hash(
            prev_hash=previous,
            created_at=created,
            event_type=events.SecurityEventType.LOG_RESEALED.value,
            personal_digest=digest,
        ),
        hash_version=COMMITMENT,
        personal_salt=salt,
        personal_digest=digest,
    )
    logger.warning(
        "security event log re-sealed in the commitment format; write a new anchor "
        "(manage.py security_events --anchor)",
        extra={"rows": changed, "previous_head": previous_head},
    )


class Migration(migrations.Migration):
    dependencies = [("security", "0010_securityevent_commitment")]

    operations = [
        migrations.AddField(
            model_name="securityevent",
            name="legacy_hash",
            field=models.CharField(blank=True, max_length=64),
        ),
        # Going back cannot restore format 1 (the old hashes leave with the column); the rows
        # stay re-sealed, which the code of migration 0010 reports as rewritten: do not go back
        # past this migration on a database that holds events.
        migrations.RunPython(reseal, migrations.RunPython.noop),
    ]
