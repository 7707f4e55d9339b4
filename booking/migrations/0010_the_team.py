"""Every existing partner becomes a one-person business in the new model: one staff member, "the
team", working whenever the partner is open (its opening hours and date overrides, now and as the
partner changes them) and performing every service; every booking (cancelled ones too) is the
team's. Slots, prices and times stay exactly as they were. The current opening hours are copied
as the team's own hours too, for the day the partner turns "works the opening hours" off."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import migrations
from django.utils import translation
from django.utils.translation import gettext

if TYPE_CHECKING:
    from django.db.backends.base.schema import BaseDatabaseSchemaEditor
    from django.db.migrations.state import StateApps


def forwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    Partner = apps.get_model("booking", "Partner")
    StaffMember = apps.get_model("booking", "StaffMember")
    StaffHours = apps.get_model("booking", "StaffHours")
    ServiceStaff = apps.get_model("booking", "ServiceStaff")
    Booking = apps.get_model("booking", "Booking")
    with translation.override(settings.LANGUAGE_CODE):
        name = gettext("Team")  # stored as text: the partner renames it like any staff member
    for partner in Partner.objects.all().iterator():
        team = StaffMember.objects.create(partner=partner, name=name, works_opening_hours=True)
        StaffHours.objects.bulk_create(
            StaffHours(staff=team, weekday=h.weekday, start=h.start, end=h.end)
            for h in partner.opening_hours.all()
        )
        ServiceStaff.objects.bulk_create(
            ServiceStaff(service=service, staff=team) for service in partner.services.all()
        )
        Booking.objects.filter(partner=partner).update(staff=team)


def backwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    # The staff rows go with 0009's reversal; the bookings' staff column with them.
    apps.get_model("booking", "Booking").objects.update(staff=None)


class Migration(migrations.Migration):
    dependencies = [("booking", "0009_staff_and_resources")]
    operations = [migrations.RunPython(forwards, backwards)]
