"""The local dashboard (`devstack/dashboard/`) as a local server: part `dashboard`.

It runs as ourselves (it is our code, and it reads the state folder `status` reads) and
binds to loopback only; no login, like the rest of the local stack.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable

from devstack import prerequisites
from devstack.base import HOST, REPO_ROOT
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
        self.start_module(
            "devstack.dashboard", "--port", str(self.port), "--state-dir", str(self.state_dir)
        )

    def healthy(self) -> bool:
        return self.answers("/healthz")
