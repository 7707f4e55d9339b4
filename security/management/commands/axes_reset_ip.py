"""`manage.py axes_reset_ip ADDRESS [ADDRESS ...]`: lift the login lockout of addresses.

Overrides axes' command of the same name (security comes before axes in INSTALLED_APPS) to add
one `unlock` event per address to the security event log (C31)."""

from __future__ import annotations

import ipaddress
from typing import Any

from axes.utils import reset
from django.core.management.base import BaseCommand, CommandError, CommandParser

from security.events import SecurityEventType, record_event


class Command(BaseCommand):
    help = "Reset all failed login attempts and lockouts for the given IP addresses (logged)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("ip", nargs="+", type=str)

    def handle(self, *args: Any, **options: Any) -> None:
        addresses = options["ip"]
        for ip in addresses:
            try:
                ipaddress.ip_address(ip)
            except ValueError as exc:
                raise CommandError(f"{ip!r} is not an IP address.") from exc
        total = 0
        for ip in addresses:
            count = reset(ip=ip)
            total += count
            record_event(
                event_type=SecurityEventType.UNLOCK,
                target=ip,
                detail={"attempts_removed": count, "via": "axes_reset_ip"},
            )
            self.stdout.write(f"{ip}: {count} attempt{'s' if count != 1 else ''} removed.")
        if not total:
            self.stdout.write("No attempts found.")
