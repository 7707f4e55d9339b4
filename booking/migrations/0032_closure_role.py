"""Closures over date ranges (booking/closures.py): the owner closes the business and decides what
happens to the bookings covered; members and support read them. The definition is frozen here, as
migrations must be; tests/booking/test_admin_scoping.py checks the latest one still equals
booking.roles."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from django.db import migrations

if TYPE_CHECKING:
    from django.db.backends.base.schema import BaseDatabaseSchemaEditor
    from django.db.migrations.state import StateApps

_ROLES_0030 = importlib.import_module("booking.migrations.0030_invitation_role").ROLES
_CLOSURE = {
    "Partner owner": ("view", "add", "change", "delete"),
    "Partner member": ("view",),
    "Support": ("view",),
}
ROLES = {name: {**models_, "closure": _CLOSURE[name]} for name, models_ in _ROLES_0030.items()}


def grant(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    from booking.roles import roles_sync_in_migration

    roles_sync_in_migration(apps=apps, definition=ROLES)


def revoke(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    from booking.roles import roles_sync_in_migration

    roles_sync_in_migration(apps=apps, definition=_ROLES_0030)


class Migration(migrations.Migration):
    dependencies = [("booking", "0031_closure")]

    operations = [migrations.RunPython(grant, revoke)]
