"""Creates the admin role groups (booking/roles.py explains them). The definition is frozen here,
as migrations must be; tests/booking/test_roles.py checks it still equals booking.roles."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import migrations

if TYPE_CHECKING:
    from django.db.backends.base.schema import BaseDatabaseSchemaEditor
    from django.db.migrations.state import StateApps

_ALL = ("view", "add", "change", "delete")
ROLES: dict[str, dict[str, tuple[str, ...]]] = {
    "Partner owner": {
        "partner": ("view", "change"),
        "openinghours": _ALL,
        "service": _ALL,
        "dateoverride": _ALL,
        "dateoverriderange": _ALL,
        "booking": ("view", "add", "change"),
        "supportgrant": ("view", "add", "change"),
    },
    "Partner member": {
        "partner": ("view",),
        "openinghours": ("view",),
        "service": _ALL,
        "dateoverride": _ALL,
        "dateoverriderange": _ALL,
        "booking": ("view", "add", "change"),
    },
    "Support": {
        "partner": ("view",),
        "openinghours": ("view",),
        "service": ("view",),
        "dateoverride": ("view",),
        "dateoverriderange": ("view",),
        "booking": ("view",),
        "supportgrant": ("view",),
    },
}


def create_roles(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    from booking.roles import roles_sync_in_migration

    roles_sync_in_migration(apps=apps, definition=ROLES)


def remove_roles(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    apps.get_model("auth", "Group").objects.filter(name__in=list(ROLES)).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("booking", "0004_supportgrant"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
