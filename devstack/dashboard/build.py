"""Vendor the dashboard's charting library, uPlot, from npm into `dist/` (stdlib only).

    python3 -m devstack.dashboard.build     # no-op when dist/ already holds the pinned version

The same way the web client gets Pyodide (wasm_client/build.py): the version and its
integrity hash are pinned in `package-lock.json`; `npm ci` fetches it only when
`node_modules/` lacks that exact version, and only the two files the page loads are
copied, to `dist/uplot/<version>/`, a path that changes with the version (so the
dashboard can let browsers cache it for good). No CDN, nothing hand-written.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from wasm_client.build import BuildError, installed_npm_version, locked_npm_version, npm_ci

HERE = Path(__file__).resolve().parent
DIST = HERE / "dist"
# What the page loads: the self-contained (IIFE) build, which defines `window.uPlot`, and
# its stylesheet.
UPLOT_FILES = ("uPlot.iife.min.js", "uPlot.min.css")


def locked_version(folder: Path = HERE) -> str:
    """The uPlot version `package-lock.json` pins."""
    return locked_npm_version(folder, "uplot")


def vendored(dist: Path = DIST, folder: Path = HERE) -> Path | None:
    """The folder holding the pinned version's files, or None when it is not built."""
    try:
        target = dist / "uplot" / locked_version(folder)
    except (OSError, ValueError, BuildError):
        return None
    return target if all((target / name).is_file() for name in UPLOT_FILES) else None


def build(dist: Path = DIST, *, folder: Path = HERE, log: Callable[[str], None] = print) -> Path:
    """Make `dist/uplot/<pinned version>/` hold the library; return that folder.

    Raises BuildError when npm is needed but missing or failing."""
    done = vendored(dist, folder)
    if done is not None:
        return done
    version = locked_version(folder)
    if installed_npm_version(folder, "uplot") != version:
        npm_ci(folder, "uPlot", log)
    installed = installed_npm_version(folder, "uplot")
    if installed != version:
        raise BuildError(f"npm installed uplot {installed}, the lock pins {version}")
    target = dist / "uplot" / version
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".uplot-", dir=target.parent))
    try:
        for name in UPLOT_FILES:
            origin = folder / "node_modules" / "uplot" / "dist" / name
            if not origin.is_file():
                raise BuildError(f"uplot {version} has no dist/{name}")
            shutil.copyfile(origin, staging / name)
        staging.chmod(0o755)
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def main() -> int:
    try:
        target = build()
    except BuildError as err:
        print(f"dashboard build failed: {err}", file=sys.stderr)
        return 1
    print(f"dashboard: {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
