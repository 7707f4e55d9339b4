"""Test runs (pytest). Everything else comes from the environment, like any other deployment:
DATABASE_URL / REDIS_URL select SQLite or PostgreSQL + Redis."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from urllib.parse import urlsplit, urlunsplit

# The suite may run in parallel processes (pytest-xdist: gw0, gw1, ...; `make test` does). Each
# process is a run of its own: its own data folder, its own test database (pytest-django adds the
# worker's suffix) and its own Redis database, base + N (every test empties the cache with
# FLUSHDB, which must not wipe another process's counters mid-test). The app servers and workers
# a test starts inherit the environment and must share their test's state, not make their own:
# TEST_RUN_OWNER says which process already set it up.
_OWNER = os.environ.get("PYTEST_XDIST_WORKER", "main")

# Each run gets its own data folder (file cache, embedded broker, the SQLite test database) so
# runs never share state; the process that made it removes it at exit (the app servers and
# workers that tests start inherit DATA_DIR and leave it alone).
if os.environ.get("TEST_RUN_OWNER") != _OWNER:
    if "DATA_DIR" not in os.environ or "TEST_RUN_OWNER" in os.environ:
        os.environ["DATA_DIR"] = tempfile.mkdtemp(prefix=f"booking-test-{_OWNER}-")
        atexit.register(shutil.rmtree, os.environ["DATA_DIR"], ignore_errors=True)
    if _OWNER.startswith("gw") and os.environ.get("REDIS_URL"):
        _url = urlsplit(os.environ["REDIS_URL"])
        _db = int(_url.path.strip("/") or 0) + int(_OWNER[2:])
        if _db > 15:  # Redis has databases 0-15 unless configured otherwise
            raise RuntimeError(f"REDIS_URL leaves no database number for test process {_OWNER}")
        os.environ["REDIS_URL"] = urlunsplit(_url._replace(path=f"/{_db}"))
    os.environ["TEST_RUN_OWNER"] = _OWNER
os.environ.setdefault("EMAIL_BACKEND", "locmem")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")

# Generous limits so ordinary tests never meet them; the rate-limit tests set their own.
os.environ.setdefault("RATE_LIMIT_BOOKING", "10000/m")
os.environ.setdefault("RATE_LIMIT_SLOTS", "10000/m")
os.environ.setdefault("RATE_LIMIT_PAGES", "10000/m")
os.environ.setdefault("RATE_LIMIT_API", "10000/m")
os.environ.setdefault("RATE_LIMIT_MANAGE", "10000/m")
os.environ.setdefault("RATE_LIMIT_INVITATION", "10000/m")
os.environ.setdefault("RATE_LIMIT_LOGIN", "10000/m")
os.environ.setdefault("RATE_LIMIT_CSP_REPORT", "10000/m")
os.environ.setdefault("RATE_LIMIT_WEBHOOK", "10000/m")
os.environ.setdefault("RATE_LIMIT_LOST_LINK", "10000/m")
os.environ.setdefault("RATE_LIMIT_LOST_LINK_EMAIL", "10000/m")
os.environ.setdefault("RATE_LIMIT_FEED", "10000/m")
# Intrusion detection would block the tests that send hostile input on purpose; its own tests
# (tests/security/test_ids.py) switch it on, with the real journeys among them.
os.environ.setdefault("IDS_MODE", "off")
# Customer data is encrypted in every test, as in production (the public development keys).
os.environ.setdefault("FIELD_ENCRYPTION_KEYS", "yJ0bng3zjohL-TsAEK-2WCeXtvjcjOSk0ZTg5UYsc4M=")
os.environ.setdefault(
    "FIELD_BLIND_INDEX_KEY", "development-blind-index-key-not-a-secret-do-not-deploy"
)

# After the environment above is set up: settings.base reads it.
from settings.base import *  # noqa: F403, E402
from settings.base import DATA_DIR, DATABASES, PASSWORD_HASHERS  # noqa: E402

# The SQLite test database is a file, never Django's default in-memory one. With an in-memory
# database the live server (browser and webhook tests) is handed the test thread's connection,
# and every request thread uses that one connection too: a webhook delivered while the test or
# another request is inside a transaction joins, commits or rolls back that transaction
# ("no such savepoint", "database table is locked", writes seen before they are committed).
# On a file each thread opens its own connection, as each gunicorn worker does in production,
# and the IMMEDIATE transactions and busy timeout of settings.base serialise the writers.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test-db.sqlite3")}

# bcrypt at cost 12 takes ~0.25 s a hash; tests that need the real cost set it back.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]

# Tests serve static files from the apps' folders (no collectstatic, no manifest).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
os.makedirs(STATIC_ROOT, exist_ok=True)  # noqa: F405  (WhiteNoise warns when it is missing)
WHITENOISE_AUTOREFRESH = True
