"""One invitation, many hands at once (PostgreSQL, real concurrency): the same link's password
posted from several tabs creates exactly one account, and a revocation racing an acceptance
leaves either an accepted invitation with its account or a revoked one without."""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, connections
from django.utils import timezone

from booking.invitations import (
    Held,
    InvitationRefused,
    invitation_accept,
    invitation_email_send,
    invitation_revoke,
)
from booking.models import (
    INVITATION_LIFETIME,
    Invitation,
    InvitationStatus,
    Partner,
    PartnerMembership,
)
from booking.roles import roles_ensure
from security.actors import Actor, Via

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PASSWORD = "quiet-harbour-lantern-93"


def _race(calls: list[Callable[[], object]]) -> list[str]:
    barrier = threading.Barrier(len(calls), timeout=30)
    results = ["did not run"] * len(calls)

    def run(index: int, call: Callable[[], object]) -> None:
        try:
            connection.ensure_connection()
            barrier.wait()
            call()
            results[index] = "ok"
        except InvitationRefused as refused:
            results[index] = refused.reason.value
        except Exception as exc:
            results[index] = f"error {exc!r}"
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def _held(partner: Partner) -> tuple[Invitation, Held]:
    roles_ensure()
    invitation = Invitation.objects.create(
        partner=partner,
        email="racer@example.com",
        role="member",
        expires_at=timezone.now() + INVITATION_LIFETIME,
    )
    assert invitation_email_send(invitation_id=invitation.pk)
    invitation.refresh_from_db()
    return invitation, Held(invitation_id=invitation.pk, token_hash=invitation.token_hash)


def test_the_same_link_posted_from_many_tabs_creates_one_account(partner: Partner) -> None:
    _invitation, held = _held(partner)
    results = _race(
        [lambda: invitation_accept(held=held, password=PASSWORD, ip="") for _ in range(8)]
    )
    assert sorted(results) == ["ok"] + ["used"] * 7, results
    assert get_user_model().objects.filter(email="racer@example.com").count() == 1
    assert PartnerMembership.objects.filter(partner=partner).count() == 1


def test_a_revocation_racing_an_acceptance_leaves_one_consistent_outcome(partner: Partner) -> None:
    owner = get_user_model().objects.create_user("owner@alpha.example", is_staff=True)
    PartnerMembership.objects.create(partner=partner, user=owner, role="owner")
    for round_ in range(5):
        Invitation.objects.all().delete()
        get_user_model().objects.filter(email="racer@example.com").delete()
        invitation, held = _held(partner)
        _race(
            [
                partial(invitation_accept, held=held, password=PASSWORD, ip=""),
                partial(
                    invitation_revoke, invitation=invitation, actor=Actor.user(owner, via=Via.ADMIN)
                ),
            ]
        )
        invitation.refresh_from_db()
        account = get_user_model().objects.filter(email="racer@example.com").exists()
        if invitation.status == InvitationStatus.ACCEPTED:
            assert account, round_
        else:
            assert invitation.status == InvitationStatus.REVOKED and not account, round_
