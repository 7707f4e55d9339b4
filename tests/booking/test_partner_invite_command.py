"""`manage.py partner_invite`: an operator invites a partner's owner the same way an owner invites
a colleague; the output says the email was sent and never shows the link; bad input is a
CommandError with nothing stored; running it again sends a new link; and partner deletion takes
a partner's invitations (and pseudonymises their events) with it."""

from __future__ import annotations

import io
import re
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import Client

from booking.deletion import partner_delete
from booking.models import Invitation, Partner
from booking.roles import PARTNER_OWNER, roles_ensure
from security.actors import Actor, Via
from security.models import SecurityEvent

pytestmark = pytest.mark.django_db

PASSWORD = "quiet-harbour-lantern-93"


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("partner_invite", *args, stdout=out)
    return out.getvalue()


def _link() -> str:
    match = re.search(r"/invitation/([^/\s]+)/", mail.outbox[-1].body)
    assert match
    return match.group(1)


def test_the_command_invites_an_owner_and_never_prints_the_link(partner: Partner) -> None:
    roles_ensure()
    output = _run(partner.slug, "Founder@Example.com")
    token = _link()
    assert "the email was sent" in output and "founder@example.com" in output
    assert "owner" in output and "Salon Alpha" in output
    assert token not in output and token.split(".", 1)[1] not in output
    invitation = Invitation.objects.get()
    assert invitation.role == "owner" and invitation.invited_by is None
    event = SecurityEvent.objects.get(event_type="invitation_sent")
    assert event.detail["via"] == "command" and event.detail["job"] == "partner_invite"

    client = Client()
    assert client.get(f"/invitation/{token}/").status_code == 302
    client.post("/invitation/", {"new_password1": PASSWORD, "new_password2": PASSWORD})
    user = get_user_model().objects.get(email="founder@example.com")
    assert user.membership.role == "owner" and user.membership.partner == partner
    assert list(user.groups.values_list("name", flat=True)) == [PARTNER_OWNER]


def test_running_it_again_sends_a_new_link_and_the_old_one_stops(partner: Partner) -> None:
    _run(partner.slug, "founder@example.com")
    first = _link()
    output = _run(partner.slug, "founder@example.com")
    assert "sent again" in output
    second = _link()
    assert first != second and Invitation.objects.count() == 1
    assert Client().get(f"/invitation/{first}/").status_code == 404
    assert Client().get(f"/invitation/{second}/").status_code == 302


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("no-such-partner", "a@example.com"), "No partner"),
        (("salon-alpha", "not-an-address"), "not a valid email"),
        (("salon-alpha", "a@example.com", "--role", "member"), None),
    ],
)
def test_bad_input_is_a_command_error_and_nothing_is_stored(
    partner: Partner, args: tuple[str, ...], message: str | None
) -> None:
    if message is None:  # a pending invitation with another role
        _run(partner.slug, "a@example.com")
        message = "pending invitation as owner"
    before = Invitation.objects.count()
    with pytest.raises(CommandError, match=message):
        _run(*args)
    assert Invitation.objects.count() == before


def test_a_mail_failure_is_a_command_error_and_the_link_never_worked(partner: Partner) -> None:
    with (
        mock.patch(
            "django.core.mail.backends.locmem.EmailBackend.send_messages",
            side_effect=OSError("refused"),
        ),
        pytest.raises(CommandError, match="could not be sent"),
    ):
        _run(partner.slug, "a@example.com")
    assert not mail.outbox
    # Running it again (mail fixed) sends a working link.
    _run(partner.slug, "a@example.com")
    assert Client().get(f"/invitation/{_link()}/").status_code == 302


def test_partner_deletion_deletes_its_invitations_and_pseudonymises_their_events(
    partner: Partner, other_partner: Partner
) -> None:
    _run(partner.slug, "gone@example.com")
    _run(other_partner.slug, "kept@example.com")
    partner_delete(
        partner=partner, actor=Actor.system("test", via=Via.COMMAND), reason="contract ended"
    )
    assert list(Invitation.objects.values_list("email", flat=True)) == ["kept@example.com"]
    texts = [
        f"{e.target} {e.detail}" for e in SecurityEvent.objects.filter(event_type="invitation_sent")
    ]
    assert not any("gone@example.com" in t for t in texts)
    assert any("kept@example.com" in t for t in texts)


def test_the_email_can_be_in_the_new_partners_language(partner: Partner) -> None:
    _run(partner.slug, "fondatrice@example.com", "--language", "it")
    assert mail.outbox[-1].subject == "Siete invitati a lavorare con Salon Alpha"
    with pytest.raises(CommandError):
        _run(partner.slug, "other@example.com", "--language", "xx")
