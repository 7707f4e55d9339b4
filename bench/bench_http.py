"""Benchmark: throughput of the hot public paths over real HTTP, each row a ratio to its baseline
measured in the same run.

Run from the project root, with PostgreSQL and Redis (the production shape):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/NAME REDIS_URL=redis://127.0.0.1:6379/N \\
        .venv/bin/python bench/bench_http.py

It needs wrk, the HTTP load generator (Debian: `apt-get install -y wrk`), and exits with that
message when it is missing. The database NAME gets the demo data (`manage.py demo_data`,
idempotent); Redis db N holds the cache under a key prefix of its own.

Two gunicorn servers on loopback, both with settings.prod (HTTPS as seen behind a trusted proxy,
rate limits counting in Redis but high enough never to refuse, intrusion detection on):
  full: the project's middleware stack;
  bare: Django's default middleware (bench/settings_http_bare.py).
Rows (goal in brackets):
  middleware full vs bare, for the week page, the slots API and /healthz   [>= 0.95 each]
  week page vs slots API for the same 7 days of the demo salon's Haircut, full stack [>= 0.8]
Each round runs every pair back to back (the order alternates between rounds), so a change of
the machine's load hits both sides of a pair alike; a row reports the median of the per-round
ratios and their min-max. Environment: ROUNDS (default 7), SECONDS per wrk run (default 5),
CONNECTIONS (default 2), WORKERS per gunicorn (default 2). Prints Markdown, also written to
bench/results_http.md.
"""

from __future__ import annotations

import json
import os
import platform
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results_http.md"
ROUNDS = int(os.environ.get("ROUNDS", "7"))
SECONDS = int(os.environ.get("SECONDS", "5"))
CONNECTIONS = int(os.environ.get("CONNECTIONS", "2"))
WORKERS = int(os.environ.get("WORKERS", "2"))
HEADERS = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.7"}

sys.path.insert(0, str(ROOT))
from tests.production import (  # noqa: E402
    PRODUCTION_BACKUP_ENV,
    PRODUCTION_FIELD_ENCRYPTION_ENV,
    PRODUCTION_LINK_KEY_ENV,
    PRODUCTION_PAYMENTS_ENV,
)


def fail(message: str) -> None:
    print(f"bench_http: {message}", file=sys.stderr)
    sys.exit(2)


def environment(work: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'bench'}",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": "https://127.0.0.1",
        "DATA_DIR": str(work),
        "LOG_LEVEL": "ERROR",
        "CACHE_KEY_PREFIX": f"bench-http-{secrets.token_hex(4)}",
        # wrk plays the proxy's part: it sends X-Forwarded-Proto/-For from loopback.
        "TRUSTED_PROXIES": "127.0.0.1",
        "TRUSTED_PROXY_COUNT": "0",
        **{
            f"RATE_LIMIT_{scope}": "100000000/m"
            for scope in ("BOOKING", "SLOTS", "API", "MANAGE", "LOGIN", "CSP_REPORT", "WEBHOOK")
        },
        **PRODUCTION_BACKUP_ENV,
        **PRODUCTION_PAYMENTS_ENV,
        **PRODUCTION_FIELD_ENCRYPTION_ENV,
        **PRODUCTION_LINK_KEY_ENV,
    }


def manage(env: dict[str, str], settings: str, *args: str) -> None:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        env={**env, "DJANGO_SETTINGS_MODULE": settings},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        fail(f"manage.py {' '.join(args)} failed:\n{done.stderr[-3000:]}")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=HEADERS)  # noqa: S310 - loopback
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def start_server(env: dict[str, str], settings: str, log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "settings.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(WORKERS),
                "--timeout",
                "60",
            ],
            env={**env, "DJANGO_SETTINGS_MODULE": settings},
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            fail(f"gunicorn ({settings}) exited:\n{log.read_text()[-3000:]}")
        try:
            get(f"{base}/.well-known/security.txt")
            return process, base
        except OSError:
            time.sleep(0.2)
    process.terminate()
    fail(f"gunicorn ({settings}) did not start:\n{log.read_text()[-3000:]}")
    raise AssertionError  # unreachable


def wrk_args(seconds: int) -> list[str]:
    args = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s"]
    for name, value in HEADERS.items():
        args += ["-H", f"{name}: {value}"]
    return args


def wrk(url: str) -> float:
    """Requests per second; a run with errors or non-2xx answers is refused, not counted."""
    out = subprocess.run(
        [*wrk_args(SECONDS), url], capture_output=True, text=True, timeout=SECONDS + 60, check=True
    ).stdout
    if "Non-2xx or 3xx responses" in out or "Socket errors" in out:
        fail(f"wrk saw errors on {url}:\n{out}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not match:
        fail(f"no throughput in wrk's output for {url}:\n{out}")
    return float(match.group(1))


def next_open_week() -> date:
    """A Tuesday at least two days ahead: the demo salon is open Tue-Sat, so the week is full."""
    day = datetime.now(UTC).date() + timedelta(days=2)
    while day.weekday() != 1:
        day += timedelta(days=1)
    return day


def versions(env: dict[str, str]) -> str:
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout
    wrk_version = (wrk_version.split("\n")[0].split(" [")[0]).strip() or "wrk"
    import psycopg
    import redis

    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        pg = conn.execute("SHOW server_version").fetchone()[0].split(" ")[0]
    server = redis.Redis.from_url(os.environ["REDIS_URL"]).info("server")["redis_version"]
    return (
        f"PostgreSQL {pg}, Redis {server}, CPython {platform.python_version()}, "
        f"gunicorn {WORKERS} sync workers each, {wrk_version} -t1 -c{CONNECTIONS} -d{SECONDS}s"
    )


def main() -> None:
    if shutil.which("wrk") is None:
        fail("wrk is not installed: it is Debian's `wrk` package (apt-get install -y wrk).")
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        fail("set DATABASE_URL to a PostgreSQL database (the production shape).")
    if not os.environ.get("REDIS_URL"):
        fail("set REDIS_URL (the production cache and broker).")

    work = Path(tempfile.mkdtemp(prefix="bench-http-"))
    env = environment(work)
    processes: list[subprocess.Popen] = []
    try:
        manage(env, "settings.dev", "migrate", "--noinput", "-v", "0")
        manage(env, "settings.dev", "demo_data")
        manage(env, "settings.prod", "collectstatic", "--noinput", "-v", "0")
        full, full_base = start_server(env, "settings.prod", work / "full.log")
        processes.append(full)
        bare, bare_base = start_server(env, "settings_http_bare", work / "bare.log")
        processes.append(bare)

        first = next_open_week()
        last = first + timedelta(days=6)
        week = f"/book/demo-salon/haircut/?week={first.isoformat()}&tz=Europe%2FZurich"
        api = (
            "/api/v1/partners/demo-salon/services/haircut/slots"
            f"?start={first.isoformat()}&end={last.isoformat()}&tz=Europe%2FZurich"
        )
        # The page and the API must offer the same times, or the comparison means nothing.
        status, page = get(full_base + week)
        assert status == 200, status
        status, body = get(full_base + api)
        assert status == 200, status
        page_slots = page.count(b'class="slot"')
        api_slots = sum(len(day["slots"]) for day in json.loads(body)["days"])
        assert page_slots == api_slots > 0, (page_slots, api_slots)
        for base in (full_base, bare_base):
            for path in (week, api, "/healthz"):
                status, _ = get(base + path)
                assert status == 200, (base, path, status)

        rows = [
            ("middleware full vs bare: week page", full_base + week, bare_base + week, 0.95),
            ("middleware full vs bare: slots API", full_base + api, bare_base + api, 0.95),
            (
                "middleware full vs bare: /healthz",
                full_base + "/healthz",
                bare_base + "/healthz",
                0.95,
            ),
            (
                "week page vs slots API (same week, full stack)",
                full_base + week,
                full_base + api,
                0.8,
            ),
        ]
        for url in {u for _, a, b, _ in rows for u in (a, b)}:  # warm both servers' workers
            subprocess.run([*wrk_args(1), url], capture_output=True, check=True)
        load_before = os.getloadavg()
        results: dict[str, list[tuple[float, float]]] = {name: [] for name, *_ in rows}
        loads: list[float] = []
        for round_ in range(ROUNDS):
            loads.append(os.getloadavg()[0])
            for name, a_url, b_url, _ in rows:
                if round_ % 2 == 0:
                    a = wrk(a_url)
                    b = wrk(b_url)
                else:
                    b = wrk(b_url)
                    a = wrk(a_url)
                results[name].append((a, b))
            print(f"round {round_ + 1}/{ROUNDS} done, load {loads[-1]:.2f}", file=sys.stderr)
        load_after = os.getloadavg()
        report(rows, results, load_before, load_after, loads, versions(env), page_slots, first)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(work, ignore_errors=True)


def report(rows, results, load_before, load_after, loads, versions_line, slots, first) -> None:
    cpus = os.cpu_count()
    lines = [
        "# HTTP throughput: security middleware and the week page",
        "",
        "Written by `bench/bench_http.py` (rerun to refresh it).",
        "",
        f"### {versions_line}",
        "",
        f"{ROUNDS} interleaved rounds; load average (1/5/15 min) before "
        f"{load_before[0]:.2f}/{load_before[1]:.2f}/{load_before[2]:.2f}, after "
        f"{load_after[0]:.2f}/{load_after[1]:.2f}/{load_after[2]:.2f} on {cpus} CPUs "
        f"(1-min load at the start of each round: {', '.join(f'{x:.2f}' for x in loads)}). "
        "(Work running beside the benchmark shows in these load figures.)",
        "",
        "| row | A req/s (median) | B req/s (median) | A/B per round: median | min–max | goal | holds |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for name, _, _, goal in rows:
        pairs = results[name]
        ratios = [a / b for a, b in pairs]
        median = statistics.median(ratios)
        lines.append(
            f"| {name} | {statistics.median(a for a, _ in pairs):.1f} "
            f"| {statistics.median(b for _, b in pairs):.1f} | {median:.2f} "
            f"| {min(ratios):.2f}–{max(ratios):.2f} | >= {goal} | {'yes' if median >= goal else 'no'} |"
        )
    lines += [
        "",
        f"Week page: `/book/demo-salon/haircut/?week={first.isoformat()}` (demo data, "
        f"{slots} free times on the page); slots API: the same 7 days as JSON. full = the "
        "project's middleware; bare = Django's default middleware, same settings.prod otherwise. "
        "A is the first named, B the second.",
        "",
        "Per-round req/s (A, B):",
        "",
    ]
    for name, *_ in rows:
        pairs = ", ".join(f"{a:.0f}/{b:.0f}" for a, b in results[name])
        lines.append(f"- {name}: {pairs}")
    text = "\n".join(lines) + "\n"
    print(text)
    RESULTS.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
