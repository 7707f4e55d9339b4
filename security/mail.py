"""Emails from templates kept side by side (STYLE.md): `<name>_subject.txt`, `<name>.txt` and
`<name>.html`, sent as text with an HTML alternative; and the development mail backend."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.core.mail.backends.base import BaseEmailBackend
from django.template.loader import render_to_string
from django.utils import timezone

logger = logging.getLogger("security.mail")


def send_templated_mail(
    *, template: str, context: dict[str, Any], to: str, reply_to: str = ""
) -> None:
    message = EmailMultiAlternatives(
        subject=render_to_string(f"{template}_subject.txt", context).strip(),
        body=render_to_string(f"{template}.txt", context),
        to=[to],
        reply_to=[reply_to] if reply_to else None,
    )
    message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    message.send()


class FileBackend(BaseEmailBackend):
    """EMAIL_BACKEND=file, the development default: each mail becomes its own `.eml` file under
    EMAIL_FILE_PATH (DATA_DIR/mail), which any mail client opens, calendar attachments included.
    The log gets one line per mail (recipients, subject, file) and never the body: the console
    backend put whole mails, base64 `.ics` attachments and private links into the log."""

    def __init__(self, *, file_path: str | None = None, fail_silently: bool = False, **kwargs: Any):
        super().__init__(fail_silently=fail_silently, **kwargs)
        self.folder = Path(file_path or settings.EMAIL_FILE_PATH)

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        written = 0
        for message in email_messages:
            if not message.recipients():
                continue
            try:
                path = self._write(message)
            except OSError:
                if not self.fail_silently:
                    raise
                continue
            logger.info(
                "mail written to a file",
                extra={
                    "to": ", ".join(message.recipients()),
                    "subject": message.subject,
                    "path": str(path),
                },
            )
            written += 1
        return written

    def _write(self, message: EmailMessage) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        # UTC time first, so a listing of the folder is in sending order.
        name = f"{timezone.now():%Y%m%dT%H%M%S%fZ}-{secrets.token_hex(4)}.eml"
        path = self.folder / name
        with open(path, "xb") as handle:
            handle.write(message.message().as_bytes(linesep="\n"))
        return path
