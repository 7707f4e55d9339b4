"""`manage.py partner_invite SLUG EMAIL [--role owner|member]`: invite a partner's first owner (or
anyone of its team) by email, through the same service as the owner's invitation page in the
admin, so that nobody ever emails a password.

The email is sent by this command itself, not queued, so its output says whether it went out.
The link is never printed: it is a way into the partner's workspace, and a terminal's
scrollback, a CI log or a shared screen are not where it belongs. When mail is not configured,
configure it and run the command again; for a pending invitation of the address, running it
again sends a new link (the older one stops working)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import CommandError, CommandParser
from django.core.validators import validate_email

from booking.invitations import invitation_create, invitation_email_send, invitation_resend
from booking.models import INVITATION_LIFETIME, Invitation, InvitationStatus, Partner
from security.actors import Actor, Via
from security.operator_output import OperatorCommand


class Command(OperatorCommand):
    help = (
        "Invite a person by email to a partner's workspace (by default as its owner): the email "
        "carries a single-use link valid for 72 hours to choose a password, then set up "
        "two-factor authentication. The link is never printed. Run it again for an address "
        "with a pending invitation to send a new link."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="The partner's slug (as in its booking page's address).")
        parser.add_argument("email", help="The person's email address.")
        parser.add_argument(
            "--role",
            choices=["owner", "member"],
            default="owner",
            help="owner (default) or member.",
        )
        parser.add_argument(
            "--language",
            choices=[code for code, _name in settings.LANGUAGES],
            default=settings.LANGUAGE_CODE,
            help=f"The email's language (default: {settings.LANGUAGE_CODE}).",
        )

    def handle(
        self, *args: Any, slug: str, email: str, role: str, language: str, **options: Any
    ) -> None:
        partner = Partner.objects.filter(slug=slug).first()
        if partner is None:
            raise CommandError(f"No partner with the slug {slug!r}.")
        email = email.strip().lower()
        try:
            validate_email(email)
        except ValidationError as exc:
            raise CommandError(f"{email!r} is not a valid email address.") from exc
        actor = Actor.system("partner_invite", via=Via.COMMAND)
        pending = Invitation.objects.filter(
            partner=partner, email__iexact=email, status=InvitationStatus.PENDING
        ).first()
        try:
            if pending is not None:
                if pending.role != role:
                    raise CommandError(
                        f"{email} has a pending invitation as {pending.role} of {partner.name}; "
                        "revoke it in the admin first to invite with another role."
                    )
                invitation_resend(invitation=pending, actor=actor, queue_email=False)
                invitation, what = pending, "Invitation sent again (the older link no longer works)"
            else:
                invitation = invitation_create(
                    partner=partner,
                    email=email,
                    role=role,
                    actor=actor,
                    language=language,
                    queue_email=False,
                )
                what = "Invitation created"
        except (ValidationError, PermissionDenied) as exc:
            messages = exc.messages if isinstance(exc, ValidationError) else ["not allowed"]
            raise CommandError(" ".join(messages)) from exc
        try:
            sent = invitation_email_send(invitation_id=invitation.pk)
        except OSError as exc:
            raise CommandError(
                f"{what} for {email} as {role} of {partner.name}, but the email could not be "
                f"sent ({type(exc).__name__}: {exc}). Check the mail settings, then run this "
                "command again to send a new link."
            ) from exc
        if not sent:
            raise CommandError("The invitation is no longer pending: nothing was sent.")
        hours = int(INVITATION_LIFETIME.total_seconds() // 3600)
        self.stdout.write(
            self.style.SUCCESS(
                f"{what} for {email} as {role} of {partner.name}: the email was sent; its link "
                f"works once, for {hours} hours."
            )
        )
