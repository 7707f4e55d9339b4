"""`manage.py mfa_reset EMAIL [--reason TEXT]`: remove a user's MFA devices (authenticator app
and backup codes), e.g. after a lost phone. Logged as an mfa_reset security event (C31); the
user's sessions that had passed MFA end, and the user sets MFA up again at the next login.
Check the person's identity out of band first: until they enrol again, their password alone
leads to the enrolment page."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts.services import mfa_reset
from security.operator_output import OperatorCommand, add_json_argument, json_text


class Command(OperatorCommand):
    help = gettext_lazy(
        "Remove a user's MFA devices (authenticator app and backup codes); their sessions that "
        "had passed MFA end and they set up MFA again at their next login. Check the person's "
        "identity first. Logged as an mfa_reset security event."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email", help=_("The user's email address (login name)."))
        parser.add_argument(
            "--reason",
            default="",
            help=_("Why, for the security event log (e.g. a ticket number)."),
        )
        add_json_argument(parser, _('one document {"email", "devices_removed", "reason"}.'))

    def handle(self, *args: Any, **options: Any) -> None:
        User = get_user_model()
        try:
            user = User._default_manager.get_by_natural_key(options["email"])
        except User.DoesNotExist as exc:
            raise CommandError(
                _("No user with the email address %(email)r.") % {"email": options["email"]}
            ) from exc
        removed = mfa_reset(user=user, reason=options["reason"])
        email = user.get_username()
        if options["json"]:
            self.stdout.write(
                json_text({"email": email, "devices_removed": removed, "reason": options["reason"]})
            )
            return
        if removed:
            self.stdout.write(
                ngettext(
                    "%(email)s: %(count)d MFA device removed; they set up MFA again at their "
                    "next login.",
                    "%(email)s: %(count)d MFA devices removed; they set up MFA again at their "
                    "next login.",
                    removed,
                )
                % {"email": email, "count": removed}
            )
        else:
            self.stdout.write(
                _("%(email)s: had no MFA device; nothing removed.") % {"email": email}
            )
        self.stdout.write(_("Logged as an mfa_reset security event."))
