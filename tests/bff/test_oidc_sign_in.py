"""The BFF as an OpenID Connect relying party against the real Identity: discovery, the
authorization request with PKCE, the code exchange and ID-token checks, a refresh when
the access token is about to expire, and revocation at sign-out; and the ID-token
checks of shared/oidc.py that Identity's own tokens never exercise."""

from __future__ import annotations

import html
import re
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.test import Client
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from bff_site.clients import identity
from bff_site.clients.http import identity_service
from bff_site.sessions.apis import CART_COOKIE
from bff_site.sessions.services import PENDING_KEY, TOKENS_KEY
from devstack.stack import Stack
from shared import oidc
from tests.e2e.browserless import browser_client

PASSWORD = "a long enough test password"


@pytest.fixture
def person(downstreams: Stack, settings: Any) -> str:
    """A customer registered at Identity; answers their e-mail address."""
    settings.RATE_LIMITS = {
        "session": {"limit": 100_000, "window": 60},
        "address": {"limit": 100_000, "window": 60},
    }
    cache.clear()
    identity_service.cache_clear()
    email = f"rp-{uuid.uuid4().hex[:8]}@coffeeshop.test"
    downstreams.manage(
        "identity",
        "shell",
        "-c",
        "from identity_site.accounts.services import user_create; "
        f"user_create(email={email!r}, password={PASSWORD!r}, full_name='Rita Party', "
        "email_verified=True)",
    )
    return email


def identity_sign_in(authorize_url: str, *, email: str) -> str:
    """Sign in at Identity as a browser would; answers the callback URL it sends back to."""
    with browser_client(django_settings.IDENTITY_PUBLIC_URL) as browser:
        page = browser.get(authorize_url, follow_redirects=True)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        next_field = re.search(r'name="next" value="([^"]*)"', page.text)
        assert token, page.text[:300]
        assert next_field
        answer = browser.post(
            str(page.url),
            data={
                "csrfmiddlewaretoken": token.group(1),
                "username": email,
                "password": PASSWORD,
                "next": html.unescape(next_field.group(1)),
            },
            headers={"Referer": str(page.url)},
        )
        while answer.is_redirect:
            location = answer.headers["Location"]
            if "/auth/callback" in location:
                return location
            answer = browser.get(location)
    raise AssertionError(f"Identity did not send the browser back: {answer.status_code}")


def test_a_person_signs_in_with_pkce_is_refreshed_and_signs_out_with_revocation(
    person: str,
) -> None:
    browser = Client()
    start = browser.get("/auth/login", {"next": "/orders"})
    authorize = urlsplit(start["Location"])
    query = {k: v[0] for k, v in parse_qs(authorize.query).items()}
    (pending,) = browser.session[PENDING_KEY].values()

    callback = urlsplit(identity_sign_in(start["Location"], email=person))
    back = {k: v[0] for k, v in parse_qs(callback.query).items()}
    signed_in = browser.get("/auth/callback", back)
    session = browser.get("/api/session").json()
    tokens = browser.session[TOKENS_KEY]

    assert start.status_code == 302
    assert query["response_type"] == "code"
    assert query["code_challenge_method"] == "S256"
    assert 43 <= len(pending["verifier"]) <= 128
    assert query["nonce"] == pending["nonce"]
    assert back["state"] == query["state"]
    assert (signed_in.status_code, signed_in["Location"]) == (302, "/orders")
    assert session["authenticated"] is True
    assert session["user"]["email"] == person
    assert session["user"]["roles"] == ["customer"]

    # The access token is about to expire: the next request refreshes it at Identity.
    stored = browser.session
    stored[TOKENS_KEY] = {**tokens, "expires_at": time.time() + 5}
    stored.save()
    after_refresh = browser.get("/api/session").json()
    refreshed = browser.session[TOKENS_KEY]

    assert after_refresh["authenticated"] is True
    assert refreshed["access_token"] != tokens["access_token"]
    assert refreshed["refresh_token"] != tokens["refresh_token"]  # rotated
    assert refreshed["expires_at"] > time.time() + 60

    browser.cookies[CART_COOKIE] = "W3sicHJvZHVjdF9pZCI6MX1d"  # a plain form's line
    signed_out = browser.post("/auth/logout", HTTP_ACCEPT="application/json")

    assert signed_out.json() == {"redirect": "/"}
    assert signed_out.cookies[CART_COOKIE].value == ""  # deleted with the person
    assert signed_out.cookies[CART_COOKIE]["max-age"] == 0
    assert browser.get("/api/session").json()["authenticated"] is False
    with pytest.raises(identity.IdentityError):  # revoked at Identity
        identity.token_refresh(refresh_token=refreshed["refresh_token"])


def test_an_id_token_for_another_nonce_is_refused_and_nobody_is_signed_in(person: str) -> None:
    browser = Client()
    start = browser.get("/auth/login")
    stored = browser.session
    (state,) = stored[PENDING_KEY]
    stored[PENDING_KEY] = {state: {**stored[PENDING_KEY][state], "nonce": "another nonce"}}
    stored.save()

    callback = urlsplit(identity_sign_in(start["Location"], email=person))
    back = {k: v[0] for k, v in parse_qs(callback.query).items()}
    answer = browser.get("/auth/callback", back, HTTP_ACCEPT="application/json")

    assert answer.status_code == 401
    assert answer.json()["detail"] == "the ID token's nonce does not match"
    assert browser.get("/api/session").json()["authenticated"] is False


def signed(key: RSAKey, **claims: Any) -> str:
    now = int(time.time())
    base = {"iss": "https://id.test", "aud": "bff-web", "sub": "7", "iat": now, "exp": now + 60}
    return jwt.encode({"alg": "RS256", "kid": key.kid}, {**base, **claims}, key)


@pytest.mark.parametrize(
    ("claims", "refusal"),
    [
        # OIDC Core 3.1.3.7 (4)-(5): several audiences need azp naming this client.
        ({"aud": ["bff-web", "other"]}, "the ID token is not meant for this site"),
        ({"aud": ["bff-web", "other"], "azp": "other"}, "the ID token is not meant for this site"),
        # 3.2.2.9 / 3.3.2.11: at_hash, when present, is the access token's.
        ({"at_hash": "not-the-hash"}, "the ID token's at_hash is not valid"),
        ({"iss": "https://other.test"}, "the ID token was issued by someone else"),
        ({"exp": int(time.time()) - 1}, "the ID token has expired"),
    ],
)
def test_an_id_token_failing_a_relying_party_check_is_refused(
    claims: dict[str, Any], refusal: str
) -> None:
    key = RSAKey.generate_key(2048, parameters={"kid": "k1"})
    key_set = KeySet([key]).as_dict(private=False)

    with pytest.raises(oidc.IdTokenRefused) as refused:
        oidc.id_token_claims(
            signed(key, nonce="n", **claims),
            key_set=lambda fresh: key_set,
            issuer="https://id.test",
            client_id="bff-web",
            nonce="n",
            access_token="the access token",
        )

    assert str(refused.value) == refusal


def test_an_id_token_signed_by_a_new_key_fetches_the_key_set_again_once() -> None:
    old, new = (RSAKey.generate_key(2048, parameters={"kid": k}) for k in ("old", "new"))
    fetched: list[bool] = []

    def key_set(fresh: bool) -> dict[str, Any]:
        fetched.append(fresh)
        return KeySet([old, new] if fresh else [old]).as_dict(private=False)

    claims = oidc.id_token_claims(
        signed(new, nonce="n"),
        key_set=key_set,
        issuer="https://id.test",
        client_id="bff-web",
        nonce="n",
    )

    assert (claims["sub"], fetched) == ("7", [False, True])


def test_sign_out_deletes_the_cookie_the_web_client_keeps_its_cart_in() -> None:
    source = Path(__file__).resolve().parents[2] / "wasm_client" / "src" / "coffeeshop_client"
    named = re.search(r'^CART_COOKIE = "([^"]+)"$', (source / "cart.py").read_text(), re.M)

    assert named is not None
    assert named.group(1) == CART_COOKIE
