"""iCalendar (RFC 5545) invitations and cancellations for one booking, as iMIP (RFC 6047) sends them.

Pure: no Django imports, so it is tested alone. Everything a user typed (names, notes, the
service's name) passes through `_text()` or `_param()`, so no value can end a line and inject a
property of its own, and every line is folded at 75 octets without splitting a UTF-8 character.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Literal

Method = Literal["REQUEST", "CANCEL"]

PRODID = "-//Booking Platform//Booking 1.0//EN"
CRLF = "\r\n"
_MAX_OCTETS = 75
# RFC 5545 3.3.11: TEXT may hold any character except CONTROL (HTAB is allowed).
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
# RFC 5545 3.1: a parameter value may hold no CONTROL and no DQUOTE even when quoted.
_PARAM_FORBIDDEN = re.compile(r'[\x00-\x08\x0a-\x1f\x7f"]')
# What we put behind mailto: an address already validated by the form/model; refuse anything
# that could break out of the line (controls, whitespace) or the URI (":" after the scheme is fine).
_EMAIL = re.compile(r"^[^\s\x00-\x1f\x7f<>\"]+@[^\s\x00-\x1f\x7f<>\"@]+$")


def booking_uid(*, booking_id: int, domain: str) -> str:
    """The calendar UID of a booking: stable for its whole life (REQUEST and CANCEL share it) and
    free of secrets (it ends up in customers' calendars and their providers' servers)."""
    return f"booking-{int(booking_id)}@{domain}"


def _utc(value: datetime) -> str:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("iCalendar times need an aware datetime.")
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _text(value: str) -> str:
    """Escape a TEXT value (RFC 5545 3.3.11): backslash first, then ; , and line breaks."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")
    return _CONTROL.sub("", value)


def _param(value: str) -> str:
    """A quoted parameter value (e.g. CN). Quoting covers ; : , and DQUOTE cannot be escaped
    (RFC 6868 aside, which few clients read), so it and control characters are dropped."""
    return '"' + _PARAM_FORBIDDEN.sub("", value.replace("\r\n", " ").replace("\n", " ")) + '"'


def _mailto(email: str) -> str:
    if not _EMAIL.match(email):
        raise ValueError("Not an email address that can go into a calendar entry.")
    return f"mailto:{email}"


def fold(line: str) -> str:
    """Fold one content line (RFC 5545 3.1): at most 75 octets a line, continuation lines start
    with a space, and a multi-octet UTF-8 character is never split."""
    out: list[str] = []
    current: list[str] = []
    size = 0
    limit = _MAX_OCTETS
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            out.append("".join(current))
            current, size = [" "], 1  # the leading space counts toward the next line's 75
        current.append(char)
        size += width
    out.append("".join(current))
    return CRLF.join(out)


def booking_ics(
    *,
    uid: str,
    start: datetime,
    end: datetime,
    summary: str,
    description: str,
    location: str,
    organizer_email: str,
    attendee_email: str,
    attendee_name: str,
    method: Method,
    sequence: int,
    stamp: datetime,
    organizer_name: str = "",
) -> bytes:
    """One VCALENDAR with one VEVENT, UTF-8 with CRLF line endings.

    REQUEST adds or updates the event in the attendee's calendar; CANCEL (with a higher
    SEQUENCE and the same UID) removes it. The attendee is already accepted and asked for no
    reply: the booking is made, the calendar entry only mirrors it.
    """
    if method not in ("REQUEST", "CANCEL"):
        raise ValueError(f"Unsupported iTIP method {method!r}.")
    if sequence < 0:
        raise ValueError("SEQUENCE cannot be negative.")
    dtstart, dtend, dtstamp = _utc(start), _utc(end), _utc(stamp)  # refuses naive times first
    if end <= start:
        raise ValueError("The end must be after the start.")
    if not uid or _CONTROL.search(uid) or any(c.isspace() for c in uid):
        raise ValueError("A UID needs visible characters only.")
    organizer = "ORGANIZER"
    if organizer_name:
        organizer += f";CN={_param(organizer_name)}"
    attendee = "ATTENDEE"
    if attendee_name:
        attendee += f";CN={_param(attendee_name)}"
    attendee += ";CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT"
    if method == "REQUEST":
        attendee += ";PARTSTAT=ACCEPTED"
    attendee += ";RSVP=FALSE"
    lines = [
        "BEGIN:VCALENDAR",
        f"PRODID:{PRODID}",
        "VERSION:2.0",
        "CALSCALE:GREGORIAN",
        f"METHOD:{method}",
        "BEGIN:VEVENT",
        f"UID:{uid}",
        f"DTSTAMP:{dtstamp}",
        f"SEQUENCE:{int(sequence)}",
        f"DTSTART:{dtstart}",
        f"DTEND:{dtend}",
        f"SUMMARY:{_text(summary)}",
    ]
    if description:
        lines.append(f"DESCRIPTION:{_text(description)}")
    if location:
        lines.append(f"LOCATION:{_text(location)}")
    lines += [
        f"{organizer}:{_mailto(organizer_email)}",
        f"{attendee}:{_mailto(attendee_email)}",
        f"STATUS:{'CANCELLED' if method == 'CANCEL' else 'CONFIRMED'}",
        "TRANSP:OPAQUE",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "".join(fold(line) + CRLF for line in lines).encode("utf-8")
