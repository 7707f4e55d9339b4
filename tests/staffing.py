"""Staff for tests: most tests are about a one-person business, which in the staff model is a
partner with one staff member, "the team", working whenever the partner is open and performing
every service (what the migration made of every existing partner)."""

from __future__ import annotations

from datetime import time

from booking.models import Partner, Resource, Service, StaffHours, StaffMember

TEAM = "Team"


def team(partner: Partner) -> StaffMember:
    """The partner's team member, (re)aligned with the partner: working the opening hours (also
    copied as its own), every service of the partner. Call it after setting up services."""
    member, _created = StaffMember.objects.get_or_create(
        partner=partner, name=TEAM, defaults={"works_opening_hours": True}
    )
    member.hours.all().delete()
    StaffHours.objects.bulk_create(
        StaffHours(staff=member, weekday=h.weekday, start=h.start, end=h.end)
        for h in partner.opening_hours.all()
    )
    member.services.add(*partner.services.all())
    return member


def person(
    partner: Partner,
    name: str,
    *,
    hours: dict[int, list[tuple[time, time]]] | None = None,
    services: list[Service] | None = None,
    order: int = 0,
    active: bool = True,
) -> StaffMember:
    """A staff member with weekly hours ({weekday: [(start, end)]}; default Mon-Fri 09-17) who
    performs `services` (default: every service of the partner)."""
    member = StaffMember.objects.create(
        partner=partner, name=name, display_order=order, is_active=active
    )
    weekly = hours if hours is not None else {d: [(time(9), time(17))] for d in range(5)}
    StaffHours.objects.bulk_create(
        StaffHours(staff=member, weekday=d, start=a, end=b)
        for d, ranges in weekly.items()
        for a, b in ranges
    )
    member.services.add(*(services if services is not None else partner.services.all()))
    return member


def resource(partner: Partner, name: str, kind: str) -> Resource:
    return Resource.objects.create(partner=partner, name=name, kind=kind)
