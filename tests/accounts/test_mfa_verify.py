"""The MFA step (C13): after the password, a staff user passes a TOTP code or a backup code before
the admin answers. A code works once; wrong codes are refused with a form error and logged."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import services
from security.models import SecurityEvent
from tests.accounts.mfa_pages import EMAIL, PASSWORD, VERIFY
from tests.otp_login import mfa_device, password_login, totp_code

pytestmark = pytest.mark.django_db


def _events(event_type: str) -> list[SecurityEvent]:
    return list(SecurityEvent.objects.filter(event_type=event_type).order_by("id"))


def test_the_password_step_hands_over_to_the_mfa_step(client, staff, device) -> None:
    response = password_login(client, EMAIL, PASSWORD, next_url="/admin/booking/booking/")

    assert response.status_code == 302
    assert response["Location"] == f"{VERIFY}?next=%2Fadmin%2Fbooking%2Fbooking%2F"
    # The admin login page itself now forwards to the MFA step instead of looping.
    again = client.get("/admin/login/?next=/admin/")
    assert again.status_code == 302 and again["Location"] == f"{VERIFY}?next=%2Fadmin%2F"


def test_the_right_code_opens_the_admin(after_password, device) -> None:
    assert after_password.get("/admin/").status_code == 302

    response = after_password.post(VERIFY, {"code": totp_code(device), "next": "/admin/"})

    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert after_password.get("/admin/").status_code == 200


def test_the_page_asked_for_is_kept_but_never_another_site(after_password, device) -> None:
    response = after_password.post(
        f"{VERIFY}?next=https://evil.example/admin/", {"code": totp_code(device)}
    )
    assert response["Location"] == "/admin/"

    client = Client()
    password_login(client, EMAIL, PASSWORD)
    response = client.post(
        VERIFY, {"code": totp_code(device, steps=1), "next": "/admin/booking/booking/"}
    )
    assert response["Location"] == "/admin/booking/booking/"


def test_a_wrong_code_is_refused_and_the_admin_stays_closed(after_password, device) -> None:
    response = after_password.post(
        VERIFY, {"code": "000000" if totp_code(device) != "000000" else "111111"}
    )

    assert response.status_code == 200
    assert "That code is not valid" in response.content.decode()
    assert after_password.get("/admin/").status_code == 302
    (event,) = _events("mfa_failure")
    assert event.actor_email == EMAIL and event.detail["reason"] == "invalid_code"
    assert _events("mfa_success") == []


def test_a_totp_code_is_accepted_once(client, staff, device) -> None:
    code = totp_code(device)
    password_login(client, EMAIL, PASSWORD)
    assert client.post(VERIFY, {"code": code}).status_code == 302

    # Someone who saw the code (and knows the password) tries it in a session of their own.
    other = Client(REMOTE_ADDR="198.51.100.9")
    password_login(other, EMAIL, PASSWORD)
    response = other.post(VERIFY, {"code": code})

    assert response.status_code == 200 and "was used already" in response.content.decode()
    assert other.get("/admin/").status_code == 302


def test_an_older_code_than_the_last_used_one_is_refused(
    client, staff, device, frozen_clock
) -> None:
    password_login(client, EMAIL, PASSWORD)
    assert (
        client.post(VERIFY, {"code": totp_code(device, steps=1)}).status_code == 302
    )  # the next step's code

    # The current step's code is older than the one used: refused, though in the drift window.
    other = Client(REMOTE_ADDR="198.51.100.9")
    password_login(other, EMAIL, PASSWORD)
    assert other.post(VERIFY, {"code": totp_code(device)}).status_code == 200


def test_right_code_right_after_a_wrong_one_waits_for_the_back_off(
    after_password, device, frozen_clock
) -> None:
    after_password.post(VERIFY, {"code": "12345x"})  # malformed: a form error, not a try
    after_password.post(VERIFY, {"code": "999999" if totp_code(device) != "999999" else "888888"})

    response = after_password.post(VERIFY, {"code": totp_code(device)})
    assert (
        "wait 1 second" in response.content.decode()
    )  # django-otp's back-off: 1 s after a failure

    frozen_clock.shift(timedelta(seconds=2))
    assert after_password.post(VERIFY, {"code": totp_code(device)}).status_code == 302


@pytest.mark.parametrize(
    "typed", ["", "12345", "1234567", "abc", "x" * 40, "١٢٣٤٥٦", "' OR 1=1 --", "<script>"]
)
def test_malformed_codes_get_a_form_error_and_cost_no_try(
    after_password, device, typed: str
) -> None:
    response = after_password.post(VERIFY, {"code": typed})

    assert response.status_code == 200
    assert 'class="errorlist' in response.content.decode()
    assert _events("mfa_failure") == []
    device.refresh_from_db()
    assert device.throttling_failure_count == 0


def test_codes_with_spaces_are_accepted(after_password, device) -> None:
    code = totp_code(device)
    assert after_password.post(VERIFY, {"code": f" {code[:3]} {code[3:]} "}).status_code == 302


def test_success_is_logged_without_the_code(after_password, device) -> None:
    code = totp_code(device)
    after_password.post(VERIFY, {"code": code}, REMOTE_ADDR="192.0.2.44")

    (event,) = _events("mfa_success")
    assert (event.actor_email, event.ip, event.detail) == (EMAIL, "192.0.2.44", {"method": "totp"})
    assert code not in json.dumps(list(SecurityEvent.objects.values()), default=str)


def test_passing_mfa_gives_the_session_a_new_id(client, staff, device) -> None:
    password_login(client, EMAIL, PASSWORD)
    after_password_key = client.cookies[django_settings.SESSION_COOKIE_NAME].value

    client.post(VERIFY, {"code": totp_code(device)})

    assert client.cookies[django_settings.SESSION_COOKIE_NAME].value != after_password_key
    assert client.get("/admin/").status_code == 200


def test_a_user_without_an_authenticator_is_sent_to_enrolment(after_password) -> None:
    response = after_password.get(f"{VERIFY}?next=/admin/booking/")
    assert (
        response.status_code == 302
        and response["Location"] == "/account/mfa/enrol/?next=%2Fadmin%2Fbooking%2F"
    )


def test_an_unconfirmed_device_is_no_way_in(after_password, staff) -> None:
    pending = TOTPDevice.objects.create(user=staff, name="pending", confirmed=False)
    response = after_password.post(VERIFY, {"code": totp_code(pending)})
    assert response.status_code == 302 and response["Location"].startswith("/account/mfa/enrol/")
    assert after_password.get("/admin/").status_code == 302


def test_another_users_device_is_no_way_in(after_password, staff) -> None:
    mfa_device(staff)
    other = get_user_model().objects.create_user("other@platform.example", PASSWORD, is_staff=True)
    other_device = mfa_device(other)

    assert after_password.post(VERIFY, {"code": totp_code(other_device)}).status_code == 200
    assert after_password.get("/admin/").status_code == 302


def test_a_verified_session_goes_straight_on(after_password, device) -> None:
    after_password.post(VERIFY, {"code": totp_code(device)})
    response = after_password.get(f"{VERIFY}?next=/admin/booking/booking/")
    assert response.status_code == 302 and response["Location"] == "/admin/booking/booking/"


def test_the_page_is_not_cached_and_shows_no_admin_menu(after_password, device) -> None:
    response = after_password.get(VERIFY)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "/admin/booking/" not in response.content.decode()


# --- access ---------------------------------------------------------------------------------------


def test_anonymous_is_sent_to_the_login(client) -> None:
    response = client.get(VERIFY)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_users_who_are_not_staff_get_404(client, db) -> None:
    plain = get_user_model().objects.create_user("plain@example.com", PASSWORD)
    client.force_login(plain)
    assert client.get(VERIFY).status_code == 404


def test_wrong_method_is_405(after_password) -> None:
    assert after_password.put(VERIFY).status_code == 405


def test_the_form_needs_its_csrf_token(staff, device) -> None:
    client = Client(enforce_csrf_checks=True)
    client.get("/admin/login/")
    token = client.cookies[django_settings.CSRF_COOKIE_NAME].value
    client.post(
        "/admin/login/", {"username": EMAIL, "password": PASSWORD, "csrfmiddlewaretoken": token}
    )

    assert client.post(VERIFY, {"code": totp_code(device)}).status_code == 403
    assert client.get("/admin/").status_code == 302


def test_the_service_refuses_a_wrong_backup_code(staff, device) -> None:
    with pytest.raises(services.CodeRefused):
        services.mfa_check_code(user=staff, method=services.BACKUP_CODE, code="aaaabbbbcccc", ip="")
