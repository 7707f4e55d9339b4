"""The event log's anchors on the backup destinations (C31).

security writes the head of its hash chain (a small signed file) to every registered anchor
store and reads them back to verify the log (security.anchor). This store puts them next to the
backups, under `anchors/` on each regular destination and on the offline one, so that deleting the
log's newest rows would also need write access to every backup server. Keys under `anchors/` are
not backup ids: listing, cleanup and purge of backups pass them by.
"""

from __future__ import annotations

import logging

from backups.destinations import Destination
from backups.selectors import offline_destination, regular_destinations
from security.anchor import PREFIX

logger = logging.getLogger(__name__)
FOLDER = "anchors"


class BackupDestinationsAnchorStore:
    """One store for every backup destination: the destinations are read from the settings
    each time (not at start-up), and a write fails, naming them, when any destination failed;
    the others still have the anchor."""

    label = "backup destinations"

    def _destinations(self) -> list[Destination]:
        return [*regular_destinations(), offline_destination()]

    def write(self, name: str, data: bytes) -> None:
        failed: list[str] = []
        for destination in self._destinations():
            try:
                destination.put_bytes(f"{FOLDER}/{name}", data)
            except Exception as exc:  # one server down must not keep the anchor off the others
                logger.warning(
                    "anchor not written to a backup destination",
                    extra={"destination": destination.label, "error": str(exc)},
                )
                failed.append(f"{destination.label}: {exc}")
            finally:
                destination.close()
        if failed:
            raise OSError("; ".join(failed))

    def read_all(self) -> list[tuple[str, bytes]]:
        """The anchors of every destination that answers. One that does not (a server down, the
        offline medium unplugged) is logged and passed by: the others hold the same anchors, and
        backups alert for the destination on their own."""
        found: list[tuple[str, bytes]] = []
        for destination in self._destinations():
            try:
                for entry in destination.list():
                    folder, _, name = entry.key.partition("/")
                    if folder == FOLDER and name.startswith(PREFIX):
                        found.append((name, destination.read_bytes(entry.key)))
            except Exception as exc:
                logger.warning(
                    "anchors not read from a backup destination",
                    extra={"destination": destination.label, "error": str(exc)},
                )
            finally:
                destination.close()
        return found
