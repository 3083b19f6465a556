"""Rotating the ID-token signing key against the real OpenBao the test runner started.

Each test puts the key set back as it found it (a new version with the same values).
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import hvac
import hvac.exceptions
import pytest
import requests
from authlib.jose.errors import JoseError
from django.core.management import CommandError, call_command
from jwcrypto import jws

from identity_site.oauth.signing_keys import KEYS_PATH, current_key_ring, key_ring_cache
from tests.identity.conftest import PASSWORD, browser, login_form
from tests.identity.test_oidc_flow import sign_in, verified_id_token


def admin(test_stack: Any) -> hvac.Client:
    return test_stack.openbao.admin_client()


def stored(test_stack: Any) -> tuple[dict[str, str], int]:
    """The key set's values and version, read with the root token."""
    data = admin(test_stack).secrets.kv.v2.read_secret_version(
        path=KEYS_PATH, mount_point="secret", raise_on_deleted_version=True
    )["data"]
    return dict(data["data"]), int(data["metadata"]["version"])


def kid_of(id_token: str) -> str:
    unverified = jws.JWS()
    unverified.deserialize(id_token)
    return str(unverified.jose_header["kid"])


def jwks_kids(base: str) -> list[str]:
    response = requests.get(f"{base}/o/.well-known/jwks.json", timeout=10)
    assert response.status_code == 200
    return [key["kid"] for key in response.json()["keys"]]


def rotate(test_stack: Any, *args: str) -> str:
    """Run the command as `manage_all.py rotate-signing-key` does: a short-lived token
    holding the rotation policy on stdin, revoked afterwards."""
    token = test_stack.signing_key_rotation_token()
    out = io.StringIO()
    try:
        call_command("rotate_signing_key", *args, stdin=io.StringIO(token + "\n"), stdout=out)
    finally:
        test_stack.revoke_token(token)
    return out.getvalue()


@pytest.fixture
def keys_restored(test_stack: Any) -> Iterator[dict[str, str]]:
    """The key set as it was; written back after the test, and this process re-reads it."""
    before, _ = stored(test_stack)
    key_ring_cache.expire()
    yield before
    admin(test_stack).secrets.kv.v2.create_or_update_secret(
        path=KEYS_PATH, secret=before, mount_point="secret"
    )
    key_ring_cache.expire()


@pytest.fixture
def short_lived_tokens(settings: Any) -> int:
    """Tokens live 20 s, keys are re-read on every use, no clock leeway: a 20 s window.

    Long enough for a sign-in, a rotation (a manage.py process) and a verification on a
    loaded machine; at 6 s the old key was sometimes gone before the check that it stays."""
    settings.OAUTH2_PROVIDER = {
        **settings.OAUTH2_PROVIDER,
        "ID_TOKEN_EXPIRE_SECONDS": 20,
        "ACCESS_TOKEN_EXPIRE_SECONDS": 20,
    }
    settings.SIGNING_KEYS_REFRESH_SECONDS = 0
    settings.SIGNING_KEYS_RETIRE_LEEWAY_SECONDS = 0
    return 20


@pytest.mark.django_db(transaction=True)
def test_rotated_key_stays_in_jwks_until_its_tokens_expire_and_new_tokens_use_new_kid(
    test_stack: Any,
    keys_restored: dict[str, str],
    short_lived_tokens: int,
    provider: str,
    web_client: Any,
    customer: Any,
) -> None:
    before = sign_in(provider, customer.email)
    old_token = before["token"]["id_token"]
    old_kid = kid_of(old_token)
    assert jwks_kids(provider) == [old_kid]

    output = rotate(test_stack)

    values, _ = stored(test_stack)
    new_kid = current_key_ring().signing.thumbprint()
    assert new_kid != old_kid
    assert f"signing key is now {new_kid}; {old_kid} is retired" in output
    assert jwks_kids(provider) == [new_kid, old_kid]
    # A token the old key signed before the rotation still verifies against the JWKS.
    claims = verified_id_token(before["meta"], old_token, before["nonce"])
    assert claims["sub"] == str(customer.pk)
    # New tokens are signed with the new key and carry its kid.
    after = sign_in(provider, customer.email)
    assert kid_of(after["token"]["id_token"]) == new_kid
    assert verified_id_token(after["meta"], after["token"]["id_token"], after["nonce"])
    (retired,) = json.loads(values["retired_keys"])
    retired_at = datetime.fromisoformat(retired["retired_at"])
    drop_after = datetime.fromisoformat(retired["drop_after"])
    assert drop_after - retired_at == timedelta(seconds=short_lived_tokens)

    # After the window every token the old key signed has expired; it leaves the JWKS.
    time.sleep(max((drop_after - datetime.now(UTC)).total_seconds(), 0) + 1)
    assert jwks_kids(provider) == [new_kid]
    assert stored(test_stack)[0] == values  # dropped from the JWKS by the clock alone
    # Gone from the key set, and expired anyway (authlib: unknown kid is a ValueError).
    with pytest.raises((JoseError, ValueError)):
        verified_id_token(before["meta"], old_token, before["nonce"])


def test_retirement_window_is_longest_token_lifetime_plus_refresh_and_leeway(
    test_stack: Any, keys_restored: dict[str, str], settings: Any
) -> None:
    settings.OAUTH2_PROVIDER = {
        **settings.OAUTH2_PROVIDER,
        "ID_TOKEN_EXPIRE_SECONDS": 300,
        "ACCESS_TOKEN_EXPIRE_SECONDS": 600,
    }
    settings.SIGNING_KEYS_REFRESH_SECONDS = 60
    settings.SIGNING_KEYS_RETIRE_LEEWAY_SECONDS = 60

    rotate(test_stack)

    values, _ = stored(test_stack)
    (retired,) = json.loads(values["retired_keys"])
    window = datetime.fromisoformat(retired["drop_after"]) - datetime.fromisoformat(
        retired["retired_at"]
    )
    assert window == timedelta(seconds=600 + 60 + 60)


def test_second_rotation_keeps_both_older_keys_while_their_tokens_live(
    test_stack: Any, keys_restored: dict[str, str]
) -> None:
    first_kid = current_key_ring().signing.thumbprint()
    rotate(test_stack)
    key_ring_cache.expire()
    second_kid = current_key_ring().signing.thumbprint()

    rotate(test_stack)

    key_ring_cache.expire()
    ring = current_key_ring()
    assert [k.thumbprint() for k in ring.published()] == [
        ring.signing.thumbprint(),
        second_kid,
        first_kid,
    ]


def test_retire_after_shorter_than_token_lifetime_is_refused_and_nothing_changes(
    test_stack: Any, keys_restored: dict[str, str]
) -> None:
    _, version = stored(test_stack)

    with pytest.raises(CommandError, match="shorter than the tokens"):
        rotate(test_stack, "--retire-after", "10")

    assert stored(test_stack) == (keys_restored, version)


def test_site_approle_can_read_but_not_write_the_keys_so_rotating_with_it_fails(
    test_stack: Any, keys_restored: dict[str, str]
) -> None:
    env = test_stack.site_env("identity")
    site = hvac.Client(url=env["VAULT_ADDR"])
    site.auth.approle.login(
        role_id=Path(env["VAULT_ROLE_ID_FILE"]).read_text().strip(),
        secret_id=Path(env["VAULT_SECRET_ID_FILE"]).read_text().strip(),
    )
    _, version = stored(test_stack)
    read = site.secrets.kv.v2.read_secret_version(
        path=KEYS_PATH, mount_point="secret", raise_on_deleted_version=True
    )
    assert read["data"]["data"] == keys_restored

    with pytest.raises(hvac.exceptions.Forbidden):
        site.secrets.kv.v2.create_or_update_secret(
            path=KEYS_PATH, secret={"signing_key": "x"}, mount_point="secret"
        )
    with pytest.raises(CommandError, match="may not read and write"):
        call_command(
            "rotate_signing_key", stdin=io.StringIO(site.token + "\n"), stdout=io.StringIO()
        )
    with pytest.raises(CommandError, match=r"token .* on stdin"):
        call_command("rotate_signing_key", stdin=io.StringIO(""), stdout=io.StringIO())

    assert stored(test_stack) == (keys_restored, version)


def test_rotation_token_can_touch_nothing_but_the_keys(test_stack: Any) -> None:
    token = test_stack.signing_key_rotation_token()
    try:
        client = hvac.Client(url=test_stack.site_env("identity")["VAULT_ADDR"], token=token)
        with pytest.raises(hvac.exceptions.Forbidden):
            client.secrets.kv.v2.read_secret_version(
                path="coffeeshop/identity", mount_point="secret", raise_on_deleted_version=True
            )
    finally:
        test_stack.revoke_token(token)


def test_running_process_signs_with_new_key_within_the_refresh_interval(
    test_stack: Any, keys_restored: dict[str, str], settings: Any
) -> None:
    settings.SIGNING_KEYS_REFRESH_SECONDS = 2
    old_kid = current_key_ring().signing.thumbprint()

    rotate(test_stack)

    # Still the old key until this process's copy is older than the refresh interval.
    assert current_key_ring().signing.thumbprint() == old_kid
    time.sleep(2.2)
    new_kid = current_key_ring().signing.thumbprint()
    assert new_kid != old_kid
    assert [k.thumbprint() for k in current_key_ring().published()] == [new_kid, old_kid]


@pytest.mark.django_db(transaction=True)
def test_logout_accepts_an_id_token_hint_signed_by_the_retired_key(
    test_stack: Any,
    keys_restored: dict[str, str],
    settings: Any,
    provider: str,
    web_client: Any,
    customer: Any,
) -> None:
    settings.SIGNING_KEYS_REFRESH_SECONDS = 0
    result = sign_in(provider, customer.email)
    session = browser()
    login_form(session, provider, "/accounts/", customer.email, PASSWORD)
    rotate(test_stack)
    assert kid_of(result["token"]["id_token"]) != current_key_ring().signing.thumbprint()

    response = session.get(
        result["meta"]["end_session_endpoint"],
        params={
            "id_token_hint": result["token"]["id_token"],
            "client_id": "bff-web",
            "post_logout_redirect_uri": "http://127.0.0.1:8000/",
        },
        allow_redirects=False,
    )

    assert response.status_code == 302
    assert response.headers["Location"] == "http://127.0.0.1:8000/"
    assert session.get(f"{provider}/accounts/", allow_redirects=False).status_code == 302


def test_manage_all_rotate_signing_key_rotates_through_identitys_command(
    test_stack: Any,
    keys_restored: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from devstack.cli import main

    old_kid = current_key_ring().signing.thumbprint()
    monkeypatch.setenv("COFFEESHOP_STATE_DIR", str(test_stack.state))

    code = main(["rotate-signing-key"])

    out = capsys.readouterr().out
    key_ring_cache.expire()
    ring = current_key_ring()
    assert code == 0
    assert f"signing key is now {ring.signing.thumbprint()}; {old_kid} is retired" in out
    assert [k.thumbprint() for k in ring.published()] == [ring.signing.thumbprint(), old_kid]


def test_provisioning_moves_a_key_from_identitys_secret_into_the_key_set(
    test_stack: Any, keys_restored: dict[str, str]
) -> None:
    kv = admin(test_stack).secrets.kv.v2
    legacy = keys_restored["signing_key"]
    kv.delete_metadata_and_all_versions(path=KEYS_PATH, mount_point="secret")
    kv.patch(
        path="coffeeshop/identity", secret={"oidc_rsa_private_key": legacy}, mount_point="secret"
    )
    identity = kv.read_secret_version(
        path="coffeeshop/identity", mount_point="secret", raise_on_deleted_version=True
    )["data"]["data"]

    test_stack.ensure_identity_keys(identity)

    assert stored(test_stack)[0] == {"signing_key": legacy, "retired_keys": "[]"}
    after = kv.read_secret_version(
        path="coffeeshop/identity", mount_point="secret", raise_on_deleted_version=True
    )["data"]["data"]
    assert after == {k: v for k, v in identity.items() if k != "oidc_rsa_private_key"}
