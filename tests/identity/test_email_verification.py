"""Registration mails a signed, expiring link; `email_verified` is true only once it was
followed. The OIDC parts run on a live server with a standard client (Authlib)."""

from __future__ import annotations

import re
import secrets
from typing import Any
from urllib.parse import quote

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from django.core import mail
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client

from identity_site.accounts.models import User
from identity_site.accounts.services import user_update
from identity_site.accounts.tokens import email_verification_tokens
from tests.identity.conftest import CALLBACK, PASSWORD, WEB_SECRET, browser, follow_until
from tests.identity.test_oidc_flow import discovery, verified_id_token

pytestmark = pytest.mark.django_db(transaction=True)

LINK = re.compile(r"https?://[^/\s]+(/accounts/verify/[^/\s]+/[^/\s]+/)")
NEW = "nia@coffeeshop.test"


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    cache.clear()


def register_and_sign_in(base: str) -> dict[str, Any]:
    """A new person registers on the way through the BFF's sign-in (the register link on
    the login page keeps `next`); returns the tokens the client got and the ID token's claims."""
    meta = discovery(base)
    client = OAuth2Session(
        "bff-web",
        WEB_SECRET,
        scope="openid profile email roles",
        redirect_uri=CALLBACK,
        code_challenge_method="S256",
    )
    verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
    url, _state = client.create_authorization_url(
        meta["authorization_endpoint"], code_verifier=verifier, nonce=nonce
    )
    session = browser()
    register_url = f"{base}/accounts/register/"
    next_path = url[len(base) :]
    page = session.get(register_url, params={"next": next_path})
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert csrf is not None
    registered = session.post(
        f"{register_url}?next={quote(next_path, safe='')}",
        data={
            "csrfmiddlewaretoken": csrf.group(1),
            "email": NEW,
            "full_name": "Nia",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "next": next_path,
        },
        allow_redirects=False,
    )
    callback = follow_until(session, registered, CALLBACK)
    token = client.fetch_token(
        meta["token_endpoint"], authorization_response=callback, code_verifier=verifier
    )
    claims = verified_id_token(meta, token["id_token"], nonce)
    return {"meta": meta, "token": token, "claims": claims, "session": session}


def userinfo(meta: dict[str, Any], access_token: str) -> dict[str, Any]:
    answer = requests.get(
        meta["userinfo_endpoint"],
        headers={"Authorization": f"Bearer {access_token}"},
        timeout=10,
    )
    assert answer.status_code == 200
    return dict(answer.json())


def the_link() -> str:
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [NEW]
    assert message.subject == "Confirm your e-mail address for CoffeeShop"
    found = LINK.search(str(message.body))
    assert found is not None, message.body
    return found.group(1)


def test_registration_mails_a_link_and_email_verified_is_true_only_after_it_is_followed(
    live_server: Any, provider: str, web_client: Any
) -> None:
    result = register_and_sign_in(provider)
    meta, token = result["meta"], result["token"]
    assert result["claims"]["email"] == NEW
    assert result["claims"]["email_verified"] is False
    assert userinfo(meta, token["access_token"])["email_verified"] is False
    link = the_link()

    page = requests.get(provider + link, timeout=10)

    assert page.status_code == 200
    assert "<h1>E-mail address confirmed</h1>" in page.text
    assert User.objects.get(email=NEW).email_verified is True
    assert userinfo(meta, token["access_token"])["email_verified"] is True
    refreshed = requests.post(
        meta["token_endpoint"],
        data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]},
        auth=("bff-web", WEB_SECRET),
        timeout=10,
    )
    assert refreshed.status_code == 200
    claims = verified_id_token(meta, refreshed.json()["id_token"], nonce="")
    assert claims["email_verified"] is True
    # Followed twice (a mail client's preview, a second click): still fine, nothing new.
    again = requests.get(provider + link, timeout=10)
    assert again.status_code == 200
    assert "<h1>E-mail address confirmed</h1>" in again.text


def registered(client: Client) -> User:
    response = client.post(
        "/accounts/register/",
        {"email": NEW, "full_name": "Nia", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302
    return User.objects.get(email=NEW)


def test_a_tampered_link_shows_a_page_saying_so_and_verifies_nothing(client: Client) -> None:
    user = registered(client)
    link = the_link()
    uidb64, token = link.strip("/").split("/")[-2:]
    tampered = [
        f"/accounts/verify/{uidb64}/{token[:-1]}{'a' if token[-1] != 'a' else 'b'}/",
        f"/accounts/verify/{uidb64}/not-a-token/",
        f"/accounts/verify/Zm9v/{token}/",  # another "user id"
        f"/accounts/verify/{uidb64}/zzzzzzzzzzzzzzzzzzzz-{token.split('-')[1]}/",
    ]

    for path in tampered:
        page = client.get(path)
        assert page.status_code == 400, path
        assert "This link is not valid" in page.content.decode(), path
        assert "Your e-mail address has not been confirmed." in page.content.decode()

    user.refresh_from_db()
    assert user.email_verified is False


def test_an_expired_link_shows_a_page_saying_so_and_verifies_nothing(
    client: Client, settings: Any
) -> None:
    user = registered(client)
    generator = email_verification_tokens
    issued = generator._num_seconds(generator._now()) - settings.EMAIL_VERIFICATION_SECONDS - 1
    token = generator._make_token_with_timestamp(user, issued, generator.secret)
    uidb64 = the_link().strip("/").split("/")[-2]

    page = client.get(f"/accounts/verify/{uidb64}/{token}/")

    assert page.status_code == 400
    assert "This link has expired." in page.content.decode()
    user.refresh_from_db()
    assert user.email_verified is False


def test_a_link_for_an_address_since_changed_does_not_verify_the_new_one(
    client: Client,
) -> None:
    user = registered(client)
    link = the_link()
    user_update(user=user, email="nia.new@coffeeshop.test")

    page = client.get(link)

    assert page.status_code == 400
    user.refresh_from_db()
    assert user.email_verified is False


def test_changing_a_verified_address_makes_it_unverified(client: Client) -> None:
    user = registered(client)
    assert client.get(the_link()).status_code == 200
    user.refresh_from_db()
    assert user.email_verified is True

    user_update(user=user, email="nia.new@coffeeshop.test")

    user.refresh_from_db()
    assert user.email_verified is False


def test_the_account_page_sends_a_new_link_at_most_once_a_minute(client: Client) -> None:
    registered(client)
    assert len(mail.outbox) == 1
    cache.clear()  # the minute since registration has passed

    page = client.get("/accounts/")
    first = client.post("/accounts/verify/", follow=True)
    second = client.post("/accounts/verify/", follow=True)

    assert "Send the link again" in page.content.decode()
    assert len(mail.outbox) == 2
    assert f"We sent a new link to {NEW}." in first.content.decode()
    assert "less than a minute ago" in second.content.decode()
    assert LINK.search(str(mail.outbox[1].body)) is not None


def test_demo_users_are_seeded_verified(db: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("DEMO_PASSWORD", PASSWORD)

    call_command("seed_demo")

    assert sorted(User.objects.values_list("email", "email_verified")) == [
        ("barista@coffeeshop.local", True),
        ("customer@coffeeshop.local", True),
        ("manager@coffeeshop.local", True),
    ]
