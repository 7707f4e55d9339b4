"""The partner owner invites people and revokes or re-sends invitations (view, add and change of
invitation; booking/roles.py). The definition is frozen here, as migrations must be;
tests/booking/test_admin_scoping.py checks the latest one still equals booking.roles."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from django.db import migrations

if TYPE_CHECKING:
    from django.db.backends.base.schema import BaseDatabaseSchemaEditor
    from django.db.migrations.state import StateApps

_ROLES_0023 = importlib.import_module("booking.migrations.0023_customer_erasure_role").ROLES
ROLES = {
    name: {**models_, "invitation": ("view", "add", "change")}
    if name == "Partner owner"
    else models_
    for name, models_ in _ROLES_0023.items()
}


def grant(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    from booking.roles import roles_sync_in_migration

    roles_sync_in_migration(apps=apps, definition=ROLES)


def revoke(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    from booking.roles import roles_sync_in_migration

    roles_sync_in_migration(apps=apps, definition=_ROLES_0023)


class Migration(migrations.Migration):
    dependencies = [("booking", "0029_invitation")]

    operations = [migrations.RunPython(grant, revoke)]
