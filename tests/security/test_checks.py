"""security.checks: every dangerous setting is reported with its id, and the real settings are
reported as clean. These are what `manage.py check --deploy` tells the operator."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
from django.conf import settings
from django.core.checks import Tags, run_checks
from django.test import override_settings

from security import checks
from settings.base import PASSWORD_HASHERS as PRODUCTION_HASHERS
from tests.production import PRODUCTION_FIELD_ENCRYPTION_ENV


def _ids(errors: list[Any]) -> list[str]:
    return [error.id for error in errors]


def _csp_with(**directives: list[str] | None) -> dict[str, Any]:
    policy = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
    for name, value in directives.items():
        name = name.replace("_", "-")
        if value is None:
            policy["DIRECTIVES"].pop(name, None)
        else:
            policy["DIRECTIVES"][name] = value
    return policy


def _security_ids(*, deploy: bool) -> list[str]:
    """Ids of this project's checks (security.E0xx) among everything Django runs; Django's own
    deploy warnings (security.W0xx) are covered by `check --deploy` in test_headers."""
    found = run_checks(tags=[Tags.security], include_deployment_checks=deploy)
    return [e.id for e in found if re.fullmatch(r"security\.E0\d\d", e.id or "")]


# --- silent on the real settings ----------------------------------------------------------------


def test_real_settings_pass_every_security_check() -> None:
    assert _security_ids(deploy=False) == []


@override_settings(
    SECURE_HSTS_SECONDS=31_536_000,
    SECURE_HSTS_INCLUDE_SUBDOMAINS=True,
    SESSION_COOKIE_NAME="__Host-sessionid",
    CSRF_COOKIE_NAME="__Host-csrftoken",
    PASSWORD_HASHERS=PRODUCTION_HASHERS,  # the test settings put a fast hasher first
    # The test settings use the public development keys, which the deploy check refuses.
    FIELD_ENCRYPTION_KEYS=[PRODUCTION_FIELD_ENCRYPTION_ENV["FIELD_ENCRYPTION_KEYS"]],
    FIELD_BLIND_INDEX_KEY=PRODUCTION_FIELD_ENCRYPTION_ENV["FIELD_BLIND_INDEX_KEY"],
)
def test_real_settings_with_production_cookies_and_hsts_pass_the_deploy_checks() -> None:
    # settings/prod.py itself is checked in a subprocess by test_headers (manage.py check --deploy).
    assert _security_ids(deploy=True) == []


# --- E001 / E002: Content-Security-Policy ------------------------------------------------------


def test_csp_middleware_removed_fires_e001() -> None:
    assert "security.middleware.CSPMiddleware" in settings.MIDDLEWARE
    middleware = [m for m in settings.MIDDLEWARE if m != "security.middleware.CSPMiddleware"]
    with override_settings(MIDDLEWARE=middleware):
        assert _ids(checks.check_csp()) == ["security.E001"]
    # django-csp's own middleware in its place does the job too.
    with override_settings(MIDDLEWARE=[*middleware, "csp.middleware.CSPMiddleware"]):
        assert _ids(checks.check_csp()) == []


@pytest.mark.parametrize("policy", [None, {}, {"DIRECTIVES": {}}])
def test_csp_policy_missing_fires_e001(policy: object) -> None:
    with override_settings(CONTENT_SECURITY_POLICY=policy):
        assert _ids(checks.check_csp()) == ["security.E001"]


@pytest.mark.parametrize(
    "directives",
    [
        {"script_src": ["'self'", "'unsafe-inline'"]},
        {"script_src": ["'self'", "'unsafe-eval'"]},
        {"style_src": ["'self'", "'unsafe-inline'"]},
        {"default_src": ["*"]},
        {"object_src": None},
        {"object_src": ["'self'"]},
        {"frame_ancestors": ["'self'"]},
        {"frame_ancestors": None},
        {"base_uri": None},
        {"form_action": None},
        {"report_uri": None},
    ],
    ids=lambda d: ",".join(f"{k}={v}" for k, v in d.items()),
)
def test_weakened_csp_fires_e002(directives: dict[str, list[str] | None]) -> None:
    with override_settings(CONTENT_SECURITY_POLICY=_csp_with(**directives)):
        assert set(_ids(checks.check_csp())) == {"security.E002"}


def test_weakened_csp_is_reported_by_manage_check() -> None:
    with override_settings(
        CONTENT_SECURITY_POLICY=_csp_with(script_src=["'self'", "'unsafe-inline'"])
    ):
        assert "security.E002" in _security_ids(deploy=False)


@pytest.mark.parametrize(
    "directives",
    [
        {"script_src_attr": ["'unsafe-inline'"]},  # re-enables onclick= handlers
        {"script_src": ["'self'", "'unsafe-hashes'"]},
        {"script_src_elem": ["'self'", "'unsafe-inline'"]},  # re-enables inline <script>
        {"style_src_attr": ["'unsafe-inline'"]},
        {"script_src": ["'self'", "https:"]},  # any script from any https host
        {"script_src": ["'self'", "data:"]},
    ],
    ids=lambda d: ",".join(f"{k}={v}" for k, v in d.items()),
)
def test_csp_loopholes_fire_e002(directives: dict[str, list[str]]) -> None:
    with override_settings(CONTENT_SECURITY_POLICY=_csp_with(**directives)):
        assert "security.E002" in _ids(checks.check_csp())


# --- E003: CORS ----------------------------------------------------------------------------------


@override_settings(CORS_ALLOW_ALL_ORIGINS=True)
def test_cors_allow_all_origins_fires_e003() -> None:
    assert _ids(checks.check_cors()) == ["security.E003"]


@override_settings(CORS_ALLOWED_ORIGINS=["*"])
def test_cors_star_origin_fires_e003() -> None:
    assert _ids(checks.check_cors()) == ["security.E003"]


@override_settings(CORS_ALLOW_CREDENTIALS=True)
def test_cors_credentials_fire_e003() -> None:
    assert _ids(checks.check_cors()) == ["security.E003"]


@pytest.mark.parametrize("regex", [r"^.*$", ".*", ""])
def test_cors_on_every_url_fires_e003(regex: str) -> None:
    with override_settings(CORS_URLS_REGEX=regex):
        assert _ids(checks.check_cors()) == ["security.E003"]


@override_settings(CORS_ALLOW_ALL_ORIGINS=True, CORS_ALLOW_CREDENTIALS=True)
def test_cors_star_with_credentials_reports_both() -> None:
    assert _ids(checks.check_cors()) == ["security.E003", "security.E003"]


# --- E004: HSTS --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "subdomains"), [(3600, True), (0, True), (31_535_999, True), (31_536_000, False)]
)
def test_short_or_narrow_hsts_fires_e004(seconds: int, subdomains: bool) -> None:
    with override_settings(SECURE_HSTS_SECONDS=seconds, SECURE_HSTS_INCLUDE_SUBDOMAINS=subdomains):
        assert _ids(checks.check_hsts()) == ["security.E004"]


@override_settings(SECURE_HSTS_SECONDS=3600, SECURE_HSTS_INCLUDE_SUBDOMAINS=True)
def test_hsts_is_a_deploy_check_only() -> None:
    assert "security.E004" in _security_ids(deploy=True)
    assert "security.E004" not in _security_ids(deploy=False)


# --- E005: lockout ------------------------------------------------------------------------------


@pytest.mark.parametrize("limit", [5, 1, 0, 10])
def test_lockout_limit_other_than_three_fires_e005(limit: int) -> None:
    with override_settings(AXES_FAILURE_LIMIT=limit):
        assert _ids(checks.check_lockout_limit()) == ["security.E005"]


@override_settings(AXES_FAILURE_LIMIT=3)
def test_lockout_limit_of_three_is_accepted() -> None:
    assert checks.check_lockout_limit() == []


# --- E006: rate limits -----------------------------------------------------------------------------


@pytest.mark.parametrize("rate", ["10/min", "ten/m", "0/m", "10/d", "", "10", "-1/m"])
def test_bad_rate_string_fires_e006(rate: str) -> None:
    limits = {**settings.RATE_LIMITS, "slots": {"rate": rate, "fail_open": True}}
    with override_settings(RATE_LIMITS=limits):
        assert _ids(checks.check_rate_limits()) == ["security.E006"]


def test_scope_without_rate_fires_e006() -> None:
    limits = {**settings.RATE_LIMITS, "slots": {"fail_open": True}}
    with override_settings(RATE_LIMITS=limits):
        assert _ids(checks.check_rate_limits()) == ["security.E006"]


def test_rule_with_unknown_scope_fires_e006() -> None:
    rules = [*settings.RATE_LIMIT_RULES, (r"^/x/$", "GET", "no-such-scope")]
    with override_settings(RATE_LIMIT_RULES=rules):
        assert _ids(checks.check_rate_limits()) == ["security.E006"]


@override_settings(RATE_LIMIT_ENABLED=False)
def test_rate_limits_switched_off_fires_e006_on_deploy() -> None:
    assert "security.E006" in _ids(checks.check_deploy_hardening())


# --- E007: cookies -------------------------------------------------------------------------------


@override_settings(SESSION_COOKIE_NAME="sessionid", CSRF_COOKIE_NAME="__Host-csrftoken")
def test_session_cookie_without_host_prefix_fires_e007() -> None:
    assert _ids(checks.check_deploy_hardening()) == ["security.E007"]


@override_settings(SESSION_COOKIE_NAME="__Host-sessionid", CSRF_COOKIE_NAME="csrftoken")
def test_csrf_cookie_without_host_prefix_fires_e007() -> None:
    assert _ids(checks.check_deploy_hardening()) == ["security.E007"]


@pytest.mark.parametrize(("httponly", "samesite"), [(False, "Lax"), (True, "None"), (True, None)])
def test_session_cookie_readable_by_script_or_cross_site_fires_e007(
    httponly: bool, samesite: str | None
) -> None:
    with override_settings(
        SESSION_COOKIE_NAME="__Host-sessionid",
        CSRF_COOKIE_NAME="__Host-csrftoken",
        SESSION_COOKIE_HTTPONLY=httponly,
        SESSION_COOKIE_SAMESITE=samesite,
    ):
        assert _ids(checks.check_deploy_hardening()) == ["security.E007"]


# --- E008: password hasher ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "hashers",
    [
        ["django.contrib.auth.hashers.PBKDF2PasswordHasher", "security.hashers.BCryptSHA256Hasher"],
        ["django.contrib.auth.hashers.MD5PasswordHasher"],
        ["no.such.Hasher"],
        [],
    ],
)
def test_bcrypt_not_first_fires_e008(hashers: list[str]) -> None:
    with override_settings(PASSWORD_HASHERS=hashers):
        assert _ids(checks.check_password_hasher()) == ["security.E008"]


@pytest.mark.parametrize(
    "first",
    [
        "security.hashers.BCryptSHA256Hasher",
        "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    ],
)
def test_bcrypt_first_is_accepted(first: str) -> None:
    with override_settings(
        PASSWORD_HASHERS=[first, "django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    ):
        assert checks.check_password_hasher() == []


def test_hasher_order_is_a_deploy_check_only() -> None:
    # The test settings themselves put MD5 first: only `check --deploy` complains.
    assert "security.E008" not in _security_ids(deploy=False)
    assert "security.E008" in _security_ids(deploy=True)


# --- E009: MFA enforcement ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "removed", ["django_otp.middleware.OTPMiddleware", "security.mfa.MFARequiredMiddleware"]
)
def test_mfa_middleware_missing_fires_e009(removed: str) -> None:
    with override_settings(MIDDLEWARE=[m for m in settings.MIDDLEWARE if m != removed]):
        assert _ids(checks.check_mfa_enforced()) == ["security.E009"]


def test_mfa_middleware_before_authentication_fires_e009() -> None:
    middleware = [m for m in settings.MIDDLEWARE if m != "security.mfa.MFARequiredMiddleware"]
    middleware.insert(0, "security.mfa.MFARequiredMiddleware")
    with override_settings(MIDDLEWARE=middleware):
        assert _ids(checks.check_mfa_enforced()) == ["security.E009"]


def test_plain_admin_site_fires_e009(monkeypatch: pytest.MonkeyPatch) -> None:
    from django.contrib import admin

    monkeypatch.setattr(admin, "site", admin.AdminSite())
    assert _ids(checks.check_mfa_enforced()) == ["security.E009"]


def test_mfa_enforcement_is_installed() -> None:
    assert checks.check_mfa_enforced() == []


# --- E010: field encryption keys (C26) ------------------------------------------------------------

REAL_KEYS = dict(
    FIELD_ENCRYPTION_KEYS=[PRODUCTION_FIELD_ENCRYPTION_ENV["FIELD_ENCRYPTION_KEYS"]],
    FIELD_BLIND_INDEX_KEY=PRODUCTION_FIELD_ENCRYPTION_ENV["FIELD_BLIND_INDEX_KEY"],
)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"FIELD_ENCRYPTION_KEYS": []}, "FIELD_ENCRYPTION_KEYS is not set"),
        ({"FIELD_ENCRYPTION_KEYS": ["tooshort"]}, "item 1 is not a Fernet key"),
        (
            {"FIELD_ENCRYPTION_KEYS": REAL_KEYS["FIELD_ENCRYPTION_KEYS"] * 2},
            "lists one key twice",
        ),
        ({"FIELD_BLIND_INDEX_KEY": ""}, "at least 32 characters"),
        ({"FIELD_BLIND_INDEX_KEY": "short"}, "at least 32 characters"),
        (
            {"FIELD_BLIND_INDEX_KEY": REAL_KEYS["FIELD_ENCRYPTION_KEYS"][0]},
            "must differ from every",
        ),
    ],
)
def test_missing_or_malformed_field_keys_fire_e010(overrides: dict[str, Any], message: str) -> None:
    with override_settings(**{**REAL_KEYS, **overrides}):
        errors = checks.check_field_encryption_keys()
    assert _ids(errors) == ["security.E010"]
    assert message in errors[0].msg


def test_real_field_keys_pass() -> None:
    with override_settings(**REAL_KEYS):
        assert checks.check_field_encryption_keys() == []
        assert checks.check_field_encryption_keys_are_real() == []


def test_the_public_development_keys_fire_e010_on_deploy() -> None:
    # The test settings run with them, as DEBUG does; a deployment must not.
    assert _ids(checks.check_field_encryption_keys_are_real()) == ["security.E010"]
