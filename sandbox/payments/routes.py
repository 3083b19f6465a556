"""The sandbox's HTTP API as one table: method and path → handler, and who may call it.

The server (`server.py`) finds the route, checks the key the route asks for, counts
`/v1` calls (and applies the fault knobs to `/v1` POSTs), then calls the handler with
the parsed request; a handler answers a `Reply` or raises an `ApiError`.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sandbox.payments.errors import ApiError, not_found
from sandbox.payments.rules import PaymentSandbox


class Access(enum.Enum):
    """Which key a route asks for."""

    OPEN = enum.auto()  # none
    SECRET = enum.auto()  # the secret key (`sk_…`)
    # The secret or the publishable key, and from a browser on an allowed origin (CORS):
    # only tokenization, as Stripe.js does it.
    BROWSER = enum.auto()


@dataclass(frozen=True)
class Request:
    path: str
    body: dict[str, Any]
    query: list[tuple[str, str]]
    idempotency_key: str | None
    obj_id: str = ""  # the `{id}` of the path, for routes that have one


@dataclass(frozen=True)
class Reply:
    status: int
    body: dict[str, Any] | None
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[PaymentSandbox, Request], Reply]


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # literal, or with one `{id}` matching `id_pattern`
    handler: Handler
    access: Access = Access.SECRET
    id_pattern: str = ""
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        head, placeholder, tail = self.path.partition("{id}")
        regex = re.escape(head) + (f"({self.id_pattern})" if placeholder else "")
        object.__setattr__(self, "pattern", re.compile(regex + re.escape(tail)))


def health(app: PaymentSandbox, request: Request) -> Reply:
    return Reply(200, {"status": "ok"})


def config_read(app: PaymentSandbox, request: Request) -> Reply:
    return Reply(200, app.config())


def config_write(app: PaymentSandbox, request: Request) -> Reply:
    return Reply(200, app.configure(request.body))


def stats(app: PaymentSandbox, request: Request) -> Reply:
    return Reply(200, dict(app.stats))


def write(app: PaymentSandbox, request: Request) -> Reply:
    """A POST that stores or moves money, idempotent by `Idempotency-Key`."""
    status, answer, replayed = app.post(request.path, request.body, request.idempotency_key)
    return Reply(status, answer, {"Idempotent-Replayed": "true"} if replayed else {})


def listing(kind: str) -> Handler:
    def handler(app: PaymentSandbox, request: Request) -> Reply:
        return Reply(200, app.listing(kind, request.query))

    return handler


def one(kind: str) -> Handler:
    def handler(app: PaymentSandbox, request: Request) -> Reply:
        return Reply(200, app.read(kind, request.obj_id))

    return handler


ROUTES = (
    Route("GET", "/healthz", health, Access.OPEN),
    Route("GET", "/sandbox/config", config_read),
    Route("POST", "/sandbox/config", config_write),
    Route("GET", "/sandbox/stats", stats),
    Route("POST", "/v1/payment_methods", write, Access.BROWSER),
    Route("GET", "/v1/payment_methods/{id}", one("payment_method"), id_pattern=r"pm_[A-Za-z0-9_]+"),
    Route("POST", "/v1/payment_intents", write),
    Route("GET", "/v1/payment_intents", listing("payment_intent")),
    Route("GET", "/v1/payment_intents/{id}", one("payment_intent"), id_pattern=r"pi_[A-Za-z0-9]+"),
    Route("GET", "/v1/charges", listing("charge")),
    Route("POST", "/v1/refunds", write),
    Route("GET", "/v1/refunds", listing("refund")),
    Route("GET", "/v1/refunds/{id}", one("refund"), id_pattern=r"re_[A-Za-z0-9]+"),
)


def find_route(method: str, path: str) -> tuple[Route, str] | None:
    """The route of a request and the `{id}` in its path, or None."""
    for route in ROUTES:
        if route.method == method:
            match = route.pattern.fullmatch(path)
            if match:
                return route, match.group(1) if route.id_pattern else ""
    return None


def browser_path(path: str) -> bool:
    """Whether a path has a route browsers may call (a CORS preflight may pass)."""
    return any(r.access is Access.BROWSER and r.pattern.fullmatch(path) for r in ROUTES)


def unrecognized(method: str, path: str) -> ApiError:
    """Stripe's answer to a URL no route has (a POST to `/v1` names its method)."""
    if method == "POST" and path.startswith("/v1/"):
        return not_found(f"Unrecognized URL: POST {path}")
    return not_found(f"Unrecognized URL: {path}")
