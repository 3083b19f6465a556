"""The local dashboard (`devstack/dashboard/`) as a local server: part `dashboard`.

It runs as ourselves (it is our code, and it reads the state folder `status` reads) and
binds to loopback only; no login, like the rest of the local stack.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable

import httpx

from devstack import prerequisites
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
        """Vendor the charting library from npm (once; `devstack/dashboard/build.py`, run
        as a program like the web client's build). Without it the dashboard still runs,
        and its page says the charts are missing and why."""
        npm_missing = prerequisites.ensure_npm(log)
        result = subprocess.run(
            [sys.executable, "-m", "devstack.dashboard.build"],
            cwd=REPO_ROOT,
            env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            reason = (result.stderr or result.stdout).strip()[-500:] or npm_missing
            log(f"charts unavailable: {reason}")

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
