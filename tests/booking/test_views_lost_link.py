"""/lost-link/<partner>/: "Lost your link?". The same answer for any address, the links of the
address's upcoming bookings at this partner by email, limits per client and per address, and a
security event without the address.

Time is frozen at Monday 6 January 2025, 08:00 in Zurich."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import time_machine
from django.core import mail
from django.test import Client

from booking import services
from booking.links import manage_token_for
from booking.models import Booking, Partner, Service
from security.models import SecurityEvent
from tests.actors import MANAGE_LINK_CUSTOMER
from tests.booking.conftest import zurich

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 1, 6, 7, 0, tzinfo=UTC)
URL = "/lost-link/salon-alpha/"


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def sent(django_capture_on_commit_callbacks):
    """POST the form with the on-commit email tasks run; returns the response."""

    def _post(client: Client, email: str, url: str = URL):
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, {"email": email})

    return _post


def _body(response) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())


def test_the_partner_page_and_the_manage_page_lead_to_the_form(
    client: Client, service: Service, book
) -> None:
    assert URL in client.get("/book/salon-alpha/").content.decode()
    _, token = book(service, zurich(2025, 1, 8, 10))
    assert URL in client.get(f"/manage/{token}/").content.decode()
    response = client.get(URL)
    assert response.status_code == 200
    assert 'name="email"' in response.content.decode()


def test_the_links_of_upcoming_bookings_at_this_partner_are_emailed(
    client: Client, service: Service, other_partner: Partner, book, sent
) -> None:
    first, _ = book(service, zurich(2025, 1, 8, 10))
    second, _ = book(service, zurich(2025, 1, 9, 10), customer_email="ADA@example.com")
    cancelled, _ = book(service, zurich(2025, 1, 10, 10))
    services.booking_cancel(booking=cancelled, actor=MANAGE_LINK_CUSTOMER)
    book(service, zurich(2025, 1, 8, 14), customer_email="grace@example.com")
    other_service = Service.objects.get(partner=other_partner, slug="check-up")
    book(other_service, datetime(2025, 1, 8, 15, tzinfo=UTC))  # 10:00 in New York

    response = sent(client, "Ada@Example.com")

    assert response.status_code == 200
    assert "If there are upcoming bookings" in response.content.decode()
    (message,) = mail.outbox
    assert message.to == ["ada@example.com"]
    tokens = set(re.findall(r"/manage/([^/\s]+)/", message.body))
    assert tokens == {manage_token_for(first), manage_token_for(second)}
    for token in tokens:
        assert client.get(f"/manage/{token}/").status_code == 200


def test_an_address_without_bookings_gets_the_same_answer_and_no_email(
    client: Client, service: Service, book, sent
) -> None:
    book(service, zurich(2025, 1, 8, 10))
    with_bookings = sent(client, "ada@example.com")
    assert len(mail.outbox) == 1
    without = sent(client, "nobody@example.com")
    assert mail.outbox == []
    assert (without.status_code, _body(without)) == (
        with_bookings.status_code,
        _body(with_bookings),
    )


def test_the_security_event_counts_the_request_without_the_address(
    client: Client, service: Service, book, sent
) -> None:
    book(service, zurich(2025, 1, 8, 10))
    sent(client, "ada@example.com")
    sent(client, "ADA@example.com")
    events = list(SecurityEvent.objects.filter(event_type="manage_links_requested").order_by("id"))
    assert len(events) == 2
    assert events[0].detail["email_fingerprint"] == events[1].detail["email_fingerprint"]
    assert [e.detail["bookings"] for e in events] == [1, 1]
    for event in events:
        assert "ada@" not in str(event.__dict__).lower()


def test_an_address_gets_only_so_many_emails(
    client: Client, service: Service, book, sent, settings
) -> None:
    settings.RATE_LIMITS = {
        **settings.RATE_LIMITS,
        "lost_link_email": {"rate": "2/h", "fail_open": False},
    }
    book(service, zurich(2025, 1, 8, 10))
    answers = []
    for n in range(3):
        # From three client addresses: the limit is the email address's.
        answers.append(sent(Client(REMOTE_ADDR=f"198.51.100.{n + 1}"), "ada@example.com"))
        assert len(mail.outbox) == (1 if n < 2 else 0)
    assert answers[2].status_code == 200 and _body(answers[2]) == _body(answers[0])
    throttled = SecurityEvent.objects.filter(event_type="manage_links_requested").first()
    assert throttled is not None and throttled.detail["throttled"] is True


def test_a_client_address_is_limited_across_email_addresses(
    service: Service, sent, settings
) -> None:
    settings.RATE_LIMITS = {
        **settings.RATE_LIMITS,
        "lost_link": {"rate": "2/h", "fail_open": False},
    }
    client = Client(REMOTE_ADDR="198.51.100.77")
    assert sent(client, "a@example.com").status_code == 200
    assert sent(client, "b@example.com").status_code == 200
    refused = sent(client, "c@example.com")
    assert refused.status_code == 429 and "Retry-After" in refused
    assert sent(Client(REMOTE_ADDR="198.51.100.78"), "c@example.com").status_code == 200


@pytest.mark.parametrize(
    "email", ["", "not an email", "a@b@example.com", "x" * 250 + "@example.com"]
)
def test_a_bad_address_is_a_form_error(client: Client, service: Service, email: str) -> None:
    response = client.post(URL, {"email": email})
    assert response.status_code == 400
    assert 'class="error"' in response.content.decode()
    assert not SecurityEvent.objects.filter(event_type="manage_links_requested").exists()


def test_unknown_partner_is_404_and_other_methods_405(client: Client, service: Service) -> None:
    assert client.get("/lost-link/no-such-salon/").status_code == 404
    assert client.post("/lost-link/no-such-salon/", {"email": "a@example.com"}).status_code == 404
    assert client.put(URL).status_code == 405
    assert client.delete(URL).status_code == 405


def test_a_hold_gets_its_link_and_a_past_booking_does_not(
    client: Client, service: Service, book, sent
) -> None:
    hold, _ = book(service, zurich(2025, 1, 8, 10))
    Booking.objects.filter(pk=hold.pk).update(
        status=Booking.Status.PENDING_PAYMENT,
        hold_expires_at=datetime(2025, 1, 6, 7, 10, tzinfo=UTC),
    )
    past, _ = book(service, zurich(2025, 1, 9, 10))
    Booking.objects.filter(pk=past.pk).update(
        start=zurich(2025, 1, 3, 10),
        end=zurich(2025, 1, 3, 11),
        busy_start=zurich(2025, 1, 3, 10),
        busy_end=zurich(2025, 1, 3, 11),
    )
    sent(client, "ada@example.com")
    (message,) = mail.outbox
    assert f"/manage/{manage_token_for(hold)}/" in message.body
    assert f"/manage/{manage_token_for(past)}/" not in message.body
