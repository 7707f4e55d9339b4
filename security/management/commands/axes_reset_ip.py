"""`manage.py axes_reset_ip ADDRESS [ADDRESS ...]`: lift the login lockout of addresses.

Overrides axes' command of the same name (security comes before axes in INSTALLED_APPS) to add
one `unlock` event per address to the security event log (C31), and to tell the operator what
there was to lift."""

from __future__ import annotations

import ipaddress
from typing import Any

from axes.models import AccessAttempt
from axes.utils import reset
from django.conf import settings
from django.core.management.base import CommandError, CommandParser
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from security.actors import Actor, Via
from security.client_ip import lockout_key
from security.events import SecurityEventType, record_event
from security.lockout import locked_until
from security.operator_output import OperatorCommand, add_json_argument, json_text


@transaction.atomic
def _unlock(ip: str) -> dict[str, Any]:
    """Removes the address's failed logins; says how many there were and whether they locked it.
    An IPv6 address unlocks its /64, which the lock counts as one (lockout_key)."""
    key = lockout_key(ip)
    failed = (
        AccessAttempt.objects.filter(ip_address=key).aggregate(n=Sum("failures_since_start"))["n"]
        or 0
    )
    was_locked = failed >= settings.AXES_FAILURE_LIMIT and locked_until(key) > timezone.now()
    reset(ip=key)
    result = {"ip": ip, "was_locked": was_locked, "failed_logins_removed": failed}
    record_event(
        event_type=SecurityEventType.UNLOCK,
        actor=Actor.system("axes_reset_ip", via=Via.COMMAND),
        target=ip,
        detail={"failed_logins_removed": failed, "was_locked": was_locked},
    )
    return result


def _sentence(result: dict[str, Any]) -> str:
    values = {"ip": result["ip"], "count": result["failed_logins_removed"]}
    if result["was_locked"]:
        return (
            ngettext(
                "%(ip)s: unlocked; %(count)d failed login removed.",
                "%(ip)s: unlocked; %(count)d failed logins removed.",
                values["count"],
            )
            % values
        )
    if values["count"]:
        return (
            ngettext(
                "%(ip)s: %(count)d failed login removed (it was not locked).",
                "%(ip)s: %(count)d failed logins removed (it was not locked).",
                values["count"],
            )
            % values
        )
    return _("%(ip)s: no failed logins recorded; nothing to unlock.") % values


class Command(OperatorCommand):
    help = gettext_lazy(
        "Lift the login lockout of the given IP addresses: remove their failed logins, so they "
        "can log in again at once. Each address is logged as an 'unlock' security event."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("ip", nargs="+", type=str, help=_("IPv4 or IPv6 addresses."))
        add_json_argument(
            parser,
            _(
                'one document {"addresses": [{"ip", "was_locked", "failed_logins_removed"}, ...]}, '
                "in the order given."
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        addresses = options["ip"]
        for ip in addresses:
            try:
                ipaddress.ip_address(ip)
            except ValueError as exc:
                raise CommandError(_("%(ip)r is not an IP address.") % {"ip": ip}) from exc
        results = [_unlock(ip) for ip in addresses]
        if options["json"]:
            self.stdout.write(json_text({"addresses": results}))
            return
        for result in results:
            self.stdout.write(_sentence(result))
