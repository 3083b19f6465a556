"""Malformed bodies to Order's API: a 4xx problem document naming the fault, nothing written.

DRF reads the body with shared/request_input.py's parser (REST_FRAMEWORK's
DEFAULT_PARSER_CLASSES), so every DRF view in Order and Identity refuses the same way.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from order_site.orders.models import Order, OrderLine, OrderStatusChange
from order_site.outbox.models import OutboxEvent
from shared.problems import TYPE_BASE
from tests.order.conftest import donut_line

pytestmark = pytest.mark.django_db


def place(client: Any, body: bytes, content_type: str = "application/json") -> Any:
    return client.post(
        "/api/orders/", body, content_type=content_type, HTTP_IDEMPOTENCY_KEY="bad-input-1"
    )


def nothing_written() -> tuple[int, int, int, int]:
    return (
        Order.objects.count(),
        OrderLine.objects.count(),
        OrderStatusChange.objects.count(),
        OutboxEvent.objects.count(),
    )


def malformed(detail: str, error: str) -> dict[str, Any]:
    return {
        "type": TYPE_BASE + "malformed-body",
        "title": "Malformed request",
        "status": 400,
        "detail": detail,
        "errors": {"body": [error]},
    }


def test_a_5000_deep_body_is_400_naming_the_depth_not_a_server_error(menu, client_for, customer):
    response = place(client_for(customer), b"[" * 5000 + b"]" * 5000)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json() == malformed(
        "The body is nested deeper than 32 levels.", "Nested deeper than 32 levels."
    )
    assert nothing_written() == (0, 0, 0, 0)


def test_a_deep_value_inside_a_valid_order_is_refused_before_validation(menu, client_for, customer):
    deep: Any = 1
    for _ in range(40):
        deep = {"x": deep}
    body = json.dumps({"lines": [{**donut_line(1), "option_ids": [deep]}]}).encode()

    response = place(client_for(customer), body)

    assert response.status_code == 400
    assert response.json()["detail"] == "The body is nested deeper than 32 levels."
    assert nothing_written() == (0, 0, 0, 0)


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b'{"lines": "\xff"}', "The body is not UTF-8 (invalid byte at position 11)."),
        (b'{"lines": NaN}', "The body is not valid JSON: NaN is not a JSON number."),
        (b'{"lines": 1e999}', "The body is not valid JSON: 1e999 is out of range."),
        (
            b'{"lines": ' + b"9" * 5000 + b"}",
            "The body is not valid JSON: Exceeds the limit (4300 digits) for integer "
            "string conversion.",
        ),
    ],
)
def test_a_body_that_is_not_json_is_400_saying_why(menu, client_for, customer, body, detail):
    response = place(client_for(customer), body)

    assert response.status_code == 400
    assert response.json()["detail"] == detail
    assert nothing_written() == (0, 0, 0, 0)


def test_an_unpaired_surrogate_escape_is_refused_before_the_database_sees_it(
    menu, client_for, customer
):
    body = json.dumps({"lines": [donut_line(1)], "payment_method": "\ud800"}).encode()

    response = place(client_for(customer), body)

    assert response.status_code == 400
    assert response.json() == malformed(
        "The body has a \\u escape of an unpaired UTF-16 surrogate.",
        "Unpaired surrogate in a string.",
    )
    assert nothing_written() == (0, 0, 0, 0)


def test_a_body_over_the_upload_limit_is_413_naming_the_limit(menu, client_for, customer, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"lines": [donut_line(1)], "note": "x" * 1000}).encode()

    response = place(client_for(customer), body)

    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"
    assert response.json() == {
        "type": TYPE_BASE + "body-too-large",
        "title": "Request body too large",
        "status": 413,
        "detail": "The request body is larger than 1000 bytes.",
        "limit": 1000,
    }
    assert nothing_written() == (0, 0, 0, 0)


def test_json_in_another_charset_is_415(menu, client_for, customer):
    body = json.dumps({"lines": [donut_line(1)]}).encode("utf-16")

    response = place(client_for(customer), body, "application/json; charset=utf-16")

    assert response.status_code == 415
    assert response.json()["detail"] == "JSON must be UTF-8, not utf-16."
    assert response.json()["errors"] == {"Content-Type": ["Use charset=utf-8 or none."]}
    assert nothing_written() == (0, 0, 0, 0)


def test_the_default_upload_limit_is_2_5_mib(settings):
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE == 2_621_440
