"""booking.emails through the real services: eager Celery, the locmem backend, and on_commit
callbacks run as a commit would run them."""

from __future__ import annotations

import email
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.message import Message

import pytest
import time_machine
from django.conf import settings
from django.core import mail

from booking import services
from booking.emails import send_booking_event
from booking.links import manage_token_for
from booking.models import Booking, Service
from tests.actors import MANAGE_LINK_CUSTOMER, partner_staff
from tests.booking.conftest import zurich

NOW = datetime(2025, 3, 3, 6, 0, tzinfo=UTC)  # Monday, 07:00 in Zurich
WEDNESDAY_10 = zurich(2025, 3, 5, 10)
THURSDAY_10 = zurich(2025, 3, 6, 10)
DOMAIN = "booking.example"

Book = Callable[..., tuple[Booking, str]]


@pytest.fixture(autouse=True)
def frozen(settings) -> Iterator[None]:
    settings.SITE_DOMAIN = DOMAIN
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run a service call and then its on_commit callbacks, as a real commit would."""

    def _run(call: Callable[[], object]) -> object:
        with django_capture_on_commit_callbacks(execute=True):
            return call()

    return _run


def parsed(message: mail.EmailMessage) -> Message:
    return email.message_from_bytes(message.message().as_bytes())


def calendars(message: mail.EmailMessage) -> list[tuple[str, dict[str, str]]]:
    """(Content-Type header, {property: value}) of each text/calendar part."""
    found = []
    for part in parsed(message).walk():
        if part.get_content_type() == "text/calendar":
            data = part.get_payload(decode=True)
            assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")
            lines = data.decode("utf-8").replace("\r\n ", "").split("\r\n")
            props: dict[str, str] = {}
            for line in filter(None, lines):
                name = re.split(r"[;:]", line, maxsplit=1)[0]
                props.setdefault(name, line.split(":", 1)[1])
            assert lines[0] == "BEGIN:VCALENDAR" and lines[-2] == "END:VCALENDAR"
            found.append((part["Content-Type"], props))
    return found


def html_body(message: mail.EmailMultiAlternatives) -> str:
    ((html, mimetype),) = message.alternatives
    assert mimetype == "text/html"
    return html


def everything(message: mail.EmailMessage) -> str:
    """All of a message a reader or a calendar could see, decoded."""
    texts = [
        str(message.subject),
        message.body,
        *(str(c) for c, _ in getattr(message, "alternatives", [])),
    ]
    for part in parsed(message).walk():
        payload = part.get_payload(decode=True)
        if payload:
            texts.append(payload.decode("utf-8"))
    texts += [f"{k}: {v}" for k, v in parsed(message).items()]
    return "\n".join(texts)


def by_recipient(messages: list[mail.EmailMessage]) -> dict[str, list[mail.EmailMessage]]:
    result: dict[str, list[mail.EmailMessage]] = {}
    for message in messages:
        (to,) = message.to
        result.setdefault(to, []).append(message)
    return result


def test_booking_sends_the_customer_an_invitation_and_the_partner_a_notice(
    service: Service, book: Book, committed
) -> None:
    booking, _ = committed(lambda: book(service, WEDNESDAY_10, notes="Short, please"))

    sent = by_recipient(mail.outbox)
    assert set(sent) == {"ada@example.com", "owner@alpha.example"}
    (customer,) = sent["ada@example.com"]
    (notice,) = sent["owner@alpha.example"]

    assert "Booking confirmed" in customer.subject and "Haircut" in customer.subject
    assert customer.reply_to == ["owner@alpha.example"]
    # Times in the partner's zone, with the zone named.
    when = "Wednesday, 5 March 2025, 10:00–11:00 (Europe/Zurich)"
    assert when in customer.body and when in html_body(customer)
    link = f"{settings.SITE_URL}/manage/{manage_token_for(booking)}/"
    assert link in customer.body and f'href="{link}"' in html_body(customer)
    assert "/manage/" not in everything(notice)
    ((content_type, ical),) = calendars(customer)
    assert content_type == "text/calendar; method=REQUEST; charset=utf-8"
    assert ical["METHOD"] == "REQUEST" and ical["STATUS"] == "CONFIRMED"
    assert ical["UID"] == f"booking-{booking.pk}@{DOMAIN}"
    assert ical["DTSTART"] == "20250305T090000Z" and ical["DTEND"] == "20250305T100000Z"
    assert ical["ATTENDEE"] == "mailto:ada@example.com"

    assert notice.subject.startswith("New booking") and "Ada Lovelace" in notice.subject
    assert notice.reply_to == ["ada@example.com"]
    assert (
        when in notice.body and "ada@example.com" in notice.body and "Short, please" in notice.body
    )
    assert "Short, please" in html_body(notice)
    assert calendars(notice) == []


def test_nothing_is_sent_before_the_transaction_commits(
    service: Service, book: Book, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        book(service, WEDNESDAY_10)
    assert len(callbacks) == 2  # one task per audience: customer, partner
    assert mail.outbox == []
    for callback in callbacks:
        callback()
    assert len(mail.outbox) == 2


def test_a_refused_booking_sends_nothing(service: Service, book: Book, committed) -> None:
    committed(lambda: book(service, WEDNESDAY_10))
    mail.outbox.clear()
    with pytest.raises(services.SlotTaken):
        committed(lambda: book(service, WEDNESDAY_10, customer_name="Grace Hopper"))
    assert mail.outbox == []


def test_cancel_sends_a_cancellation_for_the_same_calendar_entry(
    service: Service, book: Book, committed
) -> None:
    booking, _ = committed(lambda: book(service, WEDNESDAY_10))
    ((_, invitation),) = calendars(by_recipient(mail.outbox)["ada@example.com"][0])
    mail.outbox.clear()

    committed(
        lambda: services.booking_cancel(
            booking=booking, reason="Ill <b>today</b>", actor=MANAGE_LINK_CUSTOMER
        )
    )

    sent = by_recipient(mail.outbox)
    (customer,) = sent["ada@example.com"]
    (notice,) = sent["owner@alpha.example"]
    assert customer.subject.startswith("Booking cancelled")
    ((content_type, ical),) = calendars(customer)
    assert content_type == "text/calendar; method=CANCEL; charset=utf-8"
    assert ical["METHOD"] == "CANCEL" and ical["STATUS"] == "CANCELLED"
    assert ical["UID"] == invitation["UID"] == f"booking-{booking.pk}@{DOMAIN}"
    assert int(ical["SEQUENCE"]) > int(invitation["SEQUENCE"])
    assert notice.subject.startswith("Booking cancelled")
    assert "Ill <b>today</b>" in notice.body
    assert "Ill &lt;b&gt;today&lt;/b&gt;" in html_body(notice)


def test_reschedule_cancels_the_old_entry_and_invites_to_the_new_one(
    service: Service, book: Book, committed
) -> None:
    old, _ = committed(lambda: book(service, WEDNESDAY_10))
    mail.outbox.clear()

    new = committed(
        lambda: services.booking_reschedule(
            booking=old, new_start=THURSDAY_10, actor=MANAGE_LINK_CUSTOMER
        )
    )

    sent = by_recipient(mail.outbox)
    assert len(sent["owner@alpha.example"]) == 1
    methods = {}
    for message in sent["ada@example.com"]:
        for content_type, ical in calendars(message):
            methods[ical["METHOD"]] = (content_type, ical, message)
    assert set(methods) == {"REQUEST", "CANCEL"}
    assert len(sent["ada@example.com"]) == 2  # one iTIP method per message (RFC 6047)
    _, request, moved = methods["REQUEST"]
    _, cancel, _ = methods["CANCEL"]
    assert (
        request["UID"] == f"booking-{new.pk}@{DOMAIN}" and request["DTSTART"] == "20250306T090000Z"
    )
    assert cancel["UID"] == f"booking-{old.pk}@{DOMAIN}" and cancel["DTSTART"] == "20250305T090000Z"
    assert cancel["STATUS"] == "CANCELLED"
    assert "Thursday, 6 March 2025, 10:00–11:00 (Europe/Zurich)" in moved.body
    assert "Wednesday, 5 March 2025, 10:00–11:00 (Europe/Zurich)" in moved.body
    (notice,) = sent["owner@alpha.example"]
    assert notice.subject.startswith("Booking moved")
    assert "Wednesday, 5 March 2025" in notice.body and "Thursday, 6 March 2025" in notice.body


def test_user_text_is_escaped_in_html_bodies(service: Service, book: Book, committed) -> None:
    name = '<script>alert("x")</script> Ada'
    committed(
        lambda: book(
            service, WEDNESDAY_10, customer_name=name, notes="<img src=x onerror=alert(1)>"
        )
    )
    assert len(mail.outbox) == 2
    for message in mail.outbox:
        html = html_body(message)
        assert "<script" not in html and "<img" not in html
        assert "&lt;script&gt;" in html
        # Plain text is not HTML: it carries the name as typed.
        assert name in message.body or name in message.subject


@pytest.mark.parametrize("separator", ["\n", "\r\n", "\u2028", "\u0085"])
def test_a_name_cannot_add_email_headers(service: Service, book: Book, separator: str) -> None:
    # booking_create refuses such names (test_services); a row written before that rule, or
    # around the services, must still not inject headers into the emails about it.
    booking, _ = book(service, WEDNESDAY_10)
    Booking.objects.filter(pk=booking.pk).update(
        customer_name=f"Ada{separator}Bcc: victim@example.com"
    )
    mail.outbox.clear()
    for audience in ("customer", "partner"):
        send_booking_event(booking_id=booking.pk, event="confirmed", audience=audience)
    assert len(mail.outbox) == 2
    for message in mail.outbox:
        assert "\n" not in message.subject
        assert message.bcc == []
        assert parsed(message)["Bcc"] is None


def test_every_customer_email_carries_the_working_link_and_the_partner_none(
    service: Service, book: Book, committed, client
) -> None:
    booking, token = committed(lambda: book(service, WEDNESDAY_10))
    new = committed(
        lambda: services.booking_reschedule(
            booking=booking, new_start=THURSDAY_10, actor=MANAGE_LINK_CUSTOMER
        )
    )
    committed(lambda: services.booking_cancel(booking=new, actor=MANAGE_LINK_CUSTOMER))
    assert len(mail.outbox) == 2 + 3 + 2
    new_token = manage_token_for(new)
    for message in mail.outbox:
        text = everything(message)
        links = set(re.findall(r"/manage/([^/\s\"]+)/", text))
        if message.to == ["owner@alpha.example"]:
            assert not links
        else:
            # The confirmation has the first link; the move revoked it, so what follows has
            # the new booking's link.
            assert links == ({token} if "confirmed" in message.subject.lower() else {new_token})
    assert client.get(f"/manage/{token}/").status_code == 404
    assert client.get(f"/manage/{new_token}/").status_code == 200


def test_a_hold_awaiting_payment_gets_no_confirmation(
    service: Service, book: Book, committed
) -> None:
    committed(
        lambda: book(service, WEDNESDAY_10, status=Booking.Status.PENDING_PAYMENT, hold_minutes=15)
    )
    assert mail.outbox == []


def test_a_confirmation_for_a_booking_cancelled_meanwhile_is_not_sent(
    service: Service, book: Book
) -> None:
    booking, _ = book(service, WEDNESDAY_10)  # callbacks never run: no commit in this test
    services.booking_cancel(booking=booking, actor=partner_staff(booking.partner))
    send_booking_event(booking_id=booking.pk, event="confirmed")
    assert mail.outbox == []


def test_a_deleted_booking_sends_nothing(db) -> None:
    send_booking_event(booking_id=999_999, event="confirmed")
    assert mail.outbox == []


def test_an_unknown_event_is_an_error(db) -> None:
    with pytest.raises(ValueError):
        send_booking_event(booking_id=1, event="deleted")


def test_the_calendar_entry_uses_the_sites_domain_and_utc(
    service: Service, book: Book, committed, settings
) -> None:
    settings.SITE_DOMAIN = "book.salon.example"
    booking, _ = committed(lambda: book(service, WEDNESDAY_10 + timedelta(days=7)))
    ((_, ical),) = calendars(by_recipient(mail.outbox)["ada@example.com"][0])
    assert ical["UID"] == f"booking-{booking.pk}@book.salon.example"
    assert ical["DTSTART"] == "20250312T090000Z"


@pytest.mark.parametrize(("event", "audience"), [("confirmd", None), ("confirmed", "partners")])
def test_a_misspelt_notice_or_audience_is_refused_not_ignored(event: str, audience: str) -> None:
    with pytest.raises(ValueError, match="Unknown booking event"):
        send_booking_event(booking_id=1, event=event, audience=audience)
    assert mail.outbox == []
