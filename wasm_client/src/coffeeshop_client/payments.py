"""Card tokenization at the payment provider, straight from the browser (as Stripe.js).

The card goes to the provider only, with its publishable key (`pk_…`), and comes back
as a payment-method token (`pm_…`) that the order is placed with: neither the BFF nor
Order ever sees the number (docs/decisions.md "Card data"). Where the provider is and
its key come from the BFF (`GET /api/config`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from coffeeshop_client.api import ApiError, Fetch, HttpRequest

# The provider names the field it refuses (Stripe's `param`); the checkout form's fields.
FIELDS = {"number": "number", "exp_month": "expiry", "exp_year": "expiry", "cvc": "cvc"}


@dataclass(frozen=True)
class PaymentConfig:
    provider_url: str
    publishable_key: str

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PaymentConfig:
        payments = data.get("payments") or {}
        return cls(
            provider_url=str(payments.get("provider_url") or "").rstrip("/"),
            publishable_key=str(payments.get("publishable_key") or ""),
        )


@dataclass(frozen=True)
class CardToken:
    id: str
    brand: str
    last4: str


class CardRefused(Exception):
    """The provider refused the card: which form field, and its words for the customer."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _unavailable() -> ApiError:
    return ApiError(503, "Payment service unavailable", service="payment")


async def tokenize(
    fetch: Fetch,
    config: PaymentConfig,
    *,
    number: str,
    exp_month: int,
    exp_year: int,
    cvc: str,
) -> CardToken:
    """Exchange the card for a token. Raises CardRefused naming the field the provider
    refused, or ApiError (503, service `payment`) when it can't be reached."""
    request = HttpRequest(
        "POST",
        config.provider_url + "/v1/payment_methods",
        {
            "Authorization": f"Bearer {config.publishable_key}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        },
        json.dumps(
            {
                "type": "card",
                "card": {
                    "number": number,
                    "exp_month": exp_month,
                    "exp_year": exp_year,
                    "cvc": cvc,
                },
            }
        ),
    )
    try:
        response = await fetch(request)
    except Exception:  # offline, or the browser's CORS refusal: both look like this
        raise _unavailable() from None
    try:
        body = json.loads(response.body) if response.body else {}
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    if response.status == 200 and str(body.get("id", "")).startswith("pm_"):
        card = body.get("card") or {}
        return CardToken(str(body["id"]), str(card.get("brand", "")), str(card.get("last4", "")))
    error = body.get("error") or {}
    if response.status == 402 and isinstance(error, dict):
        field = FIELDS.get(str(error.get("param") or ""), "number")
        raise CardRefused(field, str(error.get("message") or "The card was refused."))
    raise _unavailable()
