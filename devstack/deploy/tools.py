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

import re
import tempfile
from collections.abc import Callable
from pathlib import Path

from devstack.deploy.cache import cached_binary
from devstack.gotools import (
    BIN_DIR,
    GoTool,
    binary_path,
    build_env,
    ensure,
    go_command,
    install_binary,
    module_source,
    run_go,
)

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
    what = f"kube-apiserver {KUBERNETES_VERSION}"
    go = go_command(what)
    say(f"building {what} from k8s.io/kubernetes (once; minutes)…")
    with tempfile.TemporaryDirectory(prefix="gotool-kube-apiserver-") as scratch:
        work = Path(scratch)
        source = module_source(
            go,
            "k8s.io/kubernetes",
            KUBERNETES_VERSION,
            work,
            leave_out=("vendor", "staging", ".git"),
        )
        for name in ("go.work", "go.work.sum"):
            (source / name).unlink(missing_ok=True)
        gomod = source / "go.mod"
        gomod.write_text(rewrite_staging_replaces(gomod.read_text(), KUBERNETES_VERSION))
        output = work / "kube-apiserver"
        run_go(
            go,
            ["build", "-trimpath", f"-ldflags={_version_ldflags()}", "-o", str(output), PACKAGE],
            cwd=source,
            env=build_env(work, in_module=True),
            what=f"building {what}",
        )
        install_binary(output, target)
    say(f"built {target}")
    return target


def etcd(say: Callable[[str], None] = print, bin_dir: Path = BIN_DIR) -> Path:
    """etcd at ETCD_VERSION from a main module calling etcdmain.Main (≈ 20 s idle)."""
    target = bin_dir / f"etcd-{ETCD_VERSION}"
    return cached_binary(target, lambda: _build_etcd(target, say))


def _build_etcd(target: Path, say: Callable[[str], None]) -> Path:
    what = f"etcd {ETCD_VERSION}"
    go = go_command(what)
    say(f"building {what} (once)…")
    with tempfile.TemporaryDirectory(prefix="gotool-etcd-") as scratch:
        work = Path(scratch)
        (work / "main.go").write_text(ETCD_MAIN)
        env = build_env(work)
        for argv in (
            ["mod", "init", "coffeeshop.local/etcd"],
            ["get", f"go.etcd.io/etcd/server/v3@{ETCD_VERSION}"],
            ["mod", "tidy"],
        ):
            run_go(go, argv, cwd=work, env=env, what=f"building {what}")
        output = work / "etcd"
        run_go(
            go,
            ["build", "-trimpath", "-ldflags=-s -w", "-o", str(output), "."],
            cwd=work,
            env=env,
            what=f"building {what}",
        )
        install_binary(output, target)
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
