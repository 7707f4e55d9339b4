"""The security event log (C31): append-only rows chained by SHA-256; edits and deletions show."""

from __future__ import annotations

import json
import logging

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models import TextChoices

from accounts.events import AccountEvent
from booking.events import BookingEvent
from payments.events import PaymentEvent
from security.events import (
    SecurityEventType,
    event_type_label,
    event_types,
    record_event,
    register_event_types,
    verify_chain,
)
from security.models import SecurityEvent
from tests.otp_login import login_verified

pytestmark = pytest.mark.django_db


def _three() -> list[SecurityEvent]:
    user = get_user_model().objects.create_user("ops@example.com")
    return [
        record_event(event_type=SecurityEventType.LOGIN_SUCCESS, actor=user, ip="192.0.2.1"),
        record_event(
            event_type=BookingEvent.DATA_EXPORT,
            actor=user,
            target="booking:1,2",
            detail={"rows": 2},
        ),
        record_event(
            event_type=SecurityEventType.LOGIN_FAILURE,
            ip="192.0.2.9",
            detail={"email": "x@example.com"},
        ),
    ]


def test_events_form_a_chain_from_the_first_row() -> None:
    first, second, third = _three()
    assert first.prev_hash == ""
    assert second.prev_hash == first.hash and third.prev_hash == second.hash
    assert len({first.hash, second.hash, third.hash}) == 3
    assert verify_chain() == []


def test_actor_is_snapshotted_and_anonymous_events_have_none() -> None:
    first, _, third = _three()
    assert (first.actor_email, first.actor.email) == ("ops@example.com", "ops@example.com")
    assert third.actor is None and third.actor_email == ""


def test_deleting_the_actor_keeps_the_chain_valid() -> None:
    first, *_ = _three()
    first.actor.delete()
    first.refresh_from_db()
    assert first.actor is None and first.actor_email == "ops@example.com"
    assert verify_chain() == []


def test_an_edited_row_is_found() -> None:
    _, second, _ = _three()
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {SecurityEvent._meta.db_table} SET target = %s WHERE id = %s",  # noqa: S608 - our table
            ["booking:9", second.pk],
        )
    problems = verify_chain()
    assert [p.event_id for p in problems] == [second.pk]
    assert "edited" in str(problems[0])


def test_a_deleted_row_is_found_at_the_next_row() -> None:
    _, second, third = _three()
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {SecurityEvent._meta.db_table} WHERE id = %s", [second.pk])  # noqa: S608 - the table name is ours
    problems = verify_chain()
    assert [p.event_id for p in problems] == [third.pk]
    assert "deleted" in str(problems[0])


def test_detail_is_stored_as_json_and_hashes_the_same_after_reload() -> None:
    event = record_event(
        event_type=BookingEvent.SUPPORT_ACCESS,
        detail={"ids": [3, 1], "when": "x", "nested": {"b": 1, "a": 2}},
    )
    event.refresh_from_db()
    assert event.detail == {"ids": [3, 1], "when": "x", "nested": {"b": 1, "a": 2}}
    assert verify_chain() == []


def test_a_plain_string_is_refused_as_event_type() -> None:
    # A string would let a typo through ("suport_access"); only enum members are accepted.
    with pytest.raises(TypeError, match="registered event type enum member"):
        record_event(event_type="login_success")  # type: ignore[arg-type]
    assert not SecurityEvent.objects.exists()


class _Unregistered(TextChoices):
    MADE_UP = "made_up", "Made up"


def test_a_type_no_app_registered_is_refused() -> None:
    with pytest.raises(ValueError, match="Unknown security event type 'made_up'"):
        record_event(event_type=_Unregistered.MADE_UP)
    assert not SecurityEvent.objects.exists()


def test_an_enum_reusing_another_apps_value_is_refused_at_registration() -> None:
    class Clash(TextChoices):
        EXPORT = "data_export", "Exported (clash)"

    with pytest.raises(ImproperlyConfigured, match="'data_export'.*already registered by booking"):
        register_event_types(Clash)
    # And nothing of it was registered: booking's type still resolves to booking's enum.
    assert event_type_label("data_export") == BookingEvent.DATA_EXPORT.label


@pytest.mark.parametrize("value", ["Has Spaces", "UPPER", "x" * 41, "1starts_with_digit"])
def test_malformed_or_too_long_types_are_refused_at_registration(value: str) -> None:
    bad = TextChoices("Bad", [("BAD", (value, "Bad"))])
    with pytest.raises(ImproperlyConfigured, match="lower_case_words"):
        register_event_types(bad)


def test_every_app_registers_its_own_types_at_start_up() -> None:
    registered = dict(event_types())
    for enum in (SecurityEventType, AccountEvent, BookingEvent, PaymentEvent):
        for member in enum:
            assert registered[member.value] == member.label
    # security's own vocabulary holds none of the other apps' types (it knows no app).
    assert not {m.value for m in SecurityEventType} & {
        m.value for e in (AccountEvent, BookingEvent, PaymentEvent) for m in e
    }


def test_each_event_is_logged_as_structured_json(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="security.events"):
        event = record_event(
            event_type=BookingEvent.DATA_EXPORT, target="booking:1", detail={"rows": 1}
        )
    record = next(r for r in caplog.records if r.name == "security.events")
    from security.logging import JsonFormatter

    line = json.loads(JsonFormatter().format(record))
    assert line["security_event"] == "data_export"
    assert line["hash"] == event.hash and line["target"] == "booking:1"


def test_the_admin_is_read_only_even_for_superusers(client) -> None:
    root = get_user_model().objects.create_superuser("root@example.com")
    event = record_event(event_type=SecurityEventType.LOGIN_SUCCESS, actor=root)
    login_verified(client, root)
    assert client.get("/admin/security/securityevent/").status_code == 200
    assert client.get(f"/admin/security/securityevent/{event.pk}/change/").status_code == 200
    assert client.get("/admin/security/securityevent/add/").status_code == 403
    assert client.get(f"/admin/security/securityevent/{event.pk}/delete/").status_code == 403
    response = client.post(f"/admin/security/securityevent/{event.pk}/change/", {"target": "x"})
    assert response.status_code == 403
    event.refresh_from_db()
    assert event.target == "" and verify_chain() == []


def test_staff_without_superuser_cannot_read_the_log(client) -> None:
    staff = get_user_model().objects.create_user("staff@example.com", is_staff=True)
    login_verified(client, staff)
    assert client.get("/admin/security/securityevent/").status_code == 403


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_keep_one_linear_chain() -> None:
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connections

    def write(n: int) -> None:
        try:
            for _ in range(5):
                record_event(event_type=SecurityEventType.LOGIN_FAILURE, detail={"writer": n})
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(write, range(4)))
    assert SecurityEvent.objects.count() == 20
    assert verify_chain() == []
