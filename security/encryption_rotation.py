"""Re-encrypting every encrypted column under the newest key (C26): `manage.py
encryption_rotate`.

1. Every model with encrypted fields is found through the app registry (security names no
   other app), and walked in primary-key order, one batch per short transaction.
2. A batch reads the stored ciphertexts with SQL (the model fields would decrypt them), locks
   its rows on PostgreSQL (a customer editing a booking at that moment waits a moment instead of
   being overwritten with older data), and rewrites only the values not yet under the newest key
   and the blind indexes that differ (a changed FIELD_BLIND_INDEX_KEY).
3. So a run that stops half-way is simply started again: finished rows are skipped. Safe while
   the site runs, provided every app server already lists the new key (they write with it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.apps import apps
from django.db import connection, models, transaction

from security import fieldcrypto
from security.actors import Actor
from security.events import SecurityEventType, record_event
from security.fields import BlindIndexField, EncryptedTextField


@dataclass
class RotationCounts:
    checked: int = 0
    rewritten: int = 0
    per_model: dict[str, int] = field(default_factory=dict)


def encrypted_models() -> Iterator[tuple[type[models.Model], list[str], list[BlindIndexField]]]:
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        fields = model._meta.concrete_fields
        encrypted = [f.column for f in fields if isinstance(f, EncryptedTextField)]
        if encrypted:
            indexes = [f for f in fields if isinstance(f, BlindIndexField)]
            yield model, encrypted, indexes


def _batch(
    model: type[models.Model],
    columns: list[str],
    indexes: list[BlindIndexField],
    *,
    after: int,
    size: int,
) -> tuple[int, int, int]:
    """One batch: (rows checked, rows rewritten, last primary key seen; -1 at the end)."""
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    pk = quote(model._meta.pk.column)
    read = [*columns, *(i.column for i in indexes)]
    sources = {i.name: _column(model, i.source) for i in indexes}
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    select = (
        f"SELECT {pk}, {', '.join(quote(c) for c in read)} FROM {table} "  # noqa: S608 (quoted model names)  # nosec B608
        f"WHERE {pk} > %s ORDER BY {pk} LIMIT %s{lock}"
    )
    rewritten = 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(select, [after, size])
        rows = cursor.fetchall()
        for row_id, *values in rows:
            stored = dict(zip(read, values, strict=True))
            changes: dict[str, str] = {}
            for column in columns:
                value = stored[column]
                if value and not fieldcrypto.is_under_newest_key(value):
                    changes[column] = fieldcrypto.rotate(value)
            for index in indexes:
                source = stored[sources[index.name]]
                wanted = fieldcrypto.blind_index(fieldcrypto.decrypt(source)) if source else ""
                if stored[index.column] != wanted:
                    changes[index.column] = wanted
            if changes:
                assignments = ", ".join(f"{quote(c)} = %s" for c in changes)
                cursor.execute(
                    f"UPDATE {table} SET {assignments} WHERE {pk} = %s",  # noqa: S608 (quoted model names)  # nosec B608
                    [*changes.values(), row_id],
                )
                rewritten += 1
    return len(rows), rewritten, (rows[-1][0] if len(rows) == size else -1)


def _column(model: type[models.Model], name: str) -> str:
    found = model._meta.get_field(name)
    if not isinstance(found, models.Field):
        raise TypeError(f"{model._meta.label}.{name} is not a column.")
    return str(found.column)


def encryption_rotate(
    *, actor: Actor, batch_size: int = 500, progress: Callable[[str], None] = lambda _: None
) -> RotationCounts:
    problems = fieldcrypto.key_problems()
    if problems:
        raise fieldcrypto.FieldDecryptionError(" ".join(problems))
    counts = RotationCounts()
    for model, columns, indexes in encrypted_models():
        label = model._meta.label
        total = model._default_manager.count()
        after, checked, rewritten = 0, 0, 0
        while after != -1:
            seen, changed, after = _batch(model, columns, indexes, after=after, size=batch_size)
            checked += seen
            rewritten += changed
            progress(f"{label}: {checked}/{total} rows checked, {rewritten} re-encrypted")
        counts.checked += checked
        counts.rewritten += rewritten
        counts.per_model[label] = rewritten
    with transaction.atomic():
        record_event(
            event_type=SecurityEventType.ENCRYPTION_ROTATED,
            actor=actor,
            detail={"checked": counts.checked, "rewritten": counts.rewritten},
        )
    return counts
