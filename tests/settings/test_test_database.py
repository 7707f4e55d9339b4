"""The test database behaves like the deployed one where threads meet: the live server (the
browser and webhook tests) answers from its own database connection, as every gunicorn worker
does, so a request never joins, sees or ends a transaction of the test thread or of another
request."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest
from django.db import transaction

from booking.models import Partner

pytestmark = pytest.mark.django_db(transaction=True)


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - local server
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_the_live_server_does_not_see_a_write_the_test_thread_has_not_committed(
    live_server,
) -> None:
    page = f"{live_server.url}/book/not-yet-open/"
    with transaction.atomic():
        Partner.objects.create(
            name="Not Yet Open",
            slug="not-yet-open",
            time_zone="Europe/Zurich",
            contact_email="owner@not-yet.example",
        )
        assert _status(page) == 404
    assert _status(page) == 200
