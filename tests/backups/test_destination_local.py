from __future__ import annotations

import io
from pathlib import Path

import pytest
from _destination_contract import KEY, check_contract

from backups.destinations import DestinationError, LocalDestination, destination_for


def test_local_directory_behaves_like_every_destination(tmp_path: Path, settings) -> None:
    check_contract(destination_for(str(tmp_path / "dest")), tmp_path)
    check_contract(destination_for(f"file://{tmp_path / 'dest2'}"), tmp_path)


class _FailingSource(io.RawIOBase):
    """Delivers some bytes, then fails: the writer dies half-way through the file."""

    def __init__(self) -> None:
        self.sent = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self.sent > 100_000:
            raise OSError("disk pulled")
        buffer[: len(buffer)] = b"x" * len(buffer)
        self.sent += len(buffer)
        return len(buffer)


def test_an_interrupted_put_leaves_no_file_under_the_real_name(tmp_path: Path, settings) -> None:
    settings.BACKUP_RETRY_ATTEMPTS = 1
    destination = LocalDestination(str(tmp_path / "dest"))
    with pytest.raises(DestinationError):
        destination._retry("put", lambda: destination._put(KEY, _FailingSource()))
    assert destination.stat(KEY) is None
    assert destination.list() == []  # the temporary file is gone too


def test_the_old_file_stays_whole_until_the_new_one_is_complete(tmp_path: Path, settings) -> None:
    settings.BACKUP_RETRY_ATTEMPTS = 1
    destination = LocalDestination(str(tmp_path / "dest"))
    destination.put_bytes(KEY, b"old complete copy")
    with pytest.raises(DestinationError):
        destination._retry("put", lambda: destination._put(KEY, _FailingSource()))
    assert destination.read_bytes(KEY) == b"old complete copy"


def test_keys_cannot_leave_the_directory(tmp_path: Path) -> None:
    with pytest.raises(DestinationError):
        LocalDestination(str(tmp_path / "dest")).stat("../outside")


def test_unknown_schemes_are_refused() -> None:
    with pytest.raises(ValueError):
        destination_for("ftp://example.com/x")


def test_a_medium_that_must_be_there_is_never_created_and_never_listed_as_empty(
    tmp_path: Path, settings
) -> None:
    from backups.destinations import MissingMediumError

    medium = destination_for(str(tmp_path / "usb" / "booking"), must_exist=True)
    with pytest.raises(MissingMediumError, match="not mounted"):
        medium.list()
    with pytest.raises(MissingMediumError):
        medium.put_bytes(KEY, b"must not land on the server's own disk")
    assert not (tmp_path / "usb").exists()
    (tmp_path / "usb" / "booking").mkdir(parents=True)  # plugged in
    assert medium.list() == []


def test_a_destination_stops_when_its_time_budget_is_spent(tmp_path: Path, settings) -> None:
    from backups.destinations import BudgetExceeded

    destination = LocalDestination(str(tmp_path / "dest"))
    destination.start_budget(0.2)
    destination.put_bytes(KEY, b"quick")
    with destination._timing():
        import time

        time.sleep(0.3)  # as if an operation had taken that long
    with pytest.raises(BudgetExceeded, match="time budget"):
        destination.read_bytes(KEY)
