"""Secrets the orchestrator itself keeps, as 0600 files in `<state>/secrets/`.

The Redis password (Redis reads its configuration, OpenBao gets a copy for the sites)
and the payment sandbox's keys (the sandbox reads the files; Order's secret in OpenBao
gets the secret key, the BFF's the publishable one).
"""

from __future__ import annotations

import secrets
from pathlib import Path


def token() -> str:
    return secrets.token_urlsafe(32)


class SecretFiles:
    def __init__(self, state_dir: Path) -> None:
        self.dir = state_dir / "secrets"

    def path(self, name: str) -> Path:
        return self.dir / name

    def redis_password(self) -> str:
        return self._ensure("redis_password")

    def payment_provider_key(self) -> str:
        """The sandbox provider's secret API key (only Order charges)."""
        return self._ensure("payment_provider_key", "sk_test_")

    def payment_publishable_key(self) -> str:
        """The sandbox provider's publishable key (`pk_…`, tokenization only), which the
        BFF hands to browsers."""
        return self._ensure("payment_publishable_key", "pk_test_")

    def _ensure(self, name: str, prefix: str = "") -> str:
        path = self.path(name)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.parent.chmod(0o700)
            path.write_text(prefix + token())
            path.chmod(0o600)
        return path.read_text().strip()
