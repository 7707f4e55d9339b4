"""Watching what a test sends to Redis: how many round trips a request costs."""

from __future__ import annotations

from typing import Any


def record_redis_commands(monkeypatch: Any) -> list[bytes]:
    """From now on (until the test ends), every command sent to Redis on any connection is
    appended to the returned list; what is sent and answered does not change."""
    import redis.connection

    sent: list[bytes] = []
    original = redis.connection.AbstractConnection.send_packed_command

    def recording(self: Any, command: Any, check_health: bool = True) -> None:
        sent.append(command)
        return original(self, command, check_health)

    monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", recording)
    return sent
