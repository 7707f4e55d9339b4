"""/.well-known/security.txt (C34, RFC 9116) and the disclosure policy page it points to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

pytestmark = pytest.mark.django_db

URL = "/.well-known/security.txt"


def _fields(text: str) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition(": ")
        assert sep, f"not a 'Field: value' line: {line!r}"
        fields.setdefault(name, []).append(value)
    return fields


def test_served_as_utf8_plain_text(client: Client) -> None:
    response = client.get(URL)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode().endswith("\n")


def test_has_every_rfc_9116_field(client: Client, settings) -> None:
    settings.SITE_URL = "https://booking.example"
    fields = _fields(client.get(URL).content.decode())
    assert fields["Contact"] == settings.SECURITY_CONTACTS
    assert all(c.startswith(("mailto:", "https://", "tel:")) for c in fields["Contact"])
    assert len(fields["Expires"]) == 1  # RFC 9116: MUST NOT appear more than once
    assert fields["Policy"] == ["https://booking.example/security/policy"]
    assert fields["Preferred-Languages"] == ["en, de"]
    assert fields["Canonical"] == ["https://booking.example/.well-known/security.txt"]


def test_expires_is_in_the_future_and_less_than_a_year_away(client: Client) -> None:
    now = datetime(2031, 6, 1, 12, 0, tzinfo=UTC)
    with time_machine.travel(now, tick=False):
        expires_text = _fields(client.get(URL).content.decode())["Expires"][0]
    expires = datetime.strptime(expires_text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert now < expires < now + timedelta(days=365)


def test_expires_never_goes_stale(client: Client) -> None:
    later = datetime(2040, 1, 1, tzinfo=UTC)
    with time_machine.travel(later, tick=False):
        expires_text = _fields(client.get(URL).content.decode())["Expires"][0]
    assert datetime.strptime(expires_text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC) > later


def test_contacts_come_from_settings(client: Client, settings) -> None:
    settings.SECURITY_CONTACTS = ["mailto:psirt@example.org", "https://example.org/report"]
    assert _fields(client.get(URL).content.decode())["Contact"] == settings.SECURITY_CONTACTS


def test_only_get(client: Client) -> None:
    assert client.post(URL).status_code == 405


def test_head_answers_like_get_without_a_body(client: Client) -> None:
    response = client.head(URL)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain") and response.content == b""


def test_policy_page_renders_with_the_contacts(client: Client) -> None:
    response = client.get("/security/policy")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    body = response.content.decode()
    assert "Vulnerability disclosure policy" in body
    assert 'href="mailto:security@booking.example"' in body


def test_security_md_exists_and_names_the_contact() -> None:
    from django.conf import settings

    text = (settings.BASE_DIR / "SECURITY.md").read_text(encoding="utf-8")
    assert "security@booking.example" in text
    assert "Reporting a vulnerability" in text
