"""The provider's behaviour, independent of HTTP: Stripe's rules for tokens, payment
intents, charges and refunds, idempotent execution, and the fault knobs tests turn."""

from __future__ import annotations

import hashlib
import json
import random
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox.payments.cards import (
    DECLINES,
    OUTCOMES,
    TOKEN_RE,
    TOKENS,
    card_brand,
    card_checked,
)
from sandbox.payments.errors import ApiError, card_error, invalid, not_found
from sandbox.payments.journal import Ledger

TOKEN_TTL_SECONDS = 86400
_CURRENCY_RE = re.compile(r"^[a-z]{3}$")


@dataclass
class Outcome:
    """What executing one request produced: the answer and the objects it wrote."""

    status: int
    body: dict[str, Any]
    objects: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


@dataclass
class Knobs:
    latency_ms: int = 0
    failure_rate: float = 0.0
    fail_next: int = 0


def public_method(method: dict[str, Any]) -> dict[str, Any]:
    """A PaymentMethod as the API shows it (without the sandbox's bookkeeping)."""
    return {k: v for k, v in method.items() if k not in ("sandbox_outcome", "used_by")}


def _new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def _fingerprint(method: str, path: str, body: dict[str, Any]) -> str:
    canonical = json.dumps([method, path, body], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _metadata(body: dict[str, Any]) -> dict[str, str]:
    metadata = body.get("metadata", {})
    if not isinstance(metadata, dict) or not all(
        isinstance(k, str) and isinstance(v, str | int) for k, v in metadata.items()
    ):
        raise invalid("parameter_invalid", "metadata must be an object of strings", "metadata")
    return {k: str(v) for k, v in metadata.items()}


def _positive_int(body: dict[str, Any], name: str, *, required: bool = True) -> int | None:
    value = body.get(name)
    if value is None:
        if required:
            raise invalid("parameter_missing", f"Missing required param: {name}.", name)
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise invalid("parameter_invalid_integer", f"{name} must be a positive integer", name)
    return value


def _tokenize_request(body: dict[str, Any]) -> dict[str, Any]:
    metadata = _metadata(body)
    if body.get("type", "card") != "card":
        raise invalid("parameter_invalid", "type must be card.", "type")
    return {"card": card_checked(body.get("card")), "metadata": metadata}


def _refund_request(body: dict[str, Any]) -> dict[str, Any]:
    metadata = _metadata(body)
    intent_id = body.get("payment_intent")
    if not isinstance(intent_id, str) or not intent_id:
        raise invalid("parameter_missing", "Missing required param: payment_intent.")
    return {
        "payment_intent": intent_id,
        "amount": _positive_int(body, "amount", required=False),
        "metadata": metadata,
    }


def _intent_request(body: dict[str, Any]) -> dict[str, Any]:
    metadata = _metadata(body)
    amount = _positive_int(body, "amount")
    currency = body.get("currency")
    if not isinstance(currency, str) or not _CURRENCY_RE.match(currency.lower()):
        raise invalid("parameter_invalid", "currency must be a 3-letter ISO code", "currency")
    method = body.get("payment_method")
    if not isinstance(method, str) or not method:
        raise invalid(
            "parameter_missing", "Missing required param: payment_method.", "payment_method"
        )
    if not TOKEN_RE.match(method):
        # Never repeated back: it may be a card number.
        raise invalid(
            "parameter_invalid",
            "payment_method must be a PaymentMethod id (pm_…), never a card number; "
            "tokenize the card with POST /v1/payment_methods.",
            "payment_method",
        )
    description = body.get("description", "")
    return {
        "amount": amount,
        "currency": currency.lower(),
        "payment_method": method,
        "metadata": metadata,
        "description": str(description),
    }


class PaymentSandbox:
    """The provider's behaviour, independent of HTTP plumbing."""

    def __init__(
        self,
        *,
        data_dir: Path,
        api_key: str,
        knobs: Knobs | None = None,
        publishable_key: str = "",
        allowed_origins: Iterable[str] = (),
        token_ttl: int = TOKEN_TTL_SECONDS,
    ) -> None:
        if not api_key:
            raise ValueError("the sandbox needs an API key")
        if publishable_key and publishable_key == api_key:
            raise ValueError("the publishable key must differ from the secret key")
        self.ledger = Ledger(data_dir)
        self.api_key = api_key
        self.publishable_key = publishable_key
        self.allowed_origins = frozenset(o.rstrip("/") for o in allowed_origins)
        self.token_ttl = token_ttl
        self.knobs = knobs or Knobs()
        self.stats = {"requests": 0, "writes": 0, "injected_failures": 0}
        self._stats_lock = threading.Lock()
        # Executions read and then write objects (a refund reads the charge's refunded
        # amount); they run one at a time so two refunds can't both see the same balance.
        self._execute_lock = threading.Lock()
        # The POSTs that write: each one's checks of the body, then its execution.
        self._writes: dict[
            str, tuple[Callable[[dict[str, Any]], dict[str, Any]], Callable[..., Outcome]]
        ] = {
            "/v1/payment_intents": (_intent_request, self._create_intent),
            "/v1/refunds": (_refund_request, self._refund),
            "/v1/payment_methods": (_tokenize_request, self._tokenize),
        }

    # ---- faults --------------------------------------------------------------------------
    def before_api_call(self, *, write: bool) -> None:
        """Count the call; for a write (a POST, which moves money), wait the configured
        latency and fail it if a knob says so. Reads are never slowed or failed, so tests
        can always look at what the provider holds."""
        with self._stats_lock:
            self.stats["requests"] += 1
            if not write:
                return
            self.stats["writes"] += 1
            latency = self.knobs.latency_ms
            fail = False
            if self.knobs.fail_next > 0:
                self.knobs.fail_next -= 1
                fail = True
            elif self.knobs.failure_rate > 0 and random.random() < self.knobs.failure_rate:  # noqa: S311 - fault injection, not crypto
                fail = True
            if fail:
                self.stats["injected_failures"] += 1
        if latency:
            time.sleep(latency / 1000)
        if fail:
            raise ApiError(500, "api_error", "sandbox_failure", "Injected failure (sandbox knob).")

    def configure(self, body: dict[str, Any]) -> dict[str, Any]:
        with self._stats_lock:
            if "latency_ms" in body:
                value = body["latency_ms"]
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    raise invalid("parameter_invalid_integer", "latency_ms >= 0", "latency_ms")
                self.knobs.latency_ms = value
            if "failure_rate" in body:
                rate = body["failure_rate"]
                if isinstance(rate, bool) or not isinstance(rate, int | float):
                    rate = -1
                if not 0 <= rate <= 1:
                    raise invalid("parameter_invalid", "failure_rate in [0, 1]", "failure_rate")
                self.knobs.failure_rate = float(rate)
            if "fail_next" in body:
                value = body["fail_next"]
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    raise invalid("parameter_invalid_integer", "fail_next >= 0", "fail_next")
                self.knobs.fail_next = value
            return self.config()

    def config(self) -> dict[str, Any]:
        return {
            "latency_ms": self.knobs.latency_ms,
            "failure_rate": self.knobs.failure_rate,
            "fail_next": self.knobs.fail_next,
        }

    # ---- idempotent execution -------------------------------------------------------------
    def post(
        self, path: str, body: dict[str, Any], idempotency_key: str | None
    ) -> tuple[int, dict[str, Any], bool]:
        """Run one of the writing POSTs (`path`: the route's), honouring the idempotency
        key. Returns (status, body, replayed)."""
        validate, execute = self._writes[path]
        validated = validate(body)
        if idempotency_key is None:
            with self._execute_lock:
                outcome = execute(validated)
                self.ledger.commit(outcome.objects, None)
            return outcome.status, outcome.body, False
        if len(idempotency_key) > 255:
            raise invalid("idempotency_key_too_long", "Idempotency-Key is at most 255 characters")
        fingerprint = _fingerprint("POST", path, body)
        with self.ledger.key_lock(idempotency_key):
            stored = self.ledger.stored(idempotency_key)
            if stored is not None:
                if stored.fingerprint != fingerprint:
                    raise ApiError(
                        400,
                        "idempotency_error",
                        "idempotency_key_in_use",
                        "Keys for idempotent requests can only be used with the same "
                        "parameters they were first used with.",
                    )
                return stored.status, json.loads(stored.body), True
            with self._execute_lock:
                outcome = execute(validated)
                saved = None
                if outcome.status < 500:
                    saved = {
                        "key": idempotency_key,
                        "fingerprint": fingerprint,
                        "status": outcome.status,
                        "body": outcome.body,
                    }
                self.ledger.commit(outcome.objects, saved)
            return outcome.status, outcome.body, False

    def _tokenize(self, req: dict[str, Any]) -> Outcome:
        card = req["card"]
        outcome = OUTCOMES.get(card["number"])
        if outcome is None:
            raise card_error(
                "card_declined",
                "Your card was declined. The sandbox takes only test cards.",
                "number",
            )
        now = int(time.time())
        method = {
            "id": _new_id("pm"),
            "object": "payment_method",
            "type": "card",
            "card": {
                "brand": card_brand(card["number"]),
                "last4": card["number"][-4:],
                "exp_month": card["exp_month"],
                "exp_year": card["exp_year"],
            },
            "created": now,
            "expires_at": now + self.token_ttl,
            "metadata": req["metadata"],
            # The sandbox's own bookkeeping (not shown): which test card, and the intent
            # that used the token.
            "sandbox_outcome": outcome,
            "used_by": None,
        }
        return Outcome(200, public_method(method), {"payment_method": [method]})

    def _resolve_method(self, token: str, now: int) -> tuple[str, dict[str, Any] | None]:
        """The outcome a token's card has and, for a one-off token, its stored object;
        raises a 400 for an unknown, expired or already used token."""
        if token in TOKENS:
            return OUTCOMES[TOKENS[token]], None
        method = self.ledger.get("payment_method", token)
        if method is None:
            raise invalid("resource_missing", f"No such PaymentMethod: '{token}'", "payment_method")
        if method["used_by"] is not None:
            raise invalid(
                "payment_method_unexpected_state",
                "This PaymentMethod was already used to pay; tokenize the card again.",
                "payment_method",
            )
        if now > method["expires_at"]:
            raise invalid(
                "payment_method_unexpected_state",
                "This PaymentMethod has expired; tokenize the card again.",
                "payment_method",
            )
        return method["sandbox_outcome"], method

    def _create_intent(self, req: dict[str, Any]) -> Outcome:
        now = int(time.time())
        outcome, method = self._resolve_method(req["payment_method"], now)
        if method is None:
            number = TOKENS[req["payment_method"]]
            details = {"brand": card_brand(number), "last4": number[-4:]}
        else:
            details = {"brand": method["card"]["brand"], "last4": method["card"]["last4"]}
        method_details = {"type": "card", "card": details}
        if outcome == "processing_error":
            # Nothing is stored: the provider failed before it could charge.
            return Outcome(
                500,
                {
                    "error": {
                        "type": "api_error",
                        "code": "processing_error",
                        "message": "An error occurred while processing your card. "
                        "Try again in a little bit.",
                    }
                },
            )
        intent_id, charge_id = _new_id("pi"), _new_id("ch")
        decline = DECLINES.get(outcome)
        charge = {
            "id": charge_id,
            "object": "charge",
            "amount": req["amount"],
            "amount_refunded": 0,
            "currency": req["currency"],
            "payment_intent": intent_id,
            "metadata": req["metadata"],
            "created": now,
            "status": "succeeded" if decline is None else "failed",
            "refunded": False,
            "failure_code": None if decline is None else "card_declined",
            "payment_method": req["payment_method"],
            "payment_method_details": method_details,
        }
        intent = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": req["amount"],
            "amount_received": req["amount"] if decline is None else 0,
            "currency": req["currency"],
            "description": req["description"],
            "metadata": req["metadata"],
            "created": now,
            "latest_charge": charge_id,
            "payment_method": req["payment_method"],
            "payment_method_details": method_details,
            "status": "succeeded" if decline is None else "requires_payment_method",
            "last_payment_error": None,
        }
        objects: dict[str, list[dict[str, Any]]] = {"payment_intent": [intent], "charge": [charge]}
        if method is not None:
            method["used_by"] = intent_id  # single use: no other intent can take it
            objects["payment_method"] = [method]
        if decline is None:
            return Outcome(200, intent, objects)
        decline_code, message = decline
        intent["last_payment_error"] = {
            "type": "card_error",
            "code": "card_declined",
            "decline_code": decline_code,
            "message": message,
        }
        body = {
            "error": {
                "type": "card_error",
                "code": "card_declined",
                "decline_code": decline_code,
                "message": message,
                "payment_intent": intent,
            }
        }
        return Outcome(402, body, objects)

    def _refund(self, req: dict[str, Any]) -> Outcome:
        intent = self.ledger.get("payment_intent", req["payment_intent"])
        if intent is None:
            raise not_found(
                f"No such payment_intent: '{req['payment_intent']}'", param="payment_intent"
            )
        if intent["status"] != "succeeded":
            raise invalid(
                "payment_intent_unexpected_state",
                "This PaymentIntent has no successful charge to refund.",
                "payment_intent",
            )
        charge = self.ledger.get("charge", intent["latest_charge"])
        assert charge is not None
        remaining = charge["amount"] - charge["amount_refunded"]
        if remaining == 0:
            raise invalid("charge_already_refunded", "This charge has already been refunded.")
        amount = req["amount"] if req["amount"] is not None else remaining
        if amount > remaining:
            raise invalid(
                "amount_too_large",
                f"Refund amount ({amount}) is greater than unrefunded amount ({remaining}).",
                "amount",
            )
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        refund = {
            "id": _new_id("re"),
            "object": "refund",
            "amount": amount,
            "currency": intent["currency"],
            "payment_intent": intent["id"],
            "charge": charge["id"],
            "metadata": req["metadata"],
            "created": int(time.time()),
            "status": "succeeded",
        }
        return Outcome(200, refund, {"refund": [refund], "charge": [charge]})

    # ---- reads ----------------------------------------------------------------------------
    def listing(self, kind: str, query: Iterable[tuple[str, str]]) -> dict[str, Any]:
        """Objects of one kind filtered by `status`, `payment_intent` and `metadata[k]`."""
        items = self.ledger.list(kind)
        for name, value in query:
            if name.startswith("metadata[") and name.endswith("]"):
                key = name[len("metadata[") : -1]
                items = [i for i in items if i.get("metadata", {}).get(key) == value]
            elif name in ("status", "payment_intent", "currency"):
                items = [i for i in items if i.get(name) == value]
        items.sort(key=lambda i: i["created"])
        return {"object": "list", "data": items, "has_more": False}

    def read(self, kind: str, obj_id: str) -> dict[str, Any]:
        """One object by id, as the API shows it; 404 when there is none."""
        obj = self.ledger.get(kind, obj_id)
        if obj is None:
            raise not_found(f"No such {kind}: '{obj_id}'")
        return public_method(obj) if kind == "payment_method" else obj
