"""The admin roles as Django groups with model permissions (C15).

Which partner a user works for comes from `PartnerMembership`, never from a group; the groups
say what a role may do with the rows its scope lets it see (booking/admin/scoping.py):

- Partner owner: the partner profile and hours, services, overrides, bookings, support grants,
  staff members (their hours, absences and services) and resources.
- Partner member: services, overrides and bookings; reads the profile and hours, the staff and
  the resources. A member who is a staff member's login sees that person's bookings only
  (booking/admin/scoping.py).
- Support (platform staff, no membership): reads every partner's data, customer data masked
  unless the partner granted access (SupportGrant).

All three read the partner's customer list (customer data masked for support as elsewhere);
the owner also exports or anonymises a customer (change_customer).

The owner also invites people (booking/invitations.py), as an owner or a member.

The data migration booking/0005 creates these groups (0012 adds staff and resources, 0030
invitations, 0032 closures); `roles_ensure` re-creates them after a
test database flush and for demo data. tests/booking/test_roles.py keeps the two in step.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps as global_apps
from django.db import transaction

PARTNER_OWNER = "Partner owner"
PARTNER_MEMBER = "Partner member"
SUPPORT = "Support"

_ALL = ("view", "add", "change", "delete")
# Staff members and resources with what hangs on them (managed on their admin pages as inlines).
STAFF_MODELS = (
    "staffmember",
    "staffhours",
    "staffabsence",
    "servicestaff",
    "resource",
    "resourceabsence",
)

ROLE_PERMISSIONS: dict[str, dict[str, tuple[str, ...]]] = {
    PARTNER_OWNER: {
        "partner": ("view", "change"),
        "openinghours": _ALL,
        "service": _ALL,
        "servicetranslation": _ALL,
        "dateoverride": _ALL,
        "dateoverriderange": _ALL,
        # Closures cancel or keep bookings on the owner's choice: the owner's decision.
        "closure": ("view", "add", "change", "delete"),
        "booking": ("view", "add", "change"),
        "supportgrant": ("view", "add", "change"),
        **dict.fromkeys(STAFF_MODELS, _ALL),
        # change: export or anonymise a customer (booking/admin/customers.py), never edit one.
        "customer": ("view", "change"),
        # Invite people by email; change: revoke or re-send (never edit) an invitation.
        "invitation": ("view", "add", "change"),
    },
    PARTNER_MEMBER: {
        "partner": ("view",),
        "openinghours": ("view",),
        "service": _ALL,
        "servicetranslation": _ALL,
        "dateoverride": _ALL,
        "dateoverriderange": _ALL,
        "closure": ("view",),
        "booking": ("view", "add", "change"),
        **dict.fromkeys(STAFF_MODELS, ("view",)),
        "customer": ("view",),
    },
    SUPPORT: {
        "partner": ("view",),
        "openinghours": ("view",),
        "service": ("view",),
        "servicetranslation": ("view",),
        "dateoverride": ("view",),
        "dateoverriderange": ("view",),
        "closure": ("view",),
        "booking": ("view",),
        "supportgrant": ("view",),
        **dict.fromkeys(STAFF_MODELS, ("view",)),
        "customer": ("view",),
    },
}


def roles_sync(
    *, apps: Any = global_apps, definition: dict[str, dict[str, tuple[str, ...]]] = ROLE_PERMISSIONS
) -> None:
    """Make each group hold exactly the permissions of `definition` (booking app models)."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, models in definition.items():
        wanted = {f"{action}_{model}" for model, actions in models.items() for action in actions}
        perms = list(
            Permission.objects.filter(content_type__app_label="booking", codename__in=wanted)
        )
        missing = wanted - {p.codename for p in perms}
        if missing:
            raise LookupError(
                f"Permissions missing for role {name!r}: {sorted(missing)} (run migrate)."
            )
        group, _ = Group.objects.get_or_create(name=name)
        if set(group.permissions.values_list("pk", flat=True)) != {p.pk for p in perms}:
            group.permissions.set(perms)


def roles_sync_in_migration(
    *, apps: Any, definition: dict[str, dict[str, tuple[str, ...]]]
) -> None:
    """roles_sync for a data migration: Django creates a model's permissions only after migrate
    (post_migrate), and the migration needs them now."""
    from django.contrib.auth.management import create_permissions

    booking = apps.get_app_config("booking")
    booking.models_module = True  # only tested for truth there
    create_permissions(booking, verbosity=0, apps=apps)
    booking.models_module = None
    roles_sync(apps=apps, definition=definition)


# The group of each PartnerMembership role: what an invited person is given on acceptance.
MEMBERSHIP_GROUPS: dict[str, str] = {"owner": PARTNER_OWNER, "member": PARTNER_MEMBER}


@transaction.atomic
def roles_ensure() -> None:
    roles_sync()
