"""Invitations by email (booking.invitations, booking.views.invitation): the link works once, for
72 hours, for nobody already signed in; a forged, replaced, revoked or used link is refused with
a page (4xx, never 500) and a security event; the new account gets exactly the invited role of
the invited partner and must enrol MFA before the workspace answers; nothing usable is stored."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.test.utils import override_settings
from django_otp.plugins.otp_totp.models import TOTPDevice

from booking.invitations import invitation_create, invitation_resend, invitation_revoke
from booking.models import Invitation, InvitationStatus, Partner, PartnerMembership, StaffMember
from booking.roles import PARTNER_MEMBER, PARTNER_OWNER, roles_ensure
from security.actors import Actor, Via
from security.models import SecurityEvent
from tests.otp_login import login_verified, totp_code
from tests.staffing import person

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
PASSWORD = "quiet-harbour-lantern-93"
LINK = re.compile(r"https?://[^\s\"<>]+/invitation/([^/\s\"<>]+)/")


@pytest.fixture
def owner(partner: Partner) -> Any:
    roles_ensure()
    user = get_user_model().objects.create_user("owner@alpha.example", is_staff=True)
    user.groups.add(Group.objects.get(name=PARTNER_OWNER))
    PartnerMembership.objects.create(partner=partner, user=user, role="owner")
    return user


def _invite(
    partner: Partner,
    owner: Any,
    django_capture_on_commit_callbacks: Any,
    *,
    email: str = "new.stylist@example.com",
    role: str = "member",
    staff_member: StaffMember | None = None,
) -> tuple[Invitation, str]:
    """Invite through the service; the email goes out after commit (the task runs eagerly).
    Returns the invitation and the link's path, read from the email as the invitee would."""
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        invitation = invitation_create(
            partner=partner,
            email=email,
            role=role,
            staff_member=staff_member,
            actor=Actor.user(owner, via=Via.ADMIN),
        )
    return invitation, _link_in_last_email()


def _link_in_last_email() -> str:
    body = mail.outbox[-1].body
    match = LINK.search(body)
    assert match, body
    return f"/invitation/{match.group(1)}/"


def _events(event_type: str) -> list[SecurityEvent]:
    return list(SecurityEvent.objects.filter(event_type=event_type).order_by("pk"))


def _accept(client: Client, link: str, password: str = PASSWORD) -> Any:
    opened = client.get(link)
    assert opened.status_code == 302 and opened["Location"] == "/invitation/", opened
    return client.post("/invitation/", {"new_password1": password, "new_password2": password})


def test_the_email_carries_a_link_and_no_password_and_the_database_no_usable_secret(
    partner: Partner, owner: Any, django_capture_on_commit_callbacks: Any
) -> None:
    invitation, link = _invite(partner, owner, django_capture_on_commit_callbacks)
    message = mail.outbox[-1]
    assert message.to == ["new.stylist@example.com"]
    assert "Salon Alpha" in message.subject
    html = message.alternatives[0][0]
    assert link in message.body and link in html
    assert "password" not in message.subject.lower()
    assert "72 hours" in message.body
    invitation.refresh_from_db()
    secret = link.strip("/").split("/")[-1].split(".", 1)[1]
    # Neither the secret nor the token is stored anywhere in the row or the events.
    row = " ".join(
        str(v) for v in Invitation.objects.filter(pk=invitation.pk).values().get().values()
    )
    assert secret not in row and invitation.token_hash and invitation.token_hash != secret
    for event in SecurityEvent.objects.all():
        assert secret not in f"{event.target} {event.detail}"
    assert [e.target for e in _events("invitation_sent")] == [f"invitation:{invitation.pk}"]


def test_the_invitee_sets_a_password_enrols_mfa_and_gets_exactly_the_role(
    client: Client, partner: Partner, owner: Any, django_capture_on_commit_callbacks: Any
) -> None:
    stylist = person(partner, "Mira", order=1)
    invitation, link = _invite(
        partner, owner, django_capture_on_commit_callbacks, staff_member=stylist
    )
    page = client.get(link, follow=True)
    assert page.status_code == 200
    body = page.content.decode()
    assert "Salon Alpha" in body and "team member" in body and "Mira" in body
    assert link not in body  # the token left the address bar with the redirect

    response = client.post("/invitation/", {"new_password1": PASSWORD, "new_password2": PASSWORD})
    assert response.status_code == 302
    assert response["Location"].startswith("/account/mfa/enrol/")

    user = get_user_model().objects.get(email="new.stylist@example.com")
    assert user.is_staff and not user.is_superuser and user.check_password(PASSWORD)
    assert list(user.groups.values_list("name", flat=True)) == [PARTNER_MEMBER]
    assert user.membership.partner == partner and user.membership.role == "member"
    stylist.refresh_from_db()
    assert stylist.user == user
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.ACCEPTED and invitation.accepted_user == user

    # The workspace does not answer before MFA enrolment.
    admin_page = client.get("/admin/booking/booking/")
    assert admin_page.status_code == 302 and "/account/mfa/" in admin_page["Location"]

    # Through the existing enrolment: the QR page, then a code from the app.
    enrol = client.get(response["Location"])
    assert enrol.status_code == 200
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    done = client.post(response["Location"], {"code": totp_code(device)})
    assert done.status_code == 200 and TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    assert client.get("/admin/booking/booking/").status_code == 200
    # A member: no invitations, no staff changes.
    assert client.get("/admin/booking/invitation/").status_code == 403
    assert client.get("/admin/booking/staffmember/add/").status_code == 403
    assert [e.target for e in _events("invitation_accepted")] == [f"invitation:{invitation.pk}"]


def test_an_owner_invitation_gives_the_owner_role(
    client: Client, partner: Partner, owner: Any, django_capture_on_commit_callbacks: Any
) -> None:
    _invitation, link = _invite(
        partner, owner, django_capture_on_commit_callbacks, email="co@example.com", role="owner"
    )
    assert _accept(client, link).status_code == 302
    user = get_user_model().objects.get(email="co@example.com")
    assert list(user.groups.values_list("name", flat=True)) == [PARTNER_OWNER]
    assert user.membership.role == "owner" and user.membership.partner == partner
    client.logout()
    login_verified(client, user)
    assert client.get("/admin/booking/invitation/").status_code == 200


def test_a_link_works_once(
    client: Client, partner: Partner, owner: Any, django_capture_on_commit_callbacks: Any
) -> None:
    _invitation, link = _invite(partner, owner, django_capture_on_commit_callbacks)
    assert _accept(client, link).status_code == 302
    other = Client()
    again = other.get(link)
    assert again.status_code == 410
    assert "accepted already" in again.content.decode()
    assert get_user_model().objects.filter(email="new.stylist@example.com").count() == 1
    assert [e.detail["reason"] for e in _events("invitation_refused")] == ["used"]


def test_a_link_expires_after_72_hours(
    client: Client, partner: Partner, owner: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with time_machine.travel(NOW, tick=False):
        _invitation, link = _invite(partner, owner, django_capture_on_commit_callbacks)
    with time_machine.travel(NOW + timedelta(hours=71, minutes=59), tick=False):
        assert client.get(link).status_code == 302
    with time_machine.travel(NOW + timedelta(hours=72), tick=False):
        # Opened in time, but the password comes too late: refused too.
        late = client.post("/invitation/", {"new_password1": PASSWORD, "new_password2": PASSWORD})
        assert late.status_code == 410 and "expired" in late.content.decode()
        assert Client().get(link).status_code == 410
    assert not get_user_model().objects.filter(email="new.stylist@example.com").exists()


@pytest.mark.parametrize(
    "token",
    [
        "1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "not-a-token",
        "999999.q5W0rTmZ3m7c1o8hXbY2uJ6kP4sV9nL0aE_dF-gHiJk",
        "%00",
    ],
)
def test_a_forged_or_unknown_link_is_refused(
    client: Client,
    partner: Partner,
    owner: Any,
    django_capture_on_commit_callbacks: Any,
    token: str,
) -> None:
    invitation, _link = _invite(partner, owner, django_capture_on_commit_callbacks)
    forged = token.replace("1.", f"{invitation.pk}.", 1) if token.startswith("1.") else token
    response = client.get(f"/invitation/{forged}/")
    assert response.status_code == 404
    assert "not valid" in response.content.decode()
    assert client.get("/invitation/").status_code == 404  # nothing held in the session
    assert _events("invitation_refused")


def test_the_password_page_without_an_opened_link_is_refused(client: Client) -> None:
    response = client.post("/invitation/", {"new_password1": PASSWORD, "new_password2": PASSWORD})
    assert response.status_code == 404


def test_a_revoked_invitation_is_refused_even_after_opening(
    client: Client, partner: Partner, owner: Any, django_capture_on_commit_callbacks: Any
) -> None:
    invitation, link = _invite(partner, owner, django_capture_on_commit_callbacks)
    assert client.get(link).status_code == 302
    assert invitation_revoke(invitation=invitation, actor=Actor.user(owner))
    response = client.post("/invitation/", {"new_password1": PASSWORD, "new_password2": PASSWORD})
    assert response.status_code == 410 and "withdrawn" in response.content.decode()
    assert Client().get(link).status_code == 410
    assert not get_user_model().objects.filter(email="new.stylist@example.com").exists()
    assert len(_events("invitation_revoked")) == 1


def test_resending_makes_a_new_link_and_the_old_one_stops_working(
    client: Client, partner: Partner, owner: Any, django_capture_on_commit_callbacks: Any
) -> None:
    invitation, old = _invite(partner, owner, django_capture_on_commit_callbacks)
    assert client.get(old).status_code == 302  # opened, then the owner sends a new one
    with django_capture_on_commit_callbacks(execute=True):
        assert invitation_resend(invitation=invitation, actor=Actor.user(owner))
    new = _link_in_last_email()
    assert new != old
    stale = client.post("/invitation/", {"new_password1": PASSWORD, "new_password2": PASSWORD})
    assert stale.status_code == 404
    assert Client().get(old).status_code == 404
    assert _accept(Client(), new).status_code == 302


def test_someone_signed_in_cannot_use_a_link(
    client: Client, partner: Partner, owner: Any, django_capture_on_commit_callbacks: Any
) -> None:
    _invitation, link = _invite(partner, owner, django_capture_on_commit_callbacks)
    login_verified(client, owner)
    response = client.get(link)
    assert response.status_code == 403 and "Log out first" in response.content.decode()
    owner.refresh_from_db()
    assert owner.membership.role == "owner"
    assert not get_user_model().objects.filter(email="new.stylist@example.com").exists()
    # The link still works for its owner, in their own browser.
    assert _accept(Client(), link).status_code == 302


def test_an_address_with_an_account_is_refused_at_the_link(
    client: Client,
    partner: Partner,
    other_partner: Partner,
    owner: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    someone = get_user_model().objects.create_user("taken@example.com", PASSWORD, is_staff=True)
    PartnerMembership.objects.create(partner=other_partner, user=someone, role="owner")
    # The owner learns nothing about which addresses have accounts: the invitation goes out.
    _invitation, link = _invite(
        partner, owner, django_capture_on_commit_callbacks, email="Taken@Example.com"
    )
    response = client.get(link)
    assert response.status_code == 409 and "exists already" in response.content.decode()
    someone.refresh_from_db()
    assert someone.membership.partner == other_partner and someone.check_password(PASSWORD)


def test_weak_passwords_are_refused_by_the_project_validators(
    client: Client, partner: Partner, owner: Any, django_capture_on_commit_callbacks: Any
) -> None:
    _invitation, link = _invite(partner, owner, django_capture_on_commit_callbacks)
    for weak in ("short1", "password1234", "new.stylist@example.com", "12345678901234"):
        response = _accept(client, link, weak)
        assert response.status_code == 400, weak
    mismatch = client.post(
        "/invitation/", {"new_password1": PASSWORD, "new_password2": "x" + PASSWORD}
    )
    assert mismatch.status_code == 400
    assert not get_user_model().objects.filter(email="new.stylist@example.com").exists()


def test_only_owners_of_the_partner_may_invite(
    partner: Partner, other_partner: Partner, owner: Any
) -> None:
    member = get_user_model().objects.create_user("member@alpha.example", is_staff=True)
    PartnerMembership.objects.create(partner=partner, user=member, role="member")
    with pytest.raises(PermissionDenied):
        invitation_create(
            partner=partner, email="x@example.com", role="member", actor=Actor.user(member)
        )
    with pytest.raises(PermissionDenied):
        invitation_create(
            partner=other_partner, email="x@example.com", role="member", actor=Actor.user(owner)
        )
    with pytest.raises(PermissionDenied):
        invitation_create(
            partner=partner,
            email="x@example.com",
            role="member",
            actor=Actor.customer(via=Via.BOOKING_PAGE),
        )
    assert not Invitation.objects.exists()


def test_bad_invitations_are_refused_and_nothing_is_stored(
    partner: Partner, other_partner: Partner, owner: Any, django_capture_on_commit_callbacks: Any
) -> None:
    actor = Actor.user(owner)
    theirs = person(other_partner, "Theo")
    mine = person(partner, "Mira")
    for kwargs in (
        {"email": "not an address", "role": "member"},
        {"email": "a@example.com", "role": "superuser"},
        {"email": "a@example.com", "role": "member", "staff_member": theirs},
        {"email": "a@example.com", "role": "owner", "staff_member": mine},
    ):
        with pytest.raises(ValidationError):
            invitation_create(partner=partner, actor=actor, **kwargs)
    _invite(partner, owner, django_capture_on_commit_callbacks, email="dup@example.com")
    with pytest.raises(ValidationError):
        invitation_create(partner=partner, email="DUP@example.com", role="member", actor=actor)
    assert Invitation.objects.count() == 1


@override_settings(RATE_LIMITS={"invitation_email": {"rate": "2/h", "fail_open": False}})
def test_sending_is_rate_limited_per_partner(partner: Partner, owner: Any) -> None:
    actor = Actor.user(owner)
    first = invitation_create(partner=partner, email="a@example.com", role="member", actor=actor)
    assert invitation_resend(invitation=first, actor=actor)
    with pytest.raises(ValidationError):
        invitation_create(partner=partner, email="b@example.com", role="member", actor=actor)
    assert Invitation.objects.count() == 1


def test_an_expired_invitation_is_not_emailed(partner: Partner, owner: Any) -> None:
    from booking.invitations import invitation_email_send

    with time_machine.travel(NOW, tick=False):
        invitation = invitation_create(
            partner=partner, email="a@example.com", role="member", actor=Actor.user(owner)
        )
    with time_machine.travel(NOW + timedelta(hours=73), tick=False):
        assert invitation_email_send(invitation_id=invitation.pk) is False
    assert not mail.outbox


def test_a_second_invitation_racing_past_the_check_is_refused_by_the_database(
    partner: Partner, owner: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    actor = Actor.user(owner)
    invitation_create(partner=partner, email="race@example.com", role="member", actor=actor)
    # The concurrent request checked before the first one's row existed: only the constraint
    # is left to judge.
    monkeypatch.setattr(Invitation, "validate_constraints", lambda self, exclude=None: None)
    with pytest.raises(ValidationError) as refused:
        invitation_create(partner=partner, email="RACE@example.com", role="member", actor=actor)
    assert "pending invitation" in str(refused.value)
    assert Invitation.objects.count() == 1


def test_the_secret_reaches_no_log_line(
    client: Client,
    partner: Partner,
    owner: Any,
    django_capture_on_commit_callbacks: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Every record written while inviting, opening, refusing and accepting, as the project's
    formatters write it (the JSON lines of the servers, the console lines of commands)."""
    from security.logging import ConsoleFormatter, JsonFormatter

    caplog.set_level(logging.DEBUG)
    invitation, link = _invite(partner, owner, django_capture_on_commit_callbacks)
    secret = link.strip("/").split(".", 1)[1]
    assert _accept(client, link).status_code == 302
    assert Client().get(link).status_code == 410  # Django logs "Gone: <path>"
    assert Client().get(link.replace(secret[:5], "AAAAA")).status_code == 404
    assert caplog.records
    for record in caplog.records:
        for formatter in (JsonFormatter(), ConsoleFormatter()):
            assert secret not in formatter.format(record), record.name
    # The test sees what it guards: the raw request lines do carry the path, token included.
    assert any(secret in r.getMessage() for r in caplog.records)
