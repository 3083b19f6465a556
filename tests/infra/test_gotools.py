"""`devstack.gotools`: pinned Go tools built once into a bin folder, with the real `go`.

The modules come from a Go module proxy laid out on disk (GOPROXY=file://…, the same
protocol as proxy.golang.org: `@v/list`, `.info`, `.mod`, `.zip`), so the tests build
real binaries without the network and in seconds.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from devstack import gotools
from devstack.gotools import GoTool, GoToolError

pytestmark = pytest.mark.skipif(shutil.which("go") is None, reason="needs the Go toolchain")

HELLO_MAIN = """package main

import (
\t"fmt"

\t"example.com/greeting"
)

var version = "unset"

func main() { fmt.Println(greeting.Text(), version) }
"""

GREETING = """package greeting

func Text() string { return "hello from %s" }
"""


def _publish(proxy: Path, module: str, version: str, files: dict[str, str]) -> None:
    """Lay out one module version in a file-system Go module proxy."""
    versions = proxy / module / "@v"
    versions.mkdir(parents=True, exist_ok=True)
    with (versions / "list").open("a") as listing:
        listing.write(version + "\n")
    (versions / f"{version}.info").write_text(
        json.dumps({"Version": version, "Time": "2026-01-01T00:00:00Z"})
    )
    (versions / f"{version}.mod").write_text(files["go.mod"])
    with zipfile.ZipFile(versions / f"{version}.zip", "w") as archive:
        for name, text in files.items():
            archive.writestr(f"{module}@{version}/{name}", text)


@pytest.fixture
def proxy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    proxy = tmp_path / "proxy"
    # A module whose go.mod replaces a dependency (like github.com/dapr/dapr): `go install`
    # refuses it, the "module" recipe builds it.
    _publish(
        proxy,
        "example.com/greeting",
        "v1.0.0",
        {"go.mod": "module example.com/greeting\n\ngo 1.22\n", "greeting.go": GREETING % "v1.0.0"},
    )
    _publish(
        proxy,
        "example.com/greeting",
        "v1.1.0",
        {"go.mod": "module example.com/greeting\n\ngo 1.22\n", "greeting.go": GREETING % "v1.1.0"},
    )
    _publish(
        proxy,
        "example.com/hello",
        "v0.1.0",
        {
            "go.mod": (
                "module example.com/hello\n\ngo 1.22\n\nrequire example.com/greeting v1.0.0\n\n"
                "replace example.com/greeting => example.com/greeting v1.1.0\n"
            ),
            "cmd/hello/main.go": HELLO_MAIN,
        },
    )
    _publish(
        proxy,
        "example.com/plain",
        "v0.2.0",
        {
            "go.mod": "module example.com/plain\n\ngo 1.22\n",
            "main.go": 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("plain") }\n',
        },
    )
    modcache = tmp_path / "modcache"
    monkeypatch.setenv("GOPROXY", proxy.as_uri())
    monkeypatch.setenv("GOSUMDB", "off")
    monkeypatch.setenv("GOFLAGS", "-modcacherw")
    monkeypatch.setenv("GOMODCACHE", str(modcache))
    monkeypatch.setenv("GOTOOLCHAIN", "local")
    return proxy


def test_module_recipe_builds_a_module_with_replace_directives_once(
    proxy: Path, tmp_path: Path
) -> None:
    tool = GoTool(
        name="hello",
        module="example.com/hello",
        version="v0.1.0",
        package="./cmd/hello",
        ldflags="-s -w -X main.version=pinned",
        recipe="module",
    )
    said: list[str] = []
    bin_dir = tmp_path / "bin"

    path = gotools.ensure(tool, say=said.append, bin_dir=bin_dir)

    assert path == bin_dir / "hello-v0.1.0"
    run = subprocess.run([path], capture_output=True, text=True, check=True)
    assert run.stdout == "hello from v1.1.0 pinned\n"
    assert sorted(p.name for p in bin_dir.iterdir()) == ["hello-v0.1.0"]
    assert len(said) == 2

    said.clear()
    assert gotools.ensure(tool, say=said.append, bin_dir=bin_dir) == path
    assert said == []


def test_install_recipe_builds_with_go_install(proxy: Path, tmp_path: Path) -> None:
    tool = GoTool(name="plain", module="example.com/plain", version="v0.2.0")

    path = gotools.ensure(tool, say=lambda _: None, bin_dir=tmp_path / "bin")

    assert path.name == "plain-v0.2.0"
    assert subprocess.run([path], capture_output=True, text=True, check=True).stdout == "plain\n"


def test_install_recipe_refuses_replace_directives_and_leaves_nothing(
    proxy: Path, tmp_path: Path
) -> None:
    tool = GoTool(name="hello", module="example.com/hello", version="v0.1.0", package="./cmd/hello")
    bin_dir = tmp_path / "bin"

    with pytest.raises(GoToolError, match=r"building hello v0\.1\.0") as caught:
        gotools.ensure(tool, say=lambda _: None, bin_dir=bin_dir)

    assert "replace" in str(caught.value)
    assert list(bin_dir.iterdir()) == []


def test_a_version_the_proxy_does_not_have_is_named(proxy: Path, tmp_path: Path) -> None:
    tool = GoTool(name="hello", module="example.com/hello", version="v9.9.9", recipe="module")

    with pytest.raises(GoToolError, match=r"example.com/hello@v9.9.9"):
        gotools.ensure(tool, say=lambda _: None, bin_dir=tmp_path / "bin")


def test_without_go_on_path_the_message_says_to_install_go(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))

    with pytest.raises(GoToolError, match=r"`go` is not on PATH: install Go"):
        gotools.ensure(gotools.DAPRD, say=lambda _: None, bin_dir=tmp_path / "bin")

    assert not (tmp_path / "bin").exists()


def test_the_pins_name_their_version_in_the_binary_name() -> None:
    assert gotools.binary_path(gotools.DAPRD).name == f"daprd-{gotools.DAPR_VERSION}"
    assert gotools.binary_path(gotools.DAPRD).parent == gotools.BIN_DIR
