"""Constants and helpers of the MFA page tests (fixtures: conftest.py)."""

from __future__ import annotations

import re
from base64 import b32decode

from django.test import Client
from django_otp.oath import totp

EMAIL = "sam@platform.example"
PASSWORD = "a long staff passphrase 2026"
VERIFY = "/account/mfa/verify/"
ENROL = "/account/mfa/enrol/"
QR = "/account/mfa/enrol/qr.svg"
SETTINGS = "/account/mfa/"
BACKUP_CODES = "/account/mfa/backup-codes/"
# Five seconds into a 30-second TOTP step: codes computed in a test stay valid for it.
NOW = "2026-03-02 08:00:05Z"


def shown_codes(html: str) -> list[str]:
    """The backup codes a page shows."""
    return re.findall(r"<li><code>([a-z0-9-]+)</code></li>", html)


def shown_secret(html: str) -> str:
    return (
        re.search(r'<code class="mfa-secret">([A-Z2-7 ]+)</code>', html).group(1).replace(" ", "")
    )


def code_for(secret: str, steps: int = 0) -> str:
    """What an authenticator app set up with `secret` (base32) shows now."""
    return f"{totp(b32decode(secret), 30, 0, 6, steps):06d}"


def enrol(client: Client) -> list[str]:
    """Enrolment through the real pages, as the user does it; returns the backup codes shown."""
    secret = shown_secret(client.get(ENROL).content.decode())
    response = client.post(ENROL, {"code": code_for(secret)})
    assert response.status_code == 200
    return shown_codes(response.content.decode())
