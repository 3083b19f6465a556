"""Tokens end when the access behind them ends: a replayed authorization code revokes
what its first exchange issued (RFC 6749 section 4.1.2, RFC 9700 section 2.1.1), and a
user who is deactivated or changes role loses every token. On a live server."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import requests
from oauth2_provider.models import AccessToken, RefreshToken

from identity_site.accounts.models import Role
from identity_site.accounts.services import user_update
from identity_site.oauth.cache import introspection_cached, token_checksum
from identity_site.outbox.models import OutboxEvent
from tests.identity.conftest import CALLBACK, SERVICE_SECRET, WEB_SECRET, query
from tests.identity.test_oidc_flow import sign_in, verified_id_token

pytestmark = pytest.mark.django_db(transaction=True)

WEB = ("bff-web", WEB_SECRET)
SERVICE = ("order-service", SERVICE_SECRET)


def code_and_verifier(provider: str, email: str) -> tuple[str, str]:
    """An authorization code (not yet exchanged) and its PKCE verifier, from the real
    login form: sign_in exchanges its code, so we take a second one the same way."""
    result = sign_in(provider, email)
    client = result["client"]
    # The browser session is still signed in: a second authorization needs no form.
    verifier = "v" * 50
    url, _state = client.create_authorization_url(
        result["meta"]["authorization_endpoint"], code_verifier=verifier, nonce="n-2"
    )
    session = result["session"]
    answer = session.get(url, allow_redirects=False)
    assert answer.status_code == 302, answer.text[:300]
    assert answer.headers["Location"].startswith(CALLBACK)
    return query(answer.headers["Location"])["code"], verifier


def exchange(provider: str, code: str, verifier: str) -> requests.Response:
    return requests.post(
        f"{provider}/o/token/",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": verifier,
            "redirect_uri": CALLBACK,
        },
        auth=WEB,
        timeout=10,
    )


def refresh(provider: str, refresh_token: str) -> requests.Response:
    return requests.post(
        f"{provider}/o/token/",
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        auth=WEB,
        timeout=10,
    )


def introspect(provider: str, token: str) -> dict[str, Any]:
    answer = requests.post(
        f"{provider}/o/introspect/", data={"token": token}, auth=SERVICE, timeout=10
    )
    assert answer.status_code == 200
    return dict(answer.json())


def test_replayed_code_revokes_the_tokens_of_its_first_exchange(
    provider: str, web_client: Any, service_client: Any, customer: Any
) -> None:
    code, verifier = code_and_verifier(provider, customer.email)
    first = exchange(provider, code, verifier)
    assert first.status_code == 200
    tokens = first.json()
    assert introspect(provider, tokens["access_token"])["active"] is True
    # The active answer is now cached in Redis.
    assert introspection_cached(checksum=token_checksum(tokens["access_token"])) is not None

    replay = exchange(provider, code, verifier)

    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    assert introspection_cached(checksum=token_checksum(tokens["access_token"])) is None
    assert introspect(provider, tokens["access_token"]) == {"active": False}
    again = refresh(provider, tokens["refresh_token"])
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


def test_replayed_code_revokes_the_tokens_rotated_from_its_first_exchange_too(
    provider: str, web_client: Any, service_client: Any, customer: Any
) -> None:
    code, verifier = code_and_verifier(provider, customer.email)
    first = exchange(provider, code, verifier).json()
    rotated = refresh(provider, first["refresh_token"])
    assert rotated.status_code == 200
    second = rotated.json()
    assert introspect(provider, second["access_token"])["active"] is True
    # The first sign-in's tokens (from sign_in) are another family and stay.
    others = AccessToken.objects.filter(user=customer).exclude(
        token_checksum=token_checksum(second["access_token"])
    )
    assert others.count() == 1

    replay = exchange(provider, code, verifier)

    assert replay.status_code == 400
    assert introspect(provider, second["access_token"]) == {"active": False}
    assert refresh(provider, second["refresh_token"]).status_code == 400
    assert list(AccessToken.objects.filter(user=customer)) == list(others)


def test_a_code_exchanged_twice_at_once_leaves_no_active_token(
    provider: str, web_client: Any, service_client: Any, customer: Any
) -> None:
    code, verifier = code_and_verifier(provider, customer.email)
    before = set(AccessToken.objects.filter(user=customer).values_list("pk", flat=True))
    barrier = threading.Barrier(2)
    answers: list[requests.Response] = []

    def race() -> None:
        barrier.wait()
        answers.append(exchange(provider, code, verifier))

    threads = [threading.Thread(target=race) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(a.status_code for a in answers) == [200, 400]
    refused = next(a for a in answers if a.status_code == 400)
    assert refused.json()["error"] == "invalid_grant"
    issued = next(a for a in answers if a.status_code == 200).json()
    assert introspect(provider, issued["access_token"]) == {"active": False}
    assert set(AccessToken.objects.filter(user=customer).values_list("pk", flat=True)) == before


def test_an_unknown_code_revokes_nothing(
    provider: str, web_client: Any, service_client: Any, customer: Any
) -> None:
    tokens = sign_in(provider, customer.email)["token"]

    answer = exchange(provider, "not-a-code", "v" * 50)

    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"
    assert introspect(provider, tokens["access_token"])["active"] is True


def signed_in_twice(provider: str, email: str) -> list[dict[str, Any]]:
    """Two sign-ins (two devices): two token families."""
    return [sign_in(provider, email)["token"] for _ in range(2)]


def test_deactivating_a_user_revokes_all_their_tokens_and_publishes_user_updated(
    provider: str, web_client: Any, service_client: Any, customer: Any, manager: Any
) -> None:
    mine = signed_in_twice(provider, customer.email)
    theirs = sign_in(provider, manager.email)["token"]
    for tokens in mine:
        assert introspect(provider, tokens["access_token"])["active"] is True
    events_before = OutboxEvent.objects.count()

    user_update(user=customer, is_active=False)

    for tokens in mine:
        assert introspect(provider, tokens["access_token"]) == {"active": False}
        assert introspection_cached(checksum=token_checksum(tokens["access_token"])) is None
        answer = refresh(provider, tokens["refresh_token"])
        assert answer.status_code == 400
        assert answer.json()["error"] == "invalid_grant"
    assert AccessToken.objects.filter(user=customer).count() == 0
    assert RefreshToken.objects.filter(user=customer, revoked__isnull=True).count() == 0
    # Somebody else's session is untouched.
    assert introspect(provider, theirs["access_token"])["active"] is True
    event = OutboxEvent.objects.order_by("pk").last()
    assert OutboxEvent.objects.count() == events_before + 1
    assert event is not None
    assert event.event_type == "user.updated"
    assert event.payload == {
        "user_id": str(customer.pk),
        "email": customer.email,
        "full_name": "Cora",
        "role": "customer",
        "roles": ["customer"],
        "is_active": False,
    }


def test_demoting_a_manager_revokes_their_tokens(
    provider: str, web_client: Any, service_client: Any, manager: Any
) -> None:
    tokens = sign_in(provider, manager.email)["token"]
    assert introspect(provider, tokens["access_token"])["roles"] == ["manager", "barista"]

    user_update(user=manager, role=Role.BARISTA)

    assert introspect(provider, tokens["access_token"]) == {"active": False}
    assert refresh(provider, tokens["refresh_token"]).status_code == 400
    event = OutboxEvent.objects.order_by("pk").last()
    assert event is not None
    assert (event.event_type, event.payload["roles"], event.payload["is_active"]) == (
        "user.updated",
        ["barista"],
        True,
    )
    # Signing in again gives the new role.
    assert sign_in(provider, manager.email)["token"]["access_token"]
    fresh = AccessToken.objects.get(user=manager)
    assert fresh.user.role == Role.BARISTA


def test_a_name_change_revokes_nothing_and_a_refresh_carries_the_new_claims(
    provider: str, web_client: Any, service_client: Any, customer: Any
) -> None:
    result = sign_in(provider, customer.email)
    tokens = result["token"]

    user_update(user=customer, full_name="Cora Changed")
    rotated = refresh(provider, tokens["refresh_token"])

    assert rotated.status_code == 200
    # An ID token from a refresh carries no nonce (OIDC Core section 12.2).
    claims = verified_id_token(result["meta"], rotated.json()["id_token"], nonce="")
    assert (claims["name"], claims["roles"]) == ("Cora Changed", ["customer"])
    assert introspect(provider, rotated.json()["access_token"])["active"] is True


def test_refresh_for_a_user_deactivated_behind_the_services_back_is_refused(
    provider: str, web_client: Any, service_client: Any, customer: Any
) -> None:
    tokens = sign_in(provider, customer.email)["token"]
    type(customer).objects.filter(pk=customer.pk).update(is_active=False)

    answer = refresh(provider, tokens["refresh_token"])

    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"
    assert RefreshToken.objects.filter(user=customer, revoked__isnull=True).count() == 1
    assert introspect(provider, tokens["access_token"]) == {"active": False}
