"""What the provider refuses: every refusal is the RFC 6749/OIDC error, and changes nothing."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application, Grant

from identity_site.oauth.services import oauth_client_ensure
from shared.problems import InvalidInput
from tests.identity.conftest import CALLBACK, SERVICE_SECRET, WEB_SECRET, pkce_pair, query

pytestmark = pytest.mark.django_db


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def authorize(client: Client, **overrides: str) -> Any:
    _verifier, challenge = pkce_pair()
    params = {
        "response_type": "code",
        "client_id": "bff-web",
        "redirect_uri": CALLBACK,
        "scope": "openid email",
        "state": "st-1",
        "nonce": "n-1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    params.update(overrides)
    return client.get("/o/authorize/", {k: v for k, v in params.items() if v != "-"})


def code_for(client: Client, verifier: str, challenge: str) -> str:
    response = authorize(client, code_challenge=challenge)
    assert response.status_code == 302, response.content[:300]
    return query(response["Location"])["code"]


def exchange(client: Client, code: str, verifier: str, **overrides: str) -> Any:
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CALLBACK,
        "code_verifier": verifier,
    }
    data.update(overrides)
    return client.post("/o/token/", data, HTTP_AUTHORIZATION=basic("bff-web", WEB_SECRET))


@pytest.fixture
def signed_in(client: Client, web_client: Any, customer: Any) -> Client:
    client.force_login(customer)
    return client


def test_authorization_with_s256_pkce_redirects_with_a_code(signed_in: Client) -> None:
    response = authorize(signed_in)

    assert response.status_code == 302
    assert response["Location"].startswith(CALLBACK + "?")
    assert set(query(response["Location"])) == {"code", "state", "iss"}
    assert Grant.objects.count() == 1


@pytest.mark.parametrize(
    "redirect_uri",
    [
        CALLBACK + "/",
        "http://127.0.0.1:8000/AUTH/callback",
        "HTTP://127.0.0.1:8000/auth/Callback",
        CALLBACK + "?next=/evil",
        "http://127.0.0.1:8001/auth/callback",
        "http://evil.example/auth/callback",
        "http://127.0.0.1:8000/auth/callback#x",
        "https://127.0.0.1:8000/auth/callback",
    ],
)
def test_redirect_uri_that_is_not_exactly_registered_is_refused_without_redirecting(
    signed_in: Client, redirect_uri: str
) -> None:
    response = authorize(signed_in, redirect_uri=redirect_uri)

    assert response.status_code == 400
    assert "Location" not in response
    assert b"invalid_request" in response.content or b"Mismatching" in response.content
    assert Grant.objects.count() == 0


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"code_challenge": "-", "code_challenge_method": "-"}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge_method": "-"}, "invalid_request"),
        ({"response_type": "token"}, "unauthorized_client"),
        ({"response_type": "id_token"}, "unauthorized_client"),
        ({"response_type": "code id_token"}, "unauthorized_client"),
        ({"scope": "openid orders:staff"}, "invalid_scope"),
    ],
)
def test_authorization_request_breaking_a_rule_gets_the_error_at_the_callback_and_no_code(
    signed_in: Client, overrides: dict[str, str], error: str
) -> None:
    response = authorize(signed_in, **overrides)

    assert response.status_code == 302
    answer = query(response["Location"])
    assert response["Location"].startswith(CALLBACK)
    assert answer["error"] == error
    assert "code" not in answer
    assert Grant.objects.count() == 0


def test_code_exchange_without_the_right_verifier_fails_and_issues_nothing(
    signed_in: Client,
) -> None:
    verifier, challenge = pkce_pair()
    code = code_for(signed_in, verifier, challenge)

    response = exchange(signed_in, code, "a" * 50)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert AccessToken.objects.count() == 0


def test_a_code_works_once(signed_in: Client) -> None:
    verifier, challenge = pkce_pair()
    code = code_for(signed_in, verifier, challenge)

    first = exchange(signed_in, code, verifier)
    replay = exchange(signed_in, code, verifier)

    assert first.status_code == 200
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    # RFC 6749 section 4.1.2: the replay revoked what the first exchange issued.
    assert AccessToken.objects.count() == 0


def test_an_expired_code_is_refused(signed_in: Client) -> None:
    verifier, challenge = pkce_pair()
    code = code_for(signed_in, verifier, challenge)
    Grant.objects.update(expires=timezone.now() - timedelta(seconds=1))

    response = exchange(signed_in, code, verifier)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert AccessToken.objects.count() == 0


def test_code_exchange_with_a_different_redirect_uri_is_refused(signed_in: Client) -> None:
    verifier, challenge = pkce_pair()
    code = code_for(signed_in, verifier, challenge)

    response = exchange(
        signed_in, code, verifier, redirect_uri="http://localhost:8000/auth/callback"
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert AccessToken.objects.count() == 0


def test_authorization_codes_live_sixty_seconds(signed_in: Client) -> None:
    verifier, challenge = pkce_pair()
    code_for(signed_in, verifier, challenge)

    grant = Grant.objects.get()

    assert round((grant.expires - timezone.now()).total_seconds()) in (59, 60)


def test_client_credentials_token_carries_all_allowed_scopes_and_introspects_active(
    client: Client, service_client: Any
) -> None:
    token = client.post(
        "/o/token/",
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=basic("order-service", SERVICE_SECRET),
    )
    access = token.json()["access_token"]

    answer = client.post(
        "/o/introspect/",
        {"token": access},
        HTTP_AUTHORIZATION=basic("order-service", SERVICE_SECRET),
    ).json()

    assert token.status_code == 200
    assert token.json()["scope"] == "introspection users:read"
    assert token.json()["expires_in"] == 300
    assert "refresh_token" not in token.json()
    assert answer["active"] is True
    assert answer["client_id"] == "order-service"
    assert answer["scope"] == "introspection users:read"
    assert "sub" not in answer


def test_client_asking_for_a_scope_it_was_not_granted_gets_invalid_scope(
    client: Client, service_client: Any
) -> None:
    response = client.post(
        "/o/token/",
        {"grant_type": "client_credentials", "scope": "users:read orders:staff"},
        HTTP_AUTHORIZATION=basic("order-service", SERVICE_SECRET),
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"
    assert AccessToken.objects.count() == 0


def test_wrong_client_secret_is_invalid_client(client: Client, service_client: Any) -> None:
    response = client.post(
        "/o/token/",
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=basic("order-service", "not-the-secret"),
    )

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert AccessToken.objects.count() == 0


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (
            {"grant_type": "password", "username": "cora@coffeeshop.test", "password": "x"},
            "unsupported_grant_type",
        ),
        ({"grant_type": "urn:ietf:params:oauth:grant-type:device_code"}, "unsupported_grant_type"),
        ({"grant_type": "implicit"}, "unsupported_grant_type"),
        ({"grant_type": "made-up"}, "unsupported_grant_type"),
        ({}, "unsupported_grant_type"),
        ({"grant_type": "authorization_code"}, "invalid_request"),
        ({"grant_type": "refresh_token"}, "invalid_request"),
    ],
)
def test_refused_or_malformed_token_requests_answer_oauth_error_json(
    client: Client, web_client: Any, customer: Any, data: dict[str, str], error: str
) -> None:
    response = client.post("/o/token/", data, HTTP_AUTHORIZATION=basic("bff-web", WEB_SECRET))

    assert response.status_code in (400, 401)
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == error
    assert AccessToken.objects.count() == 0


def test_introspection_needs_client_authentication(client: Client, service_client: Any) -> None:
    response = client.post("/o/introspect/", {"token": "whatever"})

    assert response.status_code in (401, 403)
    assert AccessToken.objects.count() == 0


def test_introspection_without_a_token_is_invalid_request(
    client: Client, service_client: Any
) -> None:
    response = client.post(
        "/o/introspect/", {}, HTTP_AUTHORIZATION=basic("order-service", SERVICE_SECRET)
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_unknown_token_introspects_inactive(client: Client, service_client: Any) -> None:
    response = client.post(
        "/o/introspect/",
        {"token": "never-issued"},
        HTTP_AUTHORIZATION=basic("order-service", SERVICE_SECRET),
    )

    assert response.json() == {"active": False}


@pytest.mark.parametrize(
    "grant_type",
    [Application.GRANT_IMPLICIT, Application.GRANT_PASSWORD, Application.GRANT_OPENID_HYBRID],
)
def test_clients_cannot_be_provisioned_with_a_forbidden_grant(db: Any, grant_type: str) -> None:
    with pytest.raises(InvalidInput):
        oauth_client_ensure(
            client_id="rogue",
            name="Rogue",
            grant_type=grant_type,
            secret="s" * 40,
            allowed_scopes=["openid"],
            redirect_uris=[CALLBACK],
        )

    assert not Application.objects.filter(client_id="rogue").exists()


def test_an_implicit_client_made_behind_our_back_still_gets_no_token(
    client: Client, customer: Any
) -> None:
    Application.objects.create(
        client_id="legacy",
        name="Legacy",
        client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_IMPLICIT,
        redirect_uris=CALLBACK,
        skip_authorization=True,
    )
    client.force_login(customer)

    response = authorize(client, client_id="legacy", response_type="token")

    assert "access_token" not in response.get("Location", "")
    assert AccessToken.objects.count() == 0


@pytest.mark.parametrize(
    "target",
    ["http://127.0.0.1:9999/", "http://127.0.0.1:8000/x", "http://evil.example/"],
)
def test_logout_refuses_a_post_logout_redirect_that_is_not_exactly_registered(
    signed_in: Client, target: str
) -> None:
    response = signed_in.get(
        "/o/logout/", {"client_id": "bff-web", "post_logout_redirect_uri": target}
    )

    assert response.status_code == 400
    assert "Location" not in response
    assert "_auth_user_id" in signed_in.session
