"""The client's IP address, believing X-Forwarded-For only as far as trusted proxies vouch.

A client that talks to the app directly can put anything in X-Forwarded-For; only entries added
by our own proxies are trusted. Two ways to say which proxies are ours (settings):
- TRUSTED_PROXIES: networks of the proxies (e.g. the compose network). Entries are walked from
  the right, skipping trusted addresses; the first untrusted one is the client.
- TRUSTED_PROXY_COUNT: the number of proxies in front of the app (each appends one entry).
With neither, REMOTE_ADDR is the client. Rate limits and the login lockout both use this.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

# A rate-limit key for requests without a usable address: a dictionary key, never a listening
# address (hence the bandit B104 exemption).
UNKNOWN = "0.0.0.0"  # noqa: S104  # nosec B104


def _parse(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # [v6]:port
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # v4:port
        value = value.split(":", 1)[0]
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


@lru_cache(maxsize=8)
def _networks(spec: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in spec)


_MEMO = "_security_client_ip"


def client_ip(request: HttpRequest) -> str:
    # Several middleware ask for every request (intrusion detection, rate limits, lockout);
    # the answer cannot change within a request, so it is worked out once.
    memo = request.__dict__.get(_MEMO)
    if memo is None:
        memo = request.__dict__[_MEMO] = _client_ip(request)
    return memo


def _client_ip(request: HttpRequest) -> str:
    return _client_ip_of(
        request.META.get("REMOTE_ADDR", ""),
        request.META.get("HTTP_X_FORWARDED_FOR", ""),
        tuple(getattr(settings, "TRUSTED_PROXIES", ())),
        getattr(settings, "TRUSTED_PROXY_COUNT", 0),
    )


# A pure function of the two headers and the settings, asked on every request: the same few
# clients come again and again, so parsing their addresses once each is enough.
@lru_cache(maxsize=4096)
def _client_ip_of(
    remote_addr: str, forwarded_for: str, trusted_spec: tuple[str, ...], count: int
) -> str:
    remote = _parse(remote_addr)
    trusted = _networks(trusted_spec)
    if remote is None:
        return UNKNOWN
    if not trusted and not count:
        return str(remote)
    forwarded = [_parse(item) for item in forwarded_for.split(",") if item.strip()]
    chain = [*forwarded, remote]
    if trusted:
        if not any(remote in net for net in trusted):
            return str(remote)  # not sent by our proxy: its header means nothing
        for address in reversed(chain):
            if address is None:
                break  # garbage in the trusted part of the chain: stop at the last good hop
            if not any(address in net for net in trusted):
                return str(address)
        return str(remote)
    # TRUSTED_PROXY_COUNT: the entry our outermost proxy appended is the client.
    if len(chain) > count:
        candidate = chain[-(count + 1)]
        return str(candidate) if candidate is not None else str(remote)
    return str(remote)


@lru_cache(maxsize=4096)  # a pure function, asked on every request
def rate_limit_key(ip: str) -> str:
    """What a rate limit counts: the address, except IPv6 which counts per /64 (one customer
    line usually owns a whole /64 and could otherwise rotate through fresh addresses), and
    IPv4-mapped IPv6 which counts as its IPv4 address."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def lockout_key(ip: str) -> str:
    """The address a login lockout counts for, as an address (the lock table stores one): IPv6
    by its /64, written as the network's first address (2001:db8:1:2::), IPv4-mapped IPv6 as
    its IPv4 address, anything else unchanged. Eight addresses of one /64 thus share one lock,
    as they share one customer line."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False).network_address)
    return str(address)


def lockout_address(request: HttpRequest) -> str:
    """AXES_CLIENT_IP_CALLABLE: the client's lockout key (see lockout_key)."""
    return lockout_key(client_ip(request))
