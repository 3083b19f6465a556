"""Identity's pages under their Content-Security-Policy in a real browser (Debian's
Chromium): styled, no violation, and the login form's redirects reach the client.

Chromium checks `form-action` along the redirects that follow a form, so a policy of
`form-action 'self'` alone would stop every sign-in at the client's callback."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from oauth2_provider.models import Application
from playwright.sync_api import Browser, sync_playwright

from devstack.browser import CHROMIUM_ARGS, ensure_chromium
from identity_site.oauth import selectors
from identity_site.oauth.services import oauth_client_ensure
from tests.identity.conftest import PASSWORD, SIGN_IN_SCOPES, WEB_SECRET, pkce_pair

pytestmark = pytest.mark.django_db(transaction=True)

CREAM = "rgb(251, 246, 239)"  # body background in identity.css


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    executable = ensure_chromium()
    # Playwright's sync API keeps an event loop on this thread, which Django's ORM takes
    # for async code; the test's own queries are plain synchronous ones.
    patch = pytest.MonkeyPatch()
    patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable,
            headless=True,
            args=[a for a in CHROMIUM_ARGS if a != "--headless"],
        )
        yield launched
        launched.close()
    patch.undo()


def test_sign_in_in_chromium_is_styled_breaks_no_policy_and_reaches_the_client(
    live_server: Any, chromium: Browser, customer: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(selectors, "_origins", (0.0, ()))
    identity = live_server.url  # http://localhost:<port>
    port = urlsplit(identity).port
    # The client lives on another origin: the same server under 127.0.0.1.
    callback = f"http://127.0.0.1:{port}/accounts/login/"
    oauth_client_ensure(
        client_id="bff-web",
        name="CoffeeShop web",
        grant_type=Application.GRANT_AUTHORIZATION_CODE,
        secret=WEB_SECRET,
        allowed_scopes=SIGN_IN_SCOPES,
        redirect_uris=[callback],
    )
    _verifier, challenge = pkce_pair()
    authorize = f"{identity}/o/authorize/?" + urlencode(
        {
            "response_type": "code",
            "client_id": "bff-web",
            "redirect_uri": callback,
            "scope": "openid email",
            "state": "st-1",
            "nonce": "n-1",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    context = chromium.new_context()
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))

    page.goto(authorize)
    assert urlsplit(page.url).path == "/accounts/login/"
    background = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
    page.get_by_label("E-mail address").fill(customer.email)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation(url=lambda url: url.startswith(callback)):
        page.get_by_role("button", name="Log in").click()

    assert background == CREAM
    arrived = urlsplit(page.url)
    assert f"{arrived.scheme}://{arrived.netloc}{arrived.path}" == callback
    assert "code=" in arrived.query
    assert [text for text in console if "Content Security Policy" in text] == []
    context.close()
