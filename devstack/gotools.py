"""Go programs the project builds for itself, pinned by version, into `.cache/bin/`.

Some tools (daprd, Dapr's sentry, helm, kubeconform, kube-apiserver…) have no
package we can install here, but the Go module proxy serves their source at exact
versions. `ensure(tool)` builds one the first time it is needed and afterwards only
returns the path: the binary's name carries the version (`daprd-v1.18.0`), so a
changed pin builds anew and an old binary is never mistaken for the new one.

Two recipes, because not every module can be built by `go install`:

- "install": `go install module/package@version` into a temporary GOBIN. Works for a
  module whose go.mod has no replace directives.
- "module": `go mod download -json module@version`, copy the module's directory out of
  the (read-only) module cache into a writable folder, then `go build` the package
  there. For modules with replace directives (github.com/dapr/dapr): `go install`
  refuses them, but a build inside the module honours them.

The binary is written beside its final name and renamed into place, so an interrupted
build never leaves a half-written tool behind.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from devstack.base import REPO_ROOT

BIN_DIR = REPO_ROOT / ".cache" / "bin"
BUILD_TIMEOUT_SECONDS = 3600


class GoToolError(RuntimeError):
    """A pinned Go tool could not be built; the message says what is missing."""


@dataclass(frozen=True)
class GoTool:
    """One pinned Go program. `package` is relative to the module (`./cmd/daprd`)."""

    name: str
    module: str
    version: str
    package: str = "."
    tags: tuple[str, ...] = ()
    ldflags: str = "-s -w"
    recipe: Literal["install", "module"] = "install"

    @property
    def file_name(self) -> str:
        return f"{self.name}-{self.version}"


# The pins, in one place. A new version here builds anew on first use.
DAPR_VERSION = "v1.18.0"
_DAPR_LDFLAGS = f"-s -w -X github.com/dapr/dapr/pkg/buildinfo.version={DAPR_VERSION.lstrip('v')}"

# allcomponents (not stablecomponents): the SQLite name resolver, which keeps
# service invocation off mDNS multicast, is only in the full set (docs/decisions.md).
DAPRD = GoTool(
    name="daprd",
    module="github.com/dapr/dapr",
    version=DAPR_VERSION,
    package="./cmd/daprd",
    tags=("allcomponents",),
    ldflags=_DAPR_LDFLAGS,
    recipe="module",
)
SENTRY = GoTool(
    name="sentry",
    module="github.com/dapr/dapr",
    version=DAPR_VERSION,
    package="./cmd/sentry",
    ldflags=_DAPR_LDFLAGS,
    recipe="module",
)

TOOLS = {tool.name: tool for tool in (DAPRD, SENTRY)}


def binary_path(tool: GoTool, bin_dir: Path = BIN_DIR) -> Path:
    """Where the tool's binary lives once built (whether or not it exists yet)."""
    return bin_dir / tool.file_name


def ensure(
    tool: GoTool,
    *,
    say: Callable[[str], None] = print,
    bin_dir: Path | None = None,
) -> Path:
    """Return the path of the tool's binary, building it first when it is missing.

    Raises GoToolError when `go` is not on PATH or the build fails (module refused
    by the proxy, no network, compile error); nothing is left in bin_dir then.
    """
    bin_dir = bin_dir or BIN_DIR
    target = binary_path(tool, bin_dir)
    if target.is_file() and os.access(target, os.X_OK):
        return target
    go = go_command(f"{tool.name} {tool.version}")
    bin_dir.mkdir(parents=True, exist_ok=True)
    say(
        f"building {tool.name} {tool.version} from {tool.module} (once; "
        f"several minutes the first time) into {bin_dir}…"
    )
    with tempfile.TemporaryDirectory(prefix=f"gotool-{tool.name}-") as scratch:
        work = Path(scratch)
        built = (
            _build_install(go, tool, work)
            if tool.recipe == "install"
            else _build_module(go, tool, work)
        )
        install_binary(built, target)
    say(f"built {target}")
    return target


def go_command(what: str) -> str:
    """The `go` on PATH; GoToolError naming `what` needs it when there is none."""
    go = shutil.which("go")
    if go is None:
        raise GoToolError(
            f"{what} must be built from Go source, but `go` is not on PATH: install Go "
            "1.24+ (https://go.dev/dl/, or `apt-get install golang-go` where it is recent "
            "enough) and run again."
        )
    return go


def install_binary(built: Path, target: Path) -> None:
    """Put a built binary in place whole (a partial copy renamed), executable."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    shutil.copy2(built, partial)
    partial.chmod(0o755)
    os.replace(partial, target)


def run_go(go: str, argv: list[str], *, cwd: Path, env: dict[str, str], what: str) -> str:
    """`go argv…` in `cwd`; its output, or GoToolError with the tail of its errors."""
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
            f"{what}: `go {' '.join(argv)}` took longer than {BUILD_TIMEOUT_SECONDS}s"
        ) from exc
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
        raise GoToolError(
            f"{what}: `go {' '.join(argv)}` failed (is the Go module proxy reachable?)\n{tail}"
        )
    return done.stdout


def build_env(work: Path, *, in_module: bool = False) -> dict[str, str]:
    # CGO off: static binaries that need no C toolchain, as the tools' releases are built.
    env = {**os.environ, "CGO_ENABLED": "0", "GOTMPDIR": str(work)}
    if in_module:
        # A module's own go.sum may lack its tools' entries; let the build add them.
        env["GOFLAGS"] = f"{os.environ.get('GOFLAGS', '')} -mod=mod".strip()
    return env


def _build_install(go: str, tool: GoTool, work: Path) -> Path:
    gobin = work / "bin"
    gobin.mkdir()
    package = (
        tool.module
        if tool.package in (".", "")
        else f"{tool.module}/{tool.package.removeprefix('./')}"
    )
    argv = ["install", "-trimpath", f"-ldflags={tool.ldflags}"]
    if tool.tags:
        argv.append(f"-tags={','.join(tool.tags)}")
    argv.append(f"{package}@{tool.version}")
    env = {**build_env(work), "GOBIN": str(gobin)}
    run_go(go, argv, cwd=work, env=env, what=f"building {tool.name} {tool.version}")
    built = sorted(gobin.iterdir())
    if len(built) != 1:
        raise GoToolError(
            f"building {tool.name}: expected one binary in GOBIN, found {[p.name for p in built]}"
        )
    return built[0]


def module_source(
    go: str, module: str, version: str, work: Path, *, leave_out: tuple[str, ...] = ()
) -> Path:
    """A writable copy of `module@version` from the module proxy in `<work>/src` (the
    module cache is read-only; a build writes go.sum updates beside go.mod)."""
    out = run_go(
        go,
        ["mod", "download", "-json", f"{module}@{version}"],
        cwd=work,
        env=build_env(work),
        what=f"downloading {module}@{version}",
    )
    info = json.loads(out)
    if info.get("Error") or not info.get("Dir"):
        raise GoToolError(
            f"the Go module proxy refused {module}@{version}: {info.get('Error', 'no directory')}"
        )
    source = work / "src"
    ignore = shutil.ignore_patterns(*leave_out) if leave_out else None
    shutil.copytree(info["Dir"], source, symlinks=True, ignore=ignore)
    for path in (source, *source.rglob("*")):
        if not path.is_symlink():
            path.chmod(path.stat().st_mode | 0o200)
    return source


def _build_module(go: str, tool: GoTool, work: Path) -> Path:
    source = module_source(go, tool.module, tool.version, work)
    output = work / tool.name
    argv = ["build", "-trimpath", f"-ldflags={tool.ldflags}", "-o", str(output)]
    if tool.tags:
        argv.append(f"-tags={','.join(tool.tags)}")
    argv.append(tool.package)
    run_go(
        go,
        argv,
        cwd=source,
        env=build_env(work, in_module=True),
        what=f"building {tool.name} {tool.version}",
    )
    return output
