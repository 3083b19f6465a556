"""Identity's ID-token signing keys: kept in OpenBao, published as a JWKS, rotatable.

The key set is the KV v2 secret `secret/coffeeshop/identity-keys`, apart from the
site's own secret so that the right to rotate keys is not the right to change the
database password (docs/decisions.md, "Signing keys"). It holds two strings:

- `signing_key`: the PEM of the RSA key that signs new ID tokens;
- `retired_keys`: a JSON list of `{"key": PEM, "retired_at": ISO 8601, "drop_after":
  ISO 8601}`, keys that sign nothing any more but stay in the JWKS until every token
  they signed has expired (`drop_after`), then vanish from it.

Every key is published under its RFC 7638 thumbprint as `kid` (as django-oauth-toolkit
does). Identity's AppRole may only *read* this secret; `rotate_signing_key` writes it
with a separate, short-lived token (see that command). Each process re-reads the key
set every SIGNING_KEYS_REFRESH_SECONDS, so running sites pick up a rotation within that
bound without a restart.

This module is imported by the settings, so it touches no Django model at import.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import hvac
import hvac.exceptions
import requests
from django.conf import settings
from jwcrypto import jwk

from shared.secrets import KV_MOUNT, SecretStoreError, load_secrets_from_env

KEYS_PATH = "coffeeshop/identity-keys"
SIGNING_KEY = "signing_key"
RETIRED_KEYS = "retired_keys"
# Defaults of the settings below (read with getattr: the type-checking settings of
# devstack/mypy_settings.py don't list them).
DEFAULT_REFRESH_SECONDS = 60
DEFAULT_RETIRE_LEEWAY_SECONDS = 60

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetiredKey:
    key: jwk.JWK
    retired_at: datetime
    drop_after: datetime


@dataclass(frozen=True)
class KeyRing:
    """The signing key and the retired keys still (or no longer) worth publishing."""

    signing: jwk.JWK
    retired: tuple[RetiredKey, ...] = ()

    def published(self, now: datetime | None = None) -> list[jwk.JWK]:
        """The signing key first, then each retired key whose tokens may still be alive."""
        now = now or datetime.now(UTC)
        return [self.signing, *(r.key for r in self.retired if r.drop_after > now)]

    def jwks(self, now: datetime | None = None) -> dict[str, Any]:
        """The public JWK Set (RFC 7517 section 5), each key with its `kid`."""
        keys = []
        for key in self.published(now):
            data: dict[str, Any] = {"alg": "RS256", "use": "sig", "kid": key.thumbprint()}
            data.update(json.loads(key.export_public()))
            keys.append(data)
        return {"keys": keys}

    def verification_keys(self, now: datetime | None = None) -> jwk.JWKSet:
        """Every published key, with its kid, for checking a token we signed."""
        keyset = jwk.JWKSet()
        for key in self.published(now):
            public = jwk.JWK.from_json(key.export_public())
            public.update(kid=key.thumbprint(), alg="RS256", use="sig")
            keyset.add(public)
        return keyset


def key_ring_from_values(values: Mapping[str, str]) -> KeyRing:
    """Parse the secret's values; raises SecretStoreError naming the key that is wrong."""
    pem = values.get(SIGNING_KEY, "")
    if not pem:
        raise SecretStoreError(f"secret/{KEYS_PATH} has no {SIGNING_KEY}")
    try:
        signing = jwk.JWK.from_pem(pem.encode())
        retired = tuple(
            RetiredKey(
                key=jwk.JWK.from_pem(str(item["key"]).encode()),
                retired_at=_parse_time(item["retired_at"]),
                drop_after=_parse_time(item["drop_after"]),
            )
            for item in json.loads(values.get(RETIRED_KEYS) or "[]")
        )
    except (ValueError, TypeError, KeyError) as exc:
        # Never the value itself: it is a private key.
        raise SecretStoreError(f"secret/{KEYS_PATH} is malformed ({type(exc).__name__})") from None
    return KeyRing(signing=signing, retired=retired)


def values_from_key_ring(ring: KeyRing) -> dict[str, str]:
    """The secret's values for `ring` (the inverse of key_ring_from_values)."""
    return {
        SIGNING_KEY: _pem(ring.signing),
        RETIRED_KEYS: json.dumps(
            [
                {
                    "key": _pem(r.key),
                    "retired_at": _format_time(r.retired_at),
                    "drop_after": _format_time(r.drop_after),
                }
                for r in ring.retired
            ]
        ),
    }


def generate_key() -> jwk.JWK:
    """A new 2048-bit RSA key (RS256, RFC 7518 section 3.3)."""
    return jwk.JWK.generate(kty="RSA", size=2048)


def key_ring_rotate(
    ring: KeyRing, *, new_key: jwk.JWK, now: datetime, retire_for: timedelta
) -> KeyRing:
    """`new_key` signs from now on; the old signing key stays published until now +
    `retire_for`; retired keys already past their `drop_after` are forgotten."""
    kept = tuple(r for r in ring.retired if r.drop_after > now)
    old = RetiredKey(key=ring.signing, retired_at=now, drop_after=now + retire_for)
    return KeyRing(signing=new_key, retired=(old, *kept))


def retirement_window() -> timedelta:
    """How long a retired key stays published: until every token it signed has expired.

    The longest lifetime of a token Identity signs or issues (ID token, access token),
    plus the refresh interval (a worker that has not re-read the key set yet may sign
    with the old key that much longer), plus a leeway for relying parties' clocks.
    """
    from oauth2_provider.settings import oauth2_settings  # needs configured settings

    lifetime = max(
        int(oauth2_settings.ID_TOKEN_EXPIRE_SECONDS),
        int(oauth2_settings.ACCESS_TOKEN_EXPIRE_SECONDS),
    )
    return timedelta(seconds=lifetime + refresh_seconds() + _leeway_seconds())


def refresh_seconds() -> int:
    return int(getattr(settings, "SIGNING_KEYS_REFRESH_SECONDS", DEFAULT_REFRESH_SECONDS))


def _leeway_seconds() -> int:
    return int(
        getattr(settings, "SIGNING_KEYS_RETIRE_LEEWAY_SECONDS", DEFAULT_RETIRE_LEEWAY_SECONDS)
    )


# ---- reading with the site's AppRole (read-only) ------------------------------------


def read_key_values(environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """The key set's raw values, read as the environment says: with the site's AppRole
    (VAULT_ADDR, VAULT_ROLE_ID or VAULT_ROLE_ID_FILE, VAULT_SECRET_ID_FILE), or through
    the Dapr sidecar with `MESH=dapr` (shared.secrets.load_secrets_from_env).

    Raises SecretStoreError.
    """
    return load_secrets_from_env([KEYS_PATH], environ)[KEYS_PATH]


class _KeyRingCache:
    """This process's key ring, re-read from OpenBao at most every refresh interval.

    Seeded from the key set the settings read at start-up. The request that finds the
    ring stale re-reads it (three small calls to OpenBao: login, read, revoke) while
    other threads keep using the old ring. If OpenBao can't be read, the old ring is
    kept and the read is retried after another interval: a sealed store must not stop
    Identity from signing. Retired keys still leave the JWKS on time, since `published`
    filters by the clock, not by the last read.
    """

    def __init__(self) -> None:
        self._ring: KeyRing | None = None
        self._loaded_at = float("-inf")
        self._lock = threading.Lock()

    def get(self) -> KeyRing:
        ring = self._ring
        if ring is None:
            with self._lock:
                if self._ring is None:
                    # The key set the settings read at start-up (getattr: the
                    # type-checking settings don't have it).
                    seed = getattr(settings, "SIGNING_KEYSET", None)
                    self._ring = key_ring_from_values(seed or read_key_values())
                    self._loaded_at = time.monotonic()
                ring = self._ring
        if time.monotonic() - self._loaded_at >= refresh_seconds() and self._lock.acquire(
            blocking=False
        ):
            try:
                self._ring = ring = key_ring_from_values(read_key_values())
            except SecretStoreError as err:
                logger.warning("signing keys not refreshed, keeping the current ones: %s", err)
            finally:
                self._loaded_at = time.monotonic()
                self._lock.release()
        return ring

    def expire(self) -> None:
        """Re-read the key set from OpenBao on the next use."""
        self._loaded_at = float("-inf")


key_ring_cache = _KeyRingCache()


def current_key_ring() -> KeyRing:
    return key_ring_cache.get()


# ---- rotating with a token allowed to write the key set --------------------------------


@dataclass(frozen=True)
class Rotation:
    new_kid: str
    retired_kid: str
    drop_after: datetime
    published_kids: list[str]


def signing_key_rotate(
    *,
    vault_addr: str,
    token: str,
    retire_for: timedelta,
    now: datetime | None = None,
    timeout: float = 10.0,
) -> Rotation:
    """Make a new signing key and write the rotated key set to OpenBao with `token`.

    `token` must be allowed to read and write `secret/coffeeshop/identity-keys` (the
    orchestrator's policy `coffeeshop-identity-key-rotation`); the write is a
    check-and-set on the version read, so two concurrent rotations can't lose a key.
    Raises SecretStoreError (the store is unreachable, the token is refused, the key set
    is missing or malformed, or it changed while we rotated).
    """
    # Whole seconds: the times are stored as ISO 8601 without fractions.
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    session = requests.Session()
    session.trust_env = False
    client = hvac.Client(url=vault_addr, token=token, timeout=timeout, session=session)
    kv = client.secrets.kv.v2
    try:
        try:
            current = kv.read_secret_version(
                path=KEYS_PATH, mount_point=KV_MOUNT, raise_on_deleted_version=True
            )["data"]
            ring = key_ring_from_values(current["data"] or {})
            version = int(current["metadata"]["version"])
            rotated = key_ring_rotate(ring, new_key=generate_key(), now=now, retire_for=retire_for)
            kv.create_or_update_secret(
                path=KEYS_PATH,
                secret=values_from_key_ring(rotated),
                cas=version,
                mount_point=KV_MOUNT,
            )
        except hvac.exceptions.InvalidPath:
            raise SecretStoreError(f"no secret {KV_MOUNT}/{KEYS_PATH}") from None
        except hvac.exceptions.Forbidden:
            raise SecretStoreError(
                f"this token may not read and write {KV_MOUNT}/{KEYS_PATH}"
            ) from None
        except hvac.exceptions.InvalidRequest as exc:
            if "check-and-set" in str(exc):
                raise SecretStoreError(
                    f"{KV_MOUNT}/{KEYS_PATH} changed while rotating; nothing written, try again"
                ) from None
            raise SecretStoreError(f"writing {KV_MOUNT}/{KEYS_PATH} was refused") from None
        except (hvac.exceptions.VaultError, requests.RequestException) as exc:
            raise SecretStoreError(
                f"OpenBao at {vault_addr}: {type(exc).__name__} while rotating"
            ) from None
    finally:
        session.close()
    return Rotation(
        new_kid=rotated.signing.thumbprint(),
        retired_kid=ring.signing.thumbprint(),
        drop_after=now + retire_for,
        published_kids=[k.thumbprint() for k in rotated.published(now)],
    )


def _pem(key: jwk.JWK) -> str:
    return key.export_to_pem(private_key=True, password=None).decode()


def _format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _parse_time(text: Any) -> datetime:
    moment = datetime.fromisoformat(str(text))
    if moment.tzinfo is None:
        raise ValueError("a time without a zone")
    return moment


def read_key_values_or_refuse(site: str) -> dict[str, str]:
    """`read_key_values` for the settings: a site without usable signing keys won't start."""
    from django.core.exceptions import ImproperlyConfigured

    try:
        values = read_key_values()
        key_ring_from_values(values)
    except SecretStoreError as err:
        raise ImproperlyConfigured(f"{site} refuses to start: signing keys: {err}") from None
    return values
