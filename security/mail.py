"""Emails from templates kept side by side (STYLE.md): `<name>_subject.txt`, `<name>.txt` and
`<name>.html`, sent as text with an HTML alternative."""

from __future__ import annotations

from typing import Any

from django.core.mail import send_mail
from django.template.loader import render_to_string


def send_templated_mail(*, template: str, context: dict[str, Any], to: str) -> None:
    send_mail(
        subject=render_to_string(f"{template}_subject.txt", context).strip(),
        message=render_to_string(f"{template}.txt", context),
        html_message=render_to_string(f"{template}.html", context),
        from_email=None,
        recipient_list=[to],
    )
