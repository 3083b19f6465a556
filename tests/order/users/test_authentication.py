"""Who is calling: bearer tokens introspected at Identity, acting-user headers only for
clients holding `orders:on-behalf-of` (DESIGN.md auth flow 2)."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from django.core.cache import cache
from rest_framework import exceptions
from rest_framework.test import APIClient

from order_site.orders.models import Order
from order_site.users import authentication
from order_site.users.authentication import _cache_key, introspect, principal_from_introspection
from order_site.users.principals import Principal
from tests.order.conftest import donut_line

pytestmark = pytest.mark.django_db


def answer(**fields: Any) -> dict[str, Any]:
    return {"active": True, "exp": int(time.time()) + 600, "client_id": "bff-customer", **fields}


def test_token_of_a_user_acts_as_that_user_with_its_roles():
    principal = principal_from_introspection(
        answer(sub="7", roles=["barista"], scope="orders:read"), {}
    )

    assert principal == Principal(
        7, frozenset({"barista"}), "bff-customer", frozenset({"orders:read"})
    )


def test_on_behalf_client_states_the_acting_user_and_roles():
    principal = principal_from_introspection(
        answer(scope="orders:on-behalf-of orders:staff", client_id="bff-staff"),
        {"X-Acting-User": "12", "X-Acting-Roles": "barista, manager, wizard"},
    )

    assert (principal.user_id, principal.roles, principal.on_behalf) == (
        12,
        frozenset({"barista", "manager"}),
        True,
    )


def test_customer_facing_client_cannot_state_staff_roles():
    principal = principal_from_introspection(
        answer(scope="orders:on-behalf-of"),
        {"X-Acting-User": "12", "X-Acting-Roles": "customer,manager"},
    )

    assert principal.roles == frozenset({"customer"})


def test_acting_user_header_without_the_scope_is_403():
    with pytest.raises(exceptions.PermissionDenied, match="may not act on behalf"):
        principal_from_introspection(answer(sub="7", scope="orders:read"), {"X-Acting-User": "12"})


@pytest.mark.parametrize("header", ["abc", "0", "-4", ""])
def test_malformed_acting_user_is_403(header):
    with pytest.raises(exceptions.PermissionDenied):
        principal_from_introspection(answer(scope="orders:on-behalf-of"), {"X-Acting-User": header})


def test_client_token_without_a_user_is_403():
    with pytest.raises(exceptions.PermissionDenied, match="names no user"):
        principal_from_introspection(answer(scope="orders:read"), {})


@pytest.mark.parametrize("inactive", [{"active": False}, answer(sub="7", exp=int(time.time()) - 1)])
def test_inactive_or_expired_token_is_401(inactive):
    with pytest.raises(exceptions.AuthenticationFailed):
        principal_from_introspection(inactive, {})


def test_cached_introspection_answer_authenticates_an_api_call(menu):
    token = uuid.uuid4().hex
    cache.set(_cache_key(token), answer(scope="orders:on-behalf-of orders:write"), 60)
    client = APIClient()

    response = client.post(
        "/api/orders/",
        {"payment_method": "pm_card_visa", "lines": [donut_line(1)]},
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
        HTTP_X_ACTING_USER="4242",
        HTTP_X_ACTING_ROLES="customer",
        HTTP_IDEMPOTENCY_KEY="auth-1",
    )

    assert response.status_code == 201
    assert Order.objects.get().customer_id == 4242


def test_identity_unreachable_means_503_naming_identity_and_nothing_written(menu, settings):
    settings.IDENTITY_URL = "http://127.0.0.1:9"  # discard port: nothing listens
    client = APIClient()

    response = client.post(
        "/api/orders/",
        {"payment_method": "pm_card_visa", "lines": [donut_line(1)]},
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {uuid.uuid4().hex}",
        HTTP_IDEMPOTENCY_KEY="auth-2",
    )

    # The token may be good: "try again later", not "sign in again".
    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["downstream"] == "identity"
    assert Order.objects.count() == 0


def test_introspection_answers_are_cached_no_longer_than_the_token_lives():
    token = uuid.uuid4().hex
    cache.set(_cache_key(token), answer(sub="5", exp=int(time.time()) + 30), 30)

    assert introspect(token)["sub"] == "5"
    assert 0 < cache.ttl(_cache_key(token)) <= 30


def test_an_active_answer_is_believed_in_process_for_a_few_seconds_only(monkeypatch):
    token = uuid.uuid4().hex
    cache.set(_cache_key(token), answer(sub="5"), 60)
    first = introspect(token)
    cache.set(_cache_key(token), answer(sub="6"), 60)  # Redis now says otherwise

    within = introspect(token)
    now = time.monotonic()
    monkeypatch.setattr(
        authentication.time, "monotonic", lambda: now + authentication.LOCAL_CACHE_SECONDS
    )
    after = introspect(token)

    assert (first["sub"], within["sub"], after["sub"]) == ("5", "5", "6")


def test_an_inactive_answer_is_not_kept_in_process():
    token = uuid.uuid4().hex
    cache.set(_cache_key(token), {"active": False}, 5)
    first = introspect(token)
    cache.set(_cache_key(token), answer(sub="5"), 60)

    second = introspect(token)

    assert (first["active"], second["active"]) == (False, True)


def test_the_in_process_copy_never_outlives_the_token():
    token = uuid.uuid4().hex
    cache.set(_cache_key(token), answer(sub="5", exp=int(time.time()) + 1), 60)
    introspect(token)
    cache.set(_cache_key(token), {"active": False}, 5)

    time.sleep(1.1)

    assert introspect(token) == {"active": False}


def test_missing_token_is_401_with_a_bearer_challenge(menu):
    response = APIClient().get("/api/orders/")

    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
