"""Benchmark: what does encrypting customer data at rest (C26) cost the pages that touch it?

Run from the project root:

    .venv/bin/python bench/bench_encryption.py

It uses its own temporary SQLite database and data folder (never the one DATABASE_URL names).
Two identical partners, each with BOOKINGS bookings: one's rows are written and read with the
real field encryption, the other's with encryption switched off for the run (the field's
encrypt/decrypt replaced by the identity, the columns unchanged). Through the real middleware
stack and views (Django's test client, no network), interleaved in the same run, REPEAT times
each, with and without encryption:
  (a) booking page: a customer books a free time by POST (four fields encrypted, the email's
      blind index computed);
  (b) admin booking list: the partner owner opens the list, 50 bookings a page (name and email
      of each row decrypted).
Prints a Markdown table, also written to bench/results_encryption.md.
"""

from __future__ import annotations

import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results_encryption.md"
REPEAT = int(os.environ.get("BENCH_REPEAT", "30"))
BOOKINGS = int(os.environ.get("BENCH_BOOKINGS", "200"))
NOW = datetime(2026, 1, 5, 6, 0, tzinfo=UTC)  # a Monday


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-encryption-"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "settings.test"
    os.environ["DATA_DIR"] = str(work)
    os.environ["DATABASE_URL"] = f"sqlite:///{work / 'db.sqlite3'}"
    os.environ.pop("REDIS_URL", None)
    os.environ["LOG_LEVEL"] = "ERROR"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    import time_machine
    from django.core.management import call_command
    from django.test import Client

    from booking import services
    from booking.models import OpeningHours, Partner, PartnerMembership, Service
    from booking.roles import PARTNER_OWNER, roles_ensure
    from security import fieldcrypto
    from tests.actors import BOOKING_CUSTOMER, customer_details
    from tests.otp_login import login_verified
    from tests.staffing import team

    call_command("migrate", verbosity=0)
    roles_ensure()
    real = (fieldcrypto.encrypt, fieldcrypto.decrypt)

    @contextmanager
    def encryption(on: bool) -> Any:
        if not on:
            fieldcrypto.encrypt = fieldcrypto.decrypt = lambda value: value  # type: ignore[assignment]
        try:
            yield
        finally:
            fieldcrypto.encrypt, fieldcrypto.decrypt = real

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    traveller = time_machine.travel(NOW, tick=True)
    traveller.start()
    setups: dict[bool, dict[str, Any]] = {}
    for on in (True, False):
        slug = "sealed" if on else "plain"
        with encryption(on):
            partner = Partner.objects.create(
                name=slug, slug=slug, time_zone="UTC", contact_email=f"{slug}@example.com"
            )
            for weekday in range(7):
                OpeningHours.objects.create(
                    partner=partner, weekday=weekday, start=datetime.min.time(), end=_t(23, 45)
                )
            service = Service.objects.create(
                partner=partner,
                name="Cut",
                slug="cut",
                duration_minutes=15,
                min_notice_minutes=0,
                horizon_days=365,
            )
            team(partner)
            starts = _free_starts()
            for n in range(BOOKINGS):
                customer, _ = customer_details(
                    customer_name=f"Customer {n}", customer_email=f"c{n}@example.com"
                )
                services.booking_create(
                    service=service, start=next(starts), customer=customer, actor=BOOKING_CUSTOMER
                )
            owner = get_user_model().objects.create_user(f"owner@{slug}.example", is_staff=True)
            owner.groups.add(Group.objects.get(name=PARTNER_OWNER))
            PartnerMembership.objects.create(
                partner=partner, user=owner, role=PartnerMembership.Role.OWNER
            )
            admin = Client(HTTP_HOST="127.0.0.1")
            login_verified(admin, owner)
        setups[on] = {"slug": slug, "starts": starts, "admin": admin}

    def book(on: bool) -> float:
        setup = setups[on]
        start = next(setup["starts"]).strftime("%Y-%m-%dT%H:%M:%SZ")
        client = Client(HTTP_HOST="127.0.0.1")
        form = {
            "start": start,
            "tz": "UTC",
            "customer_name": "Ada Lovelace",
            "customer_email": "ada@example.com",
            "customer_phone": "+41 79 000 00 00",
            "notes": "First visit",
        }
        with encryption(on):
            began = time.perf_counter()
            response = client.post(f"/book/{setup['slug']}/cut/book/", form)
            elapsed = time.perf_counter() - began
        assert response.status_code == 302, (response.status_code, response.content[:500])
        return elapsed * 1000

    def admin_list(on: bool) -> float:
        with encryption(on):
            began = time.perf_counter()
            response = setups[on]["admin"].get("/admin/booking/booking/")
            elapsed = time.perf_counter() - began
        assert response.status_code == 200 and b"Customer 1" in response.content
        return elapsed * 1000

    results: dict[str, dict[bool, list[float]]] = {}
    for name, measure in (("booking page (POST)", book), ("admin booking list", admin_list)):
        measure(True), measure(False)  # warm up
        times: dict[bool, list[float]] = {True: [], False: []}
        for _ in range(REPEAT):
            for on in (True, False):
                times[on].append(measure(on))
        results[name] = times
    traveller.stop()

    rows = []
    for name, times in results.items():
        sealed, plain = statistics.median(times[True]), statistics.median(times[False])
        rows.append(f"| {name} | {plain:.1f} | {sealed:.1f} | {sealed / plain:.2f}x |")
    load = os.getloadavg()[0]
    table = "\n".join(rows)
    text = f"""# Customer data encryption at rest: cost per page

Written by `bench/bench_encryption.py` (rerun to refresh it).

### SQLite {__import__("sqlite3").sqlite_version} (CPython {platform.python_version()}, median of {REPEAT} interleaved requests each, {BOOKINGS} bookings per partner, load average {load:.1f} on {os.cpu_count()} CPUs)

| page | without encryption, median ms | with encryption, median ms | ratio |
|---|---:|---:|---:|
{table}

Goal: at most 1.15x. "Without" is the same code with the field's encrypt/decrypt replaced by the
identity, so the difference is the Fernet work (AES-CBC + HMAC-SHA256 per value, the email's
HMAC blind index on writes) and nothing else.
"""
    RESULTS.write_text(text, encoding="utf-8")
    print(text)
    shutil.rmtree(work, ignore_errors=True)


def _free_starts() -> Any:
    """Every quarter hour from tomorrow on, but 23:45 (closing time)."""
    moments = (NOW + timedelta(days=1, minutes=15 * n) for n in range(100_000))
    return iter(m for m in moments if (m.hour, m.minute) != (23, 45))


def _t(hour: int, minute: int) -> Any:
    from datetime import time as clock

    return clock(hour, minute)


if __name__ == "__main__":
    main()
