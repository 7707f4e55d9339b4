"""Benchmark: the hot public paths over real HTTP, each row a ratio to its baseline measured in
the same run (issue 19's table).

Run from the project root, with PostgreSQL and Redis (the production shape):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/NAME REDIS_URL=redis://127.0.0.1:6379/N \\
        .venv/bin/python bench/bench_http.py

It needs wrk, the HTTP load generator (Debian: `apt-get install -y wrk`), and exits with that
message when it is missing. The database NAME gets the demo data (`manage.py demo_data`,
idempotent) and the bench's own partners (below); Redis db N holds the cache under a key prefix
of its own.

Two gunicorn servers on loopback, both with settings.prod (HTTPS as seen behind a trusted proxy,
rate limits counting in Redis but high enough never to refuse, intrusion detection on):
  full: the project's middleware stack;
  bare: Django's default middleware (bench/settings_http_bare.py).
Rows (goal in brackets), by group (ROWS picks groups, below):
  middleware: full vs bare, for the week page, the slots API and /healthz (req/s) [>= 0.95 each]
  page:       week page vs slots API for the same 7 days of the demo salon's Haircut, full stack,
              req/s                                                              [>= 0.8]
  bookings:   one partner's concurrent bookings vs 16 partners' (bookings/s, full server)
                                                                                 [>= 0.95]
  slots:      slots API for 31 days, cold cache, ms per request, full server: a partner with
              100,000 bookings spread over a year vs one with none [<= 1.5], and one with 10,000
              inside the 31 days (a busy clinic) vs none                          [<= 2]
  lock:       partner lock held per booking (ms), 100,000 bookings vs 100         [<= 1.2]
Throughput rows run wrk for SECONDS against one URL per side. The bookings row: CLIENTS (4)
threads of this process POST the widget API's JSON booking (/api/v1/partners/<slug>/bookings), a
new connection per request, each waiting for its answer before the next, for SECONDS; side A
books one partner only (another of the 16 each round, so the partners' bookings grow alike),
side B goes round robin over 16 partners. The partners (bench-http-book-00 to -15, made afresh in
NAME on every run: UTC, open around the clock, a 5-minute service, one staff member) take every
booking at a free start of its own, handed out in 5-minute steps from a week ahead, so none is
refused: only 201 answers count, and any other answer (a 409 too) ends the bench with the
answer, as wrk's errors do. Between the sides of a pair the server is the same gunicorn, so the
ratio shows what waiting for one partner's lock (booking.services.partner_lock) costs when the
bookings come from separate worker processes.

The slots and lock rows use bench_slot_path's grown partners (grown_partners: 16 staff members,
Europe/Zurich, open 08:00-20:00 every day, a 30-minute service; zero: no bookings; spread:
100,000 confirmed 15-minute bookings over a year from 150 days before they were made; dense:
10,000 inside the slots window; hundred: 100 over the year) as bench-http-<label> in NAME, with
dates from the real today (the servers use the real clock). Making them takes 15-35 s on a busy
2-core machine, so later runs keep them while their window (31 days from AHEAD after the day
they were made) still starts after today, deleting only the lock row's bookings of earlier runs;
then they are made afresh. Slots rows: one client (urllib, a new connection per request) GETs
/api/v1/partners/<slug>/services/consultation/slots for the window, anyone, REQUESTS times one
after another per side and round (the median counts), deleting the slot cache's entries
(booking.slot_cache's keys under the servers' CACHE_KEY_PREFIX) from Redis before each, so
every request computes all 31 days; the rate-limit and intrusion-detection entries stay. Before
timing, every partner's answer must be 200 with free times, the zero partner's more than the
dense one's. Lock row: the server cannot report how long a booking holds the partner lock, so
this process books in-process (Django with settings.prod on NAME, the same code the server
runs): REQUESTS free starts per side and round through booking.services.booking_create, timed
from taking the lock to the commit by bench_slot_path's LockClock.

Each round measures every row's sides A B B A (B A A B in odd rounds), each side's figure the
mean of its two runs, so a change of the machine's speed over the four runs hits both sides
alike; a row reports the median of the per-round ratios and their min-max. Environment: ROUNDS (default 7), SECONDS per wrk run and per side of
the bookings row (default 5), CONNECTIONS (default 2), WORKERS per gunicorn (default 2),
REQUESTS per side and round of the slots and lock rows (default 5), ROWS (default all:
middleware,page,bookings,slots,lock; e.g. ROWS=slots,lock for a quick look). Prints Markdown,
also written to bench/results_http.md when every row ran.
"""

from __future__ import annotations

import itertools
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
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results_http.md"
ROUNDS = int(os.environ.get("ROUNDS", "7"))
SECONDS = int(os.environ.get("SECONDS", "5"))
CONNECTIONS = int(os.environ.get("CONNECTIONS", "2"))
WORKERS = int(os.environ.get("WORKERS", "2"))
HEADERS = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.7"}
CLIENTS = 4  # concurrent booking clients, on both sides of the bookings row
PARTNERS = 16  # side B's partners; side A books one of them (another each round)
SLUG = "bench-http-book-{:02d}"
BOOKINGS_ROW = f"one partner's concurrent bookings vs {PARTNERS} partners' ({CLIENTS} clients)"
STEP = timedelta(minutes=5)  # the service's length and the distance between its starts
# The row groups ROWS may name, comma-separated (default: all).
ROW_GROUPS = ("middleware", "page", "bookings", "slots", "lock")
GROWN_PREFIX = "http-"  # the slots and lock rows' partners: bench-http-zero, -spread, ...
AHEAD = timedelta(days=3)  # their window starts this far after the day they were made (Zurich)

sys.path.insert(0, str(ROOT))
from bench_slot_path import (  # noqa: E402 - the same partners and clocks as in-process
    DAYS,
    GROWN,
    REQUESTS,
    ZONE,
    LockClock,
    free_starts,
    grown_partners,
    holds,
    lock_hold,
    seconds,
)

from tests.production import (  # noqa: E402
    PRODUCTION_BACKUP_ENV,
    PRODUCTION_FIELD_ENCRYPTION_ENV,
    PRODUCTION_LINK_KEY_ENV,
    PRODUCTION_PAYMENTS_ENV,
)


@dataclass(frozen=True)
class Row:
    """A row of the table: each side a function of the round's number giving its figure."""

    name: str
    side_a: Callable[[int], float]
    side_b: Callable[[int], float]
    sense: str  # ">=" or "<=": the median ratio must be at least or at most the goal
    goal: float
    unit: str  # of the sides' figures: "per s" (throughput) or "ms" (latency)


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


def booking_partners_create() -> None:
    """Run inside Django (`manage.py shell -c`, see booking_partners): PARTNERS fresh partners
    (this row's partners of an earlier run go first, bookings and all), each in UTC, open around
    the clock every day, with a 5-minute service (no notice, two years ahead, no buffers) and one
    staff member: every 5-minute step from first_bookable_day() on is a free start."""
    from datetime import time as clock

    from booking import selectors
    from booking.models import Booking, OpeningHours, Partner, Service, StaffMember

    old = Partner.objects.filter(slug__startswith=SLUG.format(0)[:-2])
    Booking.objects.filter(partner__in=old).delete()
    old.delete()
    for n in range(PARTNERS):
        partner = Partner.objects.create(
            name=f"Bench booking {n}",
            slug=SLUG.format(n),
            time_zone="UTC",
            contact_email="bench@example.com",
        )
        OpeningHours.objects.bulk_create(
            OpeningHours(partner=partner, weekday=day, start=clock(0), end=clock(0))
            for day in range(7)
        )
        service = Service.objects.create(
            partner=partner,
            name="Check-up",
            slug="check-up",
            duration_minutes=int(STEP.total_seconds() // 60),
            min_notice_minutes=0,
            horizon_days=730,
        )
        member = StaffMember.objects.create(
            partner=partner, name="Person", works_opening_hours=True
        )
        member.services.add(service)
    # The row relies on it: the service offers every step of the day.
    first = first_bookable_day()
    offered = selectors.service_slots(
        service=service,
        window_start=first,
        window_end=first + timedelta(days=1),
        now=datetime.now(UTC),
    )
    expected = [first + n * STEP for n in range(timedelta(days=1) // STEP)]
    if offered != expected:
        raise AssertionError(f"the bench's service offers {offered[:3]}..., not {expected[:3]}...")


def first_bookable_day() -> datetime:
    """Midnight UTC a week from today: far enough ahead for the whole run."""
    day = datetime.now(UTC).date() + timedelta(days=7)
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def booking_partners(env: dict[str, str]) -> list[str]:
    manage(
        env,
        "settings.dev",
        "shell",
        "-c",
        "import bench_http; bench_http.booking_partners_create()",
    )
    return [SLUG.format(n) for n in range(PARTNERS)]


class Starts:
    """Hands out each partner's free starts in turn (every STEP from first_bookable_day()), so
    no two bookings of a run ask for the same time."""

    def __init__(self, slugs: list[str]) -> None:
        self.first = first_bookable_day()
        self.last = self.first + timedelta(days=700)  # well inside the service's horizon
        self.given = dict.fromkeys(slugs, 0)
        self.customers = itertools.count()
        self.lock = threading.Lock()

    def take(self, slug: str) -> tuple[datetime, int]:
        with self.lock:
            n = self.given[slug]
            self.given[slug] = n + 1
            start = self.first + n * STEP
            if start >= self.last:  # a client thread asks: bookings() reports it
                raise RuntimeError(f"{slug} has no free start left")
            return start, next(self.customers)


def post_booking(base: str, slug: str, start: datetime, customer: int) -> tuple[int, bytes]:
    """The widget's booking request: JSON, no cookie, no CSRF token."""
    body = {
        "service": "check-up",
        "start": start.isoformat(),
        "customer_name": f"Customer {customer}",
        "customer_email": f"customer{customer}@example.com",
    }
    request = urllib.request.Request(  # noqa: S310 - loopback
        f"{base}/api/v1/partners/{slug}/bookings",
        data=json.dumps(body).encode(),
        headers={**HEADERS, "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def bookings(base: str, slugs: list[str], starts: Starts, seconds: float) -> float:
    """Bookings per second of CLIENTS concurrent clients booking for `seconds`: booking i goes to
    slugs[i % len(slugs)], each at a free start of its own. Only 201 answers count; any other
    answer (a 409 would mean two bookings asked for one time) or error ends the bench."""
    turn = itertools.count()
    lock = threading.Lock()
    booked = [0] * CLIENTS
    problems: list[str] = []
    barrier = threading.Barrier(CLIENTS + 1)
    deadline = [0.0]

    def client(k: int) -> None:
        barrier.wait()
        slug = "-"
        try:
            while not problems and time.perf_counter() < deadline[0]:
                with lock:
                    slug = slugs[next(turn) % len(slugs)]
                start, customer = starts.take(slug)
                status, answer = post_booking(base, slug, start, customer)
                if status != 201:
                    problems.append(f"{slug} at {start.isoformat()}: {status} {answer[:500]!r}")
                    return
                booked[k] += 1
        except Exception as exc:  # reported below, like wrk's errors
            problems.append(f"{slug}: {exc!r}")

    threads = [threading.Thread(target=client, args=(k,)) for k in range(CLIENTS)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    deadline[0] = began + seconds
    barrier.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    if problems:
        fail(f"a booking was not created (201):\n{problems[0]}")
    return sum(booked) / elapsed


def wrk_round(url: str, round_: int) -> float:
    return wrk(url)


def selected_groups() -> set[str]:
    """The row groups ROWS names (all by default); an unknown name ends the bench."""
    names = {n.strip() for n in os.environ.get("ROWS", ",".join(ROW_GROUPS)).split(",")} - {""}
    if not names or names - set(ROW_GROUPS):
        fail(f"ROWS is a comma-separated choice of {', '.join(ROW_GROUPS)}, not {names}.")
    return names


def django_in_process(env: dict[str, str]) -> None:
    """Django in this process, as the servers run it (settings.prod, the same database, cache
    and keys): for the grown partners and the lock row."""
    os.environ.update({**env, "DJANGO_SETTINGS_MODULE": "settings.prod"})
    import django

    django.setup()


def grown_partners_kept() -> tuple[dict[str, Any], date]:
    """bench_slot_path's grown partners (GROWN: zero, spread 100k, dense 10k in the slots window,
    hundred) as bench-http-<label>: their services by label, and the first day of their window
    (AHEAD after the day they were made). A later run keeps them while that window starts after
    today, less the lock row's bookings of earlier runs (each keeps exactly its GROWN bookings,
    the first ones made); otherwise they are made afresh, in one transaction, after those of an
    earlier run have gone, bookings and all."""
    from django.db import transaction

    from booking import slot_cache
    from booking.models import Booking, Partner, Service

    zone = ZoneInfo(ZONE)
    today = datetime.now(zone).date()
    labels = {f"bench-{GROWN_PREFIX}{label}": label for label in GROWN}
    kept = list(Partner.objects.filter(slug__in=labels))
    first = min((p.created_at for p in kept), default=datetime.now(UTC)).astimezone(zone).date()
    if len(kept) == len(GROWN) and first + AHEAD > today:
        services = {}
        for partner in kept:
            label = labels[partner.slug]
            booked = Booking.objects.filter(partner=partner).order_by("pk")
            later = list(booked.values_list("pk", flat=True)[GROWN[label] :])
            Booking.objects.filter(pk__in=later).delete()
            services[label] = Service.objects.get(partner=partner, slug="consultation")
        return services, first + AHEAD
    with transaction.atomic():
        for old in kept:
            with slot_cache.partner_going(old.pk):
                Booking.objects.filter(partner=old).delete()
                old.delete()
        first = today + AHEAD
        return grown_partners(datetime.now(UTC), first, prefix=GROWN_PREFIX), first


class SlotCache:
    """Deletes the servers' slot cache entries (booking.slot_cache's `slots:` keys under the
    servers' CACHE_KEY_PREFIX, Django's key format) from Redis; the rate-limit and intrusion
    detection entries stay, as they would in production."""

    def __init__(self) -> None:
        import redis
        from django.core.cache import cache

        self.pattern = cache.make_key("slots:") + "*"
        self.client = redis.Redis.from_url(os.environ["REDIS_URL"])

    def clear(self) -> int:
        keys = list(self.client.scan_iter(match=self.pattern, count=1000))
        if keys:
            self.client.delete(*keys)
        return len(keys)


def slots_url(base: str, slug: str, first: date) -> str:
    last = first + timedelta(days=DAYS - 1)
    return (
        f"{base}/api/v1/partners/{slug}/services/consultation/slots"
        f"?start={first.isoformat()}&end={last.isoformat()}&tz=Europe%2FZurich"
    )


def slots_get(url: str) -> bytes:
    status, body = get(url)
    if status != 200:
        fail(f"the slots API answered {status} to {url}:\n{body[:500]!r}")
    return body


def slots_offered(url: str, cache: SlotCache) -> int:
    """The number of times the API offers at `url`, asked with a cold cache; the cache must
    then hold the answer under the keys SlotCache deletes, or the cold rows would be warm."""
    cache.clear()
    offered = sum(len(day["slots"]) for day in json.loads(slots_get(url))["days"])
    if cache.clear() == 0:
        fail(f"no slot cache entry matches {cache.pattern} after {url}: the rows would be warm.")
    return offered


def slots_ms(url: str, cache: SlotCache, round_: int) -> float:
    """Median ms of REQUESTS requests, one after another, each with a cold slot cache."""
    return seconds(partial(slots_get, url), cold=True, clear=cache.clear) * 1000


class LockRow:
    """The lock row's sides: ms the partner lock is held per booking, median of REQUESTS
    bookings (free starts of the service from a week ahead, later each round) made in this
    process through booking.services.booking_create, timed by bench_slot_path's LockClock."""

    def __init__(self) -> None:
        self.clock = LockClock()
        self.customers = itertools.count(1)

    def ms(self, service: Any, round_: int) -> float:
        now = datetime.now(UTC)
        starts = free_starts(service, REQUESTS, 7 + round_ * 2, now)
        with self.clock.installed():
            held = lock_hold(service, starts, self.clock, next(self.customers) * 1000, now)
        return held * 1000


def abba(row: Row, round_: int) -> tuple[float, float]:
    """One round of a row: its sides measured A B B A (B A A B in odd rounds), each side's figure
    the mean of its two. The machine's speed drifts from one run to the next (seen here: the
    same /healthz pair at 1098/1193 req/s, the next at 1354/1470); a drift steady over the four
    runs then weighs on both sides alike, where in a plain A B pair it all fell on one side."""
    first, second = (row.side_a, row.side_b) if round_ % 2 == 0 else (row.side_b, row.side_a)
    outer = first(round_)
    inner = second(round_) + second(round_)
    outer += first(round_)
    if round_ % 2 == 0:
        return outer / 2, inner / 2
    return inner / 2, outer / 2


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
    groups = selected_groups()
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

        pairs = []
        if "middleware" in groups:
            pairs += [
                ("middleware full vs bare: week page", full_base + week, bare_base + week, 0.95),
                ("middleware full vs bare: slots API", full_base + api, bare_base + api, 0.95),
                (
                    "middleware full vs bare: /healthz",
                    full_base + "/healthz",
                    bare_base + "/healthz",
                    0.95,
                ),
            ]
        if "page" in groups:
            pairs.append(
                (
                    "week page vs slots API (same week, full stack)",
                    full_base + week,
                    full_base + api,
                    0.8,
                )
            )
        rows = [
            Row(name, partial(wrk_round, a_url), partial(wrk_round, b_url), ">=", goal, "per s")
            for name, a_url, b_url, goal in pairs
        ]
        if "bookings" in groups:
            slugs = booking_partners(env)
            starts = Starts(slugs)
            rows.append(
                Row(
                    BOOKINGS_ROW,
                    # One partner (another of the 16 each round, so their bookings grow alike).
                    lambda round_: bookings(full_base, [slugs[round_ % PARTNERS]], starts, SECONDS),
                    lambda round_: bookings(full_base, slugs, starts, SECONDS),
                    ">=",
                    0.95,
                    "per s",
                )
            )
        grown: dict[str, Any] = {}
        offered: dict[str, int] = {}
        slots_first = first
        if groups & {"slots", "lock"}:
            django_in_process(env)
            began = time.perf_counter()
            grown, slots_first = grown_partners_kept()
            print(f"grown partners ready in {time.perf_counter() - began:.1f} s", file=sys.stderr)
        if "slots" in groups:
            cache = SlotCache()
            urls = {
                k: slots_url(full_base, f"bench-{GROWN_PREFIX}{k}", slots_first)
                for k in ("zero", "spread", "dense")
            }
            # Every partner must offer times, the one without bookings more than the dense one,
            # or the comparison means nothing.
            offered = {k: slots_offered(url, cache) for k, url in urls.items()}
            if not offered["zero"] > offered["dense"] > 0 < offered["spread"]:
                fail(f"the grown partners offer {offered} times in the window.")
            rows += [
                Row(
                    f"slots API cold, 31 days: {label} vs 0 bookings",
                    partial(slots_ms, urls[key], cache),
                    partial(slots_ms, urls["zero"], cache),
                    "<=",
                    goal,
                    "ms",
                )
                for key, label, goal in (
                    ("spread", "100k over a year", 1.5),
                    ("dense", "10k in the window", 2.0),
                )
            ]
        if "lock" in groups:
            lock = LockRow()
            rows.append(
                Row(
                    "partner lock held per booking: 100k bookings vs 100",
                    partial(lock.ms, grown["spread"]),
                    partial(lock.ms, grown["hundred"]),
                    "<=",
                    1.2,
                    "ms",
                )
            )
        for url in {u for _, a, b, _ in pairs for u in (a, b)}:  # warm both servers' workers
            subprocess.run([*wrk_args(1), url], capture_output=True, check=True)
        if "bookings" in groups:
            bookings(full_base, slugs, starts, 1)
        if "slots" in groups:
            for url in urls.values():
                slots_ms(url, cache, 0)
        load_before = os.getloadavg()
        results: dict[str, list[tuple[float, float]]] = {row.name: [] for row in rows}
        loads: list[float] = []
        for round_ in range(ROUNDS):
            loads.append(os.getloadavg()[0])
            for row in rows:
                results[row.name].append(abba(row, round_))
            print(f"round {round_ + 1}/{ROUNDS} done, load {loads[-1]:.2f}", file=sys.stderr)
        load_after = os.getloadavg()
        report(
            rows,
            results,
            (load_before, load_after, loads),
            versions(env),
            (page_slots, first),
            (offered, slots_first),
            write=groups == set(ROW_GROUPS),
        )
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(work, ignore_errors=True)


def report(rows, results, load, versions_line, week_page, grown, *, write: bool) -> None:
    load_before, load_after, loads = load
    slots, first = week_page
    offered, slots_first = grown
    names = {row.name for row in rows}
    cpus = os.cpu_count()
    lines = [
        "# HTTP hot paths: security middleware, the week page, bookings and the slot path",
        "",
        "Written by `bench/bench_http.py` (rerun to refresh it).",
        "",
        f"### {versions_line}",
        "",
        f"{ROUNDS} rounds, each row A B B A (B A A B in odd rounds); load average (1/5/15 min) before "
        f"{load_before[0]:.2f}/{load_before[1]:.2f}/{load_before[2]:.2f}, after "
        f"{load_after[0]:.2f}/{load_after[1]:.2f}/{load_after[2]:.2f} on {cpus} CPUs "
        f"(1-min load at the start of each round: {', '.join(f'{x:.2f}' for x in loads)}). "
        "(Work running beside the benchmark shows in these load figures.)",
        "",
        "| row | unit | A (median) | B (median) | A/B per round: median | min–max | goal | holds |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        pairs = results[row.name]
        ratios = [a / b for a, b in pairs]
        median = statistics.median(ratios)
        lines.append(
            f"| {row.name} | {row.unit} | {statistics.median(a for a, _ in pairs):.1f} "
            f"| {statistics.median(b for _, b in pairs):.1f} | {median:.2f} "
            f"| {min(ratios):.2f}–{max(ratios):.2f} | {row.sense} {row.goal} "
            f"| {holds(median, row.sense, row.goal)} |"
        )
    lines += [
        "",
        "A is the first named, B the second; per s: requests (wrk), or bookings created (201) on "
        "the bookings row; ms: milliseconds per request or per booking.",
    ]
    if any(row.unit == "per s" and row.name != BOOKINGS_ROW for row in rows):
        lines += [
            "",
            f"Week page: `/book/demo-salon/haircut/?week={first.isoformat()}` (demo data, "
            f"{slots} free times on the page); slots API: the same 7 days as JSON. full = the "
            "project's middleware; bare = Django's default middleware, same settings.prod "
            "otherwise.",
        ]
    if BOOKINGS_ROW in names:
        lines += [
            "",
            f"Bookings: {CLIENTS} clients (threads of the bench, a new connection per request, "
            "like wrk through gunicorn's sync workers) POST the widget's JSON booking "
            "(`/api/v1/partners/<slug>/bookings`) to the full server for the round's seconds, "
            "each a free start of its own (a 5-minute service, open around the clock, one staff "
            f"member); A: all to one partner (another of the {PARTNERS} each round), B: round "
            f"robin over the {PARTNERS} partners. Any answer but 201 ends the run.",
        ]
    locked = any(row.name.startswith("partner lock") for row in rows)
    if offered or locked:
        lines += [
            "",
            "Grown partners (`bench_slot_path.grown_partners`, in the bench's database, kept "
            "from run to run while their window lies ahead): 16 staff members, open 08:00–20:00 "
            "Europe/Zurich every day, a 30-minute service; 0: no bookings; 100k: 100,000 "
            "confirmed 15-minute bookings over a year from 150 days before they were made; 10k: "
            "10,000 inside the slots window; 100: 100 over the year.",
        ]
    if offered:
        lines += [
            "",
            f"Slots API cold: ms of one request for the {DAYS} days from "
            f"{slots_first.isoformat()} (`/api/v1/partners/<slug>/services/consultation/slots`, "
            "anyone, Europe/Zurich) to the full server, sent one after another by one client "
            "(urllib, a new connection per request), the slot cache's entries deleted from Redis "
            f"before each; median of {REQUESTS} per side and round. Times offered: "
            f"{offered['zero']} (0 bookings), {offered['spread']} (100k), "
            f"{offered['dense']} (10k).",
        ]
    if locked:
        lines += [
            "",
            "Partner lock: ms from taking the partner lock to the commit, per booking, median of "
            f"{REQUESTS} bookings per side and round. The server cannot report it, so the bench "
            "books in its own process (Django with settings.prod on the same database, "
            "`booking.services.booking_create`, timed by `bench_slot_path.LockClock`), free "
            "starts from a week ahead.",
        ]
    lines += ["", "Per-round figures (A/B):", ""]
    for row in rows:
        digits = 0 if row.unit == "per s" else 1
        pairs = ", ".join(f"{a:.{digits}f}/{b:.{digits}f}" for a, b in results[row.name])
        lines.append(f"- {row.name}: {pairs}")
    text = "\n".join(lines) + "\n"
    print(text)
    if write:
        RESULTS.write_text(text, encoding="utf-8")
    else:
        print(f"(ROWS chose some rows: {RESULTS.name} is left as it was)", file=sys.stderr)


if __name__ == "__main__":
    main()
