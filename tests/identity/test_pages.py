"""Identity's own pages: a strict Content-Security-Policy with nothing inline to break it,
the usual hardening headers, and ARIA references that all lead somewhere."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from identity_site.accounts.models import User
from identity_site.oauth import selectors

pytestmark = pytest.mark.django_db

# The web_client fixture registers redirect URIs on these two origins.
PAGE_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self' http://127.0.0.1:8000 http://localhost:8000"
)
HARDENING = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


@pytest.fixture(autouse=True)
def _fresh_caches(monkeypatch: Any) -> None:
    cache.clear()
    # Another test may have left this process's copy of the client origins behind.
    monkeypatch.setattr(selectors, "_origins", (0.0, ()))


class PageScan(HTMLParser):
    """Collects what a strict CSP would block and every id and ARIA id reference."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.references: list[tuple[str, str, str]] = []  # (tag, attribute, id)
        self.inline: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self.inline.append(f"<{tag}>")
        for name, value in attrs:
            if name == "id" and value:
                self.ids.add(value)
            if name in ("aria-describedby", "aria-labelledby") and value:
                self.references.extend((tag, name, ref) for ref in value.split())
            if name == "style" or name.startswith("on"):
                self.inline.append(f"<{tag} {name}>")
            if name in ("href", "src", "action") and (value or "").startswith("javascript:"):
                self.inline.append(f"<{tag} {name}=javascript:>")


def scan(html: str) -> PageScan:
    page = PageScan()
    page.feed(html)
    return page


def pages(client: Client, customer: User) -> dict[str, Any]:
    """Every page of Identity's own a person can see, by name."""
    signed_out = {
        "login": client.get("/accounts/login/"),
        "login with errors": client.post(
            "/accounts/login/", {"username": customer.email, "password": "wrong"}
        ),
        "register": client.get("/accounts/register/"),
        "register with errors": client.post(
            "/accounts/register/",
            {"email": "not-an-address", "password1": "short", "password2": "other"},
        ),
        "password reset": client.get("/accounts/password/reset/"),
        "password reset sent": client.get("/accounts/password/reset/sent/"),
        "password reset with a bad link": client.get("/accounts/password/reset/MQ/bad-token/"),
        "password reset done": client.get("/accounts/password/reset/done/"),
        "e-mail verification with a bad link": client.get("/accounts/verify/MQ/bad-token/"),
    }
    client.force_login(customer)
    signed_in = {
        "account": client.get("/accounts/"),
        "logout confirmation": client.get("/o/logout/", {"client_id": "bff-web"}),
    }
    return {**signed_out, **signed_in}


def test_every_page_has_the_strict_policy_and_the_hardening_headers(
    client: Client, customer: User, web_client: Any
) -> None:
    for name, response in pages(client, customer).items():
        assert response.status_code in (200, 400), (name, response.status_code)
        assert response["Content-Type"].startswith("text/html"), name
        assert response["Content-Security-Policy"] == PAGE_POLICY, name
        for header, value in HARDENING.items():
            assert response[header] == value, (name, header)


def test_no_page_has_inline_script_or_style_that_the_policy_would_block(
    client: Client, customer: User, web_client: Any
) -> None:
    blocked = {
        name: scan(response.content.decode()).inline
        for name, response in pages(client, customer).items()
    }

    assert blocked == {name: [] for name in blocked}


def test_every_aria_reference_points_at_an_element_on_the_page(
    client: Client, customer: User, web_client: Any
) -> None:
    dangling = {}
    for name, response in pages(client, customer).items():
        page = scan(response.content.decode())
        dangling[name] = [ref for ref in page.references if ref[2] not in page.ids]

    assert dangling == {name: [] for name in dangling}


def test_register_password_help_is_the_description_of_the_password_field(
    client: Client,
) -> None:
    page = scan(client.get("/accounts/register/").content.decode())

    assert ("input", "aria-describedby", "id_password1_helptext") in page.references
    assert "id_password1_helptext" in page.ids


def test_json_answers_get_the_policy_without_client_origins(
    client: Client, web_client: Any
) -> None:
    response = client.get("/o/.well-known/jwks.json")

    assert response["Content-Security-Policy"] == (
        "default-src 'none'; style-src 'self'; img-src 'self'; object-src 'none'; "
        "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    )
    assert response["Cross-Origin-Resource-Policy"] == "cross-origin"
