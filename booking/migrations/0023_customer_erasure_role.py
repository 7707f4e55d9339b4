"""The partner owner may export or anonymise a customer (change_customer; booking/roles.py). The
definition is frozen here, as migrations must be; tests/booking/test_admin_scoping.py checks the
latest one still equals booking.roles."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from django.db import migrations

if TYPE_CHECKING:
    from django.db.backends.base.schema import BaseDatabaseSchemaEditor
    from django.db.migrations.state import StateApps

_ROLES_0020 = importlib.import_module(
    "booking.migrations.0020_booking_language_service_translations"
).ROLES
ROLES = {
    name: {**models_, "customer": ("view", "change")} if name == "Partner owner" else models_
    for name, models_ in _ROLES_0020.items()
}


def grant(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    from booking.roles import roles_sync_in_migration

    roles_sync_in_migration(apps=apps, definition=ROLES)


def revoke(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    from booking.roles import roles_sync_in_migration

    roles_sync_in_migration(apps=apps, definition=_ROLES_0020)


class Migration(migrations.Migration):
    dependencies = [("booking", "0022_customer_erasure_retention")]

    operations = [migrations.RunPython(grant, revoke)]
