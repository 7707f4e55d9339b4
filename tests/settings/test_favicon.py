"""Browsers ask every site for /favicon.ico: it answers with the icon (cached for a day, the
usual security headers included), and the pages name it too."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_favicon_ico_is_an_image_with_caching_headers(client: Client) -> None:
    response = client.get("/favicon.ico")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/")
    body = b"".join(response.streaming_content)
    assert body[:4] == b"\x00\x00\x01\x00"  # the ICO header
    assert "max-age=86400" in response["Cache-Control"]
    assert response["X-Content-Type-Options"] == "nosniff"


def test_pages_link_the_icon(client: Client) -> None:
    page = client.get("/book/no-such-partner/").content.decode()  # the 404 page, booking's base
    admin = client.get("/admin/login/").content.decode()

    assert '<link rel="icon" href="/favicon.ico">' in page
    assert '<link rel="icon" href="/favicon.ico">' in admin
