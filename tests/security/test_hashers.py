"""C10: new hashes are bcrypt-sha256 at the configured cost; older hashes upgrade at login."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import get_hasher, identify_hasher, make_password

from security.hashers import BCryptSHA256Hasher

pytestmark = pytest.mark.django_db
User = get_user_model()
PASSWORD = "a perfectly long passphrase 2026"
PRODUCTION_HASHERS = [
    "security.hashers.BCryptSHA256Hasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
]


def test_production_settings_hash_new_passwords_with_bcrypt_sha256_cost_12(settings) -> None:
    from settings import base

    assert base.PASSWORD_HASHERS[0] == "security.hashers.BCryptSHA256Hasher"
    assert base.PASSWORD_BCRYPT_ROUNDS >= 12
    settings.PASSWORD_HASHERS = base.PASSWORD_HASHERS
    user = User.objects.create_user("ada@example.com", PASSWORD)
    assert user.password.startswith("bcrypt_sha256$$2b$12$")
    assert isinstance(identify_hasher(user.password), BCryptSHA256Hasher)
    assert user.check_password(PASSWORD) and not user.check_password(PASSWORD + "x")


def test_cost_comes_from_settings_and_a_raised_cost_asks_for_an_upgrade(settings) -> None:
    settings.PASSWORD_HASHERS = PRODUCTION_HASHERS
    settings.PASSWORD_BCRYPT_ROUNDS = 12
    encoded = make_password(PASSWORD)
    settings.PASSWORD_BCRYPT_ROUNDS = 13
    hasher = get_hasher("default")
    assert hasher.rounds == 13
    assert hasher.must_update(encoded)  # re-hashed at the owner's next login


def test_pbkdf2_hash_is_upgraded_to_bcrypt_at_the_next_admin_login(client, settings) -> None:
    settings.PASSWORD_HASHERS = PRODUCTION_HASHERS
    user = User.objects.create_user("ada@example.com", is_staff=True)
    user.password = make_password(PASSWORD, hasher="pbkdf2_sha256")
    user.save(update_fields=["password"])
    assert user.password.startswith("pbkdf2_sha256$")

    response = client.post(
        "/admin/login/", {"username": "ada@example.com", "password": PASSWORD, "next": "/admin/"}
    )

    # Password accepted: on to the MFA step (C13).
    assert (
        response.status_code == 302
        and response["Location"] == "/account/mfa/verify/?next=%2Fadmin%2F"
    )
    user.refresh_from_db()
    assert user.password.startswith("bcrypt_sha256$$2b$12$")
    assert user.check_password(PASSWORD)
