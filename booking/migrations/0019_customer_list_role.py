"""The admin roles may read the customer list (booking/roles.py explains them): owners, members
and support alike (support sees it masked unless granted). The definition is frozen here, as
migrations must be; tests/booking/test_admin_scoping.py checks it still equals booking.roles."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth.management import create_permissions
from django.db import migrations

if TYPE_CHECKING:
    from django.db.backends.base.schema import BaseDatabaseSchemaEditor
    from django.db.migrations.state import StateApps

_ALL = ("view", "add", "change", "delete")
_STAFF = (
    "staffmember",
    "staffhours",
    "staffabsence",
    "servicestaff",
    "resource",
    "resourceabsence",
)
BEFORE: dict[str, dict[str, tuple[str, ...]]] = {
    "Partner owner": {
        "partner": ("view", "change"),
        "openinghours": _ALL,
        "service": _ALL,
        "dateoverride": _ALL,
        "dateoverriderange": _ALL,
        "booking": ("view", "add", "change"),
        "supportgrant": ("view", "add", "change"),
        **dict.fromkeys(_STAFF, _ALL),
    },
    "Partner member": {
        "partner": ("view",),
        "openinghours": ("view",),
        "service": _ALL,
        "dateoverride": _ALL,
        "dateoverriderange": _ALL,
        "booking": ("view", "add", "change"),
        **dict.fromkeys(_STAFF, ("view",)),
    },
    "Support": {
        "partner": ("view",),
        "openinghours": ("view",),
        "service": ("view",),
        "dateoverride": ("view",),
        "dateoverriderange": ("view",),
        "booking": ("view",),
        "supportgrant": ("view",),
        **dict.fromkeys(_STAFF, ("view",)),
    },
}
ROLES = {name: {**models, "customer": ("view",)} for name, models in BEFORE.items()}


def _sync(apps: StateApps, definition: dict[str, dict[str, tuple[str, ...]]]) -> None:
    # Permissions are normally created after migrate (post_migrate); this migration needs them now.
    booking = apps.get_app_config("booking")
    booking.models_module = True  # type: ignore[assignment]  # only tested for truth there
    create_permissions(booking, verbosity=0, apps=apps)
    booking.models_module = None
    from booking.roles import roles_sync

    roles_sync(apps=apps, definition=definition)


def grant(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    _sync(apps, ROLES)


def revoke(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    _sync(apps, BEFORE)


class Migration(migrations.Migration):
    dependencies = [("booking", "0018_booking_customer_required")]

    operations = [migrations.RunPython(grant, revoke)]
