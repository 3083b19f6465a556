"""RP-initiated logout as the BFF's sign-out uses it (issue 10), on a live server.

The BFF's page POSTs `id_token_hint` to the end-session endpoint (never in a URL);
Identity ends its session without asking; when it must ask, the page says what it is
about, and "Stay signed in" goes back to the app instead of a dead end.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from oauth2_provider.models import AccessToken

from tests.identity.conftest import (
    CALLBACK,
    PASSWORD,
    WEB_SECRET,
    browser,
    follow_until,
    login_form,
)

pytestmark = pytest.mark.django_db(transaction=True)

APP = "http://127.0.0.1:8000/"


def _signed_in(base: str, email: str) -> tuple[requests.Session, dict[str, Any]]:
    """A browser signed in at Identity, and the tokens the BFF got through it."""
    meta = requests.get(f"{base}/o/.well-known/openid-configuration", timeout=10).json()
    client = OAuth2Session(
        "bff-web",
        WEB_SECRET,
        scope="openid profile email roles",
        redirect_uri=CALLBACK,
        code_challenge_method="S256",
    )
    verifier = secrets.token_urlsafe(48)
    url, _state = client.create_authorization_url(
        meta["authorization_endpoint"], code_verifier=verifier, nonce=secrets.token_urlsafe(16)
    )
    session = browser()
    session.get(url, allow_redirects=False)
    callback = follow_until(
        session, login_form(session, base, url[len(base) :], email, PASSWORD), CALLBACK
    )
    token = client.fetch_token(
        meta["token_endpoint"], authorization_response=callback, code_verifier=verifier
    )
    return session, {"meta": meta, **token}


def _is_signed_in(session: requests.Session, base: str) -> bool:
    return session.get(f"{base}/accounts/", allow_redirects=False).status_code == 200


def test_a_post_with_id_token_hint_from_the_apps_page_ends_the_session_without_asking(
    provider: str, web_client: Any, customer: Any
) -> None:
    session, token = _signed_in(provider, customer.email)
    assert _is_signed_in(session, provider)

    # As the BFF's page sends it: a cross-origin form POST, without Identity's CSRF token.
    response = session.post(
        token["meta"]["end_session_endpoint"],
        data={
            "id_token_hint": token["id_token"],
            "client_id": "bff-web",
            "post_logout_redirect_uri": APP,
        },
        headers={"Origin": "http://127.0.0.1:8000", "Referer": APP},
        allow_redirects=False,
    )

    assert response.status_code == 302
    assert response.headers["Location"] == APP
    assert not _is_signed_in(session, provider)
    assert AccessToken.objects.filter(user=customer).count() == 0


def test_the_confirmation_page_names_the_app_and_offers_two_different_choices(
    provider: str, web_client: Any, customer: Any
) -> None:
    session, token = _signed_in(provider, customer.email)

    page = session.get(
        token["meta"]["end_session_endpoint"],
        params={"client_id": "bff-web", "post_logout_redirect_uri": APP},
    )

    assert page.status_code == 200
    assert "<h1>Sign out of CoffeeShop?</h1>" in page.text
    assert f"You are signed in as <strong>{customer.email}</strong>" in page.text
    buttons = re.findall(r"<button[^>]*>([^<]+)</button>", page.text)
    assert buttons == ["Sign out", "Stay signed in"]
    assert "Logout" not in page.text


def _confirm(session: requests.Session, page: requests.Response, *, allow: bool) -> Any:
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
    if allow:
        fields["allow"] = "on"
    return session.post(page.url, data=fields, headers={"Referer": page.url}, allow_redirects=False)


def test_stay_signed_in_goes_back_to_the_app_and_keeps_the_session(
    provider: str, web_client: Any, customer: Any
) -> None:
    session, token = _signed_in(provider, customer.email)
    page = session.get(
        token["meta"]["end_session_endpoint"],
        params={"client_id": "bff-web", "post_logout_redirect_uri": APP, "state": "s1"},
    )

    response = _confirm(session, page, allow=False)

    assert response.status_code == 302
    assert response.headers["Location"] == APP + "?state=s1"
    assert "logout_denied" not in response.text
    assert _is_signed_in(session, provider)


def test_sign_out_on_the_confirmation_page_ends_the_session(
    provider: str, web_client: Any, customer: Any
) -> None:
    session, token = _signed_in(provider, customer.email)
    page = session.get(
        token["meta"]["end_session_endpoint"],
        params={"client_id": "bff-web", "post_logout_redirect_uri": APP},
    )

    response = _confirm(session, page, allow=True)

    assert response.status_code == 302
    assert response.headers["Location"] == APP
    assert not _is_signed_in(session, provider)


def test_a_post_without_a_hint_or_csrf_token_is_refused_and_ends_nothing(
    provider: str, web_client: Any, customer: Any
) -> None:
    session, token = _signed_in(provider, customer.email)

    response = session.post(
        token["meta"]["end_session_endpoint"],
        data={"client_id": "bff-web", "post_logout_redirect_uri": APP, "allow": "on"},
        headers={"Origin": "http://evil.example"},
        allow_redirects=False,
    )

    assert response.status_code == 403
    assert _is_signed_in(session, provider)
    assert AccessToken.objects.filter(user=customer).count() == 1


def test_an_unknown_id_token_hint_asks_the_person_instead_of_failing(
    provider: str, web_client: Any, customer: Any
) -> None:
    session, token = _signed_in(provider, customer.email)
    header, claims, _signature = token["id_token"].split(".")

    response = session.post(
        token["meta"]["end_session_endpoint"],
        data={
            "id_token_hint": f"{header}.{claims}.AAAA",
            "client_id": "bff-web",
            "post_logout_redirect_uri": APP,
        },
        allow_redirects=False,
    )

    assert response.status_code == 200
    assert "<h1>Sign out of CoffeeShop?</h1>" in response.text
    assert _is_signed_in(session, provider)
