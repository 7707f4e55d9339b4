"""security.client_ip (C01): which address a request is counted under.

The attacker here talks to the app and writes whatever X-Forwarded-For they like; only entries
our own proxies appended may change the answer.
"""

from __future__ import annotations

import pytest
from django.test import RequestFactory, override_settings

from security.client_ip import UNKNOWN, client_ip

rf = RequestFactory()


def _request(remote: str, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return rf.get("/", **extra)


# --- No trusted proxies (the default): REMOTE_ADDR only --------------------------------------


@override_settings(TRUSTED_PROXIES=[], TRUSTED_PROXY_COUNT=0)
def test_remote_addr_is_the_client_by_default() -> None:
    assert client_ip(_request("203.0.113.7")) == "203.0.113.7"


@override_settings(TRUSTED_PROXIES=[], TRUSTED_PROXY_COUNT=0)
@pytest.mark.parametrize(
    "spoofed",
    [
        "198.51.100.1",
        "198.51.100.1, 10.0.0.1",
        "127.0.0.1",
        "::1",
        "unknown",
        "1.1.1.1, 2.2.2.2, 3.3.3.3",
    ],
)
def test_spoofed_forwarded_for_is_ignored_without_trusted_proxies(spoofed: str) -> None:
    assert client_ip(_request("203.0.113.7", spoofed)) == "203.0.113.7"


@override_settings(TRUSTED_PROXIES=[], TRUSTED_PROXY_COUNT=0)
@pytest.mark.parametrize("garbage", ["", "not-an-ip", "999.1.1.1", "<script>", "1.2.3.4.5", "::g"])
def test_garbage_remote_addr_counts_as_unknown(garbage: str) -> None:
    assert client_ip(_request(garbage)) == UNKNOWN


def test_request_without_remote_addr_counts_as_unknown() -> None:
    request = rf.get("/")
    del request.META["REMOTE_ADDR"]
    assert client_ip(request) == UNKNOWN


@override_settings(TRUSTED_PROXIES=[], TRUSTED_PROXY_COUNT=0)
def test_ipv6_remote_addr_is_normalised() -> None:
    assert client_ip(_request("2001:DB8:0:0::1")) == "2001:db8::1"


@override_settings(TRUSTED_PROXIES=[], TRUSTED_PROXY_COUNT=0)
def test_ipv4_with_port_and_bracketed_ipv6_with_port_are_understood() -> None:
    assert client_ip(_request("203.0.113.7:51234")) == "203.0.113.7"
    assert client_ip(_request("[2001:db8::5]:443")) == "2001:db8::5"


# --- TRUSTED_PROXY_COUNT ------------------------------------------------------------------------


@override_settings(TRUSTED_PROXIES=[], TRUSTED_PROXY_COUNT=1)
def test_one_proxy_the_entry_it_appended_is_the_client() -> None:
    # Client 198.51.100.9 -> our proxy 10.0.0.2 (appends the client) -> app.
    assert client_ip(_request("10.0.0.2", "198.51.100.9")) == "198.51.100.9"


@override_settings(TRUSTED_PROXIES=[], TRUSTED_PROXY_COUNT=1)
def test_one_proxy_client_prepended_fake_entry_is_ignored() -> None:
    # The attacker sends "X-Forwarded-For: 1.2.3.4"; the proxy appends the real address.
    assert client_ip(_request("10.0.0.2", "1.2.3.4, 198.51.100.9")) == "198.51.100.9"
    assert client_ip(_request("10.0.0.2", "1.2.3.4,5.6.7.8 ,198.51.100.9")) == "198.51.100.9"


@override_settings(TRUSTED_PROXIES=[], TRUSTED_PROXY_COUNT=2)
def test_two_proxies_the_entry_the_outer_proxy_appended_is_the_client() -> None:
    # attacker fake, client (appended by outer proxy), outer proxy (appended by inner proxy)
    assert client_ip(_request("10.0.0.3", "6.6.6.6, 198.51.100.9, 10.0.0.2")) == "198.51.100.9"


@override_settings(TRUSTED_PROXIES=[], TRUSTED_PROXY_COUNT=1)
def test_proxy_count_without_header_falls_back_to_remote_addr() -> None:
    assert client_ip(_request("203.0.113.7")) == "203.0.113.7"


@override_settings(TRUSTED_PROXIES=[], TRUSTED_PROXY_COUNT=1)
def test_proxy_count_garbage_in_the_trusted_position_falls_back_to_remote_addr() -> None:
    assert client_ip(_request("10.0.0.2", "not-an-ip")) == "10.0.0.2"


@override_settings(TRUSTED_PROXIES=[], TRUSTED_PROXY_COUNT=1)
def test_proxy_count_garbage_prepended_by_the_client_does_not_matter() -> None:
    assert client_ip(_request("10.0.0.2", "<script>, ::zz, 198.51.100.9")) == "198.51.100.9"


@override_settings(TRUSTED_PROXIES=[], TRUSTED_PROXY_COUNT=1)
def test_proxy_count_ipv6_client_behind_proxy() -> None:
    assert client_ip(_request("10.0.0.2", "2001:db8::1, 2001:DB8:0::42")) == "2001:db8::42"


# --- TRUSTED_PROXIES (networks) ------------------------------------------------------------------


@override_settings(TRUSTED_PROXIES=["10.0.0.0/8"], TRUSTED_PROXY_COUNT=0)
def test_networks_header_from_a_trusted_proxy_is_believed() -> None:
    assert client_ip(_request("10.1.2.3", "198.51.100.9")) == "198.51.100.9"


@override_settings(TRUSTED_PROXIES=["10.0.0.0/8"], TRUSTED_PROXY_COUNT=0)
def test_networks_header_from_an_untrusted_sender_is_ignored() -> None:
    # The attacker connects directly (not through our proxy) and claims to be someone else.
    assert client_ip(_request("203.0.113.7", "198.51.100.9")) == "203.0.113.7"
    assert client_ip(_request("203.0.113.7", "10.1.1.1")) == "203.0.113.7"


@override_settings(TRUSTED_PROXIES=["10.0.0.0/8", "192.168.0.0/16"], TRUSTED_PROXY_COUNT=0)
def test_networks_chain_of_trusted_proxies_is_walked_from_the_right() -> None:
    forwarded = "1.2.3.4, 198.51.100.9, 192.168.5.5"  # fake, client, first proxy
    assert client_ip(_request("10.0.0.2", forwarded)) == "198.51.100.9"


@override_settings(TRUSTED_PROXIES=["10.0.0.0/8"], TRUSTED_PROXY_COUNT=0)
def test_networks_client_cannot_hide_behind_a_prepended_trusted_looking_address() -> None:
    # "10.9.9.9" prepended by the attacker is left of the real client entry: never reached.
    assert client_ip(_request("10.0.0.2", "10.9.9.9, 198.51.100.9")) == "198.51.100.9"


@override_settings(TRUSTED_PROXIES=["10.0.0.0/8"], TRUSTED_PROXY_COUNT=0)
def test_networks_garbage_in_the_chain_never_yields_a_garbage_key() -> None:
    result = client_ip(_request("10.0.0.2", "not-an-ip"))
    assert result == "10.0.0.2"
    result = client_ip(_request("10.0.0.2", "198.51.100.9, <script>"))
    assert result == "10.0.0.2"


@override_settings(TRUSTED_PROXIES=["fd00::/8"], TRUSTED_PROXY_COUNT=0)
def test_networks_ipv6_proxy_and_client() -> None:
    assert client_ip(_request("fd00::2", "2001:db8::77")) == "2001:db8::77"
    assert client_ip(_request("2001:db8::66", "2001:db8::77")) == "2001:db8::66"


@override_settings(TRUSTED_PROXIES=["10.0.0.0/8"], TRUSTED_PROXY_COUNT=0)
def test_networks_result_is_always_a_valid_address() -> None:
    import ipaddress

    for forwarded in ["", " , ", "1.2.3.4:80", "[2001:db8::1]:443", "a,b,c", "1.2.3.4, 10.0.0.9"]:
        ipaddress.ip_address(client_ip(_request("10.0.0.2", forwarded)))
