"""Where the deploy checks keep what is slow to make, across clones of this repository.

A clean clone (as CI makes for every run) has an empty `.cache/`; building helm,
kube-apiserver, etcd, the base image and the images again each time would take most
of an hour on two cores. So the slow things live in one folder per machine:

- as root `/var/cache/coffeeshop/`, else `$XDG_CACHE_HOME/coffeeshop/` (`~/.cache/…`);
  `COFFEESHOP_MACHINE_CACHE` chooses another;
- `bin/`: a copy of each pinned tool (its file name carries its version); the clone's
  `.cache/bin/` gets its own copy from there before a build is tried;
- `containers/`: podman's image store (the base, the images and their build layers);
- `images/`: the base image's tarball; `schemas/`: the offline JSON schemas.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from devstack.gotools import install_binary


def machine_cache() -> Path:
    chosen = os.environ.get("COFFEESHOP_MACHINE_CACHE", "").strip()
    if chosen:
        return Path(chosen)
    if os.geteuid() == 0:
        return Path("/var/cache/coffeeshop")
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or str(Path.home() / ".cache")
    return Path(base) / "coffeeshop"


def cached_binary(target: Path, build: Callable[[], Path]) -> Path:
    """`target` (in the clone's `.cache/bin/`), copied from the machine's cache when it is
    there, else built by `build()` and then kept in the machine's cache as well."""
    kept = machine_cache() / "bin" / target.name
    if target.is_file() and os.access(target, os.X_OK):
        if not kept.is_file():
            install_binary(target, kept)
        return target
    if kept.is_file() and os.access(kept, os.X_OK):
        install_binary(kept, target)
        return target
    built = build()
    install_binary(built, kept)
    return built
