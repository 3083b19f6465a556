"""Typed client for CoffeeShop.Identity's OAuth2/OIDC endpoints (server to server)."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import quote_plus, urlsplit, urlunsplit

import httpx
from django.conf import settings
from django.core.cache import cache

from bff_site.clients.http import identity_service
from shared import oidc
from shared.problems import DomainError, Unavailable

DISCOVERY_TTL = 300


class IdentityError(DomainError):
    status, slug, title = 502, "identity-error", "Identity refused the request"


class SignInEnded(DomainError):
    """Identity no longer accepts the session's access token (revoked, or the person was
    deactivated): the browser must sign in again (RFC 6750 section 3.1, invalid_token)."""

    status, slug, title = 401, "unauthenticated", "Sign-in required"


class InvalidIdToken(DomainError):
    status, slug, title = 401, "invalid-id-token", "The sign-in could not be verified"


def _request(
    method: str,
    path: str,
    *,
    data: dict[str, str] | None = None,
    auth: tuple[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    send = dict(headers or {})
    if auth is not None:
        # RFC 6749 §2.3.1: client id and secret form-encoded, then HTTP Basic.
        pair = f"{quote_plus(auth[0])}:{quote_plus(auth[1])}".encode()
        send["Authorization"] = "Basic " + base64.b64encode(pair).decode()
    return identity_service().request(method, path, data=data, headers=send)


def discovery() -> dict[str, Any]:
    """The OIDC discovery document (cached)."""
    doc = cache.get("oidc:discovery")
    if doc is None:
        response = _request("GET", "/o/.well-known/openid-configuration")
        if response.status_code != 200:
            raise Unavailable("identity is unavailable", service="identity")
        doc = response.json()
        cache.set("oidc:discovery", doc, DISCOVERY_TTL)
    return dict(doc)


def public_url(url: str) -> str:
    """An Identity URL as the browser must see it (IDENTITY_PUBLIC_URL's origin)."""
    public = urlsplit(settings.IDENTITY_PUBLIC_URL)
    parts = urlsplit(url)
    return urlunsplit((public.scheme, public.netloc, parts.path, parts.query, parts.fragment))


def _server_url(url: str) -> str:
    """An endpoint from discovery, reached through IDENTITY_URL (the in-cluster address)."""
    return urlsplit(url).path


def _client_auth() -> tuple[str, str]:
    return settings.OIDC_CLIENT_ID, settings.SECRETS["oidc_client_secret"]


def token_exchange(*, code: str, code_verifier: str, redirect_uri: str) -> dict[str, Any]:
    """Authorization code + PKCE verifier for tokens (RFC 6749 §4.1.3, RFC 7636 §4.5)."""
    return _token(
        {
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": code_verifier,
            "redirect_uri": redirect_uri,
        }
    )


def token_refresh(*, refresh_token: str) -> dict[str, Any]:
    """A new access token and a rotated refresh token (RFC 6749 §6)."""
    return _token({"grant_type": "refresh_token", "refresh_token": refresh_token})


def client_credentials(*, client_id: str, client_secret: str, scope: str) -> dict[str, Any]:
    return _token(
        {"grant_type": "client_credentials", "scope": scope}, auth=(client_id, client_secret)
    )


def _token(data: dict[str, str], auth: tuple[str, str] | None = None) -> dict[str, Any]:
    response = _request(
        "POST", _server_url(discovery()["token_endpoint"]), data=data, auth=auth or _client_auth()
    )
    if response.status_code != 200:
        try:
            error = response.json()
        except json.JSONDecodeError:
            error = {"error": f"http {response.status_code}"}
        raise IdentityError(str(error.get("error_description") or error.get("error")), **error)
    return dict(response.json())


def revoke(*, token: str, hint: str) -> None:
    """RFC 7009 revocation; a failure is not fatal for logout (tokens expire anyway)."""
    endpoint = discovery().get("revocation_endpoint")
    if endpoint:
        _request(
            "POST",
            _server_url(endpoint),
            data={"token": token, "token_type_hint": hint},
            auth=_client_auth(),
        )


def _key_set(fresh: bool) -> dict[str, Any]:
    """Identity's JWKS (cached; fresh: fetched again, after a key rotation)."""
    raw = None if fresh else cache.get("oidc:jwks")
    if raw is None:
        response = _request("GET", _server_url(discovery()["jwks_uri"]))
        if response.status_code != 200:
            raise Unavailable("identity is unavailable", service="identity")
        raw = response.text
        cache.set("oidc:jwks", raw, DISCOVERY_TTL)
    return dict(json.loads(raw))


def verify_id_token(
    id_token: str, *, nonce: str, access_token: str | None = None
) -> dict[str, Any]:
    """The ID token's claims once it passes OIDC Core 1.0 section 3.1.3.7 (shared/oidc.py:
    signature against Identity's JWKS, iss, aud, azp, exp, iat, nonce, at_hash)."""
    try:
        return oidc.id_token_claims(
            id_token,
            key_set=_key_set,
            issuer=discovery()["issuer"],
            client_id=settings.OIDC_CLIENT_ID,
            nonce=nonce,
            access_token=access_token,
        )
    except oidc.IdTokenRefused as exc:
        raise InvalidIdToken(str(exc)) from exc


def userinfo(*, access_token: str) -> dict[str, Any]:
    response = _request(
        "GET",
        _server_url(discovery()["userinfo_endpoint"]),
        headers={"Authorization": f"Bearer {access_token}"},
    )
    if response.status_code == 401:
        raise SignInEnded("Your sign-in has ended. Sign in again to continue.")
    if response.status_code != 200:
        raise IdentityError("userinfo refused")
    return dict(response.json())
