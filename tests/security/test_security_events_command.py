"""`manage.py security_events`: lists events, filters them, and --verify fails on tampering."""

from __future__ import annotations

import json
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection

from booking.events import BookingEvent
from security.events import SecurityEventType, record_event
from security.models import SecurityEvent
from tests import hostile_inputs as hostile

pytestmark = pytest.mark.django_db


def _run(*args: str) -> str:
    out = StringIO()
    call_command("security_events", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def events() -> list[SecurityEvent]:
    with time_machine.travel("2026-03-01T10:00:00Z", tick=False):
        old = record_event(event_type=SecurityEventType.LOGIN_FAILURE, ip="192.0.2.1")
    with time_machine.travel("2026-03-05T10:00:00Z", tick=False):
        new = record_event(
            event_type=BookingEvent.DATA_EXPORT, target="booking:1,2", detail={"rows": 2}
        )
        newer = record_event(event_type=BookingEvent.SUPPORT_ACCESS, target="booking:2")
    return [old, new, newer]


def test_prints_every_event_as_a_json_line(events: list[SecurityEvent]) -> None:
    lines = [json.loads(line) for line in _run().splitlines()]
    assert [line["id"] for line in lines] == [e.pk for e in events]
    assert lines[1]["target"] == "booking:1,2" and lines[1]["detail"] == {"rows": 2}


def test_filters_by_date_and_type(events: list[SecurityEvent]) -> None:
    assert [json.loads(x)["id"] for x in _run("--since", "2026-03-02").splitlines()] == [
        events[1].pk,
        events[2].pk,
    ]
    assert [
        json.loads(x)["id"]
        for x in _run(
            "--since", "2026-03-05T10:00:00+00:00", "--type", "support_access"
        ).splitlines()
    ] == [events[2].pk]


def test_a_bad_date_is_a_clear_error(events: list[SecurityEvent]) -> None:
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        _run("--since", "last tuesday")


def test_verify_passes_on_an_intact_chain(events: list[SecurityEvent]) -> None:
    assert "intact: 3 events" in _run("--verify")


def test_verify_fails_naming_an_edited_row(events: list[SecurityEvent]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {SecurityEvent._meta.db_table} SET ip = %s WHERE id = %s",  # noqa: S608 - our table
            ["203.0.113.5", events[0].pk],
        )
    with pytest.raises(CommandError, match=f"event {events[0].pk}: .*edited"):
        _run("--verify")


def test_verify_fails_when_a_row_was_deleted(events: list[SecurityEvent]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {SecurityEvent._meta.db_table} WHERE id = %s", [events[1].pk])  # noqa: S608 - the table name is ours
    with pytest.raises(CommandError, match=f"event {events[2].pk}: .*deleted"):
        _run("--verify")


@pytest.mark.parametrize("since", ["9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+01:00"])
def test_a_date_at_the_ends_of_the_calendar_names_the_allowed_years(
    events: list[SecurityEvent], since: str
) -> None:
    with pytest.raises(CommandError, match="between 1900 and 2999"):
        _run("--since", since)


@pytest.mark.parametrize("since", [*hostile.DATES, *hostile.DATETIMES])
def test_hostile_dates_are_a_command_error(events: list[SecurityEvent], since: str) -> None:
    with pytest.raises(CommandError, match="--since"):
        _run("--since", since)
