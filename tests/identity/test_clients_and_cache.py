"""Provisioned clients, hashed secrets, the users API and the introspection cache."""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from oauth2_provider.models import AccessToken, Application

from identity_site.oauth.cache import PREFIX, token_checksum
from identity_site.oauth.hashers import ClientSecretHasher
from identity_site.oauth.models import ClientPolicy
from identity_site.oauth.validators import client_cache
from tests.identity.conftest import SERVICE_SECRET

pytestmark = pytest.mark.django_db

SPECS = [
    {
        "client_id": "bff-web",
        "name": "CoffeeShop web (BFF)",
        "grant_type": "authorization-code",
        "secret": "s-web-" + "a" * 40,
        "allowed_scopes": ["openid", "profile", "email", "roles"],
        "redirect_uris": ["http://127.0.0.1:8000/auth/callback"],
        "post_logout_redirect_uris": ["http://127.0.0.1:8000/"],
    },
    {
        "client_id": "bff-staff",
        "name": "BFF for staff",
        "grant_type": "client-credentials",
        "secret": "s-staff-" + "b" * 40,
        "allowed_scopes": ["orders:read", "orders:write", "orders:on-behalf-of", "orders:staff"],
    },
]


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def ensure(specs: Any) -> str:
    out = io.StringIO()
    call_command("ensure_oauth_clients", stdin=io.StringIO(json.dumps(specs)), stdout=out)
    return out.getvalue()


def test_ensure_oauth_clients_creates_clients_from_stdin_with_hashed_secrets(db: Any) -> None:
    output = ensure(SPECS)

    web = Application.objects.get(client_id="bff-web")
    staff = Application.objects.get(client_id="bff-staff")
    assert output.splitlines() == [
        "ensured bff-web (authorization-code)",
        "ensured bff-staff (client-credentials)",
    ]
    assert web.client_secret.startswith("coffeeshop_client_secret$")
    assert "a" * 40 not in web.client_secret
    assert web.redirect_uris == "http://127.0.0.1:8000/auth/callback"
    assert web.algorithm == "RS256"
    assert web.skip_authorization is True
    assert ClientPolicy.objects.get(application=staff).allowed_scopes == [
        "orders:on-behalf-of",
        "orders:read",
        "orders:staff",
        "orders:write",
    ]


def test_ensure_oauth_clients_twice_changes_nothing(db: Any) -> None:
    ensure(SPECS)
    before = list(Application.objects.order_by("pk").values())

    ensure(SPECS)

    assert list(Application.objects.order_by("pk").values()) == before


def test_ensure_oauth_clients_updates_a_changed_secret_and_scopes(client: Client) -> None:
    ensure(SPECS)
    changed = [{**SPECS[1], "secret": "new-" + "c" * 40, "allowed_scopes": ["orders:read"]}]

    ensure(changed)

    old = client.post(
        "/o/token/",
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=basic("bff-staff", SPECS[1]["secret"]),  # type: ignore[arg-type]
    )
    new = client.post(
        "/o/token/",
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=basic("bff-staff", "new-" + "c" * 40),
    )
    assert old.status_code == 401
    assert new.status_code == 200
    assert new.json()["scope"] == "orders:read"


@pytest.mark.parametrize(
    "specs",
    [
        [{**SPECS[1], "grant_type": "password"}],
        [{**SPECS[1], "secret": ""}],
        [{**SPECS[0], "redirect_uris": []}],
        [{**SPECS[1], "colour": "blue"}],
        {"client_id": "not-a-list"},
    ],
)
def test_ensure_oauth_clients_refuses_a_bad_spec_and_creates_nothing(db: Any, specs: Any) -> None:
    with pytest.raises(CommandError):
        ensure(specs)

    assert Application.objects.count() == 0


def test_client_secret_hasher_verifies_only_the_right_secret() -> None:
    hasher = ClientSecretHasher()
    encoded = hasher.encode("the-secret", hasher.salt())

    assert hasher.verify("the-secret", encoded) is True
    assert hasher.verify("the-secreT", encoded) is False
    assert encoded != hasher.encode("the-secret", hasher.salt())


def service_token(client: Client, scope: str = "") -> str:
    data = {"grant_type": "client_credentials"}
    if scope:
        data["scope"] = scope
    response = client.post(
        "/o/token/", data, HTTP_AUTHORIZATION=basic("order-service", SERVICE_SECRET)
    )
    assert response.status_code == 200, response.content
    return str(response.json()["access_token"])


def test_users_api_answers_contact_data_for_users_read(
    client: Client, service_client: Any, manager: Any
) -> None:
    token = service_token(client, "users:read")

    response = client.get(f"/api/users/{manager.pk}", HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 200
    assert response.json() == {
        "id": manager.pk,
        "email": "maya@coffeeshop.test",
        "full_name": "Maya",
        "role": "manager",
        "roles": ["manager", "barista"],
        "is_active": True,
    }


def test_users_api_refuses_a_token_without_users_read(
    client: Client, service_client: Any, manager: Any
) -> None:
    token = service_token(client, "introspection")

    response = client.get(f"/api/users/{manager.pk}", HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"


def test_users_api_without_a_token_is_401_and_unknown_user_404(
    client: Client, service_client: Any
) -> None:
    token = service_token(client)

    anonymous = client.get("/api/users/1")
    missing = client.get("/api/users/999999", HTTP_AUTHORIZATION=f"Bearer {token}")

    assert anonymous.status_code == 401
    assert missing.status_code == 404
    assert missing.json()["detail"] == "No user 999999."


def test_users_api_is_described_in_the_openapi_document(client: Client) -> None:
    schema = client.get("/api/schema/?format=json").json()

    assert "/api/users/{user_id}" in schema["paths"]


def introspect(client: Client, token: str) -> dict[str, Any]:
    response = client.post(
        "/o/introspect/",
        {"token": token},
        HTTP_AUTHORIZATION=basic("order-service", SERVICE_SECRET),
    )
    return dict(response.json())


def test_introspection_answer_is_cached_no_longer_than_the_token_lives(
    client: Client, service_client: Any
) -> None:
    token = service_token(client)

    first = introspect(client, token)

    key = PREFIX + token_checksum(token)
    assert cache.get(key) == first
    assert 0 < cache.ttl(key) <= 300  # type: ignore[attr-defined]


def test_cached_answer_is_served_without_the_database_row(
    client: Client, service_client: Any
) -> None:
    token = service_token(client)
    first = introspect(client, token)
    checksum = token_checksum(token)
    # Change the row behind the cache's back (no delete, so no eviction).
    AccessToken.objects.filter(token_checksum=checksum).update(scope="changed")

    second = introspect(client, token)

    assert second == first
    assert second["scope"] == "introspection users:read"


def test_revocation_evicts_the_cached_answer_at_once(client: Client, service_client: Any) -> None:
    token = service_token(client)
    introspect(client, token)

    revoke = client.post(
        "/o/revoke_token/",
        {"token": token},
        HTTP_AUTHORIZATION=basic("order-service", SERVICE_SECRET),
    )

    assert revoke.status_code == 200
    assert cache.get(PREFIX + token_checksum(token)) is None
    assert introspect(client, token) == {"active": False}


def test_introspection_by_get_is_not_allowed(client: Client, service_client: Any) -> None:
    token = service_token(client)

    response = client.get(
        "/o/introspect/",
        {"token": token},
        HTTP_AUTHORIZATION=basic("order-service", SERVICE_SECRET),
    )

    assert response.status_code == 405


def test_client_rows_are_cached_per_process_but_the_secret_is_still_checked(
    client: Client, service_client: Any, settings: Any
) -> None:
    settings.CLIENT_CACHE_SECONDS = 30
    client_cache.clear()
    token = service_token(client)  # loads and caches the row

    with CaptureQueriesContext(connection) as queries:
        answer = introspect(client, token)
    wrong = client.post(
        "/o/introspect/",
        {"token": token},
        HTTP_AUTHORIZATION=basic("order-service", "not-the-secret"),
    )
    client_cache.clear()

    assert answer["active"] is True
    assert not any("oauth2_provider_application" in q["sql"] for q in queries.captured_queries)
    assert wrong.status_code in (401, 403)


def test_token_endpoint_reads_the_new_token_back_only_for_app_authorized_listeners(
    client: Client, service_client: Any
) -> None:
    """The issued token is not read back from the database when nobody listens to the
    library's `app_authorized`; a listener still gets it."""
    from oauth2_provider.signals import app_authorized

    with CaptureQueriesContext(connection) as queries:
        service_token(client)
    read_back = [
        q
        for q in queries
        if q["sql"].lstrip().upper().startswith("SELECT")
        and "oauth2_provider_accesstoken" in q["sql"]
    ]
    assert not read_back

    received: list[Any] = []

    def listener(sender: Any, request: Any, token: Any, **kwargs: Any) -> None:
        received.append(token)

    app_authorized.connect(listener)
    try:
        token = service_token(client)
    finally:
        app_authorized.disconnect(listener)
    assert [t.token_checksum for t in received] == [token_checksum(token)]


def test_first_introspection_answers_from_one_row(client: Client, service_client: Any) -> None:
    token = service_token(client)
    row = AccessToken.objects.get(token_checksum=token_checksum(token))

    answer = introspect(client, token)

    assert answer == {
        "active": True,
        "scope": row.scope,
        "token_type": "Bearer",
        "exp": int(row.expires.timestamp()),
        "iat": int(row.created.timestamp()),
        "client_id": "order-service",
    }
