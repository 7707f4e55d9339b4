"""Benchmark: our backup and restore against a bare pg_dump -Fc / pg_restore, same database,
same run (issue 7: ratio <= 1.5 each; restore of 1,000,000 bookings under 2 minutes).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/bench_backup.py

DATABASE_URL only names the server: the script creates its own databases `booking_bench_backup`
(the source, 1,000,000 bookings over 100 partners, made by INSERT ... SELECT generate_series),
`booking_bench_backup_r1` and `_r2` (restore targets), and drops them at the end. Our backup is
the whole `manage.py backup`: pg_dump on an exported snapshot + row counts, age encryption,
SHA-256, three local destinations, each read back. Our restore is `backup_restore`: verify the
copy (read back + SHA-256), decrypt streaming into pg_restore, compare row counts.
Prints a Markdown table and writes bench/results_backup.md. BOOKINGS=... to change the size.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results_backup.md"
DB = "booking_bench_backup"
BOOKINGS = int(os.environ.get("BOOKINGS", "1000000"))
PARTNERS = 100


def main() -> None:
    server = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    if not server.startswith(("postgres://", "postgresql://")):
        sys.exit("bench_backup needs DATABASE_URL to name a PostgreSQL server")
    parts = urlsplit(server)
    url = lambda name: urlunsplit(parts._replace(path=f"/{name}"))  # noqa: E731
    work = tempfile.mkdtemp(prefix="booking-bench-backup-")
    os.environ.update(
        DATABASE_URL=url(DB),
        DATA_DIR=work,
        DJANGO_SETTINGS_MODULE="settings.test",
        BACKUP_DESTINATIONS=",".join(f"{work}/dest-{x}" for x in "abc"),
    )
    sys.path.insert(0, str(ROOT))
    import psycopg

    from backups.crypto import generate_identity_file

    identity = Path(work) / "identity.txt"
    os.environ["BACKUP_PUBLIC_KEY"] = generate_identity_file(identity)
    os.environ["BACKUP_IDENTITY_FILE"] = str(identity)

    admin = url("postgres")
    names = (DB, f"{DB}_r1", f"{DB}_r2")

    def recreate(*dbs: str) -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            for name in dbs:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                conn.execute(f'CREATE DATABASE "{name}"')

    recreate(*names)
    try:
        rows = _run(url, names, work)
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(admin, autocommit=True) as conn:
            for name in names:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    report = _table(rows)
    print(report)
    RESULTS.write_text(report, encoding="utf-8")


def _run(url, names: tuple[str, ...], work: str) -> dict[str, float]:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from backups import services
    from booking.models import Partner, Service

    call_command("migrate", verbosity=0)
    start = time.perf_counter()
    for i in range(PARTNERS):
        partner = Partner.objects.create(
            name=f"Bench {i}", slug=f"bench-{i}", contact_email=f"p{i}@bench.example"
        )
        Service.objects.create(partner=partner, name="Cut", slug="cut", duration_minutes=30)
    with connection.cursor() as cursor:
        # Booking n goes to partner n % 100, at 30-minute steps per partner: no overlaps.
        cursor.execute(
            """
            INSERT INTO booking_booking (partner_id, service_id, start, "end", busy_start, busy_end,
                customer_name, customer_email, customer_phone, notes, status, manage_token_hash,
                created_at, cancellation_reason)
            SELECT p.id, s.id, t, t + interval '25 minutes', t, t + interval '25 minutes',
                'Customer ' || n, 'c' || n || '@example.com', '+41 79 000 00 00', 'bench booking',
                'confirmed', md5(n::text) || md5((n * 7)::text), now(), ''
            FROM generate_series(0, %s - 1) AS n
            JOIN LATERAL (SELECT timestamptz '2020-01-01' + (n / %s) * interval '30 minutes' AS t) AS x ON true
            JOIN booking_partner p ON p.slug = 'bench-' || (n %% %s)
            JOIN booking_service s ON s.partner_id = p.id
            """,
            [BOOKINGS, PARTNERS, PARTNERS],
        )
        cursor.execute("ANALYZE")
        cursor.execute("SELECT count(*) FROM booking_booking")
        count = cursor.fetchone()[0]
    print(f"generated {count:,} bookings in {time.perf_counter() - start:.1f} s", flush=True)
    env = dict(
        os.environ,
        PGHOST=urlsplit(url("x")).hostname or "localhost",
        PGPORT=str(urlsplit(url("x")).port or 5432),
        PGUSER=urlsplit(url("x")).username or "postgres",
    )
    bare = Path(work) / "bare.dump"
    timings: dict[str, float] = {"bookings": count}

    t = time.perf_counter()
    subprocess.run(["pg_dump", "--format=custom", "-f", str(bare), names[0]], check=True, env=env)
    timings["bare_dump"] = time.perf_counter() - t
    timings["bare_size"] = bare.stat().st_size

    t = time.perf_counter()
    result = services.backup_run()
    timings["our_backup"] = time.perf_counter() - t
    timings["our_size"] = (Path(work) / "dest-a" / result.backup_id / "db.dump.age").stat().st_size
    print(
        f"backup: bare {timings['bare_dump']:.1f} s, ours {timings['our_backup']:.1f} s", flush=True
    )

    t = time.perf_counter()
    subprocess.run(
        [
            "pg_restore",
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "-d",
            names[1],
            str(bare),
        ],
        check=True,
        env=env,
    )
    timings["bare_restore"] = time.perf_counter() - t

    t = time.perf_counter()
    services.backup_restore(
        backup_id=result.backup_id, target_url=url(names[2]), confirm=lambda prompt: True
    )
    timings["our_restore"] = time.perf_counter() - t
    print(
        f"restore: bare {timings['bare_restore']:.1f} s, ours {timings['our_restore']:.1f} s",
        flush=True,
    )
    return timings


def _table(t: dict[str, float]) -> str:
    b_ratio, r_ratio = t["our_backup"] / t["bare_dump"], t["our_restore"] / t["bare_restore"]
    ok = lambda good: "yes" if good else "**no**"  # noqa: E731
    return "\n".join(
        [
            f"## Backup and restore, {int(t['bookings']):,} bookings, PostgreSQL "
            f"({platform.machine()}, {os.cpu_count()} cores)",
            "",
            f"bare pg_dump -Fc: {t['bare_size'] / 1e6:.1f} MB; our encrypted dump: {t['our_size'] / 1e6:.1f} MB",
            "",
            "| operation | bare pg_dump / pg_restore | ours | ratio | goal <= 1.5 |",
            "|---|---:|---:|---:|---|",
            f"| backup (ours: dump + encrypt + 3 destinations, each read back) | {t['bare_dump']:.1f} s | {t['our_backup']:.1f} s | {b_ratio:.2f} | {ok(b_ratio <= 1.5)} |",
            f"| restore (ours: verify + decrypt into pg_restore + row counts) | {t['bare_restore']:.1f} s | {t['our_restore']:.1f} s | {r_ratio:.2f} | {ok(r_ratio <= 1.5)} |",
            "",
            f"Restore of the whole database under 2 minutes: {ok(t['our_restore'] < 120)} ({t['our_restore']:.1f} s).",
            "",
        ]
    )


if __name__ == "__main__":
    main()
