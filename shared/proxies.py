"""The client's address behind trusted reverse proxies (one rule for rate limits and lockouts).

`TRUSTED_PROXIES` (each site's settings, from the environment variable of that name)
says which hops in front of the site may be believed:

- empty or `0` (the default): none. The client is the socket peer, `REMOTE_ADDR`;
  `X-Forwarded-For` is ignored, since anyone can send it.
- a number N: exactly N proxies stand in front of the site and every request passes
  through all of them (the site is not reachable around them). Each proxy appends the
  address it saw to `X-Forwarded-For`, so the client is the Nth address from the right.
- networks, comma-separated CIDRs (`10.0.0.0/8,2001:db8::/32`; a bare address is one
  host): a hop is a proxy when its address lies in one of them. Starting at
  `REMOTE_ADDR`, the walk goes left through `X-Forwarded-For` while the current hop
  is trusted; the first untrusted address is the client.

Either way the walk goes from the right and stops at the first address no trusted proxy
wrote, so addresses a client prepends are never reached: an attacker cannot choose their
bucket. An entry that is not an IP address ends the walk at the hop that reported it.
Addresses come back in canonical form (an IPv4-mapped IPv6 address as IPv4), so one
client has one spelling.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
TrustedProxies = int | tuple[IPNetwork, ...]


def trusted_proxies_parse(value: str) -> TrustedProxies:
    """The `TRUSTED_PROXIES` environment value as a hop count or a tuple of networks;
    raises ImproperlyConfigured on anything else (a typo must not trust everyone)."""
    value = value.strip()
    if not value:
        return 0
    if value.isdigit():
        return int(value)
    networks = []
    for item in value.split(","):
        try:
            networks.append(ipaddress.ip_network(item.strip(), strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                f"TRUSTED_PROXIES: {item.strip()!r} is neither a hop count nor a network "
                "(e.g. 1, or 10.0.0.0/8,192.168.0.0/16)"
            ) from None
    return tuple(networks)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An X-Forwarded-For entry as an address: bare, `[v6]:port`, `v4:port` or quoted."""
    text = text.strip().strip('"')
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def client_address(request: HttpRequest, trusted: Any = None) -> str:
    """The address of the client that sent `request`, believing only `TRUSTED_PROXIES`."""
    if trusted is None:
        trusted = getattr(settings, "TRUSTED_PROXIES", 0)
    peer_text = str(request.META.get("REMOTE_ADDR") or "")
    peer = _address(peer_text)
    if peer is None:
        return peer_text or "unknown"
    if not trusted:
        return str(peer)
    forwarded = [
        part
        for part in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",")
        if part.strip()
    ]
    client = peer
    hops = 0
    while forwarded:
        if isinstance(trusted, int):
            if hops >= trusted:
                break
        elif not any(client in net for net in trusted if net.version == client.version):
            break
        previous = _address(forwarded.pop())
        if previous is None:
            break
        client = previous
        hops += 1
    return str(client)
