"""What every local server offers the orchestrator, and the half they all share."""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import ClassVar, Protocol

import httpx

from devstack.base import (
    HOST,
    REPO_ROOT,
    PortInUse,
    Process,
    port_in_use,
    port_setting,
    spawn,
    wait_until,
)
from devstack.servers.account import ServiceAccount


class LocalServer(Protocol):
    """One server `Stack` starts, checks and stops; `name` is its part name, `kind` what
    `status` calls it."""

    name: ClassVar[str]
    kind: ClassVar[str]

    @property
    def url(self) -> str: ...

    def ports(self) -> dict[str, int]:
        """The ports it binds, by the environment variable that chooses each."""
        ...

    def prepare(self, log: Callable[[str], None]) -> None:
        """Slow one-off work (downloads) before the servers start side by side."""
        ...

    def start(self) -> None: ...

    def healthy(self) -> bool: ...

    def process(self) -> Process: ...

    def stop(self) -> None: ...


class Server:
    """The shared half: state folder, port, service account, pid file and log, stop."""

    name: ClassVar[str]
    kind: ClassVar[str] = "infrastructure"
    scheme: ClassVar[str] = "tcp"
    stop_timeout: ClassVar[float] = 20
    stop_signal: ClassVar[int] = signal.SIGTERM

    def __init__(
        self, *, state_dir: Path, port: int, account: ServiceAccount | None = None
    ) -> None:
        self.state_dir = state_dir
        self.port = port
        self.account = account or ServiceAccount.for_state(state_dir)

    @property
    def user(self) -> str | None:
        """The account the server runs as (None: ourselves)."""
        return self.account.user

    @property
    def url(self) -> str:
        return f"{self.scheme}://{HOST}:{self.port}"

    def ports(self) -> dict[str, int]:
        return {port_setting(self.name): self.port}

    def prepare(self, log: Callable[[str], None]) -> None:
        return None

    def process(self) -> Process:
        return Process(
            name=self.name,
            pidfile=self.state_dir / "run" / f"{self.name}.pid",
            logfile=self.state_dir / "logs" / f"{self.name}.log",
        )

    def healthy(self) -> bool:
        """Whether the server answers (each server knows how to ask)."""
        raise NotImplementedError

    def stop(self) -> None:
        self.process().stop(timeout=self.stop_timeout, sig=self.stop_signal)

    def refuse_taken_ports(self) -> None:
        """Raise PortInUse when another process holds one of our ports."""
        for setting, port in self.ports().items():
            if port_in_use(port):
                raise PortInUse(self.name, port, setting)

    def spawn(
        self,
        argv: Sequence[str],
        *,
        as_account: bool = True,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> Process:
        """Start the server detached, as the service account unless `as_account` is False."""
        return spawn(
            self.name,
            argv,
            state_dir=self.state_dir,
            env=env,
            cwd=cwd,
            user=self.account.user if as_account else None,
        )

    def start_module(self, module: str, *args: str, timeout: float = 20) -> None:
        """Run `python -m module args` from this checkout, as ourselves (a server of the
        project's own, not a service account's), and wait until `healthy()`."""
        proc = self.spawn(
            [sys.executable, "-m", module, *args],
            as_account=False,
            env={"PYTHONPATH": str(REPO_ROOT)},
            cwd=REPO_ROOT,
        )
        wait_until(self.name, self.healthy, timeout=timeout, process=proc)

    def answers(self, path: str) -> bool:
        """Whether `path` under this server's URL answers 200 within 2 s."""
        try:
            return httpx.get(f"{self.url.rstrip('/')}{path}", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False
