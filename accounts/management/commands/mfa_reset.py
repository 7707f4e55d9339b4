"""`manage.py mfa_reset EMAIL [--reason TEXT]`: remove a user's MFA devices (authenticator app
and backup codes), e.g. after a lost phone. Logged as an mfa_reset security event (C31); the
user's sessions that had passed MFA end, and the user sets MFA up again at the next login.
Check the person's identity out of band first: until they enrol again, their password alone
leads to the enrolment page."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.services import mfa_reset


class Command(BaseCommand):
    help = "Remove a user's MFA devices; they enrol again at their next login (logged)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email", help="The user's email address (login name).")
        parser.add_argument(
            "--reason", default="", help="Why, for the security event log (e.g. a ticket number)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        User = get_user_model()
        try:
            user = User._default_manager.get_by_natural_key(options["email"])
        except User.DoesNotExist as exc:
            raise CommandError(f"No user with the email address {options['email']!r}.") from exc
        removed = mfa_reset(user=user, reason=options["reason"])
        if removed:
            self.stdout.write(
                f"{user.get_username()}: {removed} MFA device{'s' if removed != 1 else ''} removed; they set up MFA again at their next login."
            )
        else:
            self.stdout.write(
                f"{user.get_username()}: had no MFA device; nothing removed (logged anyway)."
            )
