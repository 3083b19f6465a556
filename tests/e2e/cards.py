"""Paying as the web client does: the card goes to the payment provider only.

`GET /api/config` on the BFF says where the provider is and its publishable key; the
card is tokenized there (with the page's `Origin`, as a browser sends it) and only the
`pm_…` token goes to the BFF.
"""

from __future__ import annotations

import httpx


def card_token(bff: httpx.Client, number: str = "4242424242424242") -> str:
    """A fresh payment-method token for a test card (expiry 12/2040, CVC 123)."""
    config = bff.get("/api/config").json()["payments"]
    origin = str(bff.base_url).rstrip("/")
    answer = httpx.post(
        f"{config['provider_url']}/v1/payment_methods",
        json={
            "type": "card",
            "card": {"number": number, "exp_month": 12, "exp_year": 2040, "cvc": "123"},
        },
        headers={"Authorization": f"Bearer {config['publishable_key']}", "Origin": origin},
        timeout=20,
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["Access-Control-Allow-Origin"] == origin
    return str(answer.json()["id"])
