"""Confidentiality and training of platform staff (C15): who may see customer data under a
support grant. A person needs a signed confidentiality agreement and a security training within
the last 12 months; booking asks `clearance_of` before a grant is given or used, and the
compliance report lists who is missing what."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from security.actors import Actor
from security.events import SecurityEventType, record_event
from security.models import PersonnelRecord

TRAINING_VALID_DAYS = 365
Kind = PersonnelRecord.Kind


@dataclass(frozen=True)
class Clearance:
    agreement_on: date | None
    training_on: date | None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _judge(agreement: date | None, training: date | None, today: date) -> Clearance:
    problems = []
    if agreement is None:
        problems.append("no signed confidentiality agreement")
    if training is None:
        problems.append("no security training")
    elif today - training > timedelta(days=TRAINING_VALID_DAYS):
        problems.append(f"security training older than 12 months ({training.isoformat()})")
    return Clearance(agreement, training, problems)


def clearances(user_ids: Iterable[Any], *, today: date | None = None) -> dict[Any, Clearance]:
    """Each user's clearance, from their newest agreement and training (one query)."""
    today = today or timezone.localdate()
    ids = list(user_ids)
    newest: dict[tuple[Any, str], date] = {}
    rows = PersonnelRecord.objects.filter(user_id__in=ids, on__lte=today).values_list(
        "user_id", "kind", "on"
    )
    for user_id, kind, on in rows:
        key = (user_id, kind)
        if key not in newest or on > newest[key]:
            newest[key] = on
    return {
        user_id: _judge(
            newest.get((user_id, Kind.CONFIDENTIALITY_AGREEMENT)),
            newest.get((user_id, Kind.SECURITY_TRAINING)),
            today,
        )
        for user_id in ids
    }


def clearance_of(user: Any, *, today: date | None = None) -> Clearance:
    return clearances([user.pk], today=today)[user.pk]


@transaction.atomic
def personnel_record_add(
    *, user: Any, kind: PersonnelRecord.Kind, on: date, note: str, actor: Actor
) -> PersonnelRecord:
    recorder: Any = actor.account
    record = PersonnelRecord(user=user, kind=kind, on=on, note=note.strip(), recorded_by=recorder)
    record.full_clean()
    record.save()
    record_event(
        event_type=SecurityEventType.PERSONNEL_RECORD,
        actor=actor,
        target=user.get_username(),
        detail={"kind": str(kind), "on": on.isoformat(), "record_id": record.pk},
    )
    return record
