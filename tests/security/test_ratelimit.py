"""RateLimitMiddleware (C01): a burst from one address is refused with 429 + Retry-After while
other addresses are served; forged headers do not help; the cache going away is logged and
handled per scope (fail open or closed).

The limits below are tiny on purpose; settings/test.py keeps them generous for other tests.
The middleware counts before URL routing, so paths that answer 404 are as good as real pages.
"""

from __future__ import annotations

import logging
import secrets
import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings as django_settings
from django.test import Client

from tests.booking.conftest import partner, service  # noqa: F401  (fixtures)
from tests.redis_wire import record_redis_commands

pytestmark = pytest.mark.django_db

# Start of a minute plus 5 s: a 3-per-minute window cannot roll over in the middle of a test.
T0 = datetime(2031, 3, 3, 10, 0, 5, tzinfo=UTC)
BROKEN_REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }
}


@pytest.fixture
def limits(settings):
    """limits(scope="3/m", ...) sets those scopes' rates, keeping fail_open as configured."""

    def _set(**rates: str) -> None:
        settings.RATE_LIMITS = {
            scope: {**conf, "rate": rates.get(scope, conf["rate"])}
            for scope, conf in django_settings.RATE_LIMITS.items()
        }
        settings.RATE_LIMIT_ENABLED = True

    return _set


def _manage_path() -> str:
    return f"/manage/{secrets.token_urlsafe(16)}/"


def _get(client: Client, path: str, ip: str, **headers: str):
    return client.get(path, REMOTE_ADDR=ip, headers=headers)


# --- the limit itself ----------------------------------------------------------------------------


def test_fourth_html_request_in_a_minute_gets_429_with_retry_after_and_a_friendly_page(
    client, limits
) -> None:
    limits(manage="3/m")
    with time_machine.travel(T0, tick=False):
        for _ in range(3):
            assert _get(client, _manage_path(), "203.0.113.10").status_code != 429
        refused = _get(client, _manage_path(), "203.0.113.10")
    assert refused.status_code == 429
    assert refused["Retry-After"] == "55"
    assert refused["Content-Type"].startswith("text/html")
    body = refused.content.decode()
    assert "Too many requests" in body
    assert "55 seconds" in body
    assert "<script" not in body  # the page obeys the strict CSP like every other page


def test_api_burst_gets_429_as_json(client, limits) -> None:
    limits(api="2/m")
    path = "/api/v1/partners/no-such-partner/services/"
    with time_machine.travel(T0, tick=False):
        for _ in range(2):
            assert _get(client, path, "203.0.113.11").status_code != 429
        refused = _get(client, path, "203.0.113.11")
    assert refused.status_code == 429
    assert refused["Content-Type"] == "application/json"
    assert refused.json() == {
        "error": "rate_limited",
        "message": "Too many requests from your address. Please wait a moment and try again.",
        "retry_after": 55,
    }
    assert refused["Retry-After"] == "55"


def test_html_client_asking_for_json_gets_json(client, limits) -> None:
    limits(manage="1/m")
    with time_machine.travel(T0, tick=False):
        _get(client, _manage_path(), "203.0.113.12")
        refused = _get(client, _manage_path(), "203.0.113.12", Accept="application/json")
    assert refused.status_code == 429
    assert refused.json()["error"] == "rate_limited"


def test_another_address_is_still_served_while_one_is_limited(client, limits) -> None:
    limits(manage="3/m")
    with time_machine.travel(T0, tick=False):
        for _ in range(5):
            _get(client, _manage_path(), "203.0.113.20")
        assert _get(client, _manage_path(), "203.0.113.20").status_code == 429
        for _ in range(3):
            assert _get(client, _manage_path(), "198.51.100.21").status_code == 404
        assert _get(client, _manage_path(), "2001:db8::21").status_code == 404


def test_spoofed_forwarded_for_does_not_evade_the_limit(client, limits, settings) -> None:
    settings.TRUSTED_PROXIES = []
    settings.TRUSTED_PROXY_COUNT = 0
    limits(manage="3/m")
    statuses = []
    with time_machine.travel(T0, tick=False):
        for n in range(6):
            response = client.get(
                _manage_path(), REMOTE_ADDR="203.0.113.30", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}"
            )
            statuses.append(response.status_code)
    assert statuses == [404, 404, 404, 429, 429, 429]


def test_behind_a_proxy_prepending_fake_addresses_does_not_evade_the_limit(
    client, limits, settings
) -> None:
    settings.TRUSTED_PROXIES = []
    settings.TRUSTED_PROXY_COUNT = 1
    limits(manage="3/m")
    statuses = []
    with time_machine.travel(T0, tick=False):
        for n in range(5):
            # The attacker sends "X-Forwarded-For: 192.0.2.n"; our proxy appends the real address.
            forwarded = f"192.0.2.{n}, 203.0.113.31"
            response = client.get(
                _manage_path(), REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded
            )
            statuses.append(response.status_code)
        # A different real client behind the same proxy is still served.
        other = client.get(
            _manage_path(), REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.31"
        )
    assert statuses == [404, 404, 404, 429, 429]
    assert other.status_code == 404


def test_the_limit_resets_in_the_next_window(client, limits) -> None:
    limits(manage="2/m")
    with time_machine.travel(T0, tick=False) as traveller:
        for _ in range(2):
            _get(client, _manage_path(), "203.0.113.40")
        refused = _get(client, _manage_path(), "203.0.113.40")
        assert refused.status_code == 429
        traveller.shift(timedelta(seconds=int(refused["Retry-After"]) - 1))
        assert _get(client, _manage_path(), "203.0.113.40").status_code == 429
        traveller.shift(timedelta(seconds=1))
        assert _get(client, _manage_path(), "203.0.113.40").status_code == 404


def test_scopes_are_counted_separately(client, limits) -> None:
    limits(manage="2/m", api="2/m")
    with time_machine.travel(T0, tick=False):
        for _ in range(3):
            _get(client, _manage_path(), "203.0.113.50")
        assert _get(client, _manage_path(), "203.0.113.50").status_code == 429
        assert _get(client, "/api/v1/partners/x/services/", "203.0.113.50").status_code != 429


def test_methods_outside_the_rule_are_not_counted(client, limits) -> None:
    limits(csp_report="1/m")
    with time_machine.travel(T0, tick=False):
        for _ in range(3):  # GET is not a counted method of the csp_report rule (405 from the view)
            assert client.get("/security/csp-report", REMOTE_ADDR="203.0.113.60").status_code == 405
        first = client.post(
            "/security/csp-report",
            data=b"{}",
            content_type="application/json",
            REMOTE_ADDR="203.0.113.60",
        )
        second = client.post(
            "/security/csp-report",
            data=b"{}",
            content_type="application/json",
            REMOTE_ADDR="203.0.113.60",
        )
    assert first.status_code == 400
    assert second.status_code == 429


def test_refused_requests_never_reach_the_view(client, limits, settings) -> None:
    from security.models import CspReport

    limits(csp_report="2/m")
    report = b'{"csp-report": {"document-uri": "https://x.example/", "violated-directive": "script-src"}}'
    with time_machine.travel(T0, tick=False):
        codes = [
            client.post(
                "/security/csp-report",
                data=report,
                content_type="application/csp-report",
                REMOTE_ADDR="203.0.113.61",
            ).status_code
            for _ in range(5)
        ]
    assert codes == [204, 204, 429, 429, 429]
    assert CspReport.objects.count() == 2


# --- the cache goes away ---------------------------------------------------------------------


def test_cache_outage_fail_open_scope_still_serves_and_is_logged(
    client, limits, settings, caplog
) -> None:
    limits(api="1/m")
    assert django_settings.RATE_LIMITS["api"]["fail_open"] is True
    settings.CACHES = BROKEN_REDIS
    path = "/api/v1/partners/no-such-partner/services/"
    with caplog.at_level(logging.ERROR, logger="security.ratelimit"):
        codes = [_get(client, path, "203.0.113.70").status_code for _ in range(3)]
    assert 429 not in codes
    outage = [
        r for r in caplog.records if r.name == "security.ratelimit" and r.levelno >= logging.ERROR
    ]
    assert len(outage) == 3
    assert outage[0].getMessage() == "rate limit cache unavailable"
    assert outage[0].scope == "api"
    assert outage[0].fail_open is True


def test_cache_outage_fail_closed_scope_refuses_and_is_logged(
    client, limits, settings, caplog
) -> None:
    limits(manage="100/m")
    assert django_settings.RATE_LIMITS["manage"]["fail_open"] is False
    settings.CACHES = BROKEN_REDIS
    with caplog.at_level(logging.ERROR, logger="security.ratelimit"):
        refused = _get(client, _manage_path(), "203.0.113.71", Accept="application/json")
    # The middleware answers a closed scope's outage like a limit hit: 429 with the period.
    assert refused.status_code == 429
    assert refused["Retry-After"] == "60"
    assert refused.json()["error"] == "rate_limited"
    records = [r for r in caplog.records if r.getMessage() == "rate limit cache unavailable"]
    assert [(r.scope, r.fail_open) for r in records] == [("manage", False)]
    assert records[0].exc_info is not None  # the cause is in the log, not in the response


def test_cache_outage_booking_posts_are_refused(client, limits, settings) -> None:
    limits()
    assert django_settings.RATE_LIMITS["booking"]["fail_open"] is False
    settings.CACHES = BROKEN_REDIS
    response = client.post(
        "/api/v1/partners/salon/bookings",
        data={},
        content_type="application/json",
        REMOTE_ADDR="203.0.113.72",
    )
    assert response.status_code == 429


def test_hopping_addresses_inside_one_ipv6_64_does_not_evade_the_limit(client, limits) -> None:
    limits(manage="3/m")
    with time_machine.travel(T0, tick=False):
        statuses = [
            _get(client, _manage_path(), f"2001:db8:1:2::{n:x}").status_code for n in range(1, 6)
        ]
    assert statuses == [404, 404, 404, 429, 429]


@pytest.mark.parametrize(
    ("scope", "path"),
    [
        ("slots", "/book/no-such-partner/cut/"),
        ("slots", "/api/v1/partners/no-such-partner/services/cut/slots"),
        ("api", "/api/v1/partners/no-such-partner/services/"),
        ("manage", "/manage/x/"),
    ],
)
def test_head_counts_like_get(client, limits, scope: str, path: str) -> None:
    # HEAD is served wherever GET is, at the same cost: it must not be a way around the limit.
    limits(**{scope: "2/m"})
    with time_machine.travel(T0, tick=False):
        for _ in range(2):
            assert client.head(path, REMOTE_ADDR="203.0.113.70").status_code != 429
        assert client.head(path, REMOTE_ADDR="203.0.113.70").status_code == 429


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "FOO"])
def test_other_methods_on_the_api_count_too(client, limits, method: str) -> None:
    limits(api="2/m")
    path = "/api/v1/partners/no-such-partner/services/"
    with time_machine.travel(T0, tick=False):
        for _ in range(2):
            client.generic(method, path, REMOTE_ADDR="203.0.113.71")
        assert client.generic(method, path, REMOTE_ADDR="203.0.113.71").status_code == 429


# --- the counter itself: window edges and expiry --------------------------------------------------


def test_a_window_ends_exactly_at_its_boundary() -> None:
    from security.ratelimit import Rate, hit

    rate = Rate(limit=2, period=60)
    edge = datetime(2031, 3, 3, 10, 1, 0, tzinfo=UTC).timestamp()  # a minute starts here
    decisions = [
        hit(scope="t", key="203.0.113.80", rate=rate, fail_open=False, now=edge - 0.001)
        for _ in range(3)
    ]
    assert [d.allowed for d in decisions] == [True, True, False]
    assert decisions[-1].retry_after == 1  # never 0: a client told "0" would retry at once
    # The first instant of the next minute counts from zero again.
    fresh = hit(scope="t", key="203.0.113.80", rate=rate, fail_open=False, now=edge)
    assert fresh.allowed
    assert fresh.retry_after == 60


def test_two_addresses_at_the_same_instant_have_separate_counters() -> None:
    from security.ratelimit import Rate, hit

    rate = Rate(limit=1, period=60)
    now = T0.timestamp()
    assert hit(scope="t", key="203.0.113.81", rate=rate, fail_open=False, now=now).allowed
    assert not hit(scope="t", key="203.0.113.81", rate=rate, fail_open=False, now=now).allowed
    assert hit(scope="t", key="203.0.113.82", rate=rate, fail_open=False, now=now).allowed


def _redis_client_and_key(scope: str, key: str, rate, now: float):
    from django.core.cache import cache

    window = int(now // rate.period)
    full_key = cache.make_and_validate_key(f"rl:{scope}:{key}:{window}")
    return cache._cache.get_client(full_key, write=True), full_key


@pytest.mark.redis
def test_on_redis_every_counter_key_expires_with_its_window() -> None:
    from security.ratelimit import Rate, hit

    rate = Rate(limit=5, period=60)
    now = time.time()
    for _ in range(3):
        hit(scope="t", key="203.0.113.83", rate=rate, fail_open=False, now=now)
    client, key = _redis_client_and_key("t", "203.0.113.83", rate, now)
    assert int(client.get(key)) == 3
    assert 0 < client.ttl(key) <= rate.period + 1


@pytest.mark.redis
def test_on_redis_a_counter_left_without_expiry_gets_one_at_the_next_hit() -> None:
    # A counter can lose its expiry (an increment landing just after the key expired recreates it
    # without one, or a key written by hand): it must not live forever and block the address.
    from security.ratelimit import Rate, hit

    rate = Rate(limit=5, period=60)
    now = time.time()
    client, key = _redis_client_and_key("t", "203.0.113.84", rate, now)
    client.set(key, 2)
    assert client.ttl(key) == -1
    decision = hit(scope="t", key="203.0.113.84", rate=rate, fail_open=False, now=now)
    assert decision.allowed
    assert int(client.get(key)) == 3
    assert 0 < client.ttl(key) <= rate.period + 1


@pytest.mark.redis
def test_on_redis_one_hit_is_one_round_trip() -> None:
    # Each round trip to Redis costs a request a network wait; the limiter runs on every request.
    from django.core.cache import cache

    from security.ratelimit import Rate, hit

    rate = Rate(limit=5, period=60)
    now = time.time()
    hit(scope="t", key="203.0.113.85", rate=rate, fail_open=False, now=now)  # loads the script
    client, _ = _redis_client_and_key("t", "203.0.113.85", rate, now)
    sent: list[object] = []
    pool = client.connection_pool
    connection = pool.get_connection()
    original = connection.send_packed_command

    def counting(command, check_health=True):  # records the wire traffic, changes nothing
        sent.append(command)
        return original(command, check_health)

    connection.send_packed_command = counting
    pool.release(connection)
    try:
        hit(scope="t", key="203.0.113.85", rate=rate, fail_open=False, now=now)
    finally:
        del connection.send_packed_command
    assert len(sent) == 1
    assert cache.get(f"rl:t:203.0.113.85:{int(now // 60)}") == 2


@pytest.mark.redis
def test_on_redis_a_limited_request_is_one_round_trip(
    client, limits, settings, monkeypatch, request
) -> None:
    # The intrusion-block check and the rate-limit counter of a public request, through the whole
    # middleware stack, share one round trip to Redis; a blocked client is still refused and the counter still counts.
    from security.ids import block_key

    partner = request.getfixturevalue("partner")  # noqa: F811  (the booking tests' fixtures)
    service = request.getfixturevalue("service")  # noqa: F811
    settings.IDS_MODE = "block"
    limits(slots="3/m")
    path = f"/api/v1/partners/{partner.slug}/services/{service.slug}/slots"
    # Tomorrow only: the slot cache never holds today and tomorrow (booking.slot_cache), so the
    # request's only Redis traffic is the middleware's.
    query = {"start": "2031-03-04", "end": "2031-03-04", "tz": "Europe/Zurich"}
    with time_machine.travel(T0, tick=False):
        client.get(path, query, REMOTE_ADDR="203.0.113.90")  # the script is loaded once
        sent = record_redis_commands(monkeypatch)
        second = client.get(path, query, REMOTE_ADDR="203.0.113.90")
        round_trips = len(sent)
        third = client.get(path, query, REMOTE_ADDR="203.0.113.90")
        fourth = client.get(path, query, REMOTE_ADDR="203.0.113.90")
        # An intrusion block set by another server is seen on the next request.
        from django.core.cache import cache

        cache.set(block_key("203.0.113.91"), T0.timestamp() + 600, timeout=600)
        blocked = client.get(path, query, REMOTE_ADDR="203.0.113.91")
    assert second.status_code == 200
    assert round_trips == 1
    assert third.status_code == 200
    assert fourth.status_code == 429
    assert blocked.status_code == 403


@pytest.mark.parametrize("ids_mode", ["off", "block"])
def test_cache_outage_with_intrusion_detection_on_or_off_logs_once_and_keeps_the_scope_rule(
    client, limits, settings, caplog, ids_mode: str
) -> None:
    settings.IDS_MODE = ids_mode
    limits(manage="100/m")
    settings.CACHES = BROKEN_REDIS
    with caplog.at_level(logging.ERROR):
        refused = _get(client, _manage_path(), "203.0.113.92", Accept="application/json")
    assert refused.status_code == 429  # a closed scope stays closed
    records = [r for r in caplog.records if r.getMessage() == "rate limit cache unavailable"]
    assert [(r.scope, r.fail_open) for r in records] == [("manage", False)]
    if ids_mode == "block":
        assert any(r.getMessage() == "intrusion detection unavailable" for r in caplog.records)


# --- leases: a busy client is served from a process's claim, never beyond the limit -----------------


def _hits(rate, n: int, key: str, now: float) -> list[bool]:
    from security.ratelimit import hit

    return [
        hit(scope="t", key=key, rate=rate, fail_open=False, now=now, lease=True).allowed
        for _ in range(n)
    ]


def test_in_one_process_exactly_the_limit_is_served() -> None:
    from security.ratelimit import Rate

    allowed = _hits(Rate(limit=100, period=60), 130, "203.0.113.86", T0.timestamp())
    assert allowed == [True] * 100 + [False] * 30


def test_processes_sharing_a_client_never_serve_more_than_the_limit_together(
    monkeypatch,
) -> None:
    # Three app processes, each with its own claims (its own memory), one shared counter; the
    # client's requests go to them in turn, then all to one. Every request any of them served was
    # counted first: served plus what they still hold unused is exactly the limit.
    from security import ratelimit

    rate = ratelimit.Rate(limit=200, period=60)
    processes = [ratelimit._Leases() for _ in range(3)]
    served = 0
    for n in range(600):
        monkeypatch.setattr(ratelimit, "_leases", processes[n % 3] if n < 300 else processes[0])
        served += _hits(rate, 1, "203.0.113.87", T0.timestamp())[0]
    unused = sum(lease.left for p in processes for lease in p.by_key.values())
    assert served <= 200
    assert served + unused == 200
    assert unused <= 200 // ratelimit.LEASE_SHARE  # refused early by at most that


@pytest.mark.redis
def test_on_redis_a_busy_client_costs_a_round_trip_per_claim_not_per_request(
    client, limits, settings, monkeypatch, request
) -> None:
    # Through the whole middleware stack, intrusion detection on: 80 requests of one client at a
    # generous limit make one more claim (the first one's 64 hits ran out), not 80 round trips.
    partner = request.getfixturevalue("partner")  # noqa: F811  (the booking tests' fixtures)
    service = request.getfixturevalue("service")  # noqa: F811
    settings.IDS_MODE = "block"
    limits(slots="10000/m")
    path = f"/api/v1/partners/{partner.slug}/services/{service.slug}/slots"
    query = {"start": "2031-03-04", "end": "2031-03-04", "tz": "Europe/Zurich"}
    with time_machine.travel(T0, tick=False):
        client.get(path, query, REMOTE_ADDR="198.51.100.93")  # loads the script, claims
        sent = record_redis_commands(monkeypatch)
        statuses = {
            client.get(path, query, REMOTE_ADDR="198.51.100.93").status_code for _ in range(80)
        }
    assert statuses == {200}
    assert len(sent) == 1


def test_a_busy_client_is_refused_at_the_limit_with_claims(client, limits) -> None:
    # A limit big enough for claims of several hits: the request after the limit is refused.
    limits(manage="100/m")
    with time_machine.travel(T0, tick=False):
        statuses = [_get(client, _manage_path(), "203.0.113.88").status_code for _ in range(101)]
    assert statuses[:100] == [404] * 100
    assert statuses[100] == 429
