"""The payment provider's sandbox (`sandbox.payments`) as a local server."""

from __future__ import annotations

from pathlib import Path

from devstack.secret_files import SecretFiles
from devstack.servers.account import ServiceAccount
from devstack.servers.server import Server


class PaymentSandbox(Server):
    """Stands in for the real provider; its journal is `<state>/payments`, its keys are
    the secret files `payment_provider_key` and `payment_publishable_key`."""

    name = "payments"
    scheme = "http"
    stop_timeout = 10

    def __init__(
        self,
        *,
        state_dir: Path,
        port: int,
        allowed_origins: list[str],
        account: ServiceAccount | None = None,
    ) -> None:
        super().__init__(state_dir=state_dir, port=port, account=account)
        self.allowed_origins = allowed_origins
        self.secret_files = SecretFiles(state_dir)

    def start(self) -> None:
        if self.process().alive():
            return
        keys = self.secret_files
        keys.payment_provider_key()
        keys.payment_publishable_key()
        origins = [arg for origin in self.allowed_origins for arg in ("--allowed-origin", origin)]
        self.start_module(
            "sandbox.payments",
            "--port",
            str(self.port),
            "--data",
            str(self.state_dir / "payments"),
            "--key-file",
            str(keys.path("payment_provider_key")),
            "--publishable-key-file",
            str(keys.path("payment_publishable_key")),
            *origins,
        )

    def healthy(self) -> bool:
        return self.answers("/healthz")
