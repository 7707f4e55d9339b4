"""The admin carries the platform's name (not "Django administration") and the site's icon."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.booking.admin_world import make_user
from tests.otp_login import login_verified

pytestmark = pytest.mark.django_db


def test_login_page_is_branded_with_the_default_name(client: Client) -> None:
    page = client.get("/admin/login/", headers={"accept-language": "de"}).content.decode()
    assert "Django" not in page
    assert "Online-Buchung" in page
    assert '<link rel="icon" href="/favicon.ico">' in page


def test_admin_home_carries_the_platform_name(client: Client, settings: object) -> None:
    settings.PLATFORM_NAME = "Termine Schweiz"  # type: ignore[attr-defined]
    login_verified(client, make_user("root@platform.example", superuser=True))
    page = client.get("/admin/").content.decode()
    assert "Django administration" not in page and "Site administration" not in page
    assert "<title>Workspace | Termine Schweiz</title>" in page
    assert 'id="site-name"><a href="/admin/">Termine Schweiz</a>' in page
    assert client.get("/favicon.ico").status_code == 200
