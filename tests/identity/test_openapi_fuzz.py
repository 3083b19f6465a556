"""Identity fuzzed in-process (schemathesis over WSGI): its users API from the document it
serves, and the OAuth 2.0 endpoints from a description written here (django-oauth-toolkit's
views are not in that document). Whatever a client sends, no answer is a 5xx; a 4xx is a
problem document, or on an OAuth endpoint the JSON error RFC 6749 prescribes."""

from __future__ import annotations

import base64
import secrets
from datetime import timedelta
from typing import Any

import pytest
import schemathesis
from django.core.cache import cache
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application

from identity_site.config.wsgi import application
from tests.identity.conftest import SERVICE_SECRET
from tests.openapi_fuzz import (
    CONFIG,
    DEEP_ARRAY,
    DEEP_OBJECT,
    FUZZ_SETTINGS,
    NON_ASCII,
    check_answer,
)

TOKEN = f"fuzz-{secrets.token_urlsafe(16)}"
BASIC = "Basic " + base64.b64encode(f"order-service:{SERVICE_SECRET}".encode()).decode()
FORM = "application/x-www-form-urlencoded"
TEXT = {"type": "string"}


def _form(properties: list[str], required: list[str] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {name: TEXT for name in properties},
    }
    if required:
        schema["required"] = required
    return {"required": True, "content": {FORM: {"schema": schema}}}


def _op(**extra: Any) -> dict[str, Any]:
    return {"responses": {"200": {"description": "OK"}}, **extra}


AUTHORIZATION = [{"name": "Authorization", "in": "header", "required": False, "schema": TEXT}]
OAUTH_DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "Identity's OAuth 2.0 endpoints", "version": "1"},
    "paths": {
        "/o/token/": {
            "post": _op(
                parameters=AUTHORIZATION,
                requestBody=_form(
                    [
                        "grant_type",
                        "code",
                        "redirect_uri",
                        "code_verifier",
                        "refresh_token",
                        "scope",
                        "client_id",
                        "client_secret",
                    ],
                    ["grant_type"],
                ),
            )
        },
        "/o/introspect/": {
            "post": _op(
                parameters=AUTHORIZATION,
                requestBody=_form(["token", "token_type_hint"], ["token"]),
            )
        },
        "/o/revoke_token/": {
            "post": _op(
                parameters=AUTHORIZATION,
                requestBody=_form(["token", "token_type_hint", "client_id", "client_secret"]),
            )
        },
        "/o/userinfo/": {"get": _op(parameters=AUTHORIZATION)},
        "/o/authorize/": {
            "get": _op(
                parameters=[
                    {"name": name, "in": "query", "required": False, "schema": TEXT}
                    for name in (
                        "response_type",
                        "client_id",
                        "redirect_uri",
                        "scope",
                        "state",
                        "code_challenge",
                        "code_challenge_method",
                        "nonce",
                        "prompt",
                    )
                ]
            )
        },
        "/o/.well-known/openid-configuration": {"get": _op()},
        "/o/.well-known/jwks.json": {"get": _op()},
    },
}


@pytest.fixture
def fuzz_auth(transactional_db: Any, service_client: Application) -> None:
    """A users:read token for the users API (as Order holds), and Order's client."""
    cache.clear()
    AccessToken.objects.create(
        token=TOKEN,
        application=service_client,
        scope="introspection users:read",
        expires=timezone.now() + timedelta(hours=1),
    )


api = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application, config=CONFIG)
oauth = schemathesis.openapi.from_dict(OAUTH_DOCUMENT, config=CONFIG)
oauth.app = application


@api.parametrize()
@FUZZ_SETTINGS
def test_no_request_to_the_users_api_fails_with_a_server_error(fuzz_auth: None, case: Any) -> None:
    response = case.call(headers={"Authorization": f"Bearer {TOKEN}", **(case.headers or {})})

    check_answer(response, f"{case.method} {case.formatted_path}")


@oauth.parametrize()
@FUZZ_SETTINGS
def test_no_request_to_the_oauth_endpoints_fails_with_a_server_error(
    fuzz_auth: None, case: Any
) -> None:
    response = case.call()

    check_answer(response, f"{case.method} {case.formatted_path}", oauth=True)


@pytest.mark.parametrize(
    ("path", "headers", "body"),
    [
        ("/o/introspect/", {"Authorization": BASIC}, {"token": DEEP_ARRAY}),
        ("/o/introspect/", {"Authorization": BASIC}, {"token": NON_ASCII[0]}),
        ("/o/introspect/", {"Authorization": f"Basic {NON_ASCII[1]}"}, {"token": "t"}),
        ("/o/token/", {"Authorization": BASIC}, {"grant_type": DEEP_OBJECT}),
        (
            "/o/token/",
            {"Authorization": BASIC},
            {"grant_type": "client_credentials", "scope": NON_ASCII[2]},
        ),
        ("/o/token/", {"Authorization": f"Bearer {NON_ASCII[0]}"}, {"grant_type": "x"}),
        ("/o/revoke_token/", {"Authorization": BASIC}, {"token": DEEP_OBJECT}),
    ],
)
def test_hostile_oauth_requests_are_refused_without_a_server_error(
    fuzz_auth: None, path: str, headers: dict[str, str], body: dict[str, str]
) -> None:
    case = oauth[path]["POST"].Case(body=body, headers=headers, media_type=FORM)

    check_answer(case.call(), f"POST {path}", oauth=True)


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": f"Bearer {NON_ASCII[0]}"},
        {"Authorization": f"Bearer {TOKEN}", "Accept-Language": NON_ASCII[1]},
        {"Authorization": f"Bearer {TOKEN}", "X-Forwarded-For": NON_ASCII[2]},
    ],
)
def test_non_ascii_headers_to_the_users_api_are_refused_without_a_server_error(
    fuzz_auth: None, headers: dict[str, str]
) -> None:
    case = api["/api/users/{user_id}"]["GET"].Case(path_parameters={"user_id": 1}, headers=headers)

    check_answer(case.call(), "GET /api/users/1")
