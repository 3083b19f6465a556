"""The Order API fuzzed from its own OpenAPI document (schemathesis, in-process WSGI):
whatever a client sends, the answer is never a 5xx."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
import schemathesis
from django.core.cache import cache
from hypothesis import HealthCheck, settings

from order_site.config.wsgi import application
from order_site.menu.services import menu_seed
from order_site.users.authentication import _cache_key

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
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)


@schema.parametrize()
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_request_makes_the_api_fail_with_a_server_error(fuzz_auth: None, case: Any) -> None:
    response = case.call(headers={**(case.headers or {}), **AUTH})

    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text}"
