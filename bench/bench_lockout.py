"""Benchmark: what does a refused (locked) login cost next to a wrong-password login?

Run from the project root:

    .venv/bin/python bench/bench_lockout.py

It uses its own temporary SQLite database and data folder (never the one DATABASE_URL names)
and the production password hasher: bcrypt-sha256 at PASSWORD_BCRYPT_ROUNDS (12). Through the
real middleware stack and admin login view (Django's test client, no network), interleaved in
the same run, REPEAT times each:
  (a) wrong password: an unlocked address posts a wrong password for an existing account
      (a fresh address each time, so it never reaches the lock): one bcrypt verification;
  (b) locked:         a locked address posts the correct password: refused by the lockout
      backend before any hashing; answered with the 429 page.
Prints a Markdown table, also written to bench/results_lockout.md, with the number of password
hashes each kind of request computed (counted, not assumed).
"""

from __future__ import annotations

import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results_lockout.md"
REPEAT = int(os.environ.get("BENCH_REPEAT", "20"))
PASSWORD = "the real passphrase 2026"  # noqa: S105


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-lockout-"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "settings.test"
    os.environ["DATA_DIR"] = str(work)
    os.environ["DATABASE_URL"] = f"sqlite:///{work / 'db.sqlite3'}"
    os.environ.pop("REDIS_URL", None)
    os.environ["LOG_LEVEL"] = "ERROR"
    sys.path.insert(0, str(ROOT))
    import django
    from django.conf import settings

    django.setup()
    # Production hashers (settings.test puts a fast MD5 first for the test suite).
    from settings import base

    settings.PASSWORD_HASHERS = base.PASSWORD_HASHERS
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import BCryptSHA256PasswordHasher, get_hasher
    from django.core.management import call_command
    from django.test import Client

    call_command("migrate", verbosity=0)
    user = get_user_model().objects.create_user("owner@example.com", PASSWORD, is_staff=True)
    assert user.password.startswith(f"bcrypt_sha256$$2b${settings.PASSWORD_BCRYPT_ROUNDS}$"), (
        user.password
    )

    hashes = {"n": 0}
    original = BCryptSHA256PasswordHasher.verify

    def counted(self, password, encoded):
        hashes["n"] += 1
        return original(self, password, encoded)

    BCryptSHA256PasswordHasher.verify = counted  # type: ignore[method-assign]

    def post(client: Client, password: str) -> tuple[float, int, int]:
        before = hashes["n"]
        start = time.perf_counter()
        response = client.post(
            "/admin/login/", {"username": "owner@example.com", "password": password}
        )
        return time.perf_counter() - start, response.status_code, hashes["n"] - before

    locked = Client(REMOTE_ADDR="192.0.2.1", HTTP_HOST="127.0.0.1")
    for n in range(3):
        post(locked, f"wrong guess {n}")
    assert post(locked, PASSWORD)[1] == 429, "the address should be locked"
    post(Client(REMOTE_ADDR="198.51.100.250", HTTP_HOST="127.0.0.1"), "warm up")

    wrong_times, locked_times, wrong_hashes, locked_hashes = [], [], set(), set()
    for n in range(REPEAT):
        elapsed, status, count = post(
            Client(REMOTE_ADDR=f"198.51.100.{n + 1}", HTTP_HOST="127.0.0.1"), "a wrong guess"
        )
        assert status == 200
        wrong_times.append(elapsed * 1000)
        wrong_hashes.add(count)
        elapsed, status, count = post(locked, PASSWORD)
        assert status == 429
        locked_times.append(elapsed * 1000)
        locked_hashes.add(count)

    wrong, refused = statistics.median(wrong_times), statistics.median(locked_times)
    load = os.getloadavg()[0]
    rounds = get_hasher("default").rounds
    text = f"""# Login lockout: cost of a refused request

Written by `bench/bench_lockout.py` (rerun to refresh it).

### SQLite {__import__("sqlite3").sqlite_version}, bcrypt-sha256 cost {rounds} (CPython {platform.python_version()}, median of {REPEAT} interleaved requests each, load average {load:.1f} on {os.cpu_count()} CPUs)

| request | HTTP status | password hashes computed | median ms | min ms | max ms |
|---|---:|---:|---:|---:|---:|
| (a) wrong password, address not locked | 200 | {", ".join(map(str, sorted(wrong_hashes)))} | {wrong:.1f} | {min(wrong_times):.1f} | {max(wrong_times):.1f} |
| (b) correct password, address locked | 429 | {", ".join(map(str, sorted(locked_hashes)))} | {refused:.1f} | {min(locked_times):.1f} | {max(locked_times):.1f} |

A refused request costs {refused / wrong:.1%} of a wrong-password request ({wrong / refused:.0f}× cheaper): it reads the
failure count, records the attempt and renders the 429 page, and never runs bcrypt. Both go through
the full middleware stack and the admin login view in-process (Django's test client, no network).
"""
    RESULTS.write_text(text, encoding="utf-8")
    print(text)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
