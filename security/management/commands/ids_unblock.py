"""`manage.py ids_unblock ADDRESS [ADDRESS ...]`: lift intrusion-detection blocks (C32)."""

from __future__ import annotations

import ipaddress
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from security.actors import Actor, Via
from security.events import SecurityEventType, record_event
from security.ids import unblock
from security.operator_output import OperatorCommand, add_json_argument, json_text


class Command(OperatorCommand):
    help = gettext_lazy(
        "Lift the intrusion-detection block of the given addresses (an IPv6 address lifts its "
        "/64) and reset their score. Each is logged as an 'ids_unblock' security event."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("ip", nargs="+", help=_("IPv4 or IPv6 addresses."))
        add_json_argument(
            parser, _('one document {"clients": [{"ip", "client", "was_blocked"}, ...]}.')
        )

    def handle(self, *args: Any, **options: Any) -> None:
        for ip in options["ip"]:
            try:
                ipaddress.ip_address(ip)
            except ValueError as exc:
                raise CommandError(_("%(ip)r is not an IP address.") % {"ip": ip}) from exc
        results = []
        for ip in options["ip"]:
            key, was_blocked = unblock(ip)
            record_event(
                event_type=SecurityEventType.IDS_UNBLOCK,
                actor=Actor.system("ids_unblock", via=Via.COMMAND),
                target=key,
                detail={"ip": ip, "was_blocked": was_blocked},
            )
            results.append({"ip": ip, "client": key, "was_blocked": was_blocked})
        if options["json"]:
            self.stdout.write(json_text({"clients": results}))
            return
        for result in results:
            if result["was_blocked"]:
                line = _("%(ip)s: unblocked (client %(client)s).")
            else:
                line = _("%(ip)s: was not blocked (client %(client)s); its score is reset.")
            self.stdout.write(line % result)
