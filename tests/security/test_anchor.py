"""The anchor of the security event log (C31): the head is written daily as a signed file and
mailed to the operators; `security_events --verify` names a deleted tail against the newest
anchor, and refuses an anchor file not signed by the platform."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection

from security.actors import Actor
from security.anchor import anchor_write, register_anchor_store, stores
from security.compliance import Status, evaluate
from security.events import SecurityEventType, record_event
from security.models import SecurityEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def anchors(settings, tmp_path: Path) -> Path:
    settings.ANCHOR_DESTINATIONS = [str(tmp_path / "one"), str(tmp_path / "two")]
    # Other apps' stores (backups keeps anchors on its destinations) start empty for each test.
    settings.BACKUP_DESTINATIONS = [str(tmp_path / f"backups-{n}") for n in range(3)]
    settings.BACKUP_OFFLINE_DESTINATION = str(tmp_path / "offline")
    (tmp_path / "offline").mkdir()
    settings.ADMINS = [("Operators", "ops@booking.example")]
    return tmp_path


def _events(count: int) -> list[SecurityEvent]:
    return [
        record_event(
            event_type=SecurityEventType.UNLOCK, actor=Actor.system("test"), target=f"t{n}"
        )
        for n in range(count)
    ]


def _verify(*args: str) -> str:
    out = StringIO()
    call_command("security_events", "--verify", *args, stdout=out)
    return out.getvalue()


def _delete_from(event_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {SecurityEvent._meta.db_table} WHERE id >= %s",  # noqa: S608 - our table
            [event_id],
        )


def test_the_daily_anchor_is_a_signed_file_in_every_store_and_mailed(anchors) -> None:
    events = _events(3)
    anchor = anchor_write()
    assert anchor.event_id == events[-1].pk and anchor.hash == events[-1].hash
    for folder in ("one", "two"):
        (file,) = (anchors / folder).glob("event-log-anchor-*.json")
        document = json.loads(file.read_text())
        assert document["anchor"]["event_id"] == events[-1].pk
        assert len(document["hmac_sha256"]) == 64
    (message,) = mail.outbox
    assert f"event {events[-1].pk}" in message.subject and events[-1].hash in message.body
    assert SecurityEvent.objects.filter(event_type="log_anchored").count() == 1


def test_verify_names_a_deleted_tail(anchors) -> None:
    events = _events(5)
    anchor_write()
    _delete_from(events[2].pk)  # the newest three, the anchor event among them

    with pytest.raises(CommandError) as failure:
        _verify()
    message = str(failure.value)
    assert f"events {events[2].pk} to {events[4].pk} are missing" in message
    assert f"the log ends at event {events[1].pk}" in message


def test_events_after_the_anchor_are_fine_and_a_tail_before_the_next_anchor_is_not_seen(
    anchors,
) -> None:
    events = _events(2)
    anchor_write()
    later = _events(2)
    assert "matches" in _verify()
    _delete_from(later[0].pk)  # after the anchor: only the next anchor can tell
    assert "matches" in _verify()
    _delete_from(events[1].pk)
    with pytest.raises(CommandError, match="are missing"):
        _verify()


def test_verify_json_carries_the_anchor_and_the_problem(anchors) -> None:
    events = _events(2)
    anchor_write()
    _delete_from(events[1].pk)
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("security_events", "--verify", "--json", stdout=out)
    document = json.loads(out.getvalue())
    assert document["intact"] is False and document["anchor"]["event_id"] == events[1].pk
    assert "a tail was deleted" in document["problems"][0]["message"]


def test_a_forged_anchor_is_refused(anchors) -> None:
    _events(2)
    anchor_write(mail=False)
    (file,) = (anchors / "one").glob("*.json")
    document = json.loads(file.read_text())
    document["anchor"]["event_id"] = 1
    file.write_text(json.dumps(document))
    with pytest.raises(CommandError, match="signature does not match"):
        _verify()


def test_anchor_on_demand_from_the_command(anchors) -> None:
    events = _events(1)
    out = StringIO()
    call_command("security_events", "--anchor", stdout=out)
    assert out.getvalue().startswith(f"Anchored event {events[0].pk} (hash {events[0].hash})")
    assert mail.outbox == []


def test_anchor_of_an_empty_log_is_a_clear_error(anchors) -> None:
    with pytest.raises(CommandError, match="empty"):
        call_command("security_events", "--anchor", stdout=StringIO())


def test_c31_judges_the_chain_and_the_anchor(anchors) -> None:
    events = _events(2)
    assert evaluate(["C31"])[0].status == Status.WARN  # no anchor yet
    anchor_write(mail=False)
    assert evaluate(["C31"])[0].status == Status.PASS
    _delete_from(events[1].pk)
    result = evaluate(["C31"])[0]
    assert result.status == Status.FAIL and "a tail was deleted" in result.reason


class MemoryStore:
    """Another app's store (as the backup destinations will be)."""

    label = "memory"

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    def write(self, name: str, data: bytes) -> None:
        self.files[name] = data

    def read_all(self) -> list[tuple[str, bytes]]:
        return sorted(self.files.items())


def test_other_apps_add_stores(anchors, monkeypatch) -> None:
    import security.anchor

    monkeypatch.setattr(security.anchor, "_extra_stores", [])
    store = MemoryStore()
    register_anchor_store(store)
    assert [s.label for s in stores()][-1] == "memory"
    _events(1)
    anchor_write(mail=False)
    assert len(store.files) == 1
