"""The site-wide error pages (templates/400.html, 403.html, 404.html, 500.html): they render
through Django's default handlers, say something a customer can act on, and never need the static
manifest or (for 500) the request context."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.template.loader import get_template
from django.test import Client
from django.urls import include, path

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


def _boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("boom")


def _suspicious(request: HttpRequest) -> HttpResponse:
    raise SuspiciousOperation("bad")


def _denied(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied("secret reason")


urlpatterns = [
    path("boom/", _boom),
    path("suspicious/", _suspicious),
    path("denied/", _denied),
    path("", include("settings.urls")),
]


@pytest.fixture(autouse=True)
def _manifest_storage(settings) -> None:
    # Production's storage without a manifest: the error pages must still render.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }


def test_404_page(client: Client) -> None:
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    text = response.content.decode()
    assert "<h1>Not found</h1>" in text
    assert 'href="/static/booking/booking.css"' in text


def test_400_page(client: Client) -> None:
    response = client.get("/suspicious/")
    assert response.status_code == 400
    assert "The request could not be understood." in response.content.decode()


def test_403_page_does_not_show_the_exception(client: Client) -> None:
    response = client.get("/denied/")
    assert response.status_code == 403
    text = response.content.decode()
    assert "<h1>Not allowed</h1>" in text and "secret reason" not in text


def test_500_page() -> None:
    client = Client(raise_request_exception=False)
    response = client.get("/boom/")
    assert response.status_code == 500
    text = response.content.decode()
    assert "Something went wrong" in text and "boom" not in text


def test_500_page_renders_without_any_context() -> None:
    assert "Something went wrong" in get_template("500.html").render()
