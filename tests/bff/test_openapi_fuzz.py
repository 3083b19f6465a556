"""The BFF fuzzed in-process (schemathesis over WSGI) from the OpenAPI document it serves,
as a signed-in customer who is also a barista, with Identity and Order running for real
behind it. Whatever a client sends, no answer is a 5xx, and every 4xx is a problem document."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.contrib.sessions.backends.cache import SessionStore
from django.db import connections
from django.middleware.csrf import CSRF_SESSION_KEY, _get_new_csrf_string
from werkzeug.test import Client as WsgiClient

from bff_site.clients.http import identity_service, order_service
from bff_site.config.wsgi import application
from bff_site.sessions.services import TOKENS_KEY, USER_KEY
from devstack.stack import Stack
from tests.openapi_fuzz import (
    CONFIG,
    DEEP_ARRAY,
    DEEP_OBJECT,
    FUZZ_SETTINGS,
    NON_ASCII,
    check_answer,
)


@pytest.fixture
def browser(downstreams: Stack, settings: Any) -> dict[str, str]:
    """A signed-in session (customer and barista): its cookie and CSRF token headers."""
    # Requests here go through Django's real WSGI handler, whose request_started signal
    # checks any database connection an earlier test of the session left open; these
    # tests may not use the database (the BFF's sessions live in Redis), so close it.
    connections.close_all()
    settings.RATE_LIMITS = {
        "session": {"limit": 100_000, "window": 60},
        "address": {"limit": 100_000, "window": 60},
    }
    order_service.cache_clear()
    identity_service.cache_clear()
    for service in (order_service(), identity_service()):
        assert service.breaker is not None
        service.breaker.reset()
    session = SessionStore()
    session[USER_KEY] = {
        "id": "5150",
        "email": "fuzz@coffeeshop.test",
        "name": "Fuzz",
        "roles": ["customer", "barista"],
    }
    session[TOKENS_KEY] = {
        "access_token": "a",
        "refresh_token": "r",
        "id_token": "i",
        "expires_at": time.time() + 3600,
    }
    csrf = _get_new_csrf_string()
    session[CSRF_SESSION_KEY] = csrf
    session.save()
    return {
        "Cookie": f"{django_settings.SESSION_COOKIE_NAME}={session.session_key}",
        "X-CSRF-Token": csrf,
    }


schema = schemathesis.openapi.from_wsgi("/api/schema/", application, config=CONFIG).exclude(
    path="/api/events"  # a server-sent event stream: it never ends
)


@schema.parametrize()
@FUZZ_SETTINGS
def test_no_request_makes_the_bff_fail_with_a_server_error(
    browser: dict[str, str], case: Any
) -> None:
    # The session and CSRF token are the browser's; everything else is generated.
    name, _, key = browser["Cookie"].partition("=")
    response = case.call(
        headers={**(case.headers or {}), "X-CSRF-Token": browser["X-CSRF-Token"]},
        cookies={name: key},
    )

    check_answer(response, f"{case.method} {case.formatted_path}")


def send(browser: dict[str, str], method: str, path: str, body: bytes = b"", **headers: str) -> Any:
    """A raw request through the WSGI app (bytes a schemathesis case cannot carry)."""
    client = WsgiClient(application, use_cookies=False)  # the Cookie header goes as given
    response = client.open(
        path,
        method=method,
        data=body,
        headers={**browser, "Content-Type": "application/json", **headers},
    )

    class Answer:  # the shape check_answer reads
        status_code = response.status_code
        text = response.get_data(as_text=True)

        @staticmethod
        def text_lossy() -> str:
            return response.get_data().decode(errors="replace")

        headers = {name.lower(): [value] for name, value in response.headers.items()}

        @staticmethod
        def json() -> Any:
            return json.loads(response.get_data())

    return Answer()


LINE = json.dumps({"lines": [{"product_id": 1, "quantity": 1}]}).encode()


def plain_line(menu: dict[str, Any]) -> dict[str, Any]:
    """A line of the first product that needs no option: with its first variation, if any."""
    for category in menu["categories"]:
        for product in category["products"]:
            if any(group["min_selections"] for group in product["option_groups"]):
                continue
            line = {"product_id": product["id"], "quantity": 1}
            if product["variations"]:
                line["variation_id"] = product["variations"][0]["id"]
            return line
    raise AssertionError("the seeded menu has no product without required options")


def test_the_fuzzing_browser_is_signed_in_and_reaches_order(browser: dict[str, str]) -> None:
    session = send(browser, "GET", "/api/session")
    line = plain_line(send(browser, "GET", "/api/menu").json())
    priced = send(browser, "POST", "/api/cart/price", json.dumps({"lines": [line]}).encode())
    queue = send(browser, "GET", "/api/staff/queue")

    assert session.json()["authenticated"] is True
    assert (priced.status_code, queue.status_code) == (200, 200)


@pytest.mark.parametrize(
    ("method", "path", "body", "headers"),
    [
        ("POST", "/api/cart/price", DEEP_ARRAY.encode(), {}),
        ("POST", "/api/cart/price", DEEP_OBJECT.encode(), {}),
        ("POST", "/api/orders", DEEP_ARRAY.encode(), {"Idempotency-Key": "fuzz-deep"}),
        ("POST", "/api/orders", DEEP_OBJECT.encode(), {"Idempotency-Key": "fuzz-deep-2"}),
        ("POST", "/api/staff/orders/1/advance", DEEP_ARRAY.encode(), {}),
        ("POST", "/api/cart/price", b"x" * 2_700_000, {}),
        ("POST", "/api/cart/price", b'{"lines": "\xff"}', {}),
        *[("POST", "/api/orders", LINE, {"Idempotency-Key": key}) for key in NON_ASCII],
        ("POST", "/api/orders", LINE, {"Idempotency-Key": "k" * 10_000}),
        ("POST", "/api/orders", LINE, {"Idempotency-Key": "fuzz-ok", "X-CSRF-Token": "\u00ff"}),
        ("GET", "/api/menu", b"", {"Accept-Language": NON_ASCII[0]}),
        ("GET", "/api/orders", b"", {"Authorization": f"Bearer {NON_ASCII[1]}"}),
        ("GET", "/api/session", b"", {"X-Forwarded-For": NON_ASCII[2]}),
        ("GET", "/api/session", b"", {"Cookie": "__Host-coffeeshop-session=\u00e9\u00e9"}),
        ("GET", "/api/orders/%ff%fe", b"", {}),
        ("GET", "/api/orders/1?x=%zz%ff&%00=1", b"", {}),
        ("GET", "/api/%00", b"", {}),
        ("DELETE", "/api/orders", b"", {}),
    ],
)
def test_hostile_requests_are_4xx_problems_never_server_errors(
    browser: dict[str, str], method: str, path: str, body: bytes, headers: dict[str, str]
) -> None:
    check_answer(send(browser, method, path, body, **headers), f"{method} {path}")


def test_the_profile_of_a_session_whose_token_identity_refuses_is_401_sign_in_again(
    browser: dict[str, str],
) -> None:
    # The session's access token ("a") is not one Identity issued, as after a revocation.
    answer = send(browser, "GET", "/api/profile")

    assert answer.status_code == 401
    assert answer.json()["detail"] == "Your sign-in has ended. Sign in again to continue."
