"""Security headers on every kind of response (C04, C06, C07): pages, JSON, errors, static files
and the rate limiter's own 429. Production's HTTPS settings are checked in a separate process
started with DJANGO_SETTINGS_MODULE=settings.prod, exactly as a deployment starts."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Callable
from datetime import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.test.utils import override_settings

from booking.models import OpeningHours, Partner, Service
from tests.production import (
    PRODUCTION_BACKUP_ENV,
    PRODUCTION_FIELD_ENCRYPTION_ENV,
    PRODUCTION_LINK_KEY_ENV,
    PRODUCTION_PAYMENTS_ENV,
)
from tests.staffing import team

pytestmark = pytest.mark.django_db

ROOT = Path(django_settings.BASE_DIR)

EXPECTED_CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
    "report-uri": "/security/csp-report",
}
EXPECTED_PERMISSIONS = {
    "accelerometer=()",
    "camera=()",
    "geolocation=()",
    "gyroscope=()",
    "magnetometer=()",
    "microphone=()",
    "payment=()",
    "usb=()",
}

REPORT = b'{"csp-report": {"document-uri": "http://testserver/", "violated-directive": "img-src"}}'


@pytest.fixture
def shop(db) -> Partner:
    partner = Partner.objects.create(
        name="Salon Headers",
        slug="salon-headers",
        time_zone="Europe/Zurich",
        contact_email="owner@headers.example",
        widget_origins="https://salon.example",
    )
    for weekday in range(7):
        OpeningHours.objects.create(partner=partner, weekday=weekday, start=time(8), end=time(20))
    Service.objects.create(partner=partner, name="Cut", slug="cut", duration_minutes=30)
    team(partner)
    return partner


def _rate_limited(client: Client, partner: Partner, settings) -> object:
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "manage": {"rate": "1/m", "fail_open": False}}
    client.get("/manage/x/", REMOTE_ADDR="203.0.113.99")
    return client.get("/manage/y/", REMOTE_ADDR="203.0.113.99")


# name -> (request, expected status, expected content type prefix)
PAGES: dict[str, tuple[Callable[[Client, Partner, object], object], int, str]] = {
    "healthz": (lambda c, p, s: c.get("/healthz"), 200, "application/json"),
    "security.txt": (lambda c, p, s: c.get("/.well-known/security.txt"), 200, "text/plain"),
    "policy page": (lambda c, p, s: c.get("/security/policy"), 200, "text/html"),
    "booking page": (lambda c, p, s: c.get(f"/book/{p.slug}/"), 200, "text/html"),
    "manage 404": (
        lambda c, p, s: c.get(f"/manage/{secrets.token_urlsafe(32)}/"),
        404,
        "text/html",
    ),
    "404": (lambda c, p, s: c.get("/no-such-page/"), 404, "text/html"),
    "admin login": (lambda c, p, s: c.get("/admin/login/"), 200, "text/html"),
    "api": (lambda c, p, s: c.get(f"/api/v1/partners/{p.slug}/services/"), 200, "application/json"),
    "api cross-origin": (
        lambda c, p, s: c.get(
            f"/api/v1/partners/{p.slug}/services/", HTTP_ORIGIN="https://salon.example"
        ),
        200,
        "application/json",
    ),
    "static css": (lambda c, p, s: c.get("/static/security/page.css"), 200, "text/css"),
    "widget script": (lambda c, p, s: c.get("/static/widget/booking.js"), 200, "text/javascript"),
    "csp report 204": (
        lambda c, p, s: c.post(
            "/security/csp-report", data=REPORT, content_type="application/csp-report"
        ),
        204,
        "",
    ),
    "405": (lambda c, p, s: c.post("/.well-known/security.txt"), 405, ""),
    "429": (_rate_limited, 429, "text/html"),
}


def _csp(header: str) -> dict[str, str]:
    directives = {}
    for part in header.split(";"):
        name, _, value = part.strip().partition(" ")
        assert name not in directives, f"directive {name} twice"
        directives[name] = " ".join(value.split())
    return directives


@pytest.fixture(params=sorted(PAGES), ids=str)
def page(request, client: Client, shop: Partner, settings):
    make, status, content_type = PAGES[request.param]
    response = make(client, shop, settings)
    assert response.status_code == status, f"{request.param}: {response.status_code}"
    assert response.get("Content-Type", "").startswith(content_type)
    return response


def test_csp_is_exactly_the_strict_policy(page) -> None:
    assert _csp(page["Content-Security-Policy"]) == EXPECTED_CSP
    for weak in ("unsafe-inline", "unsafe-eval", "unsafe-hashes", "*", "http:", "https:"):
        assert weak not in page["Content-Security-Policy"].split()
    assert "Content-Security-Policy-Report-Only" not in page


def test_a_changed_policy_is_sent_at_the_next_response(client: Client, settings) -> None:
    # The header is built once from the settings, not per response: a new policy (another
    # deployment's, a test's override) must still be the one sent, report-only included.
    first = client.get("/privacy/")["Content-Security-Policy"]
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'none'"]}}
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": {"img-src": ["'self'"]}}
    changed = client.get("/privacy/")
    assert first != "default-src 'none'"
    assert changed["Content-Security-Policy"] == "default-src 'none'"
    assert changed["Content-Security-Policy-Report-Only"] == "default-src 'self'; img-src 'self'"
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = None
    again = client.get("/privacy/")
    assert "Content-Security-Policy-Report-Only" not in again


def test_nosniff(page) -> None:
    assert page["X-Content-Type-Options"] == "nosniff"


def test_referrer_policy(page) -> None:
    assert page["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_cross_origin_opener_policy(page) -> None:
    assert page["Cross-Origin-Opener-Policy"] == "same-origin"


def test_permissions_policy_denies_powerful_features(page) -> None:
    granted = {item.strip() for item in page["Permissions-Policy"].split(",")}
    assert EXPECTED_PERMISSIONS <= granted


def test_x_frame_options_deny(page) -> None:
    assert page["X-Frame-Options"] == "DENY"


def test_no_server_or_framework_banner(page) -> None:
    assert "X-Powered-By" not in page
    assert "Server" not in page


def test_api_json_is_not_cached_by_shared_caches_with_the_wrong_origin(
    client: Client, shop: Partner
) -> None:
    response = client.get(
        f"/api/v1/partners/{shop.slug}/services/", HTTP_ORIGIN="https://salon.example"
    )
    assert "origin" in response.get("Vary", "").lower()


# --- production settings, in their own process -----------------------------------------------

PROD_PROBE = r"""
import json
import django
from django.core.management import call_command

django.setup()
call_command("migrate", verbosity=0, interactive=False)

from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.contrib.sessions.middleware import SessionMiddleware
from django.middleware.csrf import CsrfViewMiddleware, get_token

out = {}
client = Client(HTTP_HOST="booking.example")
plain = client.get("/.well-known/security.txt?x=1", secure=False)
out["plain"] = {"status": plain.status_code, "location": plain.get("Location")}
forged = client.get("/.well-known/security.txt", secure=False, HTTP_X_FORWARDED_PROTO="https")
out["forged_proto_status"] = forged.status_code
tls = client.get("/.well-known/security.txt", secure=True)
out["tls"] = {"status": tls.status_code, "hsts": tls.get("Strict-Transport-Security"), "csp": tls.get("Content-Security-Policy")}

def view(request):
    request.session["visited"] = True
    get_token(request)
    return HttpResponse("ok")

request = RequestFactory().get("/", secure=True, HTTP_HOST="booking.example")
response = SessionMiddleware(CsrfViewMiddleware(view))(request)
out["cookies"] = {
    name: {key: morsel[key] for key in ("secure", "httponly", "samesite", "path", "domain")}
    for name, morsel in response.cookies.items()
}
print("PROBE" + json.dumps(out))
"""


@pytest.fixture(scope="module")
def prod_env(tmp_path_factory) -> dict[str, str]:
    data = tmp_path_factory.mktemp("prod")
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(data),
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "settings.prod",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "booking.example",
        "SITE_URL": "https://booking.example",
        "DATA_DIR": str(data),
        "DATABASE_URL": f"sqlite:///{data / 'db.sqlite3'}",
        "LOG_LEVEL": "ERROR",
        **PRODUCTION_BACKUP_ENV,
        **PRODUCTION_PAYMENTS_ENV,
        **PRODUCTION_FIELD_ENCRYPTION_ENV,
        **PRODUCTION_LINK_KEY_ENV,
    }


@pytest.fixture(scope="module")
def prod(prod_env: dict[str, str]) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, "-c", PROD_PROBE],
        env=prod_env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    line = next(line for line in result.stdout.splitlines() if line.startswith("PROBE"))
    return json.loads(line.removeprefix("PROBE"))


def test_prod_redirects_plain_http_to_https(prod: dict) -> None:
    assert prod["plain"] == {
        "status": 301,
        "location": "https://booking.example/.well-known/security.txt?x=1",
    }


def test_prod_forged_forwarded_proto_from_a_direct_client_is_not_believed(prod: dict) -> None:
    # No TRUSTED_PROXIES / TRUSTED_PROXY_COUNT in this environment: nobody vouches for the header.
    assert prod["forged_proto_status"] == 301


def test_prod_sends_hsts_for_a_year_with_subdomains(prod: dict) -> None:
    assert prod["tls"]["status"] == 200
    hsts = {
        part.strip().split("=")[0].lower(): part.strip() for part in prod["tls"]["hsts"].split(";")
    }
    assert int(hsts["max-age"].split("=")[1]) >= 31_536_000
    assert "includesubdomains" in hsts


def test_prod_sends_the_same_strict_csp(prod: dict) -> None:
    assert _csp(prod["tls"]["csp"]) == EXPECTED_CSP


def test_prod_cookies_are_host_only_secure_httponly_samesite(prod: dict) -> None:
    cookies = prod["cookies"]
    assert set(cookies) == {"__Host-sessionid", "__Host-csrftoken"}
    for name, flags in cookies.items():
        assert flags["secure"] is True, name
        assert flags["samesite"] in ("Lax", "Strict"), name
        assert flags["path"] == "/" and flags["domain"] == "", (
            f"{name}: __Host- needs Path=/ and no Domain"
        )
    assert cookies["__Host-sessionid"]["httponly"] is True


def test_prod_check_deploy_reports_no_issues(prod_env: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=prod_env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output, output


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SECRET_KEY", "django-insecure-" + "x" * 60),
        ("SECRET_KEY", "short"),
        ("DEBUG", "true"),
        ("ALLOWED_HOSTS", "*"),
    ],
)
def test_prod_refuses_to_start_on_an_unsafe_configuration(
    prod_env: dict[str, str], name: str, value: str
) -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        env={**prod_env, name: value},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr


@override_settings(
    SECURE_SSL_REDIRECT=True, SECURE_HSTS_SECONDS=31_536_000, SECURE_HSTS_INCLUDE_SUBDOMAINS=True
)
def test_hsts_is_only_sent_over_https(client: Client) -> None:
    # Sent over plain HTTP, the header would let a network attacker pin nothing; browsers ignore it.
    assert "Strict-Transport-Security" not in client.get("/healthz", secure=False)
    assert (
        client.get("/healthz", secure=True)["Strict-Transport-Security"]
        == "max-age=31536000; includeSubDomains"
    )
