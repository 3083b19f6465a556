"""The local dashboard (`devstack/dashboard/`) as a local server: part `dashboard`.

It runs as ourselves (it is our code, and it reads the state folder `status` reads) and
binds to loopback only; no login, like the rest of the local stack.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import httpx

from devstack.base import HOST, REPO_ROOT, wait_until
from devstack.servers.server import Server


class Dashboard(Server):
    name = "dashboard"
    kind = "dashboard"
    scheme = "http"
    stop_timeout = 10

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/"

    def prepare(self, log: Callable[[str], None]) -> None:
        """Vendor the charting library from npm (once). Without it the dashboard still
        runs, and its page says the charts are missing and why."""
        from devstack.dashboard import build

        try:
            build.build(log=log)
        except build.BuildError as err:
            log(f"charts unavailable: {err}")

    def start(self) -> None:
        if self.process().alive():
            return
        proc = self.spawn(
            [
                sys.executable,
                "-m",
                "devstack.dashboard",
                "--port",
                str(self.port),
                "--state-dir",
                str(self.state_dir),
            ],
            as_account=False,
            env={"PYTHONPATH": str(REPO_ROOT)},
            cwd=REPO_ROOT,
        )
        wait_until(self.name, self.healthy, timeout=20, process=proc)

    def healthy(self) -> bool:
        try:
            return httpx.get(f"{self.url}healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False
