"""The whole sign-in flow on a live server, driven by Authlib as a standard OIDC client."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, jwt
from authlib.oidc.core import CodeIDToken
from oauth2_provider.models import AccessToken, RefreshToken

from tests.identity.conftest import (
    CALLBACK,
    PASSWORD,
    SERVICE_SECRET,
    WEB_SECRET,
    browser,
    follow_until,
    login_form,
    query,
)

pytestmark = pytest.mark.django_db(transaction=True)


def discovery(base: str) -> dict[str, Any]:
    response = requests.get(f"{base}/o/.well-known/openid-configuration", timeout=10)
    assert response.status_code == 200
    return dict(response.json())


def sign_in(base: str, email: str, *, scope: str = "openid profile email roles") -> dict[str, Any]:
    """Authorization code + PKCE S256 through the real login form; returns what the client got."""
    meta = discovery(base)
    client = OAuth2Session(
        "bff-web",
        WEB_SECRET,
        scope=scope,
        redirect_uri=CALLBACK,
        code_challenge_method="S256",
    )
    verifier = secrets.token_urlsafe(48)
    nonce = secrets.token_urlsafe(16)
    url, _state = client.create_authorization_url(
        meta["authorization_endpoint"], code_verifier=verifier, nonce=nonce
    )
    session = browser()
    first = session.get(url, allow_redirects=False)
    assert first.status_code == 302
    assert "/accounts/login/" in first.headers["Location"]
    next_path = url[len(base) :]
    callback = follow_until(
        session, login_form(session, base, next_path, email, PASSWORD), CALLBACK
    )
    token = client.fetch_token(
        meta["token_endpoint"], authorization_response=callback, code_verifier=verifier
    )
    return {
        "meta": meta,
        "token": token,
        "nonce": nonce,
        "callback": callback,
        "client": client,
        "session": session,
    }


def verified_id_token(meta: dict[str, Any], id_token: str, nonce: str) -> Any:
    jwks = requests.get(meta["jwks_uri"], timeout=10).json()
    claims = jwt.decode(
        id_token,
        JsonWebKey.import_key_set(jwks),
        claims_cls=CodeIDToken,
        claims_options={"iss": {"essential": True, "value": meta["issuer"]}},
        claims_params={"nonce": nonce, "client_id": "bff-web"},
    )
    claims.validate()
    return claims


def test_discovery_document_is_complete_and_consistent(provider: str, web_client: Any) -> None:
    meta = discovery(provider)

    issuer = f"{provider}/o"
    assert meta["issuer"] == issuer
    assert meta["authorization_endpoint"] == f"{issuer}/authorize/"
    assert meta["token_endpoint"] == f"{issuer}/token/"
    assert meta["userinfo_endpoint"] == f"{issuer}/userinfo/"
    assert meta["jwks_uri"] == f"{issuer}/.well-known/jwks.json"
    assert meta["end_session_endpoint"] == f"{issuer}/logout/"
    assert meta["introspection_endpoint"] == f"{issuer}/introspect/"
    assert meta["revocation_endpoint"] == f"{issuer}/revoke_token/"
    assert meta["response_types_supported"] == ["code"]
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert set(meta["grant_types_supported"]) == {
        "authorization_code",
        "refresh_token",
        "client_credentials",
    }
    assert meta["id_token_signing_alg_values_supported"] == ["RS256"]
    assert {"openid", "profile", "email", "roles", "orders:read"} <= set(meta["scopes_supported"])
    assert {"sub", "email", "name", "roles"} <= set(meta["claims_supported"])
    keys = requests.get(meta["jwks_uri"], timeout=10).json()["keys"]
    assert [(k["kty"], k["alg"], k["use"]) for k in keys] == [("RSA", "RS256", "sig")]


def test_manager_signs_in_with_pkce_and_gets_a_signed_id_token_with_roles(
    provider: str, web_client: Any, manager: Any
) -> None:
    result = sign_in(provider, manager.email)

    assert set(query(result["callback"])) == {"code", "state", "iss"}
    assert query(result["callback"])["iss"] == result["meta"]["issuer"]
    token = result["token"]
    assert token["token_type"] == "Bearer"
    assert token["scope"].split() == ["openid", "profile", "email", "roles"]
    claims = verified_id_token(result["meta"], token["id_token"], result["nonce"])
    assert claims["sub"] == str(manager.pk)
    assert claims["aud"] == "bff-web"
    assert claims["email"] == "maya@coffeeshop.test"
    assert claims["name"] == "Maya"
    assert claims["roles"] == ["manager", "barista"]
    assert claims["nonce"] == result["nonce"]
    assert isinstance(claims["auth_time"], int)


def test_userinfo_answers_the_claims_of_the_granted_scopes(
    provider: str, web_client: Any, customer: Any
) -> None:
    result = sign_in(provider, customer.email)

    info = result["client"].get(result["meta"]["userinfo_endpoint"]).json()

    assert info == {
        "sub": str(customer.pk),
        "name": "Cora",
        "email": "cora@coffeeshop.test",
        "email_verified": False,
        "roles": ["customer"],
    }


def test_openid_scope_alone_releases_no_profile_claims(
    provider: str, web_client: Any, customer: Any
) -> None:
    result = sign_in(provider, customer.email, scope="openid")

    info = result["client"].get(result["meta"]["userinfo_endpoint"]).json()

    assert info == {"sub": str(customer.pk)}


def test_refresh_rotates_and_a_reused_refresh_token_revokes_the_family(
    provider: str, web_client: Any, customer: Any
) -> None:
    result = sign_in(provider, customer.email)
    meta, first = result["meta"], result["token"]
    auth = ("bff-web", WEB_SECRET)

    rotated = requests.post(
        meta["token_endpoint"],
        data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        auth=auth,
        timeout=10,
    )
    assert rotated.status_code == 200
    second = rotated.json()
    assert second["refresh_token"] != first["refresh_token"]

    replay = requests.post(
        meta["token_endpoint"],
        data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        auth=auth,
        timeout=10,
    )

    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    # The whole family is dead: the rotated refresh token and its access token too.
    after = requests.post(
        meta["token_endpoint"],
        data={"grant_type": "refresh_token", "refresh_token": second["refresh_token"]},
        auth=auth,
        timeout=10,
    )
    assert after.status_code == 400
    assert AccessToken.objects.filter(user=customer).count() == 0
    assert RefreshToken.objects.filter(user=customer, revoked__isnull=True).count() == 0


def test_revoked_access_token_introspects_inactive_at_once(
    provider: str, web_client: Any, service_client: Any, customer: Any
) -> None:
    result = sign_in(provider, customer.email)
    meta, access = result["meta"], result["token"]["access_token"]
    service = ("order-service", SERVICE_SECRET)

    before = requests.post(
        meta["introspection_endpoint"], data={"token": access}, auth=service, timeout=10
    ).json()
    revoke = requests.post(
        meta["revocation_endpoint"],
        data={"token": access, "token_type_hint": "access_token"},
        auth=("bff-web", WEB_SECRET),
        timeout=10,
    )
    after = requests.post(
        meta["introspection_endpoint"], data={"token": access}, auth=service, timeout=10
    ).json()

    assert before["active"] is True
    assert before["sub"] == str(customer.pk)
    assert before["client_id"] == "bff-web"
    assert before["roles"] == ["customer"]
    assert revoke.status_code == 200
    assert after == {"active": False}


def test_rp_initiated_logout_ends_the_session_and_deletes_the_tokens(
    provider: str, web_client: Any, customer: Any
) -> None:
    result = sign_in(provider, customer.email)
    session = browser()
    # The browser that signed in is not kept by sign_in; log in again in a fresh one.
    login_form(session, provider, "/accounts/", customer.email, PASSWORD)
    assert session.get(f"{provider}/accounts/", allow_redirects=False).status_code == 200

    response = session.get(
        result["meta"]["end_session_endpoint"],
        params={
            "id_token_hint": result["token"]["id_token"],
            "client_id": "bff-web",
            "post_logout_redirect_uri": "http://127.0.0.1:8000/",
        },
        allow_redirects=False,
    )

    assert response.status_code == 302
    assert response.headers["Location"] == "http://127.0.0.1:8000/"
    assert session.get(f"{provider}/accounts/", allow_redirects=False).status_code == 302
    assert AccessToken.objects.filter(user=customer).count() == 0
