"""Rate limits per client address behind reverse proxies (TRUSTED_PROXIES, shared/proxies.py)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, RequestFactory

from shared.proxies import client_address, trusted_proxies_parse

PROXY = "10.0.0.2"
NETWORKS = trusted_proxies_parse("10.0.0.0/8, 2001:db8::/32")


@pytest.fixture(autouse=True)
def tight_limit(settings: Any) -> None:
    cache.clear()
    settings.RATE_LIMITS = {
        "session": {"limit": 100, "window": 60},
        "address": {"limit": 3, "window": 60},
    }


def statuses(client: Client, forwarded_for: list[str]) -> list[int]:
    """One request per X-Forwarded-For value (empty: no header)."""
    answers = []
    for value in forwarded_for:
        extra = {"HTTP_X_FORWARDED_FOR": value} if value else {}
        answers.append(client.get("/api/session", **extra).status_code)
    return answers


def address(remote: str, forwarded_for: str | None, trusted: Any) -> str:
    extra = {"HTTP_X_FORWARDED_FOR": forwarded_for} if forwarded_for is not None else {}
    request = RequestFactory().get("/", REMOTE_ADDR=remote, **extra)
    return client_address(request, trusted)


def test_without_a_trusted_proxy_a_spoofed_forwarded_for_changes_nothing(settings: Any) -> None:
    settings.TRUSTED_PROXIES = 0
    client = Client(REMOTE_ADDR="198.51.100.7")

    answers = statuses(client, ["", "203.0.113.1", "203.0.113.2", "203.0.113.3"])

    assert answers == [200, 200, 200, 429]
    keys = cache.keys("rl:address:*")  # type: ignore[attr-defined]
    assert [key.split(":")[2] for key in keys] == ["198.51.100.7"]


def test_behind_one_trusted_proxy_two_customers_get_separate_buckets(settings: Any) -> None:
    settings.TRUSTED_PROXIES = 1
    proxy = Client(REMOTE_ADDR=PROXY)

    first = statuses(proxy, ["198.51.100.1"] * 4)
    second = statuses(proxy, ["198.51.100.2"] * 3)

    assert first == [200, 200, 200, 429]
    assert second == [200, 200, 200]


def test_behind_a_trusted_proxy_prepended_fake_addresses_do_not_escape_the_bucket(
    settings: Any,
) -> None:
    settings.TRUSTED_PROXIES = 1
    proxy = Client(REMOTE_ADDR=PROXY)

    # The proxy appends the address it saw (198.51.100.9) after whatever the client sent.
    answers = statuses(proxy, [f"203.0.113.{n}, 198.51.100.9" for n in range(4)])

    assert answers == [200, 200, 200, 429]


def test_with_trusted_networks_a_caller_outside_them_is_its_own_client(settings: Any) -> None:
    settings.TRUSTED_PROXIES = NETWORKS
    direct = Client(REMOTE_ADDR="198.51.100.20")

    # Not a trusted proxy, so its X-Forwarded-For is the caller's own claim.
    answers = statuses(direct, [f"203.0.113.{n}" for n in range(4)])

    assert answers == [200, 200, 200, 429]


@pytest.mark.parametrize(
    ("remote", "forwarded_for", "trusted", "expected"),
    [
        # No trusted proxy: only the socket peer counts.
        ("198.51.100.7", "203.0.113.1", 0, "198.51.100.7"),
        ("198.51.100.7", None, 0, "198.51.100.7"),
        # A hop count: the Nth address from the right.
        (PROXY, "203.0.113.1", 1, "203.0.113.1"),
        (PROXY, "6.6.6.6, 203.0.113.1", 1, "203.0.113.1"),
        (PROXY, "6.6.6.6, 203.0.113.1, 10.9.9.9", 2, "203.0.113.1"),
        (PROXY, None, 1, PROXY),  # reached the site without passing the proxy
        (PROXY, "not-an-ip, 203.0.113.1", 2, "203.0.113.1"),
        # Networks: walk left while the hop is a trusted proxy.
        (PROXY, "6.6.6.6, 203.0.113.1, 10.1.1.1", NETWORKS, "203.0.113.1"),
        ("198.51.100.20", "203.0.113.1", NETWORKS, "198.51.100.20"),
        (PROXY, "10.1.1.1, 10.2.2.2", NETWORKS, "10.1.1.1"),
        (PROXY, "garbage", NETWORKS, PROXY),
        # One spelling per client: ports, brackets and IPv4-mapped IPv6 normalised.
        (PROXY, "203.0.113.1:5123", 1, "203.0.113.1"),
        (PROXY, "[2001:DB8:0:0::1]:443", 1, "2001:db8::1"),
        (PROXY, "::ffff:203.0.113.1", 1, "203.0.113.1"),
        ("2001:db8::5", "2001:0db8::7, 198.51.100.3", NETWORKS, "198.51.100.3"),
    ],
)
def test_the_client_address_walks_forwarded_for_from_the_right_over_trusted_hops_only(
    remote: str, forwarded_for: str | None, trusted: Any, expected: str
) -> None:
    assert address(remote, forwarded_for, trusted) == expected


def test_the_setting_takes_a_hop_count_or_networks_and_refuses_anything_else() -> None:
    assert trusted_proxies_parse("") == 0
    assert trusted_proxies_parse("2") == 2
    assert [str(n) for n in NETWORKS] == ["10.0.0.0/8", "2001:db8::/32"]  # type: ignore[union-attr]
    with pytest.raises(
        ImproperlyConfigured, match=re.escape("'10.0.0.0/33' is neither a hop count")
    ):
        trusted_proxies_parse("10.0.0.0/33")


def test_by_default_no_proxy_is_trusted(settings: Any) -> None:
    assert settings.TRUSTED_PROXIES == 0
