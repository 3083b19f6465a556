"""Debian's podman as root, configured for this project without touching system files.

Two settings make it work on these machines (issue 14): `runtime = "runc"` (crun fails
on a mixed cgroup layout) and default ulimits. They go in a `containers.conf` that
`CONTAINERS_CONF` points at; the image store lives in `.cache/containers/` through
`CONTAINERS_STORAGE_CONF`, so built images and the base survive between runs.

Containers started by runc leave the caller's cgroup, so whoever starts one removes it
(`--rm`, `podman kube down`, `remove_containers`) also when a test fails.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

from devstack import prerequisites
from devstack.deploy.cache import machine_cache

# catatonit: the init of the pause container every `podman kube play` pod starts with.
PODMAN_PACKAGES = ("podman", "buildah", "runc", "skopeo", "mmdebstrap", "uidmap", "catatonit")
CACHE = machine_cache() / "containers"
CATATONIT_DIRS = ("/usr/bin", "/usr/libexec/podman")

CONTAINERS_CONF = """\
# Written by devstack/deploy/podman.py for this project only (CONTAINERS_CONF).
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
# No journald here; podman's events and container logs go to files.
log_driver = "k8s-file"

[engine]
runtime = "runc"
events_logger = "file"
"""

STORAGE_CONF = """\
# Written by devstack/deploy/podman.py for this project only (CONTAINERS_STORAGE_CONF).
[storage]
driver = "overlay"
graphroot = "{graphroot}"
runroot = "{runroot}"
"""


class PodmanError(RuntimeError):
    """podman is missing or a podman command failed; the message says which and why."""


def ensure_podman(log: Callable[[str], None] = print) -> str:
    """Path to podman, installing Debian's podman, buildah, runc, skopeo and mmdebstrap as
    root when missing. Raises PodmanError naming what to install otherwise."""
    missing = [p for p in ("podman", "runc", "mmdebstrap") if shutil.which(p) is None]
    if not any(Path(d, "catatonit").exists() for d in CATATONIT_DIRS):
        missing.append("catatonit")
    if missing:
        prerequisites.apt_install(PODMAN_PACKAGES, log)
    podman = shutil.which("podman")
    if podman is None or shutil.which("runc") is None:
        raise PodmanError(
            "podman with runc is needed for the images: install it, e.g. "
            + prerequisites.install_hint(PODMAN_PACKAGES)
        )
    if os.geteuid() != 0:
        raise PodmanError("the images are built with podman as root here (run as root)")
    return podman


def podman_env(cache: Path = CACHE) -> dict[str, str]:
    """The environment that points podman at this project's configuration and store."""
    cache.mkdir(parents=True, exist_ok=True)
    conf = cache / "containers.conf"
    if not conf.exists() or conf.read_text() != CONTAINERS_CONF:
        conf.write_text(CONTAINERS_CONF)
    storage = cache / "storage.conf"
    text = STORAGE_CONF.format(graphroot=cache / "storage", runroot=cache / "run")
    if not storage.exists() or storage.read_text() != text:
        storage.write_text(text)
    return {
        **os.environ,
        "CONTAINERS_CONF": str(conf),
        "CONTAINERS_STORAGE_CONF": str(storage),
        # Build secrets and layers are written here, not to /var/tmp.
        "TMPDIR": str(_tmp(cache)),
    }


def _tmp(cache: Path) -> Path:
    tmp = cache / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    return tmp


def podman(
    *args: str,
    check: bool = True,
    capture: bool = True,
    timeout: float = 3600,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run `podman <args>` in the project's configuration; raise PodmanError on failure
    (with the end of its output) when `check`."""
    result = subprocess.run(
        ["podman", *args],
        env=podman_env(),
        capture_output=capture,
        text=True,
        timeout=timeout,
        input=stdin,
        check=False,
    )
    if check and result.returncode != 0:
        output = ((result.stdout or "") + (result.stderr or ""))[-3000:]
        raise PodmanError(f"podman {' '.join(args[:3])} … failed ({result.returncode}):\n{output}")
    return result


def image_exists(ref: str) -> bool:
    return podman("image", "exists", ref, check=False).returncode == 0


def image_size(ref: str) -> int:
    """The image's size in bytes, as podman counts it (all its layers)."""
    return int(podman("image", "inspect", "--format", "{{.Size}}", ref).stdout.strip())


def remove_containers(names: Sequence[str]) -> None:
    """Remove containers by name, running or not (a missing one is fine)."""
    if names:
        podman("rm", "--force", "--ignore", "--time", "5", *names, check=False)
