"""The development mail backend (EMAIL_BACKEND=file, settings.dev's default): each mail becomes
its own .eml file under DATA_DIR/mail, attachments included, and the log gets one line per mail
naming recipients, subject and file, never the body or an attachment."""

from __future__ import annotations

import email
import json
import logging
from email import policy
from pathlib import Path

import pytest
from django.core import mail
from django.core.mail import EmailMessage, EmailMultiAlternatives

from security.logging import JsonFormatter

ICS = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:secret-uid@example\r\n"
    "SUMMARY:Haircut\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)
BODY = "Your booking is confirmed. Manage it at https://example/manage/TOKEN-abc123/"


@pytest.fixture
def mail_dir(settings, tmp_path: Path) -> Path:
    settings.EMAIL_BACKEND = "security.mail.FileBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")
    return tmp_path / "mail"


def _booking_mail(to: str) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives("Booking confirmed", BODY, to=[to])
    message.attach_alternative(f"<p>{BODY}</p>", "text/html")
    message.attach("booking.ics", ICS, "text/calendar")
    return message


def test_each_mail_is_one_eml_file_a_mail_client_can_open(mail_dir: Path) -> None:
    with mail.get_connection() as connection:
        sent = connection.send_messages([_booking_mail("a@example.com"), _booking_mail("b@ex.com")])

    assert sent == 2
    files = sorted(mail_dir.glob("*.eml"))
    assert len(files) == 2
    parsed = [email.message_from_bytes(f.read_bytes(), policy=policy.default) for f in files]
    assert sorted(str(m["To"]) for m in parsed) == ["a@example.com", "b@ex.com"]
    assert all(str(m["Subject"]) == "Booking confirmed" for m in parsed)
    attachment = next(parsed[0].iter_attachments())
    assert attachment.get_filename() == "booking.ics"
    assert "UID:secret-uid@example" in attachment.get_content()


def test_the_log_gets_one_line_per_mail_without_body_or_attachment(
    mail_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        _booking_mail("a@example.com").send()
        EmailMessage("Password reset", BODY, to=["c@example.com"]).send()

    lines = [JsonFormatter().format(r) for r in caplog.records]
    assert len(lines) == 2
    first = json.loads(lines[0])
    assert first["to"] == "a@example.com" and first["subject"] == "Booking confirmed"
    assert Path(first["path"]).parent == mail_dir and Path(first["path"]).is_file()
    logged = "\n".join(lines)
    assert "TOKEN-abc123" not in logged and "VCALENDAR" not in logged
    assert "QkVHSU46VkNBTEVOREFS" not in logged  # "BEGIN:VCALENDAR" in base64


def test_a_mail_without_recipients_writes_nothing(mail_dir: Path) -> None:
    assert EmailMessage("Nobody", BODY, to=[]).send() == 0
    assert not mail_dir.exists() or not list(mail_dir.glob("*.eml"))


def test_an_unwritable_folder_fails_unless_told_to_fail_silently(settings, tmp_path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    settings.EMAIL_BACKEND = "security.mail.FileBackend"
    settings.EMAIL_FILE_PATH = str(blocker / "mail")

    with pytest.raises(OSError):
        _booking_mail("a@example.com").send()
    assert _booking_mail("a@example.com").send(fail_silently=True) == 0
