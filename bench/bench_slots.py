"""Benchmark: where does the time of a 31-day slot request go as a partner's bookings grow?

Run from the project root, against the database DATABASE_URL names (SQLite by default):

    DJANGO_SETTINGS_MODULE=settings.test .venv/bin/python bench/bench_slots.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/x .venv/bin/python bench/bench_slots.py

It never touches the database DATABASE_URL points at: on PostgreSQL it creates (and finally
drops) its own database `booking_bench_slots` on that server; on SQLite it uses a temporary file.

For 1,000 and 10,000 confirmed bookings of one partner, in two layouts:
  - spread: the bookings evenly over a year, so a 31-day window holds ~31/365 of them;
  - dense:  all bookings inside the 31-day window (the partner is open 24/7), so the engine
            really gets ~1k and ~10k busy intervals. 10,000 bookings do not fit into 31 days at
            5 minutes each, so dense bookings last min(5 min, spacing - 1 min): 3 min at 10k.
it measures, each as the median of REPEAT runs after a warm-up:
  (a) query:  booking.selectors.busy_intervals() for the window: the SQL query of the blocking
              bookings near the window plus building the BusyInterval list, nothing else;
  (b) engine: booking.slots.compute_slots() alone for the window, given that list and the
              opening hours already loaded, for a 5-minute service offered every 5 minutes.
and prints a Markdown table, also written to bench/results_slots.md (one section per database).

Staff: the whole 31-day slots request (selectors.service_slots: the partner's hours, the staff
and resource calendars, the engine) for a partner with 10,000 bookings spread over a year, done
by 1 staff member, by 10 (1,000 each), and by 10 with a service that needs one of 3 resources of
a kind (the bookings spread over them). The goal: within 2x per staff member added, i.e. the
10-staff request at most 10 x 2 times the 1-staff one.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results_slots.md"
# Overridable so that two runs on one server (several checkouts) do not drop each other's database.
BENCH_DB = os.environ.get("BENCH_DB", "booking_bench_slots")
SIZES = (1_000, 10_000)
REPEAT = int(os.environ.get("BENCH_REPEAT", "15"))
WINDOW_START = datetime(2026, 3, 2, tzinfo=UTC)
WINDOW = timedelta(days=31)
YEAR = timedelta(days=365)


@contextmanager
def scratch_database() -> Iterator[str]:
    """A fresh, empty database of the same kind as DATABASE_URL; removed afterwards."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        import psycopg

        parts = urlsplit(url)
        admin = urlunsplit(parts._replace(path="/postgres"))
        with psycopg.connect(admin, autocommit=True) as conn:
            # Only ever the benchmark's own database: left over if a previous run was killed.
            conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}"')
            conn.execute(f'CREATE DATABASE "{BENCH_DB}"')
        try:
            yield urlunsplit(parts._replace(path=f"/{BENCH_DB}"))
        finally:
            from django.db import connections

            connections.close_all()
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}"')
    else:
        folder = tempfile.mkdtemp(prefix="booking-bench-")
        try:
            yield f"sqlite:///{folder}/bench.sqlite3"
        finally:
            shutil.rmtree(folder, ignore_errors=True)


def median_ms(fn: Callable[[], object]) -> float:
    fn()  # warm-up: connection, statement preparation, imports
    samples = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def open_partner(label: str, resource_kind: str = ""):
    """A partner open 24/7 with a 5-minute service offered every 5 minutes."""
    from datetime import time as clock

    from booking.models import OpeningHours, Partner, Service

    partner = Partner.objects.create(
        name=f"Bench {label}",
        slug=f"bench-{label}",
        time_zone="Europe/Zurich",
        contact_email="bench@example.com",
    )
    OpeningHours.objects.bulk_create(
        OpeningHours(partner=partner, weekday=day, start=clock(0), end=clock(0)) for day in range(7)
    )
    service = Service.objects.create(
        partner=partner,
        name="Quick",
        slug="quick",
        duration_minutes=5,
        slot_interval_minutes=5,
        min_notice_minutes=0,
        horizon_days=730,
        required_resource_kind=resource_kind,
    )
    return partner, service


_CUSTOMERS: dict[int, object] = {}


def customer_of(partner_id: int):
    """The one customer record the bookings of a benchmark partner belong to."""
    from booking.models import Customer
    from security.fieldcrypto import blind_index

    if partner_id not in _CUSTOMERS:
        _CUSTOMERS[partner_id] = Customer.objects.create(
            partner_id=partner_id,
            name="Bench Customer",
            email="bench@example.com",
            email_index=blind_index("bench@example.com"),
        )
    return _CUSTOMERS[partner_id]


def booking_row(
    service, staff, resource, start: datetime, length: timedelta, n: int, created: datetime
):
    """A confirmed booking row (no buffers), the n-th of the run."""
    from booking.models import Booking

    return Booking(
        partner_id=service.partner_id,
        customer=customer_of(service.partner_id),
        service=service,
        staff=staff,
        resource=resource,
        start=start,
        end=start + length,
        busy_start=start,
        busy_end=start + length,
        customer_name=f"Customer {n}",
        customer_email=f"c{n}@example.com",
        status=Booking.Status.CONFIRMED,
        manage_token_hash=f"{n:064x}",
        created_at=created,
    )


def make_partner(label: str, count: int, first: datetime, span: timedelta, offset: int):
    """A 24/7 partner with a 5-minute service and `count` confirmed bookings evenly over
    [first, first + span), inserted directly (bulk) rather than through the service layer."""
    from booking.models import Booking, StaffMember

    partner, service = open_partner(label)
    team = StaffMember.objects.create(partner=partner, name="Team", works_opening_hours=True)
    team.services.add(service)
    spacing = span / count
    length = min(
        timedelta(minutes=5),
        (spacing - timedelta(minutes=1)) // timedelta(minutes=1) * timedelta(minutes=1),
    )
    assert length > timedelta(0), "too many bookings for the span"
    rows = []
    for i in range(count):
        start = (first + i * spacing).replace(microsecond=0)
        rows.append(booking_row(service, team, None, start, length, offset + i, first))
    Booking.objects.bulk_create(rows, batch_size=1000)
    return partner, service


STAFF_BOOKINGS = 10_000


def make_team_partner(label: str, staff: int, resources: int, offset: int):
    """A 24/7 partner whose 5-minute service (every 5 minutes) `staff` people perform, each
    working every day 08:00-20:00; with `resources`, the service needs one of that many chairs.
    STAFF_BOOKINGS confirmed bookings over a year, dealt round-robin to the people (and
    chairs), inserted directly."""
    from datetime import time as clock

    from booking.models import Booking, Resource, StaffHours, StaffMember

    partner, service = open_partner(label, "chair" if resources else "")
    people = [
        StaffMember.objects.create(partner=partner, name=f"Person {n}", display_order=n)
        for n in range(staff)
    ]
    for member in people:
        member.services.add(service)
    StaffHours.objects.bulk_create(
        StaffHours(staff=member, weekday=day, start=clock(8), end=clock(20))
        for member in people
        for day in range(7)
    )
    chairs = [
        Resource.objects.create(partner=partner, name=f"Chair {n}", kind="chair")
        for n in range(resources)
    ]
    first = WINDOW_START - timedelta(days=150)
    spacing = YEAR / STAFF_BOOKINGS
    rows = []
    for i in range(STAFF_BOOKINGS):
        start = (first + i * spacing).replace(microsecond=0)
        chair = chairs[i % resources] if resources else None
        rows.append(
            booking_row(
                service, people[i % staff], chair, start, timedelta(minutes=5), offset + i, first
            )
        )
    Booking.objects.bulk_create(rows, batch_size=1000)
    return partner, service


def measure_request(service) -> dict[str, float | int]:
    from booking import selectors

    window_end = WINDOW_START + WINDOW
    now = WINDOW_START - timedelta(days=1)

    def request() -> list:
        return selectors.service_slots(
            service=service, window_start=WINDOW_START, window_end=window_end, now=now
        )

    return {"slots": len(request()), "request_ms": median_ms(request)}


def staff_table(rows: list[dict[str, object]]) -> str:
    base = float(rows[0]["request_ms"])
    lines = [
        "",
        "#### Several staff members and resources: the whole 31-day slots request",
        "",
        "| staff | resources of the kind needed | bookings of the partner | free slots found | "
        "request ms | vs 1 staff | per staff member (goal ≤ 2) |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        ratio = float(row["request_ms"]) / base
        lines.append(
            f"| {row['staff']} | {row['resources'] or '–'} | {STAFF_BOOKINGS:,} | {row['slots']:,} | "
            f"{float(row['request_ms']):.1f} | ×{ratio:.1f} | ×{ratio / int(str(row['staff'])):.2f} |"
        )
    lines += [
        "",
        "`selectors.service_slots()` for 31 days: partner hours, the staff (and resource) "
        "calendars in a fixed number of queries, and `slots.compute_team_slots()`. 24/7 partner, "
        "each person working 08:00-20:00 every day, 5-minute service every 5 minutes; 10,000 "
        "bookings over 365 days dealt round-robin to the people (and chairs).",
    ]
    return "\n".join(lines) + "\n"


def measure(partner, service) -> dict[str, float | int]:
    from booking import selectors, slots

    window_end = WINDOW_START + WINDOW
    now = WINDOW_START - timedelta(days=1)
    zone = partner.zone
    rules = selectors.service_rules(service)
    hours = selectors.partner_hours(
        partner=partner,
        first=(WINDOW_START - timedelta(days=2)).astimezone(zone).date(),
        last=(window_end + timedelta(days=2)).astimezone(zone).date(),
    )

    def query() -> list:
        return selectors.busy_intervals(
            partner=partner, window_start=WINDOW_START, window_end=window_end
        )

    busy = query()

    def engine() -> list:
        return slots.compute_slots(
            zone=zone,
            busy=busy,
            service=rules,
            window_start=WINDOW_START,
            window_end=window_end,
            now=now,
            weekly_hours=hours.weekly_hours,
            overrides=hours.overrides,
        )

    return {
        "in_window": len(busy),
        "slots": len(engine()),
        "query_ms": median_ms(query),
        "engine_ms": median_ms(engine),
    }


def table(vendor: str, rows: list[dict[str, object]]) -> str:
    lines = [
        f"### {vendor} ({platform.python_implementation()} {platform.python_version()}, median of {REPEAT} runs, "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)",
        "",
        "| layout | bookings of the partner | busy intervals loaded for the window | free slots found | "
        "(a) query ms | (b) engine ms | engine/query | query growth 1k→10k | engine growth 1k→10k |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    base: dict[str, dict[str, object]] = {}
    for row in rows:
        first = base.setdefault(str(row["layout"]), row)
        growth_q = growth_e = "–"
        if first is not row:
            growth_q = f"×{float(row['query_ms']) / float(first['query_ms']):.1f}"
            growth_e = f"×{float(row['engine_ms']) / float(first['engine_ms']):.1f}"
        lines.append(
            f"| {row['layout']} | {row['bookings']:,} | {row['in_window']:,} | {row['slots']:,} | "
            f"{float(row['query_ms']):.2f} | {float(row['engine_ms']):.2f} | "
            f"{float(row['engine_ms']) / float(row['query_ms']):.2f} | {growth_q} | {growth_e} |"
        )
    lines += [
        "",
        "(a) `selectors.busy_intervals()` for the 31-day window: the SQL query of the partner's blocking "
        "bookings overlapping the window ±2 days and building the `BusyInterval` list. "
        "(b) `slots.compute_slots()` alone for the same window, given that list and the opening hours "
        "(loaded once, not timed); 24/7 partner, 5-minute service every 5 minutes. "
        "spread = bookings evenly over 365 days; dense = all inside the window "
        "(5-minute bookings at 1k, 3-minute bookings at 10k, which cannot fit at 5 minutes).",
    ]
    return "\n".join(lines) + "\n"


def write_results(vendor: str, section: str) -> None:
    begin, end = f"<!-- bench:{vendor} -->", f"<!-- /bench:{vendor} -->"
    header = (
        "# Slot engine vs. database query\n\n"
        "Written by `bench/bench_slots.py` (one section per database; rerun to refresh it).\n\n"
    )
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else header
    block = f"{begin}\n{section}{end}\n"
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end) + r"\n?", re.S)
    text = (
        pattern.sub(lambda _: block, text)
        if pattern.search(text)
        else text.rstrip("\n") + "\n\n" + block
    )
    RESULTS.write_text(text, encoding="utf-8")


def main() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings.test")
    with scratch_database() as url:
        os.environ["DATABASE_URL"] = url
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        call_command("migrate", interactive=False, verbosity=0)
        vendor = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}.get(
            connection.vendor, connection.vendor
        )
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SHOW server_version")
                vendor += f" {cursor.fetchone()[0].split()[0]}"
        else:
            import sqlite3

            vendor += f" {sqlite3.sqlite_version}"
        rows: list[dict[str, object]] = []
        offset = 0
        for layout, first, span in (
            ("spread", WINDOW_START - timedelta(days=150), YEAR),
            ("dense", WINDOW_START, WINDOW),
        ):
            for count in SIZES:
                partner, service = make_partner(f"{layout}-{count}", count, first, span, offset)
                offset += count
                if connection.vendor == "postgresql":
                    with connection.cursor() as cursor:
                        cursor.execute("ANALYZE booking_booking")
                print(f"measuring {layout} {count:,} ...", file=sys.stderr)
                rows.append({"layout": layout, "bookings": count, **measure(partner, service)})
        section = table(vendor, rows)
        staff_rows: list[dict[str, object]] = []
        for staff, resources in ((1, 0), (10, 0), (10, 3)):
            partner, service = make_team_partner(
                f"staff-{staff}-{resources}", staff, resources, offset
            )
            offset += STAFF_BOOKINGS
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("ANALYZE booking_booking")
            print(f"measuring {staff} staff, {resources} resources ...", file=sys.stderr)
            staff_rows.append({"staff": staff, "resources": resources, **measure_request(service)})
        section += staff_table(staff_rows)
    print(section)
    write_results(vendor.split()[0].lower(), section)
    print(f"written to {RESULTS.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
