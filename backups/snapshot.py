"""Consistent snapshots of the database, and restoring them.

PostgreSQL: ``pg_dump -Fc`` (custom format, compressed) reading an exported snapshot, so the row
counts in the manifest are those of the dump, without blocking the application. SQLite: the online
backup API into a temporary file, gzip-compressed. The password is handed to pg_dump/pg_restore in
PGPASSWORD, never on the command line (where `ps` would show it).
"""

from __future__ import annotations

import gzip
import os
import shutil
import sqlite3

# Fixed argument lists, never a shell.
import subprocess  # nosec B404
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import psycopg
from psycopg import sql
from psycopg.rows import TupleRow

from backups.format import Readable, Writable

PG_DUMP = shutil.which("pg_dump") or "/usr/bin/pg_dump"
PG_RESTORE = shutil.which("pg_restore") or "/usr/bin/pg_restore"


class SnapshotError(Exception):
    pass


def first_value(row: tuple[Any, ...] | None) -> Any:
    """The single value of a one-row query (count(*), pg_export_snapshot(), a PRAGMA)."""
    if row is None:
        raise SnapshotError("the query returned no row")
    return row[0]


@dataclass(frozen=True)
class Target:
    """A database to dump or restore into, from Django's settings dict or a URL."""

    engine: str  # "postgresql" or "sqlite"
    name: str
    user: str = ""
    password: str = ""
    host: str = ""
    port: str = ""

    @classmethod
    def from_settings(cls, settings_dict: Mapping[str, Any]) -> Target:
        engine = "postgresql" if "postgresql" in settings_dict["ENGINE"] else "sqlite"
        return cls(
            engine=engine,
            name=str(settings_dict["NAME"]),
            user=settings_dict.get("USER") or "",
            password=settings_dict.get("PASSWORD") or "",
            host=settings_dict.get("HOST") or "",
            port=str(settings_dict.get("PORT") or ""),
        )

    @classmethod
    def from_url(cls, url: str) -> Target:
        import dj_database_url

        return cls.from_settings(dj_database_url.parse(url))

    def with_name(self, name: str) -> Target:
        return Target(self.engine, name, self.user, self.password, self.host, self.port)

    def libpq_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            PGHOST=self.host or "localhost",
            PGPORT=self.port or "5432",
            PGUSER=self.user,
            PGDATABASE=self.name,
        )
        if self.password:
            env["PGPASSWORD"] = self.password
        else:
            env.pop("PGPASSWORD", None)
        return env

    def connect(self, **kwargs: Any) -> psycopg.Connection[TupleRow]:
        return psycopg.connect(
            host=self.host or "localhost",
            port=self.port or "5432",
            user=self.user or None,
            password=self.password or None,
            dbname=self.name,
            **kwargs,
        )

    @property
    def label(self) -> str:
        return (
            f"{self.engine}:{self.name}"
            if self.engine == "sqlite"
            else f"postgresql://{self.user}@{self.host}:{self.port}/{self.name}"
        )


@dataclass
class SnapshotInfo:
    row_counts: dict[str, int]
    migrations: dict[str, list[str]]
    compression: str


def _migrations(rows: list[tuple[str, str]]) -> dict[str, list[str]]:
    applied: dict[str, list[str]] = {}
    for app, name in rows:
        applied.setdefault(app, []).append(name)
    return applied


# --- PostgreSQL ----------------------------------------------------------------------------------
def _pg_tables(conn: psycopg.Connection[TupleRow]) -> list[str]:
    rows = conn.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename"
    ).fetchall()
    return [row[0] for row in rows]


def pg_row_counts(
    conn: psycopg.Connection[TupleRow], tables: list[str] | None = None
) -> dict[str, int]:
    counts = {}
    for table in tables if tables is not None else _pg_tables(conn):
        query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
        counts[table] = first_value(conn.execute(query).fetchone())
    return counts


def pg_dump_to(target: Target, write: Callable[[Readable], None]) -> SnapshotInfo:
    """Runs pg_dump on a snapshot exported by a REPEATABLE READ transaction that also counts
    the rows and reads the migration state, and hands pg_dump's output stream to `write`.

    1. open a transaction, export its snapshot;
    2. count rows and read django_migrations inside it (the numbers of the dump, exactly);
    3. pg_dump --snapshot=<that snapshot> streams to `write` while the transaction stays open.
    """
    with target.connect() as conn:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        snapshot_id = first_value(conn.execute("SELECT pg_export_snapshot()").fetchone())
        counts = pg_row_counts(conn)
        migrations = _migrations(conn.execute("SELECT app, name FROM django_migrations").fetchall())
        command = [
            PG_DUMP,
            "--format=custom",
            f"--snapshot={snapshot_id}",
            "--no-password",
            target.name,
        ]
        with tempfile.TemporaryFile() as errors:
            process = subprocess.Popen(  # noqa: S603 - our own fixed argument list
                command, stdout=subprocess.PIPE, stderr=errors, env=target.libpq_env()
            )
            stdout = _pipe(process.stdout)
            try:
                write(stdout)
            finally:
                stdout.close()
                code = process.wait()
            if code != 0:
                errors.seek(0)
                raise SnapshotError(
                    f"pg_dump failed ({code}): {errors.read().decode(errors='replace')[-2000:]}"
                )
        conn.rollback()
    return SnapshotInfo(counts, migrations, "pg_dump custom format (zlib)")


def pg_restore_from(target: Target, read: Callable[[Writable], None], *, clean: bool) -> None:
    """Feeds the decrypted dump to pg_restore's stdin: no plaintext copy on disk."""
    command = [
        PG_RESTORE,
        "--no-owner",
        "--no-privileges",
        "--exit-on-error",
        "--no-password",
        "--dbname",
        target.name,
    ]
    if clean:
        command[1:1] = ["--clean", "--if-exists"]
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(  # noqa: S603 - our own fixed argument list
            command, stdin=subprocess.PIPE, stderr=errors, env=target.libpq_env()
        )
        stdin = _pipe(process.stdin)
        try:
            read(stdin)
        except BrokenPipeError:
            pass  # pg_restore stopped early; its exit code and stderr say why
        finally:
            try:
                stdin.close()
            except BrokenPipeError:
                pass
            code = process.wait()
        if code != 0:
            errors.seek(0)
            raise SnapshotError(
                f"pg_restore failed ({code}): {errors.read().decode(errors='replace')[-2000:]}"
            )


def _pipe(stream: IO[bytes] | None) -> IO[bytes]:
    """A Popen pipe: never None when the stream was asked for with subprocess.PIPE."""
    if stream is None:
        raise SnapshotError("the subprocess has no pipe")
    return stream


def pg_create_database(server: Target, name: str) -> Target:
    with server.with_name("postgres").connect(autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return server.with_name(name)


def pg_drop_database(server: Target, name: str) -> None:
    with server.with_name("postgres").connect(autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


# --- SQLite --------------------------------------------------------------------------------------
def sqlite_tables(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
    )
    return [row[0] for row in rows]


def sqlite_row_counts(conn: sqlite3.Connection, tables: list[str] | None = None) -> dict[str, int]:
    counts: dict[str, int] = {}
    for table in tables if tables is not None else sqlite_tables(conn):
        quoted = '"' + table.replace('"', '""') + '"'
        # A table name from sqlite_master, quoted: not user input.
        counts[table] = conn.execute(f"SELECT count(*) FROM {quoted}").fetchone()[0]  # noqa: S608  # nosec B608
    return counts


def sqlite_dump_to(
    source: sqlite3.Connection, work_dir: Path, write: Callable[[Readable], None]
) -> SnapshotInfo:
    """The online backup API copies a consistent state page by page while the app keeps going;
    the copy is then counted and gzip-compressed into `write`."""
    with tempfile.NamedTemporaryFile(dir=work_dir, suffix=".sqlite3", delete=False) as handle:
        copy_path = Path(handle.name)
    try:
        copy = sqlite3.connect(copy_path)
        try:
            source.backup(copy)
            counts = sqlite_row_counts(copy)
            migrations = _migrations(
                copy.execute("SELECT app, name FROM django_migrations").fetchall()
            )
        finally:
            copy.close()
        with open(copy_path, "rb") as raw:
            write(_GzipReader(raw))
    finally:
        copy_path.unlink(missing_ok=True)
    return SnapshotInfo(counts, migrations, "gzip")


class _GzipReader:
    """A readable stream of the gzip-compressed content of `raw` (for the encryptor's reads)."""

    def __init__(self, raw: IO[bytes]) -> None:
        import io

        self.raw, self.buffer = raw, io.BytesIO()
        self.compressor = gzip.GzipFile(fileobj=self.buffer, mode="wb", compresslevel=6, mtime=0)
        self.done = False

    def read(self, size: int = -1) -> bytes:
        size = size if size and size > 0 else 1 << 20
        while self.buffer.tell() < size and not self.done:
            chunk = self.raw.read(1 << 20)
            if chunk:
                self.compressor.write(chunk)
            else:
                self.compressor.close()
                self.done = True
        data = self.buffer.getvalue()
        out, rest = data[:size], data[size:]
        self.buffer.seek(0)
        self.buffer.truncate()
        self.buffer.write(rest)
        return out


@contextmanager
def sqlite_restored_copy(
    work_dir: Path, read: Callable[[Writable], None]
) -> Iterator[sqlite3.Connection]:
    """Decrypts/decompresses into a temporary database file and yields a connection to it."""
    with tempfile.NamedTemporaryFile(dir=work_dir, suffix=".gz", delete=False) as handle:
        packed = Path(handle.name)
        read(handle)
    plain = packed.with_suffix(".sqlite3")
    try:
        with gzip.open(packed, "rb") as source, open(plain, "wb") as target:
            shutil.copyfileobj(source, target, 1 << 20)
        packed.unlink()
        conn = sqlite3.connect(plain)
        # Django's CHECK constraints call functions Django registers on its own connections
        # (REGEXP, django_format_dtdelta, ...): the integrity check evaluates them.
        from django.db.backends.sqlite3._functions import register as register_django_functions

        register_django_functions(conn)
        try:
            if first_value(conn.execute("PRAGMA integrity_check").fetchone()) != "ok":
                raise SnapshotError("the restored SQLite database fails its integrity check")
            yield conn
        finally:
            conn.close()
    finally:
        packed.unlink(missing_ok=True)
        plain.unlink(missing_ok=True)
