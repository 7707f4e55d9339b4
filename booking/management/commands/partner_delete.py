"""`manage.py partner_delete SLUG`: delete a partner account and all its data (C25), through the
same service as the owner's deletion page in the admin."""

from __future__ import annotations

import sys
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError, CommandParser

from booking.deletion import partner_delete, partner_deletion_preview_for
from booking.models import Partner
from security.actors import Actor, Via
from security.operator_output import OperatorCommand, utc_text


class Command(OperatorCommand):
    help = (
        "Delete a partner account and everything it owns (C25): future bookings are cancelled "
        "(customers emailed, paid ones refunded), then services, staff, resources, hours, "
        "customers, bookings, support grants and the partner's users go; security events are "
        "kept with pseudonyms. Shows what will go and asks to confirm; --yes without a terminal."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="The partner's slug (as in its booking page's address).")
        parser.add_argument("--reason", required=True, help="Why (kept in the security event log).")
        parser.add_argument("--yes", action="store_true", help="Do not ask for confirmation.")

    def handle(self, *args: Any, slug: str, reason: str, yes: bool, **options: Any) -> None:
        partner = Partner.objects.filter(slug=slug).first()
        if partner is None:
            raise CommandError(f"No partner with the slug {slug!r}.")
        if not reason.strip():
            raise CommandError("Give a reason (--reason).")
        if not yes and not sys.stdin.isatty():
            raise CommandError(
                "Refusing to delete without confirmation: no terminal to ask on; pass --yes."
            )
        preview = partner_deletion_preview_for(partner=partner)
        counts = ", ".join(f"{n} {what}" for what, n in preview.counts.items())
        self.stdout.write(f"Partner: {partner.name} ({partner.slug})")
        self.stdout.write(f"Will be deleted: {counts}.")
        self.stdout.write(
            f"Future bookings cancelled: {preview.future_bookings}, of which refunded: "
            f"{preview.refunds}."
        )
        self.stdout.write(
            f"Users deleted: {', '.join(preview.users) if preview.users else 'none'}."
        )
        self.stdout.write(
            f"Backups keep the data until {utc_text(preview.backups_hold_until)} at most."
        )
        if not yes:
            try:
                typed = input(f"Type the partner's slug ({partner.slug}) to delete it: ")
            except EOFError:  # Ctrl-D: a no
                typed = ""
            if typed.strip() != partner.slug:
                raise CommandError("Not confirmed: nothing was deleted.")
        try:
            summary = partner_delete(
                partner=partner,
                actor=Actor.system("partner_delete", via=Via.COMMAND),
                reason=reason,
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Deleted {summary.partner_name}: {summary.cancelled} future bookings cancelled "
                f"({summary.customers_told} customers emailed), {summary.users_deleted} users "
                f"deleted, {summary.events_pseudonymised} security events pseudonymised."
            )
        )
        if summary.legacy_events_kept:
            self.stdout.write(
                self.style.WARNING(
                    f"{summary.legacy_events_kept} security events of hash format 1 were kept as "
                    "they are: the event log did not verify when it was to be re-sealed "
                    "(security_events --verify names the problem)."
                )
            )
