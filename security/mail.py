"""Emails from templates kept side by side (STYLE.md): `<name>_subject.txt`, `<name>.txt` and
`<name>.html`, sent as text with an HTML alternative."""

from __future__ import annotations

from typing import Any

from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string


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
