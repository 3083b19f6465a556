"""What the web client needs to take a card (issue 10: card data goes to the provider only)."""

from __future__ import annotations

from django.conf import settings
from django.test import Client


def test_config_gives_the_providers_public_url_and_publishable_key_to_anyone(
    client: Client,
) -> None:
    response = client.get("/api/config")

    assert response.status_code == 200
    payments = response.json()["payments"]
    assert payments == {
        "provider_url": settings.PAYMENT_PROVIDER_PUBLIC_URL,
        "publishable_key": settings.PAYMENT_PUBLISHABLE_KEY,
    }
    assert payments["publishable_key"].startswith("pk_test_")
    assert payments["provider_url"].startswith("http://127.0.0.1:")


def test_the_csp_lets_the_page_connect_to_the_provider_and_nowhere_else(client: Client) -> None:
    csp = client.get("/api/config")["Content-Security-Policy"]

    [connect] = [d for d in csp.split("; ") if d.startswith("connect-src ")]
    assert connect == f"connect-src 'self' {settings.PAYMENT_PROVIDER_PUBLIC_URL}"
