"""booking.ics: the calendar entries attached to booking emails (RFC 5545 / iTIP)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from booking import ics

ZURICH = ZoneInfo("Europe/Zurich")
START = datetime(2025, 3, 10, 10, 0, tzinfo=ZURICH)
STAMP = datetime(2025, 3, 1, 8, 30, 15, tzinfo=UTC)


def make(**overrides: object) -> bytes:
    fields: dict[str, object] = {
        "uid": ics.booking_uid(booking_id=42, domain="booking.example"),
        "start": START,
        "end": START + timedelta(minutes=60),
        "summary": "Haircut – Salon Alpha",
        "description": "Use the link from your confirmation page.",
        "location": "",
        "organizer_email": "owner@alpha.example",
        "organizer_name": "Salon Alpha",
        "attendee_email": "ada@example.com",
        "attendee_name": "Ada Lovelace",
        "method": "REQUEST",
        "sequence": 0,
        "stamp": STAMP,
        **overrides,
    }
    return ics.booking_ics(**fields)  # type: ignore[arg-type]


def unfold(data: bytes) -> list[str]:
    """Content lines as RFC 5545 3.1 defines them: CRLF-separated, folds undone."""
    text = data.decode("utf-8")
    assert text.endswith("\r\n")
    assert "\n" not in text.replace("\r\n", ""), "bare LF or CR in the calendar"
    return text[:-2].replace("\r\n ", "").split("\r\n")


def properties(data: bytes) -> dict[str, list[tuple[str, str]]]:
    """name -> [(parameters, value)] for every content line."""
    found: dict[str, list[tuple[str, str]]] = {}
    for line in unfold(data):
        match = re.match(r'^([A-Z-]+)((?:;[A-Z-]+=(?:"[^"]*"|[^;:,"]*))*):(.*)$', line)
        assert match, f"not a content line: {line!r}"
        found.setdefault(match[1], []).append((match[2], match[3]))
    return found


def unescape(value: str) -> str:
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m[1] in "nN" else m[1], value)


def test_request_is_a_well_formed_calendar_with_utc_times() -> None:
    data = make()
    lines = unfold(data)
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    props = properties(data)
    assert props["VERSION"] == [("", "2.0")]
    assert props["METHOD"] == [("", "REQUEST")]
    assert props["STATUS"] == [("", "CONFIRMED")]
    # 10:00 in Zurich in March (CET, UTC+1) is 09:00 UTC.
    assert props["DTSTART"] == [("", "20250310T090000Z")]
    assert props["DTEND"] == [("", "20250310T100000Z")]
    assert props["DTSTAMP"] == [("", "20250301T083015Z")]
    assert props["SEQUENCE"] == [("", "0")]
    assert props["UID"] == [("", "booking-42@booking.example")]
    assert props["ORGANIZER"] == [(';CN="Salon Alpha"', "mailto:owner@alpha.example")]
    params, value = props["ATTENDEE"][0]
    assert value == "mailto:ada@example.com"
    assert (
        'CN="Ada Lovelace"' in params and "PARTSTAT=ACCEPTED" in params and "RSVP=FALSE" in params
    )
    assert "LOCATION" not in props  # empty values are left out, not sent empty


def test_every_line_ends_with_crlf() -> None:
    data = make()
    assert data.count(b"\r\n") == data.count(b"\n")
    assert b"\r" not in data.replace(b"\r\n", b"")


def test_long_lines_are_folded_at_75_octets_without_splitting_characters() -> None:
    summary = "Färbung & Schnitt – " + "ü€😀" * 40  # 1-, 2-, 3- and 4-octet characters
    data = make(summary=summary, description="x" * 500)
    physical = data.split(b"\r\n")[:-1]
    assert max(len(line) for line in physical) <= 75
    assert any(len(line) == 75 for line in physical), "folding should fill lines, not stop early"
    for line in physical:
        line.decode("utf-8")  # a split character would raise here
    props = properties(data)
    assert unescape(props["SUMMARY"][0][1]) == summary
    assert props["DESCRIPTION"][0][1] == "x" * 500


def test_fold_leaves_short_lines_alone_and_counts_the_leading_space() -> None:
    assert ics.fold("A" * 75) == "A" * 75
    folded = ics.fold("B" * 150)
    first, second, third = folded.split("\r\n")
    assert (len(first), len(second), len(third)) == (75, 75, 2)
    assert second.startswith(" ") and third.startswith(" ")


def test_text_values_escape_backslash_semicolon_comma_and_newlines() -> None:
    description = "Line 1\nLine 2\r\nLine 3; a, b \\ c"
    props = properties(make(description=description, location="Room 1, floor 2; rear"))
    raw = props["DESCRIPTION"][0][1]
    assert raw == "Line 1\\nLine 2\\nLine 3\\; a\\, b \\\\ c"
    assert unescape(raw) == "Line 1\nLine 2\nLine 3; a, b \\ c"
    assert props["LOCATION"][0][1] == "Room 1\\, floor 2\\; rear"


def test_user_text_cannot_inject_properties() -> None:
    evil = "Ada\r\nATTENDEE:mailto:evil@example.com\r\nEND:VEVENT"
    data = make(summary=evil, attendee_name='Ada "x":mailto:evil@example.com;ROLE=CHAIR\r\nX:1')
    props = properties(data)
    assert len(props["ATTENDEE"]) == 1
    assert props["ATTENDEE"][0][1] == "mailto:ada@example.com"
    assert "ROLE=REQ-PARTICIPANT" in props["ATTENDEE"][0][0]
    assert len(props["END"]) == 2  # END:VEVENT and END:VCALENDAR only
    assert "X" not in props


def test_cancel_has_method_and_status_cancelled_and_a_higher_sequence() -> None:
    request = properties(make(method="REQUEST", sequence=0))
    cancel = properties(make(method="CANCEL", sequence=1))
    assert cancel["METHOD"] == [("", "CANCEL")]
    assert cancel["STATUS"] == [("", "CANCELLED")]
    assert cancel["UID"] == request["UID"]
    assert int(cancel["SEQUENCE"][0][1]) > int(request["SEQUENCE"][0][1])
    assert "PARTSTAT" not in cancel["ATTENDEE"][0][0]


def test_uid_is_stable_per_booking_and_reveals_nothing_else() -> None:
    assert ics.booking_uid(booking_id=42, domain="booking.example") == "booking-42@booking.example"
    assert ics.booking_uid(booking_id=42, domain="booking.example") == ics.booking_uid(
        booking_id=42, domain="booking.example"
    )
    assert ics.booking_uid(booking_id=43, domain="booking.example") != ics.booking_uid(
        booking_id=42, domain="booking.example"
    )


@pytest.mark.parametrize(
    "overrides",
    [
        {"start": datetime(2025, 3, 10, 10, 0)},  # noqa: DTZ001 - the naive time is the point
        {"end": START},
        {"method": "PUBLISH"},
        {"sequence": -1},
        {"uid": "booking 1@x"},
        {"attendee_email": "ada@example.com\r\nX-EVIL:1"},
        {"organizer_email": "not an email"},
    ],
)
def test_invalid_input_is_refused(overrides: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        make(**overrides)
