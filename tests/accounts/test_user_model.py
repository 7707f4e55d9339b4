from __future__ import annotations

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.test import RequestFactory

pytestmark = pytest.mark.django_db
User = get_user_model()


def test_email_is_the_login_whatever_its_case() -> None:
    User.objects.create_user("Ada@Example.COM", "correct horse battery staple")
    # The lockout backend needs the request (the client's address is what it counts).
    request = RequestFactory().post("/admin/login/")
    assert authenticate(
        request, username="ada@example.com", password="correct horse battery staple"
    )
    assert authenticate(
        request, username="ADA@EXAMPLE.COM", password="correct horse battery staple"
    )


def test_second_account_with_same_email_in_other_case_is_refused() -> None:
    User.objects.create_user("ada@example.com", "x" * 16)
    with pytest.raises(ValidationError):
        User.objects.create_user("ADA@example.com", "y" * 16)
    assert User.objects.count() == 1


def test_database_refuses_case_variant_even_when_python_checks_are_bypassed() -> None:
    User.objects.create_user("ada@example.com", "x" * 16)
    with pytest.raises(IntegrityError):
        User.objects.bulk_create([User(email="Ada@Example.com")])


def test_new_passwords_are_hashed_with_bcrypt_sha256(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.BCryptSHA256PasswordHasher"]
    user = User.objects.create_user("ada@example.com", "correct horse battery staple")
    assert user.password.startswith("bcrypt_sha256$")


def test_superuser_is_staff() -> None:
    admin = User.objects.create_superuser("root@example.com", "x" * 16)
    assert admin.is_staff and admin.is_superuser
