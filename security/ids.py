"""Intrusion detection (C32): request inspection in the security middleware.

1. A client (IPv4 address; IPv6 by its /64, security.client_ip.rate_limit_key) on the allow-list
   (IDS_ALLOW_LIST: uptime monitors) passes uninspected.
2. A blocked client gets a plain 403 at once: no session, no database. Each app process keeps
   what it last read of a client's block for IDS_BLOCK_RECHECK_SECONDS (1) and reads it again
   after that, in the round trip the rate limiter makes anyway where it makes one: a block is
   enforced at once by the process that made it and within that time by every other one; a
   lifted block likewise.
3. The path, each query value, each form or JSON string value (bodies up to 64 KiB; not the
   Stripe webhook or CSP reports, whose bodies carry others' text) and the User-Agent are
   matched against security/ids_signatures.toml; each rule that hits adds its score.
4. After the answer, a denied one (400/403/404/405/429) counts towards a burst: IDS_DENIED_BURST
   in a minute adds IDS_BLOCK_SCORE.
5. Scores add up per client in the shared cache for IDS_WINDOW_MINUTES; at IDS_BLOCK_SCORE the
   client is blocked for IDS_BLOCK_MINUTES in that cache, so every app server refuses it, with an
   `ids_block` event and an operator alert (at most one per client per hour). IDS_MODE=detect
   only logs (`ids_detect` event, no block, no alert); off skips all of it.

Counters are keyed by time windows computed from the clock the application reads (as the rate
limits are), and a cache outage lets requests through (logged): detection must never take the
site down.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import re
import threading
import time
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, unquote_plus

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse

from security.client_ip import client_ip, rate_limit_key
from security.inputs import content_length
from security.logging import redact
from security.middleware import rate_limit_count, rate_limit_scope

logger = logging.getLogger("security.ids")

SIGNATURES = Path(__file__).with_name("ids_signatures.toml")
DENIED = frozenset({400, 403, 404, 405, 429})
BODY_MAX_BYTES = 64 * 1024
_BODY_TYPES = (
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    "application/json",
    "text/plain",
)
ALERT_INTERVAL_SECONDS = 3600


class Mode:
    BLOCK = "block"
    DETECT = "detect"
    OFF = "off"


@dataclass(frozen=True)
class Rule:
    id: str
    where: frozenset[str]
    score: int
    pattern: re.Pattern[str]


@lru_cache(maxsize=1)
def rules() -> tuple[Rule, ...]:
    data = tomllib.loads(SIGNATURES.read_text(encoding="utf-8"))
    return tuple(
        Rule(
            id=item["id"],
            where=frozenset(item["where"]),
            score=int(item["score"]),
            pattern=re.compile(item["pattern"], re.IGNORECASE),
        )
        for item in data["rule"]
    )


def _decoded(value: str, *, plus: bool) -> str:
    # Twice: double encoding (%252e%252e) is a classic way around a single decode.
    decode: Callable[[str], str] = unquote_plus if plus else unquote
    return decode(decode(value))


def _json_strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _json_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _json_strings(item)


def _body_values(request: HttpRequest) -> list[str]:
    if request.method not in {"POST", "PUT", "PATCH"}:
        return []
    if any(re.match(p, request.path_info) for p in settings.IDS_BODY_EXEMPT_PATHS):
        return []
    kind = request.content_type or ""
    length = content_length(request.META.get("CONTENT_LENGTH"))
    if kind not in _BODY_TYPES or length is None or length > BODY_MAX_BYTES:
        return []
    try:
        if kind == "multipart/form-data":  # text fields only; uploaded files are not read here
            return [
                _decoded(v, plus=False)
                for name, values in request.POST.lists()
                for v in (name, *values)
            ]
        raw = request.body.decode("utf-8", "replace")
    except Exception:  # unreadable bodies are refused by Django itself, later
        return []
    if kind == "application/json":
        try:
            return [_decoded(s, plus=False) for s in _json_strings(json.loads(raw))]
        except ValueError:
            return [raw]
    if kind == "text/plain":
        return [raw]
    return [_decoded(v, plus=True) for pair in parse_qsl(raw, keep_blank_values=True) for v in pair]


@lru_cache(maxsize=1)
def _screens() -> dict[str, re.Pattern[str]]:
    """Per part of a request, every rule that looks at it in one alternation: nearly every
    request hits no rule, and one search per value then does what a search per rule and value
    did. Equivalent because all rules share one flag (IGNORECASE) and none refers to a group by
    number (tests/security/test_ids.py compares both on generated requests)."""
    patterns: dict[str, list[str]] = {}
    for rule in rules():
        for where in rule.where:
            patterns.setdefault(where, []).append(f"(?:{rule.pattern.pattern})")
    return {where: re.compile("|".join(p), re.IGNORECASE) for where, p in patterns.items()}


def inspect(request: HttpRequest) -> list[Rule]:
    """The rules this request hits, each once."""
    path = request.path
    query = request.META.get("QUERY_STRING", "")
    agent = request.META.get("HTTP_USER_AGENT", "")  # request.headers would build them all
    body = _body_values(request)
    if not body and len(path) + len(query) + len(agent) <= _LINE_MEMO_MAX_CHARS:
        return list(_inspect_line(path, query, agent))
    return _inspect(_parts(path, query, agent, body))


# Without a body, what a request hits depends on its path, query string and User-Agent only,
# and the same few lines come again and again (the pages of the week, the widget's calls, a
# scanner's probes): each distinct line is inspected once per process. Long lines are not kept.
_LINE_MEMO_MAX_CHARS = 2048


@lru_cache(maxsize=4096)
def _inspect_line(path: str, query: str, agent: str) -> tuple[Rule, ...]:
    return tuple(_inspect(_parts(path, query, agent, [])))


def _inspect(parts: dict[str, list[str]]) -> list[Rule]:
    screens = _screens()
    if not any(
        screens[where].search(value)
        for where, values in parts.items()
        if where in screens
        for value in values
    ):
        return []
    return hits_of(parts)


def hits_of(parts: dict[str, list[str]]) -> list[Rule]:
    """The rules that hit these parts, rule by rule."""
    hits = []
    for rule in rules():
        if any(rule.pattern.search(value) for where in rule.where for value in parts[where]):
            hits.append(rule)
    return hits


def _parts(path: str, query: str, agent: str, body: list[str]) -> dict[str, list[str]]:
    return {
        "path": [_decoded(path, plus=False).lower()],
        "query": [
            _decoded(v, plus=True)
            for pair in parse_qsl(query, keep_blank_values=True)
            for v in pair
        ],
        "body": body,
        "agent": [agent],
    }


# --- the shared state: scores and blocks -------------------------------------------------------------
def _window(seconds: int, now: float) -> int:
    return int(now // seconds)


def block_key(key: str) -> str:
    return f"ids:block:{key}"


def _still_blocked(until: Any, now: float) -> float | None:
    return float(until) if until is not None and float(until) > now else None


def blocked_until(key: str, now: float | None = None) -> float | None:
    now = time.time() if now is None else now
    return _still_blocked(cache.get(block_key(key)), now)


class _BlockReadings:
    """What this process last read of each client's block: client -> (read at, the value read).
    A reading older than IDS_BLOCK_RECHECK_SECONDS (or from a clock that went back) is read again."""

    KEPT = 10_000

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.by_client: dict[str, tuple[float, Any]] = {}

    def fresh(self, key: str, now: float) -> tuple[bool, Any]:
        with self.lock:
            reading = self.by_client.get(key)
        if reading is None or not 0 <= now - reading[0] < settings.IDS_BLOCK_RECHECK_SECONDS:
            return False, None
        return True, reading[1]

    def keep(self, key: str, now: float, value: Any) -> None:
        with self.lock:
            if key not in self.by_client and len(self.by_client) >= self.KEPT:
                oldest = now - settings.IDS_BLOCK_RECHECK_SECONDS
                self.by_client = {k: v for k, v in self.by_client.items() if v[0] > oldest}
                if len(self.by_client) >= self.KEPT:
                    self.by_client.clear()
            self.by_client[key] = (now, value)

    def forget(self, key: str | None = None) -> None:
        with self.lock:
            if key is None:
                self.by_client.clear()
            else:
                self.by_client.pop(key, None)


_readings = _BlockReadings()


def forget_block_readings() -> None:
    """Drop this process's block readings (as a restart does); for when the cache was wiped."""
    _readings.forget()


def _blocked_and_counted(request: HttpRequest, key: str, now: float) -> float | None:
    """The block check. A request the rate limits count is counted here too, in the same round
    trip to the cache as a block reading that is due (RateLimitMiddleware then answers from that
    count): so a blocked client's refused requests count towards its rate limit as well, which
    changes nothing while it is blocked."""
    fresh, value = _readings.fresh(key, now)
    scope = rate_limit_scope(request)
    if scope is None:
        if not fresh:
            value = cache.get(block_key(key))
            _readings.keep(key, now, value)
        return _still_blocked(value, now)
    decision = rate_limit_count(
        request, scope, now=now, also_read=None if fresh else block_key(key)
    )
    if decision.cache_failed:  # logged by the rate limiter, with its cause
        raise CacheUnavailable
    if not fresh:
        value = decision.also_read
        _readings.keep(key, now, value)
    return _still_blocked(value, now)


class CacheUnavailable(Exception):
    """The shared cache did not answer the block check."""


def _add_score(key: str, points: int, now: float) -> int:
    period = settings.IDS_WINDOW_MINUTES * 60
    score_key = f"ids:score:{key}:{_window(period, now)}"
    cache.add(score_key, 0, timeout=period + 1)
    return int(cache.incr(score_key, points))


def _first_time(name: str, key: str, interval: int, now: float) -> bool:
    """True at most once per `interval` seconds for this client (by the application's clock)."""
    entry = f"ids:{name}:{key}"
    last = cache.get(entry)
    if last is not None and now - float(last) < interval:
        return False
    cache.set(entry, now, timeout=interval)
    return True


def _reached(
    request: HttpRequest, key: str, ip: str, score: int, found: list[str], now: float
) -> bool:
    """The client's score reached the threshold: block (or only log, in detect mode)."""
    from security.alerts import ops_alert
    from security.events import SecurityEventType, record_event

    minutes = settings.IDS_BLOCK_MINUTES
    path = redact(request.path[:200])  # the event log and the alert never hold a private link
    detail = {"client": key, "score": score, "rules": found, "path": path}
    if settings.IDS_MODE == Mode.DETECT:
        if _first_time("detected", key, settings.IDS_WINDOW_MINUTES * 60, now):
            logger.warning("intrusion threshold reached (detect mode: not blocked)", extra=detail)
            record_event(event_type=SecurityEventType.IDS_DETECT, ip=ip, target=key, detail=detail)
        return False
    if blocked_until(key, now) is None:
        cache.set(block_key(key), now + minutes * 60, timeout=minutes * 60)
        _readings.keep(key, now, now + minutes * 60)  # this process refuses it from now on
        logger.warning("intrusion detected: client blocked", extra={**detail, "minutes": minutes})
        record_event(
            event_type=SecurityEventType.IDS_BLOCK,
            ip=ip,
            target=key,
            detail={**detail, "minutes": minutes},
        )
        if _first_time("alerted", key, ALERT_INTERVAL_SECONDS, now):
            ops_alert(
                source="ids",
                subject=f"{key} blocked for {minutes} minutes",
                message=(
                    f"Client {key} (last address {ip}) reached an intrusion score of {score} "
                    f"with {', '.join(found) or 'denied answers'} (last path {path}).\n"
                    f"It is refused for {minutes} minutes. To lift the block: "
                    f"manage.py ids_unblock {ip}"
                ),
                client=key,
            )
    return True


def _allowed(ip: str) -> bool:
    return _allowed_by(ip, tuple(settings.IDS_ALLOW_LIST))


@lru_cache(maxsize=4096)  # a pure function of its arguments, asked on every request
def _allowed_by(ip: str, allow_list: tuple[str, ...]) -> bool:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(address in network for network in _allow_list(allow_list))


@lru_cache(maxsize=4)
def _allow_list(spec: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in spec)


def _forbidden() -> HttpResponse:
    return HttpResponse("Forbidden\n", status=403, content_type="text/plain; charset=utf-8")


class IntrusionDetectionMiddleware:
    """See the module's docstring. Sits before the rate limits, so it sees their 429s."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if settings.IDS_MODE == Mode.OFF:
            return self.get_response(request)
        ip = client_ip(request)
        if _allowed(ip):
            return self.get_response(request)
        key = rate_limit_key(ip)
        now = time.time()
        try:
            if (
                settings.IDS_MODE == Mode.BLOCK
                and _blocked_and_counted(request, key, now) is not None
            ):
                return _forbidden()
            hits = inspect(request)
            if hits:
                found = [rule.id for rule in hits]
                score = _add_score(key, sum(rule.score for rule in hits), now)
                logger.warning(
                    "intrusion signature",
                    extra={"client_ip": ip, "client": key, "rules": found, "score": score},
                )
                if score >= settings.IDS_BLOCK_SCORE and _reached(
                    request, key, ip, score, found, now
                ):
                    return _forbidden()
        except Exception:  # the shared cache is down: serve, and say so
            logger.error("intrusion detection unavailable", exc_info=True)
            return self.get_response(request)
        response = self.get_response(request)
        if response.status_code in DENIED:
            try:
                self._count_denied(request, key, ip, now)
            except Exception:
                logger.error("intrusion detection unavailable", exc_info=True)
        return response

    def _count_denied(self, request: HttpRequest, key: str, ip: str, now: float) -> None:
        burst_key = f"ids:denied:{key}:{_window(60, now)}"
        cache.add(burst_key, 0, timeout=61)
        if int(cache.incr(burst_key)) == settings.IDS_DENIED_BURST:
            score = _add_score(key, settings.IDS_BLOCK_SCORE, now)
            _reached(request, key, ip, score, ["denied-burst"], now)


def unblock(ip: str) -> tuple[str, bool]:
    """Lift the block of the client `ip` belongs to (its /64 for IPv6) and forget its score.
    Returns the client key and whether it was blocked."""
    key = rate_limit_key(ip)
    was_blocked = blocked_until(key) is not None
    cache.delete(block_key(key))
    _readings.forget(key)  # other processes let it in again within IDS_BLOCK_RECHECK_SECONDS
    period = settings.IDS_WINDOW_MINUTES * 60
    cache.delete(f"ids:score:{key}:{_window(period, time.time())}")
    return key, was_blocked
