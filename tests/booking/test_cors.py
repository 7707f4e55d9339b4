"""The widget API's CORS rule (C05, booking/cors.py): only /api/v1/partners/<slug>/... answers
cross-origin, only to the origins that partner registered, never with credentials. The
attacker is a website that is not registered, or one registered by a different partner."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from booking.models import Partner, Service, parse_origins

pytestmark = pytest.mark.django_db

SALON = "https://salon.example"
ACAO = "Access-Control-Allow-Origin"


@pytest.fixture
def registered(partner: Partner, service: Service) -> Partner:
    partner.widget_origins = f"{SALON}\nhttp://localhost:3000"
    partner.full_clean()
    partner.save()
    return partner


def _services(slug: str) -> str:
    return f"/api/v1/partners/{slug}/services/"


def _bookings(slug: str) -> str:
    return f"/api/v1/partners/{slug}/bookings"


def _preflight(
    client: Client, path: str, origin: str, method: str = "POST", headers: str = "content-type"
):
    return client.options(
        path,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD=method,
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS=headers,
    )


def _no_cors(response) -> None:
    assert ACAO not in response
    assert "Access-Control-Allow-Credentials" not in response
    assert "Access-Control-Allow-Methods" not in response


# --- simple requests ---------------------------------------------------------------------------


def test_registered_origin_gets_its_own_origin_back_and_no_credentials(
    client: Client, registered: Partner
) -> None:
    response = client.get(_services(registered.slug), HTTP_ORIGIN=SALON)
    assert response.status_code == 200
    assert response[ACAO] == SALON
    assert "Access-Control-Allow-Credentials" not in response
    assert "origin" in response["Vary"].lower()


def test_every_registered_origin_works(client: Client, registered: Partner) -> None:
    response = client.get(_services(registered.slug), HTTP_ORIGIN="http://localhost:3000")
    assert response[ACAO] == "http://localhost:3000"


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "http://salon.example",  # scheme downgrade
        "https://salon.example:8443",  # other port
        "https://salon.example.evil.example",  # suffix
        "https://evilsalon.example",
        "https://sub.salon.example",  # subdomains are separate origins
        "null",  # sandboxed iframes, file:// pages
        "https://salon.example/",
        "*",
        "",
    ],
)
def test_unregistered_origin_gets_no_cors_headers(
    client: Client, registered: Partner, origin: str
) -> None:
    response = client.get(_services(registered.slug), HTTP_ORIGIN=origin)
    assert (
        response.status_code == 200
    )  # same-origin readers are served; the browser blocks the rest
    _no_cors(response)


def test_no_origin_gets_no_cors_headers(client: Client, registered: Partner) -> None:
    _no_cors(client.get(_services(registered.slug)))


def test_partner_without_registered_origins_answers_nobody(
    client: Client, partner: Partner, service: Service
) -> None:
    assert partner.widget_origins == ""
    _no_cors(client.get(_services(partner.slug), HTTP_ORIGIN=SALON))
    _no_cors(_preflight(client, _bookings(partner.slug), SALON))


def test_booking_post_from_registered_origin_is_readable(
    client: Client, registered: Partner
) -> None:
    response = client.post(
        _bookings(registered.slug), data="{}", content_type="application/json", HTTP_ORIGIN=SALON
    )
    assert (
        response.status_code == 400
    )  # empty booking: field errors, which the widget must be able to read
    assert response[ACAO] == SALON
    assert "Access-Control-Allow-Credentials" not in response


# --- preflight ---------------------------------------------------------------------------------


def test_preflight_for_booking_post_from_registered_origin_is_allowed(
    client: Client, registered: Partner
) -> None:
    response = _preflight(client, _bookings(registered.slug), SALON)
    assert response.status_code == 200
    assert response[ACAO] == SALON
    methods = {m.strip() for m in response["Access-Control-Allow-Methods"].split(",")}
    assert "POST" in methods
    assert not methods & {"PUT", "PATCH", "DELETE"}
    headers = {h.strip().lower() for h in response["Access-Control-Allow-Headers"].split(",")}
    assert "content-type" in headers
    assert not headers & {"authorization", "cookie", "x-csrftoken"}
    assert int(response["Access-Control-Max-Age"]) > 0
    assert "Access-Control-Allow-Credentials" not in response


def test_preflight_from_unknown_origin_gets_no_cors_headers(
    client: Client, registered: Partner
) -> None:
    response = _preflight(client, _bookings(registered.slug), "https://evil.example")
    _no_cors(response)
    assert "Access-Control-Max-Age" not in response


def test_preflight_asking_for_credentials_headers_is_not_granted_them(
    client: Client, registered: Partner
) -> None:
    response = _preflight(
        client, _bookings(registered.slug), SALON, headers="authorization, cookie"
    )
    headers = {h.strip().lower() for h in response["Access-Control-Allow-Headers"].split(",")}
    assert not headers & {"authorization", "cookie"}


# --- one partner's origin is not another's -------------------------------------------------------


def test_partner_a_origin_gets_nothing_from_partner_b(
    client: Client, registered: Partner, other_partner: Partner
) -> None:
    other_partner.widget_origins = "https://clinic.example"
    other_partner.save()
    response = client.get(_services(other_partner.slug), HTTP_ORIGIN=SALON)
    assert response.status_code == 200
    _no_cors(response)
    _no_cors(_preflight(client, _bookings(other_partner.slug), SALON))
    # ...while B's own origin works on B and not on A.
    assert (
        client.get(_services(other_partner.slug), HTTP_ORIGIN="https://clinic.example")[ACAO]
        == "https://clinic.example"
    )
    _no_cors(client.get(_services(registered.slug), HTTP_ORIGIN="https://clinic.example"))


def test_unknown_partner_gets_no_cors_headers(client: Client, registered: Partner) -> None:
    _no_cors(client.get(_services("no-such-partner"), HTTP_ORIGIN=SALON))


def test_path_tricks_do_not_borrow_another_partners_origins(
    client: Client, registered: Partner, other_partner: Partner
) -> None:
    for path in (
        f"/api/v1/partners/{registered.slug}/../{other_partner.slug}/services/",
        f"/api/v1/partners/{registered.slug}%2F..%2F{other_partner.slug}/services/",
    ):
        response = client.get(path, HTTP_ORIGIN=SALON)
        assert response.status_code == 404 or ACAO not in response


# --- nothing but the widget API answers cross-origin ---------------------------------------------


def test_html_booking_page_never_answers_cors(client: Client, registered: Partner) -> None:
    response = client.get(f"/book/{registered.slug}/", HTTP_ORIGIN=SALON)
    assert response.status_code == 200
    _no_cors(response)
    _no_cors(_preflight(client, f"/book/{registered.slug}/", SALON, method="GET"))


@pytest.mark.parametrize(
    "path",
    [
        "/healthz",
        "/.well-known/security.txt",
        "/admin/",
        "/manage/abc/",
        "/api/v2/x/",
        "/api/v1/openapi.json",
    ],
)
def test_other_urls_never_answer_cors(client: Client, registered: Partner, path: str) -> None:
    _no_cors(client.get(path, HTTP_ORIGIN=SALON))


# --- changes take effect at once ---------------------------------------------------------------


def test_changing_the_origins_takes_effect_at_once(client: Client, registered: Partner) -> None:
    assert client.get(_services(registered.slug), HTTP_ORIGIN=SALON)[ACAO] == SALON  # now cached
    registered.widget_origins = "https://new-salon.example"
    registered.save()
    _no_cors(client.get(_services(registered.slug), HTTP_ORIGIN=SALON))
    assert (
        client.get(_services(registered.slug), HTTP_ORIGIN="https://new-salon.example")[ACAO]
        == "https://new-salon.example"
    )


def test_removing_all_origins_takes_effect_at_once(client: Client, registered: Partner) -> None:
    assert client.get(_services(registered.slug), HTTP_ORIGIN=SALON)[ACAO] == SALON
    registered.widget_origins = ""
    registered.save()
    _no_cors(client.get(_services(registered.slug), HTTP_ORIGIN=SALON))


def test_a_row_that_bypassed_validation_opens_nothing(
    client: Client, partner: Partner, service: Service
) -> None:
    Partner.objects.filter(pk=partner.pk).update(widget_origins="https://salon.example/path\n*")
    _no_cors(client.get(_services(partner.slug), HTTP_ORIGIN=SALON))
    _no_cors(client.get(_services(partner.slug), HTTP_ORIGIN="*"))


# --- what a partner may register -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://salon.example", ["https://salon.example"]),
        ("HTTPS://Salon.Example", ["https://salon.example"]),
        ("  https://salon.example  ", ["https://salon.example"]),
        ("https://salon.example:8443", ["https://salon.example:8443"]),
        (
            "https://www.salon.example\n\nhttps://shop.salon.example\n",
            ["https://www.salon.example", "https://shop.salon.example"],
        ),
        ("http://localhost:8000", ["http://localhost:8000"]),
        ("http://127.0.0.1:5500", ["http://127.0.0.1:5500"]),
        ("http://[::1]:3000", ["http://[::1]:3000"]),
        ("https://192.0.2.10", ["https://192.0.2.10"]),
        ("", []),
    ],
)
def test_valid_origins_are_accepted_and_normalised(text: str, expected: list[str]) -> None:
    assert parse_origins(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "https://salon.example/",  # path
        "https://salon.example/booking",
        "https://salon.example?x=1",
        "https://salon.example#top",
        "https://*.salon.example",  # wildcard
        "https://*",
        "*",
        "https://user:pw@salon.example",  # userinfo
        "https://user@salon.example",
        "http://salon.example",  # http for a non-local host
        "http://10.0.0.5:8000",
        "http://0.0.0.0:8000",
        "https://salon.example:99999",  # bad ports
        "https://salon.example:abc",
        "https://salon.example:-1",
        "salon.example",  # no scheme
        "//salon.example",
        "ftp://salon.example",
        "javascript:alert(1)",
        "https://",
        "null",
        "https://salon.example, https://other.example",
        "https://salon.example\nhttps://ok.example/path",  # one bad line spoils the lot
    ],
)
def test_invalid_origins_are_refused(text: str) -> None:
    with pytest.raises(ValidationError):
        parse_origins(text)


def test_model_validation_refuses_bad_origins(partner: Partner) -> None:
    partner.widget_origins = "https://*.salon.example"
    with pytest.raises(ValidationError) as excinfo:
        partner.full_clean()
    assert "widget_origins" in excinfo.value.message_dict


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://salon.example:443", ["https://salon.example"]),  # browsers omit the default port
        ("http://localhost:80", ["http://localhost"]),
        ("https://bücher.example", ["https://xn--bcher-kva.example"]),  # browsers send punycode
    ],
)
def test_origins_are_normalised_the_way_browsers_send_them(text: str, expected: list[str]) -> None:
    assert parse_origins(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "https://sal on.example",
        "https://salon.example;x",
        "https://%65vil.example",
        "https://a..example",
        "https://-x-.example",
    ],
)
def test_malformed_hosts_are_refused(text: str) -> None:
    with pytest.raises(ValidationError):
        parse_origins(text)


def test_port_zero_is_refused() -> None:
    with pytest.raises(ValidationError):
        parse_origins("https://salon.example:0")


def test_a_request_without_origin_is_answered_without_reading_every_header(
    client: Client, registered: Partner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The widget API's requests without an Origin (a server calling it) get "Vary: origin" and
    no CORS header, as django-cors-headers gives them, without building request.headers for
    the one header (booking.cors.CorsMiddleware); one with an Origin still gets its answer."""
    from django.http.request import HttpHeaders

    built: list[int] = []
    original = HttpHeaders.__init__

    def counted(self: HttpHeaders, environ: dict) -> None:
        built.append(1)
        original(self, environ)

    monkeypatch.setattr(HttpHeaders, "__init__", counted)
    response = client.get(_services(registered.slug))

    assert response.status_code == 200
    _no_cors(response)
    assert "origin" in response["Vary"].lower()
    assert built == []
    assert client.get(_services(registered.slug), HTTP_ORIGIN=SALON)[ACAO] == SALON
