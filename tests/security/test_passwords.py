"""C12: long passphrases welcome, weak passwords refused; no composition rules."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

pytestmark = pytest.mark.django_db
User = get_user_model()

# 100 characters, 112 bytes in UTF-8: past bcrypt's 72-byte input limit.
PASSPHRASE = ("Grüße aus Zürich, über den See: " * 4)[:100]


def _codes(password: str, user=None) -> set[str]:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        return {error.code for error in exc.error_list}
    return set()


def test_passphrase_fixture_is_long_and_non_ascii() -> None:
    assert len(PASSPHRASE) == 100 and len(PASSPHRASE.encode()) > 72


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("short pass1", "password_too_short"),  # 11 characters
        ("qwerty123456", "password_too_common"),
        ("123456789012345", "password_entirely_numeric"),
        ("x" * 1025, "password_too_long"),
    ],
)
def test_weak_or_absurd_passwords_are_refused(password: str, code: str) -> None:
    assert code in _codes(password)


def test_password_like_the_accounts_email_or_name_is_refused() -> None:
    user = User(email="margarethe.sommer@example.com", full_name="Margarethe Sommerfeld")
    assert "password_too_similar" in _codes("margarethe.sommer", user)
    assert "password_too_similar" in _codes("MargaretheSommerfeld", user)


@pytest.mark.parametrize(
    "password",
    ["twelve chars", "y" * 12 + "1", "x" * 64, "z" * 1024, PASSPHRASE, "all lower case words here"],
)
def test_good_passwords_need_no_composition_rules(password: str) -> None:
    assert _codes(password) == set()


def test_100_character_passphrase_works_end_to_end_with_bcrypt_sha256(client, settings) -> None:
    settings.PASSWORD_HASHERS = ["security.hashers.BCryptSHA256Hasher"]
    user = User.objects.create_user("ada@example.com", PASSPHRASE, is_staff=True)
    assert user.password.startswith("bcrypt_sha256$")

    response = client.post(
        "/admin/login/", {"username": "ada@example.com", "password": PASSPHRASE, "next": "/admin/"}
    )

    # Password accepted: on to the MFA step (C13).
    assert (
        response.status_code == 302
        and response["Location"] == "/account/mfa/verify/?next=%2Fadmin%2F"
    )


def test_passphrases_differing_only_after_byte_72_are_different_passwords(settings) -> None:
    settings.PASSWORD_HASHERS = ["security.hashers.BCryptSHA256Hasher"]
    other = PASSPHRASE[:-1] + "!"
    assert PASSPHRASE.encode()[:72] == other.encode()[:72]
    user = User.objects.create_user("ada@example.com", PASSPHRASE)
    assert user.check_password(PASSPHRASE)
    assert not user.check_password(other)
