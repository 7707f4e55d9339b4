"""Benchmark: our backup and restore, as the whole commands (`manage.py backup`,
`manage.py backup_restore`, each a fresh process with settings.prod) and in-process, against a
bare `pg_dump -Fc` / `pg_restore` of the same database, interleaved round by round (issue 18:
at 1,000,000 bookings the backup command <= 2x a bare pg_dump, the restore command <= 1.3x a bare
pg_restore).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/booking_i18 \\
        BOOKINGS=200000,1000000 ROUNDS=3 .venv/bin/python bench/bench_backup.py

DATABASE_URL names the server and a prefix: the script creates `<name>_bench` (the source: the
bookings over 100 partners, made by INSERT ... SELECT generate_series, grown size by size) and
`<name>_bench_r` (the restore target, dropped and created empty before every restore, untimed),
and drops both at the end. Our backup: pg_dump on an exported snapshot with row counts, age
encryption, the signed manifest, three local destinations each fsynced and read back, gap filling.
Our restore: download and check the signed SHA-256, decrypt streaming into pg_restore, compare
row counts. Each round runs bare, command, in-process, in that order; the tables give medians.
Prints Markdown and writes bench/results_backup.md, with the load average before and after.
"""

from __future__ import annotations

import os
import platform
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results_backup.md"
SIZES = [int(n) for n in os.environ.get("BOOKINGS", "200000,1000000").split(",")]
ROUNDS = int(os.environ.get("ROUNDS", "3"))
PARTNERS = 100


def main() -> None:
    server = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/booking")
    if not server.startswith(("postgres://", "postgresql://")):
        sys.exit("bench_backup needs DATABASE_URL to name a PostgreSQL server")
    parts = urlsplit(server)
    prefix = parts.path.strip("/") or "booking"
    url = lambda name: urlunsplit(parts._replace(path=f"/{name}"))  # noqa: E731
    source, target = f"{prefix}_bench", f"{prefix}_bench_r"
    work = Path(tempfile.mkdtemp(prefix="booking-bench-backup-"))
    sys.path.insert(0, str(ROOT))
    env = _environment(url(source), work)
    os.environ.update(env)
    import psycopg

    admin = url("postgres")

    def recreate(name: str) -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')

    recreate(source)
    sections = []
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        made = 0
        for size in SIZES:
            made = _grow(made, size)
            sections.append(_measure(size, url, source, target, work, env, recreate))
            print(_section(sections[-1]), flush=True)
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(admin, autocommit=True) as conn:
            for name in (source, target):
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(work, ignore_errors=True)
    report = _report(sections)
    print(report)
    RESULTS.write_text(report, encoding="utf-8")


def _environment(database_url: str, work: Path) -> dict[str, str]:
    """What a production app server has: settings.prod, the keys, three destinations."""
    from backups.crypto import generate_identity_file
    from backups.signing import generate_pem

    signing_key, signing_public = generate_pem()
    return {
        "DJANGO_SETTINGS_MODULE": "settings.prod",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "bench.example",
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",
        "DATABASE_URL": database_url,
        "DATA_DIR": str(work / "data"),
        "BACKUP_DESTINATIONS": ",".join(str(work / f"dest-{x}") for x in "abc"),
        "BACKUP_OFFLINE_DESTINATION": str(work / "data" / "offline"),
        "BACKUP_PUBLIC_KEY": generate_identity_file(work / "identity.txt"),
        "BACKUP_IDENTITY_FILE": str(work / "identity.txt"),
        "BACKUP_SIGNING_KEY": signing_key,
        "BACKUP_SIGNING_PUBLIC_KEYS": signing_public,
    }


def _grow(made: int, size: int) -> int:
    """Adds bookings `made`..`size`-1 (partner n % 100, 30-minute steps: no overlaps)."""
    from django.db import connection

    from booking.models import Partner, Service

    start = time.perf_counter()
    if not made:
        for i in range(PARTNERS):
            partner = Partner.objects.create(
                name=f"Bench {i}", slug=f"bench-{i}", contact_email=f"p{i}@bench.example"
            )
            Service.objects.create(partner=partner, name="Cut", slug="cut", duration_minutes=30)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO booking_booking (partner_id, service_id, start, "end", busy_start, busy_end,
                customer_name, customer_email, customer_phone, notes, status, manage_token_hash,
                created_at, cancelled_because, cancellation_reason)
            SELECT p.id, s.id, t, t + interval '25 minutes', t, t + interval '25 minutes',
                'Customer ' || n, 'c' || n || '@example.com', '+41 79 000 00 00', 'bench booking',
                'confirmed', md5(n::text) || md5((n * 7)::text), now(), '', ''
            FROM generate_series(%s, %s - 1) AS n
            JOIN LATERAL (SELECT timestamptz '2020-01-01' + (n / %s) * interval '30 minutes' AS t) AS x ON true
            JOIN booking_partner p ON p.slug = 'bench-' || (n %% %s)
            JOIN booking_service s ON s.partner_id = p.id
            """,
            [made, size, PARTNERS, PARTNERS],
        )
        cursor.execute("VACUUM ANALYZE booking_booking")
    print(f"{size:,} bookings ({time.perf_counter() - start:.1f} s to add)", flush=True)
    return size


def _timed(run: object) -> float:
    start = time.perf_counter()
    run()  # type: ignore[operator]
    return time.perf_counter() - start


def _measure(size, url, source, target, work, env, recreate) -> dict:
    from backups import services
    from security.actors import Actor, Via

    bare = work / "bare.dump"
    pg_env = dict(
        os.environ,
        PGHOST=urlsplit(url("x")).hostname or "localhost",
        PGPORT=str(urlsplit(url("x")).port or 5432),
        PGUSER=urlsplit(url("x")).username or "postgres",
    )
    manage = [sys.executable, str(ROOT / "manage.py")]
    run = lambda args, **kw: subprocess.run(args, check=True, **kw)  # noqa: E731
    times: dict[str, list[float]] = {
        k: [] for k in ("dump", "cmd_b", "inp_b", "rest", "cmd_r", "inp_r")
    }
    load_before = os.getloadavg()
    latest = ""
    for round_ in range(1, ROUNDS + 1):
        times["dump"].append(
            _timed(lambda: run(["pg_dump", "--format=custom", "-f", str(bare), source], env=pg_env))
        )
        times["cmd_b"].append(
            _timed(lambda: run([*manage, "backup"], env=env, stdout=subprocess.DEVNULL, cwd=ROOT))
        )
        start = time.perf_counter()
        latest = services.backup_run().backup_id
        times["inp_b"].append(time.perf_counter() - start)
        print(
            f"  round {round_} backup: bare {times['dump'][-1]:.1f} s, command "
            f"{times['cmd_b'][-1]:.1f} s, in-process {times['inp_b'][-1]:.1f} s",
            flush=True,
        )
    for round_ in range(1, ROUNDS + 1):
        recreate(target)
        times["rest"].append(
            _timed(
                lambda: run(
                    [
                        "pg_restore",
                        "--no-owner",
                        "--no-privileges",
                        "--exit-on-error",
                        "-d",
                        target,
                        str(bare),
                    ],
                    env=pg_env,
                )
            )
        )
        recreate(target)
        times["cmd_r"].append(
            _timed(
                lambda: run(
                    [*manage, "backup_restore", latest, "--target-database", url(target), "--yes"],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    cwd=ROOT,
                )
            )
        )
        recreate(target)
        times["inp_r"].append(
            _timed(
                lambda: services.backup_restore(
                    actor=Actor.system("bench", via=Via.COMMAND),
                    backup_id=latest,
                    target_url=url(target),
                    confirm=lambda prompt: True,
                )
            )
        )
        print(
            f"  round {round_} restore: bare {times['rest'][-1]:.1f} s, command "
            f"{times['cmd_r'][-1]:.1f} s, in-process {times['inp_r'][-1]:.1f} s",
            flush=True,
        )
    ours = work / "dest-a" / latest / "db.dump.age"
    return {
        "bookings": size,
        "bare_size": bare.stat().st_size,
        "our_size": ours.stat().st_size,
        "load": (load_before, os.getloadavg()),
        **{k: statistics.median(v) for k, v in times.items()},
        **{f"{k}_all": v for k, v in times.items()},
    }


def _row(name: str, bare: float, ours: float, goal: float | None) -> str:
    ratio = ours / bare
    verdict = "–" if goal is None else ("yes" if ratio <= goal else "**no**")
    return f"| {name} | {bare:.2f} s | {ours:.2f} s | {ratio:.2f} | {verdict} |"


def _section(t: dict) -> str:
    n = t["bookings"]
    backup_goal = 2.0 if n >= 1_000_000 else None
    restore_goal = 1.3 if n >= 1_000_000 else None
    (b1, b5, b15), (a1, a5, a15) = t["load"]
    spread = lambda key: ", ".join(f"{x:.1f}" for x in t[f"{key}_all"])  # noqa: E731
    return "\n".join(
        [
            f"### {n:,} bookings",
            "",
            f"bare pg_dump -Fc: {t['bare_size'] / 1e6:.1f} MB; our encrypted dump: "
            f"{t['our_size'] / 1e6:.1f} MB. Load average (1/5/15 min) before {b1:.1f}/{b5:.1f}/"
            f"{b15:.1f}, after {a1:.1f}/{a5:.1f}/{a15:.1f}.",
            "",
            "| operation | bare | ours | ratio | goal met |",
            "|---|---:|---:|---:|---|",
            _row(
                "backup: `manage.py backup` (new process) vs `pg_dump -Fc`",
                t["dump"],
                t["cmd_b"],
                backup_goal,
            ),
            _row("backup in-process (`services.backup_run`)", t["dump"], t["inp_b"], None),
            _row(
                "restore: `manage.py backup_restore` (new process) vs `pg_restore`",
                t["rest"],
                t["cmd_r"],
                restore_goal,
            ),
            _row("restore in-process (`services.backup_restore`)", t["rest"], t["inp_r"], None),
            "",
            f"Each round (s): pg_dump {spread('dump')}; backup command {spread('cmd_b')}; "
            f"in-process {spread('inp_b')}; pg_restore {spread('rest')}; restore command "
            f"{spread('cmd_r')}; in-process {spread('inp_r')}.",
            "",
        ]
    )


def _report(sections: list[dict]) -> str:
    head = [
        f"## Backup and restore, PostgreSQL ({platform.machine()}, {os.cpu_count()} cores, "
        f"CPython {platform.python_version()}, median of {ROUNDS} interleaved rounds)",
        "",
        "Goals (issue 18), at 1,000,000 bookings: the backup command <= 2x a bare pg_dump, the "
        "restore command <= 1.3x a bare pg_restore. The command figures include the start of "
        "a Python process with Django (settings.prod); bare pg_dump writes one file without "
        "fsync, ours writes three fsynced copies and reads each back.",
        "",
    ]
    return "\n".join(head + [_section(s) for s in sections])


if __name__ == "__main__":
    main()
