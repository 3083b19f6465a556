"""A fast hasher for OAuth client secrets only (never for people's passwords).

Why not PBKDF2 like passwords: key stretching exists to slow down guessing of
low-entropy secrets that people choose. Client secrets are 256 random bits made
by the orchestrator; nobody can enumerate 2**256 candidates however fast one
SHA-256 is, so stretching buys nothing. It would cost a lot: Django's PBKDF2 at
1,000,000 iterations takes ~0.5 s of CPU per check, and the token and
introspection endpoints check a client secret on every request, which would cap
them at a few requests per second per core. HMAC-SHA-256 with a random salt
keeps the secret unrecoverable from a database dump and takes microseconds.

django-oauth-toolkit picks this hasher by name (OAUTH2_PROVIDER["CLIENT_SECRET_HASHER"]);
it is listed last in PASSWORD_HASHERS so Django never chooses it for a user.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from django.contrib.auth.hashers import BasePasswordHasher, mask_hash
from django.utils.crypto import constant_time_compare
from django_stubs_ext import StrPromise


class ClientSecretHasher(BasePasswordHasher):
    algorithm = "coffeeshop_client_secret"

    def encode(self, password: str, salt: str) -> str:
        if password is None or not salt or "$" in salt:
            raise ValueError("a password and a salt without '$' are needed")
        digest = hmac.new(salt.encode(), password.encode(), hashlib.sha256).hexdigest()
        return f"{self.algorithm}${salt}${digest}"

    def decode(self, encoded: str) -> dict[str, Any]:
        algorithm, salt, digest = encoded.split("$", 2)
        assert algorithm == self.algorithm
        return {"algorithm": algorithm, "hash": digest, "salt": salt}

    def verify(self, password: str, encoded: str) -> bool:
        decoded = self.decode(encoded)
        return constant_time_compare(encoded, self.encode(password, decoded["salt"]))

    def safe_summary(self, encoded: str) -> dict[str | StrPromise, Any]:
        decoded = self.decode(encoded)
        return {
            "algorithm": decoded["algorithm"],
            "salt": mask_hash(decoded["salt"], show=2),
            "hash": mask_hash(decoded["hash"]),
        }

    def must_update(self, encoded: str) -> bool:
        return False

    def harden_runtime(self, password: str, encoded: str) -> None:
        """Nothing to equalise: every encoding costs the same."""
