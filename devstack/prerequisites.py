"""System programs the project needs beyond Python, and how they are installed.

As root on a machine with apt-get (Debian, Ubuntu), a missing one is installed
from the distribution's packages the first time it is needed. Otherwise the
message says exactly what to install.

| program | needed by | Debian packages |
| --- | --- | --- |
| java 17+, mvn | Kafka (`up`, `test`) | openjdk-17-jdk-headless maven |
| npm (Node.js 18+) | the web client's first build (`up`, `test`) | nodejs npm |
| chromium | the browser tests (`test`) | chromium |
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Sequence

JDK_PACKAGES = ("openjdk-17-jdk-headless", "maven")
NODE_PACKAGES = ("nodejs", "npm")
CHROMIUM_PACKAGES = ("chromium",)


def can_install() -> bool:
    """Whether we may install system packages ourselves (root, with apt-get)."""
    return os.geteuid() == 0 and shutil.which("apt-get") is not None


def install_hint(packages: Sequence[str]) -> str:
    return f"sudo apt-get install {' '.join(packages)} (Debian/Ubuntu)"


def apt_install(packages: Sequence[str], log: Callable[[str], None]) -> None:
    """`apt-get install` the packages (after an update) when we may; the caller checks
    afterwards that what it needs is there."""
    if not can_install():
        return
    log(f"installing {' '.join(packages)} with apt-get (once)…")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for argv in (
        ["apt-get", "update"],
        ["apt-get", "install", "-y", "--no-install-recommends", *packages],
    ):
        subprocess.run(argv, env=env, check=False, capture_output=True, timeout=1800)


def ensure_npm(log: Callable[[str], None] = print) -> str:
    """Install Node.js and npm as root when npm is missing; return "" when npm is on PATH,
    else what to install."""
    if shutil.which("npm") is None:
        apt_install(NODE_PACKAGES, log)
    if shutil.which("npm") is None:
        return f"npm is missing: install Node.js 18+ and npm, e.g. {install_hint(NODE_PACKAGES)}"
    return ""
