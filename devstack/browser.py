"""Debian's Chromium for the end-to-end browser tests (a tool's own browser download fails here)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable

CHROMIUM = "/usr/bin/chromium"
# Flags this machine needs: no sandbox as root, and no background calls to the internet.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def ensure_chromium(log: Callable[[str], None] = print) -> str:
    """Path to Chromium, installing Debian's package when we are root and it is missing."""
    if os.path.exists(CHROMIUM):
        return CHROMIUM
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise RuntimeError(
            "Chromium is needed for the browser tests: install Debian's package "
            "(sudo apt-get install chromium)"
        )
    log("installing Chromium from Debian's packages (apt-get install chromium)")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=True, env=env)
    return CHROMIUM
