"""Anonymous public requests never touch the session: their answers carry no `Vary: Cookie` and
set no cookie, so a shared cache in front may serve them to everyone. A logged-in staff user's
requests still go through the session limits and the MFA check."""

from __future__ import annotations

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.test import Client

from booking.models import Partner, Service
from security.mfa import mfa_step_url
from tests.otp_login import login_verified

pytestmark = pytest.mark.django_db


def _public_paths(partner: Partner, service: Service) -> list[str]:
    return [
        f"/book/{partner.slug}/",
        f"/book/{partner.slug}/{service.slug}/",
        f"/book/{partner.slug}/{service.slug}/?week=2031-03-03&tz=Europe/Zurich",
        f"/api/v1/partners/{partner.slug}/services/{service.slug}/slots"
        "?start=2031-03-03&end=2031-03-09&tz=Europe/Zurich",
        "/healthz",
    ]


def _varies_on_cookie(response) -> bool:
    vary = [v.strip().lower() for v in response.headers.get("Vary", "").split(",")]
    return "cookie" in vary


def test_anonymous_public_answers_do_not_vary_on_cookie_and_set_none(
    client: Client, partner: Partner, service: Service
) -> None:
    for path in _public_paths(partner, service):
        with time_machine.travel("2031-03-01 08:00:00Z", tick=False):
            response = client.get(path)
        assert response.status_code == 200, path
        assert not _varies_on_cookie(response), (path, response.headers.get("Vary"))
        assert not response.cookies, (path, list(response.cookies))


def test_a_logged_in_staff_user_still_meets_the_session_and_mfa_checks(
    partner: Partner, service: Service
) -> None:
    staff = get_user_model().objects.create_user(
        "staff@example.com", "a long staff passphrase 2026", is_staff=True
    )
    verified = Client()
    login_verified(verified, staff)
    # The session is read (the limits keep running): the answer depends on the cookie.
    page = verified.get(f"/book/{partner.slug}/")
    assert page.status_code == 200
    assert _varies_on_cookie(page)
    # A staff session without the second factor still reaches no admin page.
    unverified = Client()
    unverified.force_login(staff)
    admin = unverified.get("/admin/")
    assert admin.status_code == 302
    assert admin["Location"] == mfa_step_url("/admin/")
