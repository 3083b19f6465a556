"""The Order API fuzzed from its own OpenAPI document (schemathesis, in-process WSGI):
whatever a client sends, the answer is never a 5xx, and every 4xx is a problem document."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest
import schemathesis
from django.core.cache import cache
from hypothesis import HealthCheck, settings
from werkzeug.test import Client as WsgiClient

from order_site.config.wsgi import application
from order_site.menu.services import menu_seed
from order_site.users.authentication import _cache_key
from tests.openapi_fuzz import CONFIG, DEEP_ARRAY, DEEP_OBJECT, NON_ASCII, check_answer

TOKEN = f"fuzz-{uuid.uuid4().hex}"
AUTH = {
    "Authorization": f"Bearer {TOKEN}",
    "X-Acting-User": "5150",
    "X-Acting-Roles": "customer,barista,manager",
}


@pytest.fixture
def fuzz_auth(transactional_db: Any) -> None:
    menu_seed()
    # A token Identity would vouch for: a staff BFF client acting for a manager. Its
    # introspection answer sits in the real Redis cache, as after a first call.
    cache.set(
        _cache_key(TOKEN),
        {
            "active": True,
            "client_id": "bff-staff",
            "scope": "orders:read orders:write orders:staff orders:on-behalf-of",
            "exp": int(time.time()) + 3600,
        },
        3600,
    )


# Reading the document runs no query: drf-spectacular builds it from the code.
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application, config=CONFIG)


@schema.parametrize()
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_request_makes_the_api_fail_with_a_server_error(fuzz_auth: None, case: Any) -> None:
    response = case.call(headers={**(case.headers or {}), **AUTH})

    check_answer(response, f"{case.method} {case.formatted_path}")


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (DEEP_ARRAY, {"Idempotency-Key": "fuzz-deep"}),
        (DEEP_OBJECT, {"Idempotency-Key": "fuzz-deep-2"}),
        *[({"lines": []}, {"Idempotency-Key": key}) for key in NON_ASCII],
        ({"lines": []}, {"Idempotency-Key": "fuzz-1", "X-Acting-User": NON_ASCII[0]}),
        ({"lines": []}, {"Idempotency-Key": "fuzz-2", "X-Acting-Roles": NON_ASCII[1]}),
        ({"lines": []}, {"Idempotency-Key": "fuzz-3", "Authorization": f"Bearer {NON_ASCII[2]}"}),
    ],
)
def test_hostile_placements_are_4xx_problems_never_server_errors(
    fuzz_auth: None, body: Any, headers: dict[str, str]
) -> None:
    raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    client = WsgiClient(application, use_cookies=False)

    response = client.post(
        "/api/orders/", data=raw, headers={**AUTH, "Content-Type": "application/json", **headers}
    )

    assert response.status_code in (400, 401, 403), response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "application/problem+json"
