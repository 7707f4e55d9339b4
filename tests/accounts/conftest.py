"""Fixtures of the MFA page tests: a frozen clock, a staff user with a password, an authenticator
for them, and a client that has done the password step only. Constants and helpers are in
mfa_pages.py (a conftest cannot be imported by name from every test folder)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.accounts.mfa_pages import EMAIL, NOW, PASSWORD
from tests.otp_login import mfa_device, password_login


@pytest.fixture(autouse=True)
def frozen_clock() -> Iterator[Any]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def staff(db) -> Any:
    return get_user_model().objects.create_user(
        EMAIL, PASSWORD, is_staff=True, full_name="Sam Staff"
    )


@pytest.fixture
def device(staff) -> TOTPDevice:
    return mfa_device(staff)


@pytest.fixture
def after_password(client: Client, staff) -> Client:
    """Logged in with the password, MFA not passed yet."""
    assert password_login(client, EMAIL, PASSWORD).status_code == 302
    return client
