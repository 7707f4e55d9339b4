"""The three admin roles may read the customer list (booking/roles.py). Adds the one permission
rather than re-syncing whole groups, so it composes with other migrations that give the roles
permissions of their own models."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth.management import create_permissions
from django.db import migrations

if TYPE_CHECKING:
    from django.db.backends.base.schema import BaseDatabaseSchemaEditor
    from django.db.migrations.state import StateApps

ROLES = ("Partner owner", "Partner member", "Support")


def _permission(apps: StateApps) -> object:
    # Permissions are normally created after migrate (post_migrate); this migration needs one now.
    booking = apps.get_app_config("booking")
    booking.models_module = True  # type: ignore[assignment]  # only tested for truth there
    create_permissions(booking, verbosity=0, apps=apps)
    booking.models_module = None
    return apps.get_model("auth", "Permission").objects.get(
        content_type__app_label="booking", codename="view_customer"
    )


def grant(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    permission = _permission(apps)
    for group in apps.get_model("auth", "Group").objects.filter(name__in=ROLES):
        group.permissions.add(permission)


def revoke(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    permission = _permission(apps)
    for group in apps.get_model("auth", "Group").objects.filter(name__in=ROLES):
        group.permissions.remove(permission)


class Migration(migrations.Migration):
    dependencies = [("booking", "0014_booking_customer_required")]

    operations = [migrations.RunPython(grant, revoke)]
