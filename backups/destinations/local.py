"""A directory as a destination: another disk, an NFS mount, or a removable medium."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import IO
from urllib.parse import unquote, urlsplit

from backups.destinations.base import Destination, Entry, MissingMediumError, UnsafeKeyError
from backups.format import CHUNK, ReadableFile, partial_name


class LocalDestination(Destination):
    """A directory: another disk, an NFS mount, or (for the offline copy) a removable medium.

    With `must_exist` the folder is never created: when it is not there the medium is missing
    (unplugged, not mounted), and every operation fails instead of writing onto, or listing an
    empty folder of, the server's own disk. Mount a removable medium at a folder that exists
    only while it is mounted (a subfolder of the mount point)."""

    scheme = "file"

    def __init__(self, url: str, *, must_exist: bool = False) -> None:
        super().__init__(url)
        self.root = Path(unquote(urlsplit(url).path) if url.startswith("file://") else url)
        self.must_exist = must_exist

    def _present(self) -> bool:
        if self.root.is_dir():
            return True
        if self.must_exist:
            raise MissingMediumError(
                f"{self.label}: the folder is not there (medium not mounted or unplugged?)"
            )
        return False

    def _path(self, key: str) -> Path:
        self._present()
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise UnsafeKeyError(f"key {key!r} leaves the destination")
        return path

    def _put(self, key: str, source: IO[bytes]) -> None:
        final = self._path(key)
        created = not final.parent.is_dir()
        final.parent.mkdir(parents=True, exist_ok=True)
        temp = final.with_name(partial_name(final.name))
        try:
            with open(temp, "wb") as target:
                shutil.copyfileobj(source, target, CHUNK)
                target.flush()
                os.fsync(target.fileno())
            os.replace(temp, final)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        _fsync_dir(final.parent)
        if created:  # the backup's new folder is an entry of its parent: make that durable too
            _fsync_dir(final.parent.parent)

    def _open(self, key: str) -> ReadableFile:
        return open(self._path(key), "rb")

    def _stat(self, key: str) -> int | None:
        try:
            return self._path(key).stat().st_size
        except FileNotFoundError:
            return None

    def _list(self) -> list[Entry]:
        if not self._present():
            return []
        return [
            Entry(path.relative_to(self.root).as_posix(), path.stat().st_size)
            for path in sorted(self.root.rglob("*"))
            if path.is_file()
        ]

    def _delete(self, key: str) -> None:
        path = self._path(key)
        path.unlink(missing_ok=True)
        if path.parent != self.root.resolve():
            try:
                path.parent.rmdir()  # the backup's folder, once empty
            except OSError:
                pass


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
