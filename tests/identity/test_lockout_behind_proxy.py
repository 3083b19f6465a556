"""The login lockout per client address behind reverse proxies (TRUSTED_PROXIES)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from identity_site.accounts.models import User
from tests.identity.conftest import PASSWORD

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.2"


@pytest.fixture(autouse=True)
def _fresh_counters() -> None:
    cache.clear()


def post_login(client: Client, email: str, password: str, forwarded_for: str) -> int:
    response = client.post(
        "/accounts/login/",
        {"username": email, "password": password, "next": "/accounts/"},
        HTTP_X_FORWARDED_FOR=forwarded_for,
    )
    return response.status_code


def test_without_a_trusted_proxy_a_spoofed_forwarded_for_does_not_lift_the_lockout(
    customer: User, settings: Any
) -> None:
    settings.TRUSTED_PROXIES = 0
    attacker = Client(REMOTE_ADDR="198.51.100.66")

    failures = [
        post_login(attacker, customer.email, "wrong-password", f"203.0.113.{n}") for n in range(5)
    ]
    retry = post_login(attacker, customer.email, PASSWORD, "203.0.113.99")

    assert failures == [200, 200, 200, 200, 429]
    assert retry == 429


def test_behind_one_trusted_proxy_a_locked_out_attacker_does_not_lock_out_the_customer(
    customer: User, settings: Any
) -> None:
    settings.TRUSTED_PROXIES = 1
    proxy = Client(REMOTE_ADDR=PROXY)

    failures = [
        post_login(proxy, customer.email, "wrong-password", "198.51.100.66") for _ in range(5)
    ]
    customer_signs_in = post_login(
        Client(REMOTE_ADDR=PROXY), customer.email, PASSWORD, "192.0.2.10"
    )

    assert failures == [200, 200, 200, 200, 429]
    assert customer_signs_in == 302


def test_behind_a_trusted_proxy_prepended_fake_addresses_do_not_escape_the_lockout(
    customer: User, settings: Any
) -> None:
    settings.TRUSTED_PROXIES = 1
    proxy = Client(REMOTE_ADDR=PROXY)

    # The proxy appends the attacker's real address after whatever the attacker sent.
    failures = [
        post_login(proxy, customer.email, "wrong-password", f"192.0.2.{n}, 198.51.100.66")
        for n in range(5)
    ]
    retry = post_login(proxy, customer.email, PASSWORD, "192.0.2.10, 198.51.100.66")

    assert failures == [200, 200, 200, 200, 429]
    assert retry == 429
