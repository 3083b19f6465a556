"""The payment provider adapter: one interface, the sandbox's Stripe-like API behind it.

A real provider plugs in as another `PaymentProvider` implementation; services
and tasks only see `ChargeResult`/`RefundResult` and three kinds of failure:

- a decline is a *result* (`succeeded=False` with the provider's code and message);
- `shared.problems.Unavailable` (timeout, connection error, 5xx after the client's
  own retries, or the circuit breaker open): the outcome is unknown, try again later
  with the same idempotency key;
- `ProviderRejected`: the provider refused the request itself (bad key, bad
  parameters, idempotency key reused with another body): repeating it can't help.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
from django.conf import settings

from shared.http import ServiceClient
from shared.resilience import Backoff, CircuitBreaker, RedisBreakerStore

PROVIDER_NAME = "payment provider"


@dataclass(frozen=True)
class ChargeResult:
    succeeded: bool
    reference: str  # the provider's id of the payment (the intent), also when declined
    failure_code: str = ""
    failure_reason: str = ""
    # What the provider says the token was: never the number itself.
    card_brand: str = ""
    card_last4: str = ""


@dataclass(frozen=True)
class RefundResult:
    succeeded: bool
    reference: str
    failure_reason: str = ""


class ProviderRejected(Exception):
    """The provider refused the request as such; the message is the provider's."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


class PaymentProvider(Protocol):
    def charge(
        self,
        *,
        amount: int,
        currency: str,
        payment_method: str,
        idempotency_key: str,
        metadata: Mapping[str, str],
    ) -> ChargeResult:
        """Charge once per idempotency key. Raises Unavailable or ProviderRejected."""
        ...

    def refund(
        self,
        *,
        payment_reference: str,
        amount: int,
        idempotency_key: str,
        metadata: Mapping[str, str],
    ) -> RefundResult:
        """Refund once per idempotency key. Raises Unavailable or ProviderRejected."""
        ...


class SandboxProvider:
    """`sandbox.payments` (and Stripe's PaymentIntents API shape) over `shared.http`."""

    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    def charge(
        self,
        *,
        amount: int,
        currency: str,
        payment_method: str,
        idempotency_key: str,
        metadata: Mapping[str, str],
    ) -> ChargeResult:
        response = self.client.post(
            "/v1/payment_intents",
            json={
                "amount": amount,
                "currency": currency.lower(),
                "payment_method": payment_method,
                "metadata": dict(metadata),
            },
            idempotency_key=idempotency_key,
        )
        body = _body(response)
        if response.status_code == 200:
            return ChargeResult(succeeded=True, reference=str(body["id"]), **_card(body))
        error = _json(body.get("error"))
        if response.status_code == 402 and error.get("type") == "card_error":
            intent = _json(error.get("payment_intent"))
            return ChargeResult(
                succeeded=False,
                reference=str(intent.get("id", "")),
                failure_code=str(error.get("decline_code") or error.get("code") or "declined"),
                failure_reason=str(error.get("message") or "The card was declined."),
                **_card(intent),
            )
        raise _rejected(response.status_code, error)

    def refund(
        self,
        *,
        payment_reference: str,
        amount: int,
        idempotency_key: str,
        metadata: Mapping[str, str],
    ) -> RefundResult:
        response = self.client.post(
            "/v1/refunds",
            json={
                "payment_intent": payment_reference,
                "amount": amount,
                "metadata": dict(metadata),
            },
            idempotency_key=idempotency_key,
        )
        body = _body(response)
        if response.status_code == 200:
            return RefundResult(succeeded=True, reference=str(body["id"]))
        error = _json(body.get("error"))
        if response.status_code == 400 and error.get("type") == "invalid_request_error":
            code = str(error.get("code", ""))
            if code in ("charge_already_refunded", "amount_too_large"):
                return RefundResult(
                    succeeded=False, reference="", failure_reason=str(error.get("message", code))
                )
        raise _rejected(response.status_code, error)


def _card(intent: dict[str, Any]) -> dict[str, str]:
    """Brand and last four of the card an intent charged (Stripe: the charge's
    `payment_method_details.card`, which the sandbox also puts on the intent)."""
    card = _json(_json(intent.get("payment_method_details")).get("card"))
    return {"card_brand": str(card.get("brand") or ""), "card_last4": str(card.get("last4") or "")}


def _body(response: httpx.Response) -> dict[str, Any]:
    try:
        return _json(response.json())
    except ValueError:
        return {}


def _json(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _rejected(status: int, error: dict[str, Any]) -> ProviderRejected:
    return ProviderRejected(
        status, str(error.get("code") or error.get("type") or "error"), str(error.get("message"))
    )


_lock = threading.Lock()
_cached: tuple[tuple[Any, ...], SandboxProvider, CircuitBreaker] | None = None


def payment_provider() -> PaymentProvider:
    """The configured provider: one HTTP client and one Redis-shared breaker per process.

    Built from settings (PAYMENT_PROVIDER_URL, the `payment_provider_key` secret, the
    PAYMENT_PROVIDER_* limits) and rebuilt when they change.
    """
    global _cached
    config = (
        settings.PAYMENT_PROVIDER_URL,
        settings.PAYMENT_PROVIDER_KEY,
        settings.PAYMENT_PROVIDER_TIMEOUT,
        settings.PAYMENT_PROVIDER_RETRIES,
        settings.PAYMENT_PROVIDER_BACKOFF,
        settings.PAYMENT_BREAKER_FAILURES,
        settings.PAYMENT_BREAKER_OPEN_SECONDS,
    )
    with _lock:
        if _cached is None or _cached[0] != config:
            if _cached is not None:
                _cached[1].client.close()
            url, key, timeout, retries, backoff, failures, open_seconds = config
            breaker = CircuitBreaker(
                PROVIDER_NAME,
                failure_threshold=failures,
                open_seconds=open_seconds,
                store=RedisBreakerStore.from_url(
                    settings.REDIS_URL, password=settings.REDIS_PASSWORD
                ),
            )
            client = ServiceClient(
                name=PROVIDER_NAME,
                base_url=url,
                timeout=timeout,
                retries=retries,
                backoff=Backoff(base=backoff, cap=max(backoff, 5.0)),
                breaker=breaker,
                headers={"Authorization": f"Bearer {key}"},
            )
            _cached = (config, SandboxProvider(client), breaker)
        return _cached[1]


def payment_breaker() -> CircuitBreaker:
    """The breaker guarding the provider (for operations and tests)."""
    payment_provider()
    assert _cached is not None
    return _cached[2]
