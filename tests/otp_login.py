"""Getting past MFA in tests (C13), honestly: a real, confirmed TOTP device of the user, and a
session verified the way the MFA step verifies it.

`login_verified(client, user)` is `client.force_login(user)` plus what the MFA step does after a
right code (django_otp.login with the user's device): the admin then answers that session, and
OTPMiddleware still checks on every request that the device exists, is confirmed and is the
user's. Browser tests go through the real forms instead (`browser_login`)."""

from __future__ import annotations

from typing import Any

import django_otp
from django.http import HttpRequest
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice


def mfa_device(user: Any) -> TOTPDevice:
    """The user's confirmed authenticator, created if they have none."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="Test phone", confirmed=True)


def totp_code(device: TOTPDevice, *, steps: int = 0) -> str:
    """The code the user's phone shows now (`steps` time steps later: a code not yet used, which
    the device's tolerance of one step accepts)."""
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, steps):0{device.digits}d}"


def password_login(
    client: Client, email: str, password: str, *, next_url: str = "/admin/", **extra: Any
) -> Any:
    """The admin login form's POST: the password step only."""
    return client.post(
        "/admin/login/", {"username": email, "password": password, "next": next_url}, **extra
    )


def login_verified(client: Client, user: Any) -> TOTPDevice:
    client.force_login(user)
    device = mfa_device(user)
    request = HttpRequest()
    request.user = user
    request.session = client.session
    django_otp.login(request, device)
    request.session.save()
    return device


def browser_login(
    page: Any, base: str, email: str, password: str, *, device: TOTPDevice, steps: int = 0
) -> None:
    """Password, then a code from `device`, through the real admin login and MFA forms."""
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_url("**/account/mfa/verify/**")
    page.fill("#id_code", totp_code(device, steps=steps))
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}/admin/")
