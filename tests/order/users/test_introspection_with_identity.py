"""Bearer tokens from a real Identity, introspected by Order (DESIGN.md auth flows 2 and 3).

Identity runs under gunicorn (the `identity` fixture in conftest.py); Order's API runs
in-process and introspects as `order-service` with the secret from its own Vault secrets.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from order_site.orders.models import Order
from order_site.users.authentication import _cache_key
from tests.order.conftest import donut_line

pytestmark = pytest.mark.django_db


def client_token(test_stack: Any, spec: dict[str, Any], scope: str) -> dict[str, Any]:
    """A client_credentials grant at Identity's token endpoint (RFC 6749 section 4.4)."""
    response = httpx.post(
        f"http://127.0.0.1:{test_stack.ports['identity']}/o/token/",
        data={"grant_type": "client_credentials", "scope": scope},
        auth=(spec["client_id"], spec["secret"]),
        timeout=10,
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def call(token: str, method: str, path: str, **extra: Any) -> Any:
    client = APIClient()
    return getattr(client, method)(path, HTTP_AUTHORIZATION=f"Bearer {token}", **extra)


def test_bff_customer_token_places_an_order_for_the_acting_user(menu, identity, test_stack):
    grant = client_token(
        test_stack, identity["bff-customer"], "orders:read orders:write orders:on-behalf-of"
    )

    response = call(
        grant["access_token"],
        "post",
        "/api/orders/",
        data={"payment_method": "pm_card_visa", "lines": [donut_line(1)]},
        format="json",
        HTTP_X_ACTING_USER="8080",
        HTTP_X_ACTING_ROLES="customer",
        HTTP_IDEMPOTENCY_KEY="real-identity-1",
    )

    assert response.status_code == 201
    assert Order.objects.get().customer_id == 8080
    cached_for = cache.ttl(_cache_key(grant["access_token"]))
    assert 0 < cached_for <= grant["expires_in"]


def test_customer_client_cannot_make_its_user_a_barista(menu, identity, test_stack):
    grant = client_token(
        test_stack, identity["bff-customer"], "orders:read orders:write orders:on-behalf-of"
    )

    response = call(
        grant["access_token"],
        "get",
        "/api/orders/queue/",
        HTTP_X_ACTING_USER="8080",
        HTTP_X_ACTING_ROLES="barista,manager",
    )

    assert response.status_code == 403


def test_staff_client_reads_the_queue_for_a_barista(menu, identity, test_stack):
    grant = client_token(
        test_stack,
        identity["bff-staff"],
        "orders:read orders:write orders:on-behalf-of orders:staff",
    )

    response = call(
        grant["access_token"],
        "get",
        "/api/orders/queue/",
        HTTP_X_ACTING_USER="2",
        HTTP_X_ACTING_ROLES="barista",
    )

    assert response.status_code == 200
    assert response.json()["counts"] == {"placed": 0, "in_preparation": 0, "ready": 0}


def test_client_without_on_behalf_of_cannot_name_a_user(menu, identity, test_stack):
    grant = client_token(test_stack, identity["order-service"], "introspection")

    response = call(grant["access_token"], "get", "/api/orders/", HTTP_X_ACTING_USER="8080")

    assert response.status_code == 403


def test_unknown_token_is_401_and_nothing_is_written(menu, identity):
    response = call(
        f"not-a-token-{time.time()}",
        "post",
        "/api/orders/",
        data={"payment_method": "pm_card_visa", "lines": [donut_line(1)]},
        format="json",
        HTTP_X_ACTING_USER="8080",
        HTTP_IDEMPOTENCY_KEY="real-identity-2",
    )

    assert response.status_code == 401
    assert Order.objects.count() == 0
