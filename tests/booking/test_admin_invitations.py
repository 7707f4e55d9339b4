"""The invitation pages of the workspace: an owner invites, sees the pending invitations, revokes
and re-sends them; a member cannot invite; another partner's invitations are out of reach."""

from __future__ import annotations

import re

import pytest
from admin_world import A_INVITEE, B_INVITEE, World, build_world
from django.core import mail
from django.test import Client

from booking.models import Invitation, InvitationStatus
from security.models import SecurityEvent
from tests.otp_login import login_verified
from tests.staffing import person

pytestmark = pytest.mark.django_db

URL = "/admin/booking/invitation/"


@pytest.fixture
def world() -> World:
    return build_world()


def test_the_owner_sees_their_pending_invitations_only(client: Client, world: World) -> None:
    login_verified(client, world.owner)
    body = client.get(URL).content.decode()
    assert A_INVITEE in body and B_INVITEE not in body


def test_the_owner_invites_from_the_admin_and_the_email_goes_out_after_commit(
    client: Client, world: World, django_capture_on_commit_callbacks
) -> None:
    login_verified(client, world.owner)
    mira = person(world.a, "Mira Newcomer", order=5)
    assert "Mira Newcomer" in client.get(f"{URL}add/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"{URL}add/",
            {"email": "Mira@Example.com", "role": "member", "staff_member": mira.pk},
        )
    assert response.status_code == 302 and response["Location"] == URL
    invitation = Invitation.objects.get(email="mira@example.com")
    assert invitation.partner == world.a and invitation.staff_member == mira
    assert invitation.invited_by == world.owner
    assert [m.to for m in mail.outbox] == [["mira@example.com"]]
    assert "/invitation/" in mail.outbox[0].body
    event = SecurityEvent.objects.get(event_type="invitation_sent")
    assert event.actor == world.owner and event.target == f"invitation:{invitation.pk}"


def test_the_owner_cannot_pick_another_partners_staff_member(client: Client, world: World) -> None:
    login_verified(client, world.owner)
    response = client.post(
        f"{URL}add/", {"email": "x@example.com", "role": "member", "staff_member": world.b_staff.pk}
    )
    assert response.status_code == 400
    assert not Invitation.objects.filter(email="x@example.com").exists()


@pytest.mark.parametrize(
    "data",
    [
        {"email": "not an address", "role": "member"},
        {"email": "x@example.com", "role": "superuser"},
        {"email": A_INVITEE, "role": "member"},  # pending already
        {"email": "x@example.com", "role": "owner", "staff_member": "STAFF"},
    ],
)
def test_bad_invitations_are_form_errors(client: Client, world: World, data: dict) -> None:
    login_verified(client, world.owner)
    if data.get("staff_member") == "STAFF":
        data = {**data, "staff_member": person(world.a, "Solo", order=9).pk}
    before = Invitation.objects.count()
    response = client.post(f"{URL}add/", data)
    assert response.status_code == 400
    assert Invitation.objects.count() == before


def test_a_partner_user_cannot_invite_into_another_partner(client: Client, world: World) -> None:
    login_verified(client, world.owner)
    response = client.post(
        f"{URL}add/", {"email": "x@example.com", "role": "owner", "partner": world.b.pk}
    )
    assert response.status_code == 302
    assert Invitation.objects.get(email="x@example.com").partner == world.a


@pytest.mark.parametrize("role", ["member_b", "stylist_a", "support"])
def test_non_owners_cannot_invite_revoke_or_resend(client: Client, world: World, role: str) -> None:
    login_verified(client, world.user(role))
    assert client.post(f"{URL}add/", {"email": "x@example.com", "role": "owner"}).status_code == 403
    for action in ("revoke_selected", "resend_selected"):
        response = client.post(
            URL,
            {"action": action, "_selected_action": [world.a_invitation.pk, world.b_invitation.pk]},
        )
        assert response.status_code == 403
    assert not Invitation.objects.filter(email="x@example.com").exists()
    assert set(Invitation.objects.values_list("status", flat=True)) == {InvitationStatus.PENDING}


def test_the_owner_revokes_their_own_invitation_and_never_another_partners(
    client: Client, world: World
) -> None:
    login_verified(client, world.owner)
    client.post(
        URL,
        {
            "action": "revoke_selected",
            "_selected_action": [world.a_invitation.pk, world.b_invitation.pk],
        },
    )
    world.a_invitation.refresh_from_db()
    world.b_invitation.refresh_from_db()
    assert world.a_invitation.status == InvitationStatus.REVOKED
    assert world.b_invitation.status == InvitationStatus.PENDING
    assert SecurityEvent.objects.filter(event_type="invitation_revoked").count() == 1


def test_the_owner_resends_with_a_new_link(
    client: Client, world: World, django_capture_on_commit_callbacks
) -> None:
    login_verified(client, world.owner)
    links = []
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            client.post(
                URL, {"action": "resend_selected", "_selected_action": [world.a_invitation.pk]}
            )
        links.append(re.search(r"/invitation/(\S+)/", mail.outbox[-1].body).group(1))
    assert links[0] != links[1]
    assert Client().get(f"/invitation/{links[0]}/").status_code == 404
    assert Client().get(f"/invitation/{links[1]}/").status_code == 302


def test_an_invitation_is_never_edited_or_deleted(client: Client, world: World) -> None:
    login_verified(client, world.owner)
    url = f"{URL}{world.a_invitation.pk}/change/"
    client.post(url, {"email": "hijack@example.com", "role": "owner"})
    world.a_invitation.refresh_from_db()
    assert world.a_invitation.email == A_INVITEE and world.a_invitation.role == "member"
    assert client.post(f"{URL}{world.a_invitation.pk}/delete/", {"post": "yes"}).status_code == 403


def test_the_email_is_in_the_inviters_language_also_when_sent_again(
    client: Client, world: World, django_capture_on_commit_callbacks
) -> None:
    login_verified(client, world.owner)
    client.cookies["language"] = "de"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"{URL}add/", {"email": "lena@example.com", "role": "owner"})
    assert mail.outbox[-1].subject == "Sie sind eingeladen, mit Zephyrine Atelier zu arbeiten"
    assert "Inhaberin/Inhaber" in mail.outbox[-1].body
    client.cookies["language"] = "fr"
    invitation = Invitation.objects.get(email="lena@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(URL, {"action": "resend_selected", "_selected_action": [invitation.pk]})
    assert mail.outbox[-1].subject.startswith("Sie sind eingeladen")
