"""Identity test fixtures: clients made through the service, users from the factory, a browser-like
HTTP session for the live server, and helpers for the authorization-code flow."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
from oauth2_provider.models import Application

from identity_site.accounts.models import User
from identity_site.oauth.services import oauth_client_ensure
from tests.identity.factories.accounts import PASSWORD as PASSWORD  # the tests import it from here
from tests.identity.factories.accounts import UserFactory

WEB_SECRET = "web-secret-" + "x" * 32
CALLBACK = "http://127.0.0.1:8000/auth/callback"
SIGN_IN_SCOPES = ["openid", "profile", "email", "roles"]


class Browser(requests.Session):
    """Sends Secure cookies to the loopback live server over plain HTTP, as browsers do
    for 127.0.0.1 and localhost (requests itself only sends them over HTTPS)."""

    def prepare_request(self, request: requests.Request) -> requests.PreparedRequest:
        host = urlsplit(request.url).hostname
        if host in ("127.0.0.1", "localhost"):
            for cookie in self.cookies:
                cookie.secure = False
        return super().prepare_request(request)


def browser() -> requests.Session:
    session = Browser()
    session.trust_env = False
    return session


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@pytest.fixture
def web_client(db: Any) -> Application:
    """The BFF's confidential sign-in client, as the orchestrator provisions it."""
    return oauth_client_ensure(
        client_id="bff-web",
        name="CoffeeShop",
        grant_type=Application.GRANT_AUTHORIZATION_CODE,
        secret=WEB_SECRET,
        allowed_scopes=SIGN_IN_SCOPES,
        redirect_uris=[CALLBACK, "http://localhost:8000/auth/callback"],
        post_logout_redirect_uris=["http://127.0.0.1:8000/"],
    )


@pytest.fixture
def service_client(db: Any) -> Application:
    """A machine client: client_credentials with introspection and users:read."""
    return oauth_client_ensure(
        client_id="order-service",
        name="Order",
        grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        secret="order-secret-" + "y" * 32,
        allowed_scopes=["introspection", "users:read"],
    )


SERVICE_SECRET = "order-secret-" + "y" * 32


@pytest.fixture
def manager(db: Any) -> User:
    return UserFactory(email="maya@coffeeshop.test", full_name="Maya", manager=True)


@pytest.fixture
def customer(db: Any) -> User:
    return UserFactory(email="cora@coffeeshop.test", full_name="Cora")


def login_form(
    session: requests.Session, base: str, next_path: str, email: str, password: str
) -> requests.Response:
    """Log in through the real login form, not following the final redirect."""
    login_url = f"{base}/accounts/login/"
    page = session.get(login_url, params={"next": next_path})
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert token, page.text[:500]
    return session.post(
        login_url,
        data={
            "csrfmiddlewaretoken": token.group(1),
            "username": email,
            "password": password,
            "next": next_path,
        },
        allow_redirects=False,
    )


def follow_until(session: requests.Session, response: requests.Response, prefix: str) -> str:
    """Follow redirects inside the provider until one points at `prefix` (the client's
    callback, which does not exist here); return that URL."""
    for _ in range(10):
        assert response.status_code in (301, 302, 303), (response.status_code, response.text[:500])
        location = urljoin(response.url, response.headers["Location"])
        if location.startswith(prefix):
            return location
        response = session.get(location, allow_redirects=False)
    raise AssertionError("too many redirects")


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


@pytest.fixture
def provider(live_server: Any, settings: Any) -> str:
    """The live server as the issuer (its port is chosen per run); returns its base URL."""
    settings.OAUTH2_PROVIDER = {
        **settings.OAUTH2_PROVIDER,
        "OIDC_ISS_ENDPOINT": f"{live_server.url}/o",
    }
    return str(live_server.url)
