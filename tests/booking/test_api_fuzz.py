"""Property tests of the widget API: whatever arrives (query strings, paths, JSON of any shape, raw
bytes under any content type), the answer is JSON and never a server error, and a booking is
stored only when the answer is 201, exactly one per 201.

Time is frozen at Monday 24 March 2025, 07:00 in Zurich, so some generated requests hit real
slots and succeed (the fixture partner is open Mon-Fri 09:00-17:00 Europe/Zurich).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

import pytest
import time_machine
from django.test import Client
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from booking.models import Booking, Partner, Service

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 3, 24, 6, 0, tzinfo=UTC)
SLOTS = "/api/v1/partners/salon-alpha/services/haircut/slots"
BOOKINGS = "/api/v1/partners/salon-alpha/bookings"
FUZZ = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Text a client could really send: any code point but lone surrogates, which no HTTP client can
# encode (JSON bodies get their own surrogate escapes below).
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
NUMBERS = st.one_of(st.integers(), st.integers(min_value=-(10**40), max_value=10**40)).map(str)
DATES = st.one_of(
    st.dates().map(lambda d: d.isoformat()),
    st.dates().map(lambda d: f"{d.year:04d}-{d.month:02d}-{d.day:02d}"),
    st.from_regex(r"\A-?[0-9]{1,6}-[0-9]{1,3}-[0-9]{1,3}\Z"),
    st.sampled_from(
        [
            "2025-03-31",
            "2025-04-06",
            "9999-12-31",
            "0001-01-01",
            "2025-02-29",
            "",
            " ",
            "２０２５-03-31",
        ]
    ),
    NUMBERS,
    TEXT,
)
NEAR_DATES = st.dates(min_value=date(2025, 3, 1), max_value=date(2025, 6, 30))
ZONES = st.one_of(
    st.sampled_from(
        [
            "",
            "UTC",
            "Europe/Zurich",
            "America/New_York",
            "Pacific/Kiritimati",
            "Pacific/Pago_Pago",
            "Asia/Kathmandu",
            "America/Santiago",
            "Europe/Zürich",
            "../../etc/passwd",
            "Europe/Zurich\x00",
            "x" * 300,
            "%00",
            "Etc/GMT+12",
        ]
    ),
    TEXT,
    NUMBERS,
)
# Real slots of the fixture service (weekdays 09:00-16:00 in Zurich, summer time, inside the
# horizon), spelled in Zurich's or New York's offset or in UTC: these book (201) or collide (409).
REAL_STARTS = st.builds(
    lambda day, hour, spelling: [
        f"2025-{day[0]:02d}-{day[1]:02d}T{hour:02d}:00:00+02:00",
        f"2025-{day[0]:02d}-{day[1]:02d}T{hour - 6:02d}:00:00-04:00",
        f"2025-{day[0]:02d}-{day[1]:02d}T{hour - 2:02d}:00:00Z",
    ][spelling],
    st.sampled_from([(3, 31), (4, 1), (4, 2), (4, 3), (4, 4), (4, 7), (4, 8)]),
    st.integers(min_value=9, max_value=16),
    st.integers(min_value=0, max_value=2),
)
STARTS = st.one_of(
    REAL_STARTS,
    st.sampled_from(
        [
            "2025-03-31T09:00:00+02:00",
            "2025-03-31T03:00:00-04:00",
            "2025-04-01T07:00:00Z",
            "2025-04-02T10:00:00+02:00",
            "2025-03-31T09:00:00",
            "2025-03-31T09:30:00+02:00",
            "0001-01-01T00:00:00+14:00",
            "9999-12-31T23:59:59-23:59",
        ]
    ),
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
    st.datetimes().map(lambda d: d.isoformat()),
    DATES,
)
JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    TEXT,
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(TEXT, inner, max_size=4)),
    max_leaves=10,
)
FIELD_VALUES = {
    "service": st.one_of(st.sampled_from(["haircut", "check-up", "nothing", "HAIRCUT", ""]), TEXT),
    "start": STARTS,
    "customer_name": st.one_of(st.just("Ada Lovelace"), TEXT, st.text(max_size=200)),
    "customer_email": st.one_of(st.just("ada@example.com"), st.emails().map(str), TEXT),
    "customer_phone": st.one_of(st.just("+41 44 000 00 00"), TEXT),
    "notes": st.one_of(st.just(""), TEXT, st.text(min_size=1990, max_size=2010)),
}


VALID_BODY = {
    "service": "haircut",
    "customer_name": "Ada Lovelace",
    "customer_email": "ada@example.com",
}


@st.composite
def booking_bodies(draw: st.DrawFn) -> Any:
    """A valid booking of a real slot with one or two fields spoilt, or objects with any subset
    of the real keys (values usually strings of the right kind, sometimes any JSON), now and
    then with extra keys, or no object at all."""
    kind = draw(st.integers(min_value=0, max_value=9))
    if kind == 0:
        return draw(JSON_VALUES)
    if kind <= 4:
        body = {**VALID_BODY, "start": draw(REAL_STARTS)}
        for key in draw(
            st.lists(st.sampled_from([*FIELD_VALUES, "extra"]), max_size=2, unique=True)
        ):
            body[key] = draw(st.one_of(FIELD_VALUES.get(key, TEXT), JSON_VALUES))
        return body
    body = {}
    for key, strategy in FIELD_VALUES.items():
        if draw(st.integers(min_value=0, max_value=9)) < 8:  # usually present
            body[key] = (
                draw(strategy) if draw(st.integers(min_value=0, max_value=9)) else draw(JSON_VALUES)
            )
    if kind == 1:
        body.update(draw(st.dictionaries(TEXT, JSON_VALUES, max_size=3)))
    return body


@pytest.fixture
def world(service: Service, other_partner: Partner, settings) -> Iterator[Client]:
    settings.RATE_LIMIT_ENABLED = (
        False  # the fuzzer is one busy client; limits have their own tests
    )
    with time_machine.travel(NOW, tick=False):
        yield Client()


def assert_json(response) -> Any:
    event(f"status {response.status_code}")  # the mix shows with --hypothesis-show-statistics
    assert response.status_code < 500, response.content
    assert response["Content-Type"] == "application/json", response.content[:200]
    return json.loads(response.content)


@st.composite
def slot_queries(draw: st.DrawFn) -> dict[str, str]:
    """Half near-valid (real dates around now, up to 70 days apart, with a real zone or none or
    a fuzzed one), half anything at all; each parameter may be missing."""
    if draw(st.booleans()):
        first = draw(NEAR_DATES)
        params = {
            "start": first.isoformat(),
            "end": (
                first + timedelta(days=draw(st.integers(min_value=-3, max_value=70)))
            ).isoformat(),
            "tz": draw(
                st.sampled_from(["Europe/Zurich", "America/New_York", "Asia/Kathmandu", ""]) | ZONES
            ),
        }
    else:
        params = {"start": draw(DATES), "end": draw(DATES), "tz": draw(ZONES)}
    dropped = draw(st.lists(st.sampled_from(sorted(params)), max_size=3, unique=True))
    return {k: v for k, v in params.items() if k not in dropped or draw(st.integers(0, 3))}


@FUZZ
@given(params=slot_queries())
def test_any_slot_query_answers_json_without_server_errors(
    world: Client, params: dict[str, str]
) -> None:
    response = world.get(SLOTS, QUERY_STRING=urlencode(params))
    payload = assert_json(response)
    assert response.status_code in (200, 400)
    if response.status_code == 200:
        assert 1 <= len(payload["days"]) <= 62
    else:
        assert payload["error"] == "invalid" and payload["fields"]


@FUZZ
@given(
    prefix=st.sampled_from(["", "start=2025-03-31&end=2025-04-06&", "start=2025-03-31&"]),
    query=st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=120),
)
def test_any_raw_query_string_answers_json_without_server_errors(
    world: Client, prefix: str, query: str
) -> None:
    response = world.get(SLOTS, QUERY_STRING=prefix + query)
    assert_json(response)
    assert response.status_code in (200, 400)


@FUZZ
@given(
    segments=st.lists(TEXT, min_size=1, max_size=5),
    method=st.sampled_from(["get", "post", "put", "delete"]),
)
def test_any_path_under_the_api_answers_json_without_server_errors(
    world: Client, segments: list[str], method: str
) -> None:
    path = "/api/v1/partners/" + "/".join(quote(s, safe="") for s in segments)
    response = getattr(world, method)(path)
    assert_json(response)
    assert response.status_code in (200, 400, 404, 405, 415)


@FUZZ
@given(body=booking_bodies())
def test_any_json_body_answers_json_and_stores_only_on_201(world: Client, body: Any) -> None:
    before = Booking.objects.count()
    response = world.post(BOOKINGS, data=json.dumps(body), content_type="application/json")
    payload = assert_json(response)
    assert response.status_code in (201, 400, 404, 409, 413)
    assert Booking.objects.count() == before + (response.status_code == 201)
    if response.status_code == 201:
        assert set(payload) == {"booking", "manage_url"}
    else:
        assert payload["message"]


@FUZZ
@given(
    raw=st.one_of(
        st.binary(max_size=300),
        st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
        JSON_VALUES.map(lambda v: json.dumps(v).encode()),
        booking_bodies().map(
            lambda b: json.dumps(b, ensure_ascii=False).encode("utf-8", "surrogatepass")
        ),
    ),
    content_type=st.sampled_from(
        [
            "application/json",
            "application/json; charset=utf-8",
            "application/json; charset=latin-1",
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=xyz",
            "APPLICATION/JSON",
            "application/json;",
        ]
    ),
)
def test_any_raw_body_answers_json_and_stores_only_on_201(
    world: Client, raw: bytes, content_type: str
) -> None:
    before = Booking.objects.count()
    response = world.generic("POST", BOOKINGS, data=raw, CONTENT_TYPE=content_type)
    assert_json(response)
    assert response.status_code in (201, 400, 404, 409, 413, 415)
    assert Booking.objects.count() == before + (response.status_code == 201)
