"""Sign-in errors: a page a person can act on, problem details for API clients (issue 10)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

BROWSER = {"HTTP_ACCEPT": "text/html,application/xhtml+xml,*/*;q=0.8"}
API = {"HTTP_ACCEPT": "application/json"}


@pytest.fixture(autouse=True)
def _clean_cache() -> None:
    cache.clear()


def _assert_actionable_page(body: str) -> None:
    assert 'href="/auth/login"' in body
    assert ">Try again</a>" in body
    assert 'href="/"' in body
    assert "problem" not in body


def test_a_cancelled_sign_in_shows_a_page_with_try_again_and_home(client: Client) -> None:
    response = client.get(
        "/auth/callback", {"error": "access_denied", "state": "whatever"}, **BROWSER
    )
    body = response.content.decode()

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert response["Cache-Control"] == "no-store"
    assert '<h1 data-testid="sign-in-failed">Sign-in cancelled</h1>' in body
    assert "The sign-in was cancelled, so you are not signed in." in body
    _assert_actionable_page(body)


def test_an_expired_or_unknown_sign_in_state_shows_a_page_with_try_again(client: Client) -> None:
    response = client.get("/auth/callback", {"code": "abc", "state": "not-a-state"}, **BROWSER)
    body = response.content.decode()

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert "This sign-in link has expired or was already used; please sign in again." in body
    _assert_actionable_page(body)
    assert client.get("/api/session").json()["authenticated"] is False


def test_an_error_description_from_identity_is_escaped_on_the_page(client: Client) -> None:
    response = client.get(
        "/auth/callback",
        {"error": "invalid_scope", "error_description": "<script>x</script>"},
        **BROWSER,
    )
    body = response.content.decode()

    assert response.status_code == 400
    assert "<script>x</script>" not in body
    assert "&lt;script&gt;x&lt;/script&gt;" in body


def test_api_clients_asking_for_json_still_get_problem_details(client: Client) -> None:
    denied = client.get("/auth/callback", {"error": "access_denied"}, **API)
    expired = client.get("/auth/callback", {"code": "abc", "state": "not-a-state"}, **API)

    assert denied.status_code == 400
    assert denied["Content-Type"] == "application/problem+json"
    assert denied.json()["title"] == "Sign-in cancelled"
    assert denied.json()["type"].endswith("/login-failed")
    assert expired.status_code == 400
    assert expired["Content-Type"] == "application/problem+json"
    assert expired.json()["detail"] == (
        "This sign-in link has expired or was already used; please sign in again."
    )
