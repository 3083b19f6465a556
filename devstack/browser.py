"""Debian's Chromium for the end-to-end browser tests (a tool's own browser download fails here)."""

from __future__ import annotations

import os
from collections.abc import Callable

from devstack import prerequisites

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
    """Path to Chromium, installing Debian's package when we are root and it is missing.

    Raises RuntimeError naming the package to install otherwise."""
    if not os.path.exists(CHROMIUM):
        prerequisites.apt_install(prerequisites.CHROMIUM_PACKAGES, log)
    if not os.path.exists(CHROMIUM):
        raise RuntimeError(
            f"Chromium ({CHROMIUM}) is needed for the browser tests: install it, e.g. "
            f"{prerequisites.install_hint(prerequisites.CHROMIUM_PACKAGES)}"
        )
    return CHROMIUM
