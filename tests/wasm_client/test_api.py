from __future__ import annotations

import asyncio
import json

import pytest
from coffeeshop_client.api import (
    ApiClient,
    ApiError,
    NetworkError,
    describe_error,
    parse_retry_after,
)

from tests.wasm_client.fakes import FakeBff, order_json, queue_json


def run(coro):
    return asyncio.run(coro)


def test_session_gives_the_csrf_token_that_unsafe_calls_then_send():
    bff = FakeBff()
    bff.on("POST", "/api/orders", (201, order_json()))
    api = ApiClient(bff)

    session = run(api.session())
    run(api.place_order([{"product_id": 1}], "pm_card_visa", "key-1"))

    assert session.user is not None
    assert session.user.roles == ("customer",)
    sent = bff.sent("POST", "/api/orders")[0]
    assert sent.headers["X-CSRF-Token"] == "csrf-123"
    assert sent.headers["Idempotency-Key"] == "key-1"
    assert json.loads(sent.body or "") == {
        "lines": [{"product_id": 1}],
        "payment_method": "pm_card_visa",
    }
    assert "X-CSRF-Token" not in bff.sent("GET", "/api/session")[0].headers


def test_503_names_the_service_that_is_down():
    bff = FakeBff()
    bff.on("GET", "/api/menu", (503, {"title": "Unavailable", "status": 503, "service": "order"}))

    with pytest.raises(ApiError) as caught:
        run(ApiClient(bff).menu())

    assert caught.value.service == "order"
    assert describe_error(caught.value) == (
        "The ordering service is unavailable right now. Please try again in a moment."
    )


def test_429_tells_when_to_retry():
    bff = FakeBff()
    bff.on(
        "GET",
        "/api/orders",
        (429, {"title": "Too many requests", "status": 429}, {"retry-after": "7"}),
    )

    with pytest.raises(ApiError) as caught:
        run(ApiClient(bff).orders())

    assert caught.value.retry_after == 7
    assert describe_error(caught.value) == "Too many requests. Try again in 7 seconds."


def test_a_failed_fetch_is_a_network_error():
    bff = FakeBff()
    bff.network_down = True

    with pytest.raises(NetworkError):
        run(ApiClient(bff).menu())
    assert describe_error(NetworkError("x")) == (
        "Can't reach the shop. Check your connection and try again."
    )


def test_validation_errors_name_the_fields():
    error = ApiError(400, "Invalid input", "Check the order", errors={"lines": ["Too many."]})

    assert describe_error(error) == "Check the order (lines: Too many.)"


def test_a_refused_cart_line_is_named_by_its_place_in_the_cart_not_the_field_path():
    error = ApiError(
        400,
        "Invalid input",
        "Some lines cannot be ordered.",
        errors={"lines[1].option_ids": ["Oat milk is sold out."]},
    )

    assert describe_error(error) == "Some lines cannot be ordered. (line 2: Oat milk is sold out.)"


def test_a_non_json_error_body_still_gives_an_error():
    bff = FakeBff()
    bff.on("GET", "/api/menu", lambda request: (502, None))

    with pytest.raises(ApiError) as caught:
        run(ApiClient(bff).menu())
    assert caught.value.status == 502


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("3", 3), ("2.5", 3), (None, None), ("Wed, 21 Oct 2026 07:28:00 GMT", 5)],
)
def test_retry_after_reads_seconds_or_falls_back(header, seconds):
    assert parse_retry_after(header) == seconds


def test_staff_calls_use_the_documented_paths():
    bff = FakeBff(roles=("barista",))
    bff.on("GET", "/api/staff/queue", (200, queue_json(order_json(status="placed"))))
    bff.on("POST", "/api/staff/orders/ord-0001/advance", (200, order_json(status="in_preparation")))
    api = ApiClient(bff)

    queue = run(api.queue())
    order = run(api.advance("ord-0001", "in_preparation"))

    counts, columns = queue
    assert counts == {"placed": 1, "in_preparation": 0, "ready": 0}
    assert [[o.status for o in c.orders] for c in columns] == [["placed"], [], []]
    assert order.status == "in_preparation"
    assert json.loads(bff.sent("POST", "/api/staff/orders/ord-0001/advance")[0].body or "") == {
        "to": "in_preparation"
    }
