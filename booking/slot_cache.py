"""The shared cache of computed free starts, per (service, staff member or anyone, partner-local
day), and the per-partner version that keeps it honest.

Correctness rests on three rules:

- Every write that can change which times are free moves the partner's `slots_version` in the
  database, in the writing transaction: model saves and deletes through the signal receivers
  below (the services, the admin and the shell all save models), and the services' bulk updates
  explicitly (`bump`). Readers read the version before anything else, so what they store under
  a version was loaded after it was current.
- The key also carries the service's rules and the partner's zone, so a request that loaded the
  service before a change stores its answer where nobody who loaded it after will look.
- Only days whose answer does not depend on the moment are cached: the engine's first start of
  an opening range depends on "now + notice" only when that instant is within a day of the
  range, so today and tomorrow (per the notice) are always computed; days beyond the horizon
  are never offered; and an entry records the earliest expiry of the holds it counted as busy,
  after which it is recomputed (an expired hold stops blocking without any write).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.db.models import F, Model, QuerySet
from django.db.models.signals import m2m_changed, post_delete, post_save

from booking import slots
from booking.models import (
    Booking,
    Closure,
    DateOverride,
    DateOverrideRange,
    OpeningHours,
    Partner,
    Resource,
    ResourceAbsence,
    Service,
    ServiceStaff,
    StaffAbsence,
    StaffHours,
    StaffMember,
)

# Entries of versions nobody reads any more expire on their own.
TIMEOUT_SECONDS = 6 * 3600
_DAY = timedelta(days=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)

# The starts of a window [a, b), and when the first hold counted as busy there runs out (None).
Compute = Callable[[datetime, datetime], tuple[list[datetime], datetime | None]]


def bump(partner_id: int, *, rules: bool = False) -> None:
    """Move the partner's version: every cached answer of its services is stale from now on.
    Call inside the transaction of the write it is about. `rules`: the write changed what is
    offered at all (not a booking), so the partner's rules_version moves too, in the same
    statement (a booking checked before it checks again: booking.services.booking_create)."""
    moved: dict[str, Any] = {"slots_version": F("slots_version") + 1}
    if rules:
        moved["rules_version"] = F("rules_version") + 1
    Partner.objects.filter(pk=partner_id).update(**moved)


# The partner whose rows are being deleted with it (booking.deletion): its deletes move nothing.
_going: ContextVar[int | None] = ContextVar("slot_cache_partner_going", default=None)


@contextmanager
def partner_going(partner_id: int) -> Iterator[None]:
    """While the partner's own rows are deleted (partner deletion), their deletes move no
    version: nothing of the partner is offered any more, and a version move per deleted row
    would be one UPDATE per booking."""
    token = _going.set(partner_id)
    try:
        yield
    finally:
        _going.reset(token)


# The partner whose version the running booking write moved as it took the partner lock
# (booking.services.partner_lock(moving_slots=True)): its booking's save moves it no further.
_moved: ContextVar[int | None] = ContextVar("slot_cache_moved_with_lock", default=None)


@contextmanager
def moved_with_lock(partner_id: int) -> Iterator[None]:
    """Inside, the partner's version has been moved in the running transaction already: saving
    its bookings moves it no further (one UPDATE less while the partner's lock is held)."""
    token = _moved.set(partner_id)
    try:
        yield
    finally:
        _moved.reset(token)


def version(partner_id: int) -> int:
    """The partner's current version; read before anything the answer is computed from."""
    found = Partner.objects.filter(pk=partner_id).values_list("slots_version", flat=True).first()
    return found or 0


def _micros(t: datetime) -> int:
    return (t - _EPOCH) // _MICRO


def _instant(micros: int) -> datetime:
    return _EPOCH + micros * _MICRO


def _key(service: Service, rules: slots.ServiceRules, staff_id: int | None, ver: int) -> str:
    shape = (
        service.pk,
        service.partner.time_zone,
        service.required_resource_kind,
        rules,
        staff_id or 0,
        ver,
    )
    digest = hashlib.sha256(repr(shape).encode("utf-8")).hexdigest()[:24]
    return f"slots:{service.partner_id}:{service.pk}:{digest}"


def free_starts(
    *,
    service: Service,
    rules: slots.ServiceRules,
    staff_id: int | None,
    ver: int,
    window_start: datetime,
    window_end: datetime,
    now: datetime,
    compute: Compute,
) -> list[datetime]:
    """The free starts (UTC, sorted) in [window_start, window_end): today and tomorrow computed,
    later days from the cache where it has them (computed and stored where not)."""
    zone = service.partner.zone
    first = window_start.astimezone(zone).date()
    last = (window_end - _MICRO).astimezone(zone).date()
    horizon_day = now.astimezone(zone).date() + timedelta(days=rules.horizon_days)
    earliest = now + rules.min_notice
    live: list[date] = []
    stable: list[date] = []
    day = first
    while day <= min(last, horizon_day):
        # The day before is the engine's too (its ranges may reach into the day).
        (live if slots.local_midnight(zone, day - _DAY) < earliest else stable).append(day)
        day += _DAY
    prefix = _key(service, rules, staff_id, ver)
    keys = {day: f"{prefix}:{day.isoformat()}" for day in stable}
    stored: Mapping[str, Any] = cache.get_many(list(keys.values())) if keys else {}
    now_micros = _micros(now)
    cached: dict[date, list[int]] = {}
    for day, key in keys.items():
        entry = stored.get(key)
        if entry is not None and (entry[0] is None or now_micros < entry[0]):
            cached[day] = entry[1]
    missing = [day for day in stable if day not in cached]
    found = [_instant(m) for values in cached.values() for m in values]
    todo = live + missing  # in date order: live days come first
    if todo:
        # One computation for everything not cached (a cached day in between is recomputed).
        a = slots.local_midnight(zone, todo[0])
        b = slots.local_midnight(zone, todo[-1] + _DAY)
        computed, until = compute(a, b)
        fresh: dict[date, list[int]] = {day: [] for day in missing}
        for start in computed:
            local_day = start.astimezone(zone).date()
            if local_day in fresh:
                fresh[local_day].append(_micros(start))
            elif local_day not in cached:
                found.append(start)
        if fresh:
            until_micros = None if until is None else _micros(until)
            cache.set_many(
                {keys[day]: (until_micros, values) for day, values in fresh.items()},
                timeout=TIMEOUT_SECONDS,
            )
            found += [_instant(m) for values in fresh.values() for m in values]
    return sorted(s for s in found if window_start <= s < window_end)


# --- what moves the version -------------------------------------------------------------------
# (model, how to find the partner id of an instance); deletes cascading from a partner's own
# deletion find no partner any more, which is fine: there is nothing left to offer.


def _partner_of(instance: Model) -> int | None:
    if isinstance(
        instance, Booking | OpeningHours | DateOverride | Closure | StaffMember | Resource
    ):
        return instance.partner_id
    if isinstance(instance, Service):
        return instance.partner_id
    if isinstance(instance, StaffHours | StaffAbsence):
        return _first(StaffMember.objects.filter(pk=instance.staff_id))
    if isinstance(instance, ResourceAbsence):
        return _first(Resource.objects.filter(pk=instance.resource_id))
    if isinstance(instance, DateOverrideRange):
        return _first(DateOverride.objects.filter(pk=instance.override_id))
    if isinstance(instance, ServiceStaff):
        return _first(Service.objects.filter(pk=instance.service_id))
    return None


def _first(rows: Any) -> int | None:
    found: int | None = rows.values_list("partner_id", flat=True).first()
    return found


def _changed(sender: type[Model], instance: Model, **kwargs: Any) -> None:
    if kwargs.get("raw"):  # fixtures being loaded: nothing is cached for them yet
        return
    origin = kwargs.get("origin")
    if isinstance(origin, Partner) or (isinstance(origin, QuerySet) and origin.model is Partner):
        return  # the partner itself goes: nothing of it is offered any more (no bump per row)
    partner_id = _partner_of(instance)
    if partner_id is None or partner_id == _going.get():
        return
    if isinstance(instance, Booking) and partner_id == _moved.get():
        return
    bump(partner_id, rules=not isinstance(instance, Booking))


def _team_changed(sender: type[Model], instance: Model, action: str, **kwargs: Any) -> None:
    if action in ("post_add", "post_remove", "post_clear"):
        partner_id = getattr(instance, "partner_id", None)
        if partner_id is not None:
            bump(partner_id, rules=True)


WATCHED: tuple[type[Model], ...] = (
    Booking,
    Closure,
    OpeningHours,
    DateOverride,
    DateOverrideRange,
    StaffMember,
    StaffHours,
    StaffAbsence,
    Resource,
    ResourceAbsence,
    Service,
    ServiceStaff,
)


def connect() -> None:
    for model in WATCHED:
        post_save.connect(_changed, sender=model, dispatch_uid=f"slot_cache_save_{model.__name__}")
        post_delete.connect(
            _changed, sender=model, dispatch_uid=f"slot_cache_delete_{model.__name__}"
        )
    m2m_changed.connect(_team_changed, sender=ServiceStaff, dispatch_uid="slot_cache_team")
