"""`manage.py security_events`: lists events for a person (UTC times) or as JSON lines with
--json, filters them, and --verify fails on tampering."""

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


def test_lists_every_event_as_a_readable_line_with_its_time_in_utc(
    events: list[SecurityEvent],
) -> None:
    lines = _run().splitlines()

    assert not any(line.lstrip().startswith("{") for line in lines)
    rows = [line for line in lines if "2026-03-0" in line]
    assert len(rows) == 3
    assert "2026-03-01 10:00:00 UTC" in rows[0] and "login_failure" in rows[0]
    assert "192.0.2.1" in rows[0]
    assert "data_export" in rows[1] and "booking:1,2" in rows[1] and "rows=2" in rows[1]
    assert lines[-1] == "3 events."


def test_an_empty_selection_says_so(events: list[SecurityEvent]) -> None:
    assert _run("--since", "2027-01-01").strip() == "No security events match."


def test_json_prints_every_event_as_a_json_line(events: list[SecurityEvent]) -> None:
    lines = [json.loads(line) for line in _run("--json").splitlines()]
    assert [line["id"] for line in lines] == [e.pk for e in events]
    assert lines[1]["target"] == "booking:1,2" and lines[1]["detail"] == {"rows": 2}
    assert lines[0]["created_at"] == "2026-03-01T10:00:00+00:00"
    assert lines[0]["hash"] == events[0].hash


def test_filters_by_date_and_type(events: list[SecurityEvent]) -> None:
    assert [json.loads(x)["id"] for x in _run("--json", "--since", "2026-03-02").splitlines()] == [
        events[1].pk,
        events[2].pk,
    ]
    assert [
        json.loads(x)["id"]
        for x in _run(
            "--json", "--since", "2026-03-05T10:00:00+00:00", "--type", "support_access"
        ).splitlines()
    ] == [events[2].pk]


def test_a_date_without_a_zone_is_utc(events: list[SecurityEvent], settings) -> None:
    settings.TIME_ZONE = "Pacific/Auckland"
    assert [
        json.loads(x)["id"] for x in _run("--json", "--since", "2026-03-05T10:00").splitlines()
    ] == [events[1].pk, events[2].pk]


def test_a_bad_date_is_a_clear_error(events: list[SecurityEvent]) -> None:
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        _run("--since", "last tuesday")


def test_verify_passes_on_an_intact_chain(events: list[SecurityEvent]) -> None:
    assert "intact: 3 events" in _run("--verify")


def test_verify_with_json_prints_one_document(events: list[SecurityEvent]) -> None:
    assert json.loads(_run("--verify", "--json")) == {
        "intact": True,
        "events": 3,
        "anchor": None,
        "problems": [],
    }


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


def test_verify_with_json_reports_the_problems_and_still_fails(
    events: list[SecurityEvent],
) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {SecurityEvent._meta.db_table} WHERE id = %s", [events[1].pk])  # noqa: S608 - the table name is ours
    out = StringIO()
    with pytest.raises(CommandError, match=f"event {events[2].pk}"):
        call_command("security_events", "--verify", "--json", stdout=out)
    document = json.loads(out.getvalue())
    assert document["intact"] is False and document["events"] == 2
    assert document["problems"][0]["event_id"] == events[2].pk
