"""The event log's anchors are kept on the backup destinations too (C31): deleting the log's
newest rows would then also need write access to every backup server."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from backups.anchors import FOLDER
from backups.selectors import offline_destination, regular_destinations
from security.actors import Actor
from security.anchor import anchor_write
from security.events import SecurityEventType, record_event
from security.models import SecurityEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def destinations(settings, tmp_path: Path) -> list[Path]:
    folders = [tmp_path / name for name in ("a", "b", "c", "offline")]
    for folder in folders:
        folder.mkdir()
    settings.BACKUP_DESTINATIONS = [str(f) for f in folders[:3]]
    settings.BACKUP_OFFLINE_DESTINATION = str(folders[3])
    settings.ANCHOR_DESTINATIONS = []  # only the backup destinations hold anchors here
    return folders


def _events(count: int) -> list[SecurityEvent]:
    return [
        record_event(
            event_type=SecurityEventType.UNLOCK, actor=Actor.system("test"), target=f"t{n}"
        )
        for n in range(count)
    ]


def test_the_anchor_lands_on_every_backup_destination_and_the_offline_one(destinations) -> None:
    events = _events(2)
    anchor = anchor_write(mail=False)
    assert anchor is not None and anchor.event_id == events[-1].pk
    for folder in destinations:
        (file,) = (folder / FOLDER).glob("event-log-anchor-*.json")
        assert events[-1].hash in file.read_text()
    # Backups ignore the anchors: they are no backup copy, complete or not.
    for destination in [*regular_destinations(), offline_destination()]:
        assert not any(key.startswith(FOLDER) for key in _backup_ids(destination))


def _backup_ids(destination) -> list[str]:
    from backups.selectors import copies_on

    return list(copies_on(destination))


def test_a_deleted_tail_is_named_from_the_anchors_on_the_backup_servers(destinations) -> None:
    events = _events(4)
    anchor_write(mail=False)
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {SecurityEvent._meta.db_table} WHERE id >= %s",  # noqa: S608 - our table
            [events[2].pk],
        )
    with pytest.raises(CommandError, match="missing"):
        call_command("security_events", "--verify", stdout=StringIO())


def test_one_destination_down_keeps_the_anchor_on_the_others_and_says_which(
    destinations, settings
) -> None:
    _events(1)
    blocker = destinations[1] / "a-file"
    blocker.write_text("not a folder")
    settings.BACKUP_DESTINATIONS = [str(destinations[0]), str(blocker / "backups")]
    anchor_write(mail=False)  # the failure is reported, not raised
    assert list((destinations[0] / FOLDER).glob("event-log-anchor-*.json"))
    assert list((destinations[3] / FOLDER).glob("event-log-anchor-*.json"))
    alert = SecurityEvent.objects.filter(event_type="ops_alert").order_by("-id").first()
    assert alert is not None and "backup destinations" in str(alert.detail)
