"""A local, Stripe-like payment provider: the sandbox behind `PAYMENT_PROVIDER_URL`.

It stands in for the external Payment Service (DESIGN.md) so local runs and tests
exercise real HTTP with the same failure modes a real provider has: declines by
test card, server errors, latency, idempotency keys and refunds. Plain standard
library (`http.server`), no Django: it is not part of any site.

API (JSON bodies; every `/v1` and `/sandbox` call needs `Authorization: Bearer <key>`,
the secret key `sk_…`, except tokenization, which also takes the publishable key):

- `POST /v1/payment_methods` `{type: "card", card: {number, exp_month, exp_year, cvc}}`
  with the publishable key `pk_…` (from the browser, as Stripe.js does) or the secret
  one: checks the number (digits, length, Luhn), the expiry (not in the past) and the
  CVC (3 digits, 4 for American Express), and answers a PaymentMethod
  `{id: "pm_…", card: {brand, last4, exp_month, exp_year}}`. A bad field is a 402
  `card_error` naming it in `param` (`number`, `exp_month`, `exp_year`, `cvc`), its
  message never repeating the number. Only the test cards below tokenize (a real
  number is declined, as in Stripe's test mode); the token remembers which test card
  it was, never the number. A token pays one payment intent (repeating that same
  idempotent request replays it) and, unused, expires after
  `SANDBOX_PAYMENTS_TOKEN_TTL_S` (default 86400 s). CORS: only the origins given by
  `--allowed-origin` (the BFF's) may call it from a browser.
- `GET /v1/payment_methods/<id>` (secret key).
- `POST /v1/payment_intents` `{amount, currency, payment_method, metadata?, description?}`
  creates and confirms an intent at once (Stripe's `confirm=true`); `payment_method`
  is a token, never a card number. 200 with the intent (its `payment_method_details`
  give brand and last four, which Stripe puts on the charge) when the card is
  charged; 402 `card_error` with the failed intent when it is declined; 500
  `api_error` for the processing-error card.
- `GET /v1/payment_intents/<id>`, `GET /v1/payment_intents?metadata[order_id]=7&status=…`
- `GET /v1/charges?payment_intent=…&metadata[k]=v&status=…`: every charge attempt;
  successful charges are what a customer pays.
- `POST /v1/refunds` `{payment_intent, amount?, metadata?}`, `GET /v1/refunds[/<id>]`.
- `GET /healthz` (no auth).
- `GET|POST /sandbox/config` `{latency_ms, failure_rate, fail_next}` and
  `GET /sandbox/stats`: knobs and counters for tests (not part of Stripe's API).

Idempotency follows Stripe (https://docs.stripe.com/api/idempotent_requests): a
POST with an `Idempotency-Key` that started executing stores its answer; the same
key with the same body replays it (header `Idempotent-Replayed: true`); the same key
with another body answers 400 `idempotency_error`. Requests that fail validation
or end in a 5xx store nothing, so a retry with the same key executes again. Where
Stripe answers 409 to a request whose key is still executing, the sandbox makes the
second request wait for the first and then replays its answer.

Test cards (as Stripe's, https://docs.stripe.com/testing): tokenize the number, or use
Stripe's fixed test token (reusable, never expires) straight away:

| card | fixed token | outcome of a charge |
| --- | --- | --- |
| 4242424242424242 | pm_card_visa | succeeds |
| 5555555555554444 | pm_card_mastercard | succeeds |
| 4000000000000002 | pm_card_chargeDeclined | 402 (generic_decline) |
| 4000000000009995 | pm_card_chargeDeclinedInsufficientFunds | 402 (insufficient_funds) |
| 4000000000000119 | pm_card_chargeDeclinedProcessingError | 500 processing_error |

Knobs (also from the environment at start), applied to `/v1` POSTs (the calls that
move money; reads always answer): `SANDBOX_PAYMENTS_LATENCY_MS` (each is that slow),
`SANDBOX_PAYMENTS_FAILURE_RATE` (that share answers 500 before doing anything), and
`fail_next` (the next N do). `/sandbox/stats` counts `requests` (every `/v1` call),
`writes` (the POSTs) and `injected_failures`.

Run: `python -m sandbox.payments --port N --data DIR --key-file F
[--publishable-key-file F] [--allowed-origin https://shop.example]...`.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import logging
import os
import random
import re
import secrets
import signal
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

HOST = "127.0.0.1"
logger = logging.getLogger("sandbox.payments")

DECLINED = "4000000000000002"
INSUFFICIENT_FUNDS = "4000000000009995"
PROCESSING_ERROR = "4000000000000119"
SUCCEEDS = "4242424242424242"
SUCCEEDS_MASTERCARD = "5555555555554444"
# What each test card does when charged; a token keeps this name, never the number.
OUTCOMES = {
    SUCCEEDS: "succeeds",
    SUCCEEDS_MASTERCARD: "succeeds",
    DECLINED: "generic_decline",
    INSUFFICIENT_FUNDS: "insufficient_funds",
    PROCESSING_ERROR: "processing_error",
}
TOKENS = {
    "pm_card_visa": SUCCEEDS,
    "pm_card_mastercard": SUCCEEDS_MASTERCARD,
    "pm_card_chargeDeclined": DECLINED,
    "pm_card_chargeDeclinedInsufficientFunds": INSUFFICIENT_FUNDS,
    "pm_card_chargeDeclinedProcessingError": PROCESSING_ERROR,
}
DECLINES = {
    "generic_decline": ("generic_decline", "Your card was declined."),
    "insufficient_funds": ("insufficient_funds", "Your card has insufficient funds."),
}
TOKEN_TTL_SECONDS = 86400
_TOKEN_RE = re.compile(r"^pm_[A-Za-z0-9_]{1,60}\Z")
_PAYMENT_METHOD_PATH = re.compile(r"^/v1/payment_methods/(pm_[A-Za-z0-9_]+)$")
MAX_BODY = 64 * 1024
_CURRENCY_RE = re.compile(r"^[a-z]{3}$")
_INTENT_PATH = re.compile(r"^/v1/payment_intents/(pi_[A-Za-z0-9]+)$")
_REFUND_PATH = re.compile(r"^/v1/refunds/(re_[A-Za-z0-9]+)$")


class ApiError(Exception):
    """An answer in Stripe's error shape: `{"error": {"type", "code", "message", ...}}`."""

    def __init__(self, status: int, type_: str, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {
            "error": {"type": type_, "code": code, "message": message, **extra}
        }


def invalid(code: str, message: str, param: str | None = None) -> ApiError:
    extra = {"param": param} if param else {}
    return ApiError(400, "invalid_request_error", code, message, **extra)


@dataclass
class Stored:
    """An idempotent answer: what the request looked like and what we answered
    (`body` as compact JSON, see `Ledger`)."""

    fingerprint: str
    status: int
    body: bytes


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


class Ledger:
    """The provider's own storage: intents, charges, refunds and idempotent answers.

    This is the *external provider's* database, not ours: CoffeeShop keeps its own
    records in PostgreSQL and only ever talks to this over HTTP. It is an
    append-only JSON-lines journal, one line per executed request holding every
    object the request wrote (so a request is all-or-nothing on disk), flushed and
    fsynced before the answer is sent, and replayed at start-up, so intents, refunds
    and idempotency keys survive a restart like a real provider's would. A torn last
    line (the process died mid-write) belongs to a request that was never answered
    and is skipped.

    In memory each object and each stored answer is kept as its compact JSON (one
    copy where the answer is the object), read back into a fresh dict on every
    look-up, which also hands out copies. The journal of 131,000 bench charges took
    814 MiB as Python dicts and 12.7 s to load; this way 179 MiB and 3.6 s.
    """

    KINDS = ("payment_intent", "charge", "refund", "payment_method")
    KEY_LOCKS = 256

    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.path = data_dir / "journal.jsonl"
        self.lock = threading.Lock()
        self.objects: dict[str, dict[str, bytes]] = {kind: {} for kind in self.KINDS}
        self.idempotency: dict[str, Stored] = {}
        # A fixed set of locks, a key always mapped to the same one: two requests with
        # one key never run at once, and the set does not grow with every key seen.
        self._key_locks = [threading.Lock() for _ in range(self.KEY_LOCKS)]
        self._load()

    def _load(self) -> None:
        """Replay the journal line by line (never the whole file in memory at once)."""
        if not self.path.exists():
            return
        with self.path.open("r+b") as fh:
            kept = 0
            for number, line in enumerate(fh, 1):
                if not line.endswith(b"\n"):
                    # A torn last line: cut it off so the next append starts on a line
                    # of its own.
                    logger.warning("dropping a torn last journal line (%d bytes)", len(line))
                    fh.truncate(kept)
                    break
                kept += len(line)
                try:
                    record = json.loads(line)
                except ValueError:
                    logger.warning("skipping unreadable journal line %d", number)
                    continue
                self._apply(record)

    def _apply(self, record: dict[str, Any]) -> None:
        written: dict[bytes, bytes] = {}
        for kind in self.KINDS:
            for obj in record.get(kind, []):
                compact = _compact(obj)
                self.objects[kind][obj["id"]] = written[compact] = compact
        stored = record.get("idempotency")
        if stored:
            # The answer is most often the object just written: keep one copy of both.
            body = _compact(stored["body"])
            self.idempotency[stored["key"]] = Stored(
                stored["fingerprint"], stored["status"], written.get(body, body)
            )

    def commit(
        self, objects: dict[str, list[dict[str, Any]]], idempotency: dict[str, Any] | None
    ) -> None:
        """Write one request's objects (and its idempotent answer) durably, then apply them."""
        record: dict[str, Any] = {kind: objs for kind, objs in objects.items() if objs}
        if idempotency:
            record["idempotency"] = idempotency
        if not record:
            return
        line = json.dumps(record, separators=(",", ":"), sort_keys=True) + "\n"
        with self.lock:
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(line)
                fh.flush()
                os.fsync(fh.fileno())
            self._apply(record)

    def get(self, kind: str, obj_id: str) -> dict[str, Any] | None:
        with self.lock:
            obj = self.objects[kind].get(obj_id)
        return json.loads(obj) if obj is not None else None

    def list(self, kind: str) -> list[dict[str, Any]]:
        with self.lock:
            objs = list(self.objects[kind].values())
        return [json.loads(obj) for obj in objs]

    def stored(self, key: str) -> Stored | None:
        with self.lock:
            return self.idempotency.get(key)

    def key_lock(self, key: str) -> threading.Lock:
        """The lock of an idempotency key, so two requests with one key never both execute."""
        digest = hashlib.sha256(key.encode()).digest()
        return self._key_locks[int.from_bytes(digest[:4], "big") % self.KEY_LOCKS]


def _public_method(method: dict[str, Any]) -> dict[str, Any]:
    """A PaymentMethod as the API shows it (without the sandbox's bookkeeping)."""
    return {k: v for k, v in method.items() if k not in ("sandbox_outcome", "used_by")}


def _compact(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


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


def card_error(code: str, message: str, param: str) -> ApiError:
    """Stripe's answer to a card it can't take: 402 `card_error` naming the field."""
    return ApiError(402, "card_error", code, message, param=param)


def luhn_valid(number: str) -> bool:
    total = 0
    for index, ch in enumerate(reversed(number)):
        value = int(ch) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def card_brand(number: str) -> str:
    if number.startswith("4"):
        return "visa"
    if number[:2] in {"51", "52", "53", "54", "55"} or "2221" <= number[:4] <= "2720":
        return "mastercard"
    if number[:2] in {"34", "37"}:
        return "amex"
    return "unknown"


def _card_int(card: dict[str, Any], name: str, code: str, message: str) -> int:
    value = card.get(name)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        raise card_error(code, message, name)
    return value


def card_checked(card: Any, *, now: time.struct_time | None = None) -> dict[str, Any]:
    """The card's number, expiry and CVC checked as a provider checks them.

    Returns `{number, exp_month, exp_year, cvc}` clean; raises a 402 card_error naming
    the first bad field. No message repeats what was sent.
    """
    if not isinstance(card, dict):
        raise invalid("parameter_missing", "Missing required param: card.", "card")
    raw = card.get("number")
    number = "".join(raw.split()).replace("-", "") if isinstance(raw, str) else ""
    if not number.isdigit() or not 12 <= len(number) <= 19 or not luhn_valid(number):
        raise card_error("incorrect_number", "Your card number is incorrect.", "number")
    month = _card_int(
        card, "exp_month", "invalid_expiry_month", "Your card's expiration month is invalid."
    )
    if not 1 <= month <= 12:
        raise card_error(
            "invalid_expiry_month", "Your card's expiration month is invalid.", "exp_month"
        )
    year = _card_int(
        card, "exp_year", "invalid_expiry_year", "Your card's expiration year is invalid."
    )
    if 0 <= year < 100:
        year += 2000
    today = now or time.gmtime()
    if not today.tm_year <= year <= today.tm_year + 50:
        if year < today.tm_year:
            raise card_error("expired_card", "Your card has expired.", "exp_year")
        raise card_error(
            "invalid_expiry_year", "Your card's expiration year is invalid.", "exp_year"
        )
    if (year, month) < (today.tm_year, today.tm_mon):
        raise card_error("expired_card", "Your card has expired.", "exp_month")
    cvc = card.get("cvc")
    digits = 4 if card_brand(number) == "amex" else 3
    if not isinstance(cvc, str) or not cvc.isdigit() or len(cvc) != digits:
        raise card_error("invalid_cvc", "Your card's security code is invalid.", "cvc")
    return {"number": number, "exp_month": month, "exp_year": year, "cvc": cvc}


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
        """Run a POST, honouring the idempotency key. Returns (status, body, replayed)."""
        execute = {
            "/v1/payment_intents": self._create_intent,
            "/v1/refunds": self._refund,
            "/v1/payment_methods": self._tokenize,
        }.get(path)
        if execute is None:
            raise ApiError(
                404, "invalid_request_error", "resource_missing", f"Unrecognized URL: POST {path}"
            )
        validated = self._validate(path, body)
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

    def _validate(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        metadata = _metadata(body)
        if path == "/v1/payment_methods":
            kind = body.get("type", "card")
            if kind != "card":
                raise invalid("parameter_invalid", "type must be card.", "type")
            return {"card": card_checked(body.get("card")), "metadata": metadata}
        if path == "/v1/refunds":
            intent_id = body.get("payment_intent")
            if not isinstance(intent_id, str) or not intent_id:
                raise invalid("parameter_missing", "Missing required param: payment_intent.")
            return {
                "payment_intent": intent_id,
                "amount": _positive_int(body, "amount", required=False),
                "metadata": metadata,
            }
        amount = _positive_int(body, "amount")
        currency = body.get("currency")
        if not isinstance(currency, str) or not _CURRENCY_RE.match(currency.lower()):
            raise invalid("parameter_invalid", "currency must be a 3-letter ISO code", "currency")
        method = body.get("payment_method")
        if not isinstance(method, str) or not method:
            raise invalid(
                "parameter_missing", "Missing required param: payment_method.", "payment_method"
            )
        if not _TOKEN_RE.match(method):
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
        return Outcome(200, _public_method(method), {"payment_method": [method]})

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
            raise ApiError(
                404,
                "invalid_request_error",
                "resource_missing",
                f"No such payment_intent: '{req['payment_intent']}'",
                param="payment_intent",
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


class Handler(BaseHTTPRequestHandler):
    server: SandboxServer
    protocol_version = "HTTP/1.1"
    server_version = "CoffeeShopPaymentSandbox/1"
    # Headers and body go out in two writes; with Nagle's algorithm on, the body waits
    # for the client's delayed ACK of the headers: 40 ms added to every call.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        # One line per request, never a header (the API key travels in one).
        sys.stderr.write(
            json.dumps({"time": self.log_date_time_string(), "request": format % args}) + "\n"
        )

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_OPTIONS(self) -> None:
        """CORS preflight (Fetch standard): only tokenization, only from allowed origins."""
        path = urlsplit(self.path).path.rstrip("/")
        cors = self._cors_headers()
        if path != "/v1/payment_methods" or cors is None:
            self._send(403, {"error": {"type": "invalid_request_error", "code": "cors"}})
            return
        cors.update(
            {
                "Access-Control-Allow-Methods": "POST",
                "Access-Control-Allow-Headers": "Authorization, Content-Type",
                "Access-Control-Max-Age": "600",
            }
        )
        self._send(204, None, cors)

    def _cors_headers(self) -> dict[str, str] | None:
        """The CORS answer headers for an allowed `Origin`, else None (the browser then
        keeps the answer from the page)."""
        origin = self.headers.get("Origin", "")
        if not origin or origin.rstrip("/") not in self.server.app.allowed_origins:
            return None
        return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}

    def _handle(self, method: str) -> None:
        app = self.server.app
        parts = urlsplit(self.path)
        path = parts.path.rstrip("/") or "/"
        # Only tokenization is open to browsers (and so to the publishable key).
        tokenizing = method == "POST" and path == "/v1/payment_methods"
        cors = self._cors_headers() if tokenizing else None
        try:
            body = self._body() if method == "POST" else {}
            if path == "/healthz" and method == "GET":
                self._send(200, {"status": "ok"})
                return
            self._authenticate(publishable=tokenizing)
            if path == "/sandbox/config":
                self._send(200, app.configure(body) if method == "POST" else app.config())
                return
            if path == "/sandbox/stats" and method == "GET":
                self._send(200, dict(app.stats))
                return
            if not path.startswith("/v1/"):
                raise ApiError(
                    404, "invalid_request_error", "resource_missing", f"Unrecognized URL: {path}"
                )
            app.before_api_call(write=method == "POST")
            if method == "POST":
                key = self.headers.get("Idempotency-Key")
                status, answer, replayed = app.post(path, body, key)
                headers = dict(cors or {})
                if replayed:
                    headers["Idempotent-Replayed"] = "true"
                self._send(status, answer, headers)
                return
            self._send(200, self._read(path, parse_qsl(parts.query)))
        except ApiError as err:
            self._send(err.status, err.body, cors)
        except Exception:
            logger.exception("sandbox error on %s %s", method, path)
            self._send(500, {"error": {"type": "api_error", "code": "internal", "message": "?"}})

    def _read(self, path: str, query: list[tuple[str, str]]) -> dict[str, Any]:
        app = self.server.app
        listings = {
            "/v1/payment_intents": "payment_intent",
            "/v1/charges": "charge",
            "/v1/refunds": "refund",
        }
        if path in listings:
            return app.listing(listings[path], query)
        for pattern, kind in (
            (_INTENT_PATH, "payment_intent"),
            (_REFUND_PATH, "refund"),
            (_PAYMENT_METHOD_PATH, "payment_method"),
        ):
            match = pattern.match(path)
            if match:
                obj = app.ledger.get(kind, match.group(1))
                if obj is not None and kind == "payment_method":
                    obj = _public_method(obj)
                if obj is None:
                    raise ApiError(
                        404,
                        "invalid_request_error",
                        "resource_missing",
                        f"No such {kind}: '{match.group(1)}'",
                    )
                return obj
        raise ApiError(
            404, "invalid_request_error", "resource_missing", f"Unrecognized URL: {path}"
        )

    def _authenticate(self, *, publishable: bool = False) -> None:
        """The secret key, or (`publishable`: tokenization only) the publishable key."""
        app = self.server.app
        header = self.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        sent = token.strip().encode()
        ok = hmac.compare_digest(sent, app.api_key.encode())
        if publishable and app.publishable_key:
            ok = hmac.compare_digest(sent, app.publishable_key.encode()) or ok
        elif app.publishable_key and hmac.compare_digest(sent, app.publishable_key.encode()):
            raise ApiError(
                403,
                "invalid_request_error",
                "secret_key_required",
                "This API call cannot be made with a publishable API key.",
            )
        if scheme.lower() != "bearer" or not ok:
            raise ApiError(
                401,
                "invalid_request_error",
                "api_key_invalid",
                "Invalid API key provided (send Authorization: Bearer <key>).",
            )

    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise invalid("body_too_large", "Request body too large.")
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return {}
        try:
            data = json.loads(raw)
        except ValueError:
            raise invalid("body_invalid", "The body must be a JSON object.") from None
        if not isinstance(data, dict):
            raise invalid("body_invalid", "The body must be a JSON object.")
        return data

    def _send(
        self, status: int, body: dict[str, Any] | None, headers: dict[str, str] | None = None
    ) -> None:
        data = json.dumps(body).encode() if body is not None else b""
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (timeout, killed worker); what we did is in the journal.
            self.close_connection = True


class SandboxServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int, app: PaymentSandbox) -> None:
        self.app = app
        super().__init__((HOST, port), Handler)


def knobs_from_env(environ: dict[str, str] | os._Environ[str] = os.environ) -> Knobs:
    return Knobs(
        latency_ms=int(environ.get("SANDBOX_PAYMENTS_LATENCY_MS", "0")),
        failure_rate=float(environ.get("SANDBOX_PAYMENTS_FAILURE_RATE", "0")),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Stripe-like payment provider sandbox.")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data", type=Path, required=True, help="folder of the journal")
    parser.add_argument("--key-file", type=Path, required=True, help="file holding the API key")
    parser.add_argument(
        "--publishable-key-file",
        type=Path,
        help="file holding the publishable key (pk_…) browsers tokenize cards with",
    )
    parser.add_argument(
        "--allowed-origin",
        action="append",
        default=[],
        help="a browser origin allowed to tokenize cards (CORS), e.g. the BFF's; repeatable",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
    api_key = args.key_file.read_text().strip()
    publishable = args.publishable_key_file.read_text().strip() if args.publishable_key_file else ""
    app = PaymentSandbox(
        data_dir=args.data,
        api_key=api_key,
        knobs=knobs_from_env(),
        publishable_key=publishable,
        allowed_origins=args.allowed_origin,
        token_ttl=int(os.environ.get("SANDBOX_PAYMENTS_TOKEN_TTL_S", str(TOKEN_TTL_SECONDS))),
    )
    server = SandboxServer(args.port, app)

    def stop(*_: Any) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    counts = {kind: len(objs) for kind, objs in app.ledger.objects.items()}
    logger.info("payment sandbox listening on http://%s:%d (journal: %s)", HOST, args.port, counts)
    server.serve_forever()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
