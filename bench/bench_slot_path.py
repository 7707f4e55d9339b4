"""Benchmark: the slot path as a partner grows (issue 19's rows), each row a ratio to its baseline
measured in the same run, in-process (no HTTP: bench_http.py measures the middleware).

Run from the project root, with PostgreSQL and Redis (the production shape):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/x REDIS_URL=redis://127.0.0.1:6379/N \\
        .venv/bin/python bench/bench_slot_path.py

It never touches the database DATABASE_URL names: it creates (and finally drops) its own
database (BENCH_DB, default `booking_bench_slot_path`) on that server. Redis db N is cleared.

Partners, each open every day 08:00-20:00 (Europe/Zurich) with a 30-minute service every 30
minutes, performed by 16 staff members (31 days x 16 people: within the API's work limit):
  zero:      no bookings;
  spread:    100,000 confirmed bookings (15 minutes) spread over a year around the window;
  dense:     10,000 confirmed bookings inside the 31-day window (a busy clinic);
  hundred:   100 bookings over the year (the lock row's baseline).
Rows (goal in brackets), each the median of ROUNDS interleaved per-round ratios:
  slots for 31 days (selectors.free_starts_by_local_day, what the API and pages call), anyone,
  cold cache (cleared before each request) and warm cache:
    spread vs zero [<= 1.5], dense vs zero [<= 2];
  partner lock held per booking (from taking the lock to the commit), spread vs hundred [<= 1.2];
  bookings per second of THREADS threads booking one partner vs 16 partners [>= 0.95].
Prints Markdown, also written to bench/results_slot_path.md.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results_slot_path.md"
BENCH_DB = os.environ.get("BENCH_DB", "booking_bench_slot_path")
ROUNDS = int(os.environ.get("ROUNDS", "7"))
REQUESTS = int(os.environ.get("REQUESTS", "5"))  # per side and round
THREADS = int(os.environ.get("THREADS", "4"))
BOOKINGS_PER_THREAD = int(os.environ.get("BOOKINGS_PER_THREAD", "8"))
STAFF = 16
NOW = datetime(2026, 3, 2, 6, tzinfo=UTC)  # a Monday, 07:00 in Zurich
FIRST = date(2026, 3, 9)  # the window: 31 local days from the next Monday
DAYS = 31
ZONE = "Europe/Zurich"
# The grown partners' bookings (grown_partners): spread and hundred over a year, dense in the window.
GROWN = {"zero": 0, "spread": 100_000, "dense": 10_000, "hundred": 100}


def fail(message: str) -> None:
    print(f"bench_slot_path: {message}", file=sys.stderr)
    sys.exit(2)


@contextmanager
def scratch_database() -> Iterator[str]:
    import psycopg

    parts = urlsplit(os.environ["DATABASE_URL"])
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}"')
        conn.execute(f'CREATE DATABASE "{BENCH_DB}"')
    try:
        yield urlunsplit(parts._replace(path=f"/{BENCH_DB}"))
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}"')


def make_partner(label: str, staff: int = STAFF):
    from datetime import time as clock

    from booking.models import OpeningHours, Partner, Service, StaffMember

    partner = Partner.objects.create(
        name=f"Bench {label}",
        slug=f"bench-{label}",
        time_zone=ZONE,
        contact_email="bench@example.com",
    )
    OpeningHours.objects.bulk_create(
        OpeningHours(partner=partner, weekday=day, start=clock(8), end=clock(20))
        for day in range(7)
    )
    service = Service.objects.create(
        partner=partner,
        name="Consultation",
        slug="consultation",
        duration_minutes=30,
        min_notice_minutes=60,
        horizon_days=400,
    )
    for n in range(staff):
        member = StaffMember.objects.create(
            partner=partner, name=f"Person {n}", display_order=n, works_opening_hours=True
        )
        member.services.add(service)
    return partner, service


def fill(service, count: int, first: datetime, span: timedelta) -> None:
    """`count` confirmed 15-minute bookings over [first, first + span), dealt round-robin to the
    service's staff, written by the database as copies of one real booking."""
    from booking import services
    from booking.models import Booking, StaffMember

    staff = list(
        StaffMember.objects.filter(partner_id=service.partner_id)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    template, _ = services.booking_create(
        service=service,
        start=datetime(2024, 1, 8, 9, tzinfo=UTC),
        customer=services.CustomerDetails(name="Template", email="template@example.com"),
        actor=actor(),
        now=datetime(2024, 1, 1, tzinfo=UTC),
    )
    per_staff = -(-count // len(staff))
    # On whole minutes, as every booking is: a booking starts at an offered time (or one typed
    # as HH:MM by hand), and its services last whole minutes.
    first = first.replace(second=0, microsecond=0)
    spacing_s = int(span.total_seconds() // per_staff) // 60 * 60
    assert spacing_s >= 16 * 60, "bookings of one person would overlap"
    start = (
        f"TIMESTAMPTZ '{first.isoformat()}' + (g / {len(staff)}) * INTERVAL '{spacing_s} seconds'"
    )
    shifted = {
        "start": start,
        "busy_start": start,
        "end": f"{start} + INTERVAL '15 minutes'",
        "busy_end": f"{start} + INTERVAL '15 minutes'",
        "staff_id": f"(ARRAY{staff})[1 + g %% {len(staff)}]",
    }
    columns = [f.column for f in Booking._meta.concrete_fields if f.column != "id"]
    names = ", ".join(f'"{c}"' for c in columns)
    values = ", ".join(shifted.get(c, f'"{c}"') for c in columns)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO booking_booking ({names}) SELECT {values} "  # noqa: S608  # nosec B608
            "FROM booking_booking, generate_series(0, %s) AS g WHERE id = %s",
            [count - 2, template.pk],
        )
        cursor.execute("ANALYZE booking_booking")


def grown_partners(now: datetime, first: date, prefix: str = "") -> dict[str, Any]:
    """The services of the partners the slot and lock rows compare (module docstring: zero,
    spread, dense, hundred), keyed by those labels; their slugs are `bench-<prefix><label>`.
    The spread bookings cover a year from 150 days before `now`, the dense ones the DAYS local
    days from `first` (the slots rows' window)."""
    from datetime import time as clock
    from zoneinfo import ZoneInfo

    window = datetime.combine(first, clock(0), ZoneInfo(ZONE)).astimezone(UTC)
    made = {}
    for label, count in GROWN.items():
        _, made[label] = make_partner(prefix + label)
        if label == "dense":
            fill(made[label], count, window, timedelta(days=DAYS))
        elif count:
            fill(made[label], count, now - timedelta(days=150), timedelta(days=365))
    return made


def actor():
    from security.actors import Actor, Via

    return Actor.customer(ip="192.0.2.1", via=Via.BOOKING_PAGE)


def slots_request(service) -> Callable[[], object]:
    from zoneinfo import ZoneInfo

    from booking import selectors

    zone = ZoneInfo(ZONE)

    def call() -> object:
        return selectors.free_starts_by_local_day(
            service=service,
            zone=zone,
            first=FIRST,
            last=FIRST + timedelta(days=DAYS - 1),
            now=NOW,
        )

    return call


def seconds(
    fn: Callable[[], object], *, cold: bool, clear: Callable[[], object] | None = None
) -> float:
    """Median seconds of REQUESTS calls of fn; cold: `clear` (default: the whole cache) runs
    before each call, outside the timing."""
    from django.core.cache import cache

    samples = []
    for _ in range(REQUESTS):
        if cold:
            (clear or cache.clear)()
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


class LockClock:
    """Times the partner lock: from partner_lock() to the commit (transaction.on_commit)."""

    def __init__(self) -> None:
        self.samples: list[float] = []

    @contextmanager
    def installed(self) -> Iterator[None]:
        from django.db import transaction

        from booking import services

        original = services.partner_lock

        def timed(partner_id: int, **options: bool) -> int:
            # The rules version the lock reads goes back to the caller: the booking compares it
            # with the one it read before (a None would make every booking check again).
            version = original(partner_id, **options)
            taken = time.perf_counter()
            transaction.on_commit(lambda: self.samples.append(time.perf_counter() - taken))
            return version

        services.partner_lock = timed
        try:
            yield
        finally:
            services.partner_lock = original


def free_starts(service, count: int, offset_days: int, now: datetime = NOW) -> list[datetime]:
    from booking import selectors

    found = selectors.service_slots(
        service=service,
        window_start=now + timedelta(days=offset_days),
        window_end=now + timedelta(days=offset_days + 60),
        now=now,
    )
    return found[:: max(1, len(found) // count)][:count]


def book(service, start: datetime, n: int, now: datetime = NOW) -> None:
    from booking import services

    services.booking_create(
        service=service,
        start=start,
        customer=services.CustomerDetails(name=f"Customer {n}", email=f"c{n}@example.com"),
        actor=actor(),
        now=now,
    )


def lock_hold(
    service, starts: list[datetime], clock: LockClock, n: int, now: datetime = NOW
) -> float:
    """Seconds the partner lock is held per booking (median), booking `starts` one by one."""
    clock.samples.clear()
    for i, start in enumerate(starts):
        book(service, start, n + i, now)
    return statistics.median(clock.samples)


def concurrent(targets: list[tuple[object, list[datetime]]], n: int) -> float:
    """Bookings per second of THREADS threads, thread t booking targets[t]'s starts."""
    from django.db import connection, connections

    barrier = threading.Barrier(len(targets) + 1)
    errors: list[BaseException] = []

    def run(index: int, service, starts: list[datetime]) -> None:
        try:
            connection.ensure_connection()
            barrier.wait()
            for i, start in enumerate(starts):
                book(service, start, n + index * 1000 + i)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=run, args=(i, service, starts))
        for i, (service, starts) in enumerate(targets)
    ]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    if errors:
        fail(f"a booking thread failed: {errors[0]!r}")
    return sum(len(s) for _, s in targets) / elapsed


def main() -> None:
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        fail("set DATABASE_URL to a PostgreSQL server (the production shape).")
    if not os.environ.get("REDIS_URL"):
        fail("set REDIS_URL (the shared cache).")
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings.test")
    os.environ.setdefault("CACHE_KEY_PREFIX", "bench-slot-path")
    with scratch_database() as url:
        os.environ["DATABASE_URL"] = url
        import django

        django.setup()
        import time_machine
        from django.core.cache import cache
        from django.core.management import call_command
        from django.db import connection

        call_command("migrate", interactive=False, verbosity=0)
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            pg = cursor.fetchone()[0].split()[0]
        cache.clear()
        with time_machine.travel(NOW, tick=True):
            print("setting up partners ...", file=sys.stderr)
            grown = grown_partners(NOW, FIRST)
            zero, spread, dense, hundred = (
                grown[k] for k in ("zero", "spread", "dense", "hundred")
            )
            single = [make_partner(f"solo-{n}", staff=1)[1] for n in range(16)]
            load_before = os.getloadavg()
            rows: dict[str, list[tuple[float, float]]] = {
                "slots cold: spread 100k vs 0": [],
                "slots cold: dense 10k vs 0": [],
                "slots warm: spread 100k vs 0": [],
                "slots warm: dense 10k vs 0": [],
                "lock held ms: spread 100k vs 100": [],
                "bookings/s: one partner vs one each": [],
            }
            clock = LockClock()
            n = 10_000_000
            loads = []
            for round_ in range(ROUNDS):
                loads.append(os.getloadavg()[0])
                order = (lambda a, b: (a, b)) if round_ % 2 == 0 else (lambda a, b: (b, a))
                for name, base in (("spread 100k", spread), ("dense 10k", dense)):
                    for cold in (True, False):
                        first, second = order(slots_request(base), slots_request(zero))
                        a, b = seconds(first, cold=cold), seconds(second, cold=cold)
                        if round_ % 2:
                            a, b = b, a
                        rows[f"slots {'cold' if cold else 'warm'}: {name} vs 0"].append((a, b))
                with clock.installed():
                    big = free_starts(spread, 5, 7 + round_ * 2)
                    small = free_starts(hundred, 5, 7 + round_ * 2)
                    a = lock_hold(spread, big, clock, n)
                    b = lock_hold(hundred, small, clock, n + 100)
                    n += 200
                rows["lock held ms: spread 100k vs 100"].append((a * 1000, b * 1000))
                day = 100 + round_ * 3
                one = free_starts(single[0], THREADS * BOOKINGS_PER_THREAD, day)
                one_targets = [
                    (single[0], one[t::THREADS][:BOOKINGS_PER_THREAD]) for t in range(THREADS)
                ]
                many_targets = [
                    (single[1 + t % 15], free_starts(single[1 + t % 15], BOOKINGS_PER_THREAD, day))
                    for t in range(THREADS)
                ]
                a = concurrent(one_targets, n)
                b = concurrent(many_targets, n + 50_000)
                n += 100_000
                rows["bookings/s: one partner vs one each"].append((a, b))
                print(f"round {round_ + 1}/{ROUNDS}, load {loads[-1]:.2f}", file=sys.stderr)
            load_after = os.getloadavg()
    report(rows, pg, load_before, load_after, loads)


GOALS = {
    "slots cold: spread 100k vs 0": ("<=", 1.5),
    "slots cold: dense 10k vs 0": ("<=", 2.0),
    "slots warm: spread 100k vs 0": ("<=", 1.5),
    "slots warm: dense 10k vs 0": ("<=", 2.0),
    "lock held ms: spread 100k vs 100": ("<=", 1.2),
    "bookings/s: one partner vs one each": (">=", 0.95),
}


def holds(median: float, sense: str, goal: float) -> str:
    """The table's "holds" cell: does the median meet the goal ("<=" or ">=" it)?"""
    met = median <= goal if sense == "<=" else median >= goal
    return "yes" if met else "no"


def report(rows, pg: str, load_before, load_after, loads) -> None:
    lines = [
        "# The slot path as a partner grows",
        "",
        "Written by `bench/bench_slot_path.py` (rerun to refresh it).",
        "",
        f"### PostgreSQL {pg}, Redis cache, CPython {platform.python_version()}",
        "",
        f"{ROUNDS} interleaved rounds; load average (1/5/15 min) before "
        f"{load_before[0]:.2f}/{load_before[1]:.2f}/{load_before[2]:.2f}, after "
        f"{load_after[0]:.2f}/{load_after[1]:.2f}/{load_after[2]:.2f} on {os.cpu_count()} CPUs "
        f"(1-min load at the start of each round: {', '.join(f'{x:.2f}' for x in loads)}). "
        "Other work was running on the machine at the same time.",
        "",
        "| row | A (median) | B (median) | A/B per round: median | min–max | goal | holds |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for name, pairs in rows.items():
        ratios = [a / b for a, b in pairs]
        median = statistics.median(ratios)
        sense, goal = GOALS[name]
        unit = 1000 if name.startswith("slots") else 1
        lines.append(
            f"| {name} | {statistics.median(a for a, _ in pairs) * unit:.1f} "
            f"| {statistics.median(b for _, b in pairs) * unit:.1f} | {median:.2f} "
            f"| {min(ratios):.2f}–{max(ratios):.2f} | {sense} {goal} | {holds(median, sense, goal)} |"
        )
    lines += [
        "",
        "Slots rows: ms of one 31-day request for anyone (16 staff members), median of "
        f"{REQUESTS} per side and round; cold = cache cleared before each request, warm = "
        "answered from the cache except today and tomorrow. Lock row: ms from taking the partner "
        "lock to the commit, median of 5 bookings per side and round. Bookings/s: "
        f"{THREADS} threads x {BOOKINGS_PER_THREAD} bookings, all on one partner vs one partner "
        "each. A is the first named, B the second.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    RESULTS.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
