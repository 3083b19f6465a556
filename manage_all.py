#!/usr/bin/env python3
"""CoffeeShop's local orchestrator: `python3 manage_all.py up|down|status|logs|reset|test`.

This file needs only the standard library. On a fresh machine it creates `.venv`,
installs the locked, hashed dependencies from `requirements.lock`, and then hands
over to `devstack.cli`, which runs inside that environment.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
LOCK = ROOT / "requirements.lock"
STAMP = VENV / ".lock-sha256"
PY = VENV / "bin" / "python"
NO_VENV = (
    "Python {version} here cannot make a virtual environment with pip (its `ensurepip` "
    "module is missing). On Debian/Ubuntu install it with\n\n"
    "    sudo apt-get install python3-venv python{version}-venv\n\n"
    "and run this command again."
)


def _say(msg: str) -> None:
    print(f"[manage_all] {msg}", flush=True)


def _lock_digest() -> str:
    return hashlib.sha256(LOCK.read_bytes()).hexdigest()


def _uv_requirement() -> str:
    """The hashed `uv==…` block of the lock file, so even uv is installed by hash."""
    lines = LOCK.read_text().splitlines()
    out: list[str] = []
    taking = False
    for line in lines:
        if line.startswith("uv=="):
            taking = True
        elif taking and not line.startswith(" "):
            break
        if taking:
            out.append(line)
    if not out:
        raise SystemExit("requirements.lock has no uv pin; regenerate it (see README).")
    return "\n".join(out) + "\n"


def ensure_venv() -> None:
    """Create the virtual environment and sync it to the lock file when the lock changed."""
    if sys.version_info[:2] != (3, 11):
        raise SystemExit(
            f"CoffeeShop needs Python 3.11 (found {sys.version.split()[0]}); "
            "run it as `python3.11 manage_all.py …`."
        )
    digest = _lock_digest()
    if PY.exists() and STAMP.exists() and STAMP.read_text().strip() == digest:
        return
    uv = VENV / "bin" / "uv"
    if not PY.exists() or not (uv.exists() or (VENV / "bin" / "pip").exists()):
        _create_venv()
    if not uv.exists():
        _say("installing uv (pinned and hashed in requirements.lock)")
        req = VENV / "uv-requirement.txt"
        req.write_text(_uv_requirement())
        subprocess.run(
            [
                str(PY),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--require-hashes",
                "--no-deps",
                "-r",
                str(req),
            ],
            check=True,
        )
    _say("installing the locked dependencies (requirements.lock, hashes required)")
    # Copies, not uv's default hard links into its cache: with links, a file changed in
    # one checkout's .venv (a patched library, a stripped .so) changes it in every other
    # checkout's, under their running servers.
    subprocess.run(
        [
            *(str(uv), "pip", "sync", "--quiet", "--python", str(PY)),
            *("--link-mode", "copy", "--require-hashes", str(LOCK)),
        ],
        check=True,
    )
    STAMP.write_text(digest)


def _create_venv() -> None:
    """Create `.venv` with pip, or exit with what to install when this Python can't."""
    message = NO_VENV.format(version=f"{sys.version_info[0]}.{sys.version_info[1]}")
    if importlib.util.find_spec("ensurepip") is None:
        raise SystemExit(message)
    _say("creating the virtual environment in .venv")
    try:
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    except (OSError, subprocess.CalledProcessError):
        shutil.rmtree(VENV, ignore_errors=True)
        raise SystemExit(message) from None


def main() -> int:
    ensure_venv()
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (
        os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else ""
    )
    env.setdefault("PYTHONUNBUFFERED", "1")
    argv = [str(PY), "-m", "devstack.cli", *sys.argv[1:]]
    os.chdir(ROOT)
    try:
        return subprocess.call(argv, env=env)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
