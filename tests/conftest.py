"""Shared test set-up.

Tests marked `postgres` need the database to be PostgreSQL and tests marked `redis` need
REDIS_URL: in a run configured otherwise (the SQLite pass) they are deselected, not skipped,
because .ci/run's PostgreSQL + Redis pass runs them. Likewise `embedded` tests (the filesystem
broker) run in the SQLite pass and are deselected when REDIS_URL is set. When the run IS configured for them and the
server does not answer, they fail: under CI a missing service is never a skip.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from django.conf import settings


def _is_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    keep, drop = [], []
    for item in items:
        if (
            (item.get_closest_marker("postgres") and not _is_postgres())
            or (item.get_closest_marker("redis") and not settings.REDIS_URL)
            or (item.get_closest_marker("embedded") and settings.REDIS_URL)
        ):
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def pytest_report_header(config: pytest.Config) -> list[str]:
    engine = "PostgreSQL" if _is_postgres() else "SQLite"
    return [
        f"booking: database={engine} redis={'yes' if settings.REDIS_URL else 'no'} "
        f"CI={os.environ.get('CI', '')!r} (postgres/redis-marked tests run only when configured)"
    ]


@pytest.fixture(autouse=True)
def _clean_cache() -> None:
    # The cache is shared (files or Redis), so a test must not see another test's counters.
    from django.core.cache import cache

    from security.ids import forget_block_readings
    from security.ratelimit import forget_leases

    cache.clear()
    # What the process remembers of the wiped counters and blocks goes with them, as it would
    # with a restart: a claim of hits or a block reading must not outlive its cache entry.
    forget_leases()
    forget_block_readings()


@pytest.fixture(autouse=True)
def _default_language() -> None:
    """Django keeps the active language per thread, and a request or an email in another
    language leaves it active after the test; the next test in the same process would then read
    French messages where it expects the default. Every test starts in the default language, as
    a fresh process does (the parallel processes run the files in another order than one)."""
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _celery_join_flag() -> Iterator[None]:
    """Celery keeps "a task is running here, .get() would block" in one process-wide flag that
    each eager task sets and restores. Tests that book from several threads at once run eager
    tasks concurrently, and the restores can interleave so the flag stays set; a later test's
    `.delay().get()` in the same process then fails ("Never call result.get() within a task").
    Every test starts from the state a fresh process has."""
    from celery.result import _set_task_join_will_block

    _set_task_join_will_block(False)
    yield


# --- Browser tests: Playwright driving Debian's Chromium (never a downloaded browser) ----------
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
# Injected by the driver, outside the page's CSP: records every violation the page causes.
_RECORD_CSP_VIOLATIONS = (
    "window.__violations = [];"
    "document.addEventListener('securitypolicyviolation', function (e) {"
    "  window.__violations.push(e.violatedDirective + ' ' + e.blockedURI); });"
)


@pytest.fixture(scope="session")
def browser():
    """A headless Chromium for the session. Missing Chromium: a skip with the reason, except
    under CI=true, where browser tests must run."""
    if not os.path.exists(CHROMIUM):
        message = f"{CHROMIUM} is not installed (apt-get install -y chromium)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message}; CI must run the browser tests", pytrace=False)
        pytest.skip(f"{message}: browser test skipped")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


def open_page(context):
    """A page of `context` that records what goes wrong: `page.errors` collects uncaught page
    errors, `page.problems` those plus console errors and warnings; CSP violations are in
    `page.evaluate("window.__violations")`."""
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.add_init_script(_RECORD_CSP_VIOLATIONS)
    page.errors, page.problems = [], []
    page.on(
        "pageerror",
        lambda exc: (page.errors.append(str(exc)), page.problems.append(f"page error: {exc}")),
    )
    page.on(
        "console",
        lambda msg: (
            page.problems.append(f"console {msg.type}: {msg.text}")
            if msg.type in ("error", "warning")
            else None
        ),
    )
    return page


@pytest.fixture
def page(browser):
    """A page in a fresh context, as a visitor in New York (see open_page)."""
    context = browser.new_context(timezone_id="America/New_York", locale="en-US")
    yield open_page(context)
    context.close()
