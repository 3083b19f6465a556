"""The deploy checks' tools, pinned, built from the Go module proxy into `.cache/bin/`.

helm and kubeconform build with `go install` (devstack/gotools.py). kube-apiserver and
etcd need more than that, so they have their own recipes here:

- kube-apiserver: `k8s.io/kubernetes` is not meant to be used as a module. Its
  directory is copied out of the module cache (without `vendor/` and `staging/`),
  `go.work` is removed, and each `k8s.io/X => ./staging/src/k8s.io/X` replace becomes
  `k8s.io/X => k8s.io/X v0.<minor>.<patch>`, the published copy of that staging module.
  Then `go build ./cmd/kube-apiserver` with `-mod=mod`.
- etcd: a five-line main module that calls `etcdmain.Main` of
  `go.etcd.io/etcd/server/v3` at the pinned version.

Like every gotools binary, the file name carries the version, so a changed pin builds
anew, and a binary is renamed into place only once complete.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from devstack.deploy.cache import cached_binary
from devstack.gotools import BIN_DIR, GoTool, GoToolError, binary_path, ensure

HELM = GoTool(name="helm", module="helm.sh/helm/v4", version="v4.3.2", package="./cmd/helm")
KUBECONFORM = GoTool(
    name="kubeconform",
    module="github.com/yannh/kubeconform",
    version="v0.8.0",
    package="./cmd/kubeconform",
)
KUBERNETES_VERSION = "v1.37.2"
PACKAGE = "./cmd/kube-apiserver"
ETCD_VERSION = "v3.7.3"
BUILD_TIMEOUT_SECONDS = 3600

ETCD_MAIN = """\
// etcd, built by devstack/deploy/tools.py from go.etcd.io/etcd/server/v3.
package main

import (
\t"os"

\t"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
"""

_STAGING_REPLACE = re.compile(
    r"^(\s*)(k8s\.io/[\w.-]+) => \./staging/src/k8s\.io/[\w.-]+\s*$", re.M
)


def helm(say: Callable[[str], None] = print) -> Path:
    return cached_binary(binary_path(HELM), lambda: ensure(HELM, say=say))


def kubeconform(say: Callable[[str], None] = print) -> Path:
    return cached_binary(binary_path(KUBECONFORM), lambda: ensure(KUBECONFORM, say=say))


def kube_apiserver(say: Callable[[str], None] = print, bin_dir: Path = BIN_DIR) -> Path:
    """kube-apiserver at KUBERNETES_VERSION, built on first need (≈ 6 min on 2 idle cores)."""
    target = bin_dir / f"kube-apiserver-{KUBERNETES_VERSION}"
    return cached_binary(target, lambda: _build_kube_apiserver(target, say))


def _build_kube_apiserver(target: Path, say: Callable[[str], None]) -> Path:
    go = _go_binary("kube-apiserver")
    say(f"building kube-apiserver {KUBERNETES_VERSION} from k8s.io/kubernetes (once; minutes)…")
    with tempfile.TemporaryDirectory(prefix="gotool-kube-apiserver-") as scratch:
        work = Path(scratch)
        info = json.loads(
            _go(go, ["mod", "download", "-json", f"k8s.io/kubernetes@{KUBERNETES_VERSION}"], work)
        )
        if info.get("Error") or not info.get("Dir"):
            raise GoToolError(f"the Go module proxy refused k8s.io/kubernetes: {info.get('Error')}")
        source = work / "src"
        shutil.copytree(
            info["Dir"],
            source,
            symlinks=True,
            ignore=shutil.ignore_patterns("vendor", "staging", ".git"),
        )
        _make_writable(source)
        for name in ("go.work", "go.work.sum"):
            (source / name).unlink(missing_ok=True)
        gomod = source / "go.mod"
        gomod.write_text(rewrite_staging_replaces(gomod.read_text(), KUBERNETES_VERSION))
        output = work / "kube-apiserver"
        _go(
            go,
            ["build", "-trimpath", f"-ldflags={_version_ldflags()}", "-o", str(output), PACKAGE],
            source,
            mod_mod=True,
        )
        _install(output, target)
    say(f"built {target}")
    return target


def etcd(say: Callable[[str], None] = print, bin_dir: Path = BIN_DIR) -> Path:
    """etcd at ETCD_VERSION from a main module calling etcdmain.Main (≈ 20 s idle)."""
    target = bin_dir / f"etcd-{ETCD_VERSION}"
    return cached_binary(target, lambda: _build_etcd(target, say))


def _build_etcd(target: Path, say: Callable[[str], None]) -> Path:
    go = _go_binary("etcd")
    say(f"building etcd {ETCD_VERSION} (once)…")
    with tempfile.TemporaryDirectory(prefix="gotool-etcd-") as scratch:
        work = Path(scratch)
        (work / "main.go").write_text(ETCD_MAIN)
        _go(go, ["mod", "init", "coffeeshop.local/etcd"], work)
        _go(go, ["get", f"go.etcd.io/etcd/server/v3@{ETCD_VERSION}"], work)
        _go(go, ["mod", "tidy"], work)
        output = work / "etcd"
        _go(go, ["build", "-trimpath", "-ldflags=-s -w", "-o", str(output), "."], work)
        _install(output, target)
    say(f"built {target}")
    return target


def _version_ldflags() -> str:
    """What the release build stamps in (hack/lib/version.sh): without it the server says
    v0.0.0-master, and helm refuses a chart's kubeVersion against that."""
    major, minor = KUBERNETES_VERSION.removeprefix("v").split(".")[:2]
    package = "k8s.io/component-base/version"
    return " ".join(
        [
            "-s -w",
            f"-X {package}.gitVersion={KUBERNETES_VERSION}",
            f"-X {package}.gitMajor={major}",
            f"-X {package}.gitMinor={minor}",
            f"-X {package}.gitTreeState=clean",
        ]
    )


def rewrite_staging_replaces(gomod: str, kubernetes_version: str) -> str:
    """`k8s.io/X => ./staging/src/k8s.io/X` becomes `k8s.io/X => k8s.io/X v0.<m>.<p>`:
    Kubernetes v1.37.2 publishes its staging modules as v0.37.2."""
    staging_version = "v0." + kubernetes_version.removeprefix("v").split(".", 1)[1]
    return _STAGING_REPLACE.sub(rf"\1\2 => \2 {staging_version}", gomod)


def _go_binary(tool: str) -> str:
    go = shutil.which("go")
    if go is None:
        raise GoToolError(
            f"{tool} must be built from Go source, but `go` is not on PATH: install Go 1.24+"
        )
    return go


def _go(go: str, argv: list[str], cwd: Path, *, mod_mod: bool = False) -> str:
    env = {**os.environ, "CGO_ENABLED": "0", "GOTMPDIR": str(cwd)}
    if mod_mod:
        env["GOFLAGS"] = f"{os.environ.get('GOFLAGS', '')} -mod=mod".strip()
    try:
        done = subprocess.run(
            [go, *argv],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=BUILD_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise GoToolError(
            f"`go {' '.join(argv)}` took longer than {BUILD_TIMEOUT_SECONDS}s"
        ) from exc
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
        raise GoToolError(
            f"`go {' '.join(argv)}` failed (is the Go module proxy reachable?)\n{tail}"
        )
    return done.stdout


def _make_writable(root: Path) -> None:
    # The module cache is read-only; the build rewrites go.mod and go.sum.
    for path in (root, *root.rglob("*")):
        if not path.is_symlink():
            path.chmod(path.stat().st_mode | 0o200)


def _install(built: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    shutil.copy2(built, partial)
    partial.chmod(0o755)
    os.replace(partial, target)
