"""C13, as the attacker who has the password but not the second factor: after the password step,
no admin URL shows data or changes anything (GET, POST, actions, autocomplete, custom views);
each sends the session to the MFA step. The admin site refuses such a session on its own too,
the login hands over to the MFA step without a loop, and logout still works."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.test import Client, override_settings

from booking.models import Booking, Partner
from tests.booking.admin_world import A_ALL, B_ALL, build_world
from tests.otp_login import login_verified, mfa_device, password_login

pytestmark = pytest.mark.django_db
PASSWORD = "a long operator passphrase 2026"
VERIFY = "/account/mfa/verify/"


@pytest.fixture
def world():
    world = build_world()
    world.superuser.set_password(PASSWORD)
    world.superuser.save()
    mfa_device(world.superuser)
    return world


@pytest.fixture
def attacker(world) -> Client:
    """The superuser's password, no second factor: the password step done for real."""
    client = Client()
    assert password_login(client, world.superuser.email, PASSWORD).status_code == 302
    return client


def _admin_urls(world) -> list[str]:
    a, booking = world.a, world.a_booking
    user = world.owner.pk
    return [
        "/admin/",
        "/admin/booking/booking/",
        "/admin/booking/booking/?q=cust",
        f"/admin/booking/booking/{booking.pk}/change/",
        f"/admin/booking/booking/{booking.pk}/history/",
        f"/admin/booking/booking/{booking.pk}/delete/",
        f"/admin/booking/booking/{booking.pk}/cancel/",
        f"/admin/booking/booking/{booking.pk}/reschedule/",
        "/admin/booking/booking/add/",
        "/admin/booking/booking/export/",
        f"/admin/booking/booking/calendar/?partner={a.pk}&week={booking.start.date()}",
        "/admin/autocomplete/?app_label=booking&model_name=booking&field_name=service",
        "/admin/booking/partner/",
        f"/admin/booking/partner/{a.pk}/change/",
        "/admin/booking/service/",
        "/admin/booking/supportgrant/",
        "/admin/accounts/user/",
        f"/admin/accounts/user/{user}/change/",
        f"/admin/accounts/user/{user}/password/",
        "/admin/otp_totp/totpdevice/",
        "/admin/security/securityevent/",
        "/admin/axes/accessattempt/",
        "/admin/password_change/",
        "/admin/jsi18n/",
        "/admin/booking/",
    ]


def test_every_admin_page_sends_the_password_only_session_to_the_mfa_step(world, attacker) -> None:
    for url in _admin_urls(world):
        response = attacker.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(f"{VERIFY}?next="), url
        leaked = [s for s in (*A_ALL, *B_ALL) if s in response.content.decode()]
        assert not leaked, f"{url} shows {leaked}"


def test_api_clients_get_401_json(world, attacker) -> None:
    response = attacker.get(
        "/admin/autocomplete/?app_label=booking&model_name=booking&field_name=service&term=Quill",
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 401
    assert response.json()["error"] == "mfa_required" and response.json()["mfa_url"].startswith(
        VERIFY
    )


def test_posts_change_nothing(world, attacker) -> None:
    a, booking = world.a, world.a_booking
    users_before = get_user_model().objects.count()
    for url, data in (
        (
            "/admin/booking/booking/",
            {"action": "delete_selected", "_selected_action": [booking.pk], "post": "yes"},
        ),
        (f"/admin/booking/booking/{booking.pk}/delete/", {"post": "yes"}),
        (f"/admin/booking/booking/{booking.pk}/cancel/", {"reason": "hijacked"}),
        (
            f"/admin/booking/partner/{a.pk}/change/",
            {"name": "Hijacked", "slug": a.slug, "time_zone": "UTC"},
        ),
        (
            "/admin/accounts/user/add/",
            {"email": "evil@example.com", "password1": "x" * 20, "password2": "x" * 20},
        ),
        (
            "/admin/password_change/",
            {"old_password": PASSWORD, "new_password1": "n" * 20, "new_password2": "n" * 20},
        ),
        (
            f"/admin/accounts/user/{world.owner.pk}/password/",
            {"password1": "o" * 20, "password2": "o" * 20},
        ),
    ):
        response = attacker.post(url, data)
        assert (
            response.status_code == 302
            and response["Location"] == f"{VERIFY}?next={url.replace('/', '%2F')}"
        ), url
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    assert Partner.objects.get(pk=a.pk).name == a.name
    assert get_user_model().objects.count() == users_before
    world.superuser.refresh_from_db()
    assert world.superuser.check_password(PASSWORD)


def test_the_admin_site_refuses_on_its_own(world, attacker) -> None:
    """Layer 2: without the middleware, the admin's own permission check still refuses."""
    middleware = [
        m for m in django_settings.MIDDLEWARE if m != "security.mfa.MFARequiredMiddleware"
    ]
    with override_settings(MIDDLEWARE=middleware):
        for url in _admin_urls(world):
            response = attacker.get(url, follow=True)
            leaked = [s for s in (*A_ALL, *B_ALL) if s in response.content.decode()]
            assert not leaked, f"{url} shows {leaked}"
            assert response.redirect_chain, url
            assert response.redirect_chain[-1][0].startswith(VERIFY), url


def test_the_admin_login_hands_over_without_a_loop(world, attacker) -> None:
    response = attacker.get("/admin/login/?next=/admin/booking/booking/", follow=True)
    assert [url for url, _ in response.redirect_chain] == [
        f"{VERIFY}?next=%2Fadmin%2Fbooking%2Fbooking%2F"
    ]
    assert response.status_code == 200 and 'name="code"' in response.content.decode()


def test_logging_in_again_as_someone_else_is_possible_from_the_mfa_step(world, attacker) -> None:
    world.owner.set_password(PASSWORD)
    world.owner.save()
    response = password_login(attacker, world.owner.email, PASSWORD)
    assert response.status_code == 302 and response["Location"].startswith(VERIFY)
    assert attacker.session["_auth_user_id"] == str(world.owner.pk)


def test_logout_at_the_mfa_step_ends_the_session(world, attacker) -> None:
    key = attacker.session.session_key

    response = attacker.post("/admin/logout/")

    assert response.status_code == 200
    assert not Session.objects.filter(session_key=key).exists()
    assert attacker.get(VERIFY)["Location"].startswith("/admin/login/")


def test_a_verified_session_gets_in(world) -> None:
    client = Client()
    login_verified(client, world.superuser)
    assert client.get(f"/admin/booking/booking/{world.a_booking.pk}/change/").status_code == 200


def test_users_who_are_not_staff_are_unaffected(world) -> None:
    client = Client()
    client.force_login(get_user_model().objects.create_user("customer@example.com", PASSWORD))
    assert client.get(f"/book/{world.a.slug}/").status_code == 200
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
