"""`manage_all.py test`: lint, types, import contracts, Django checks and every pytest suite.

Integration tests run against real servers started here on free ports, in a
temporary state folder, so they never touch a running `up`.

The end-to-end journeys run once per mesh mode (`E2E_MESHES`: direct, then Dapr, each a
whole `up` of its own); `COFFEESHOP_E2E_MESHES=direct` keeps one pass, e.g. on a machine
without Go. The other suites don't depend on the mode and run once.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

from devstack.base import REPO_ROOT, StartError, free_port
from devstack.browser import ensure_chromium
from devstack.mesh import ensure_daprd, ensure_sentry
from devstack.sites import SITES
from devstack.stack import DEFAULT_PORTS, Stack, StackConfig

PY = sys.executable
BIN = Path(PY).parent

# (name, test path, Django settings module or None)
SUITES: list[tuple[str, str, str | None]] = [
    ("infra", "tests/infra", None),
    ("wasm_client", "tests/wasm_client", None),
    *[(site, f"tests/{site}", f"{site}_site.config.settings.test") for site in SITES],
    # Images, chart, a real kube-apiserver and pods under podman (tests/deploy/README.md).
    ("deploy", "tests/deploy", None),
    ("e2e", "tests/e2e", None),
]
E2E_MESHES = ("direct", "dapr")
# The journeys that check Dapr mode itself (sidecars, tokens, secret scopes).
DAPR_ONLY = "tests/e2e/test_dapr_mode.py"


def e2e_meshes(environ: dict[str, str] | None = None) -> list[str]:
    """The mesh modes the end-to-end suite runs in (COFFEESHOP_E2E_MESHES, comma-separated)."""
    environ = dict(os.environ if environ is None else environ)
    chosen = environ.get("COFFEESHOP_E2E_MESHES", ",".join(E2E_MESHES))
    meshes = [m.strip() for m in chosen.split(",") if m.strip()]
    unknown = sorted(set(meshes) - set(E2E_MESHES))
    if unknown or not meshes:
        raise ValueError(f"COFFEESHOP_E2E_MESHES={chosen!r}: choose from {', '.join(E2E_MESHES)}")
    return meshes


def _run(cmd: list[str], *, env: dict[str, str] | None = None) -> int:
    print("$ " + " ".join(cmd), flush=True)
    return subprocess.call(cmd, cwd=REPO_ROOT, env=env)


def lint() -> list[str]:
    failures = []
    checks = [
        ("ruff", [str(BIN / "ruff"), "check", "."]),
        ("ruff format", [str(BIN / "ruff"), "format", "--check", "--quiet", "."]),
        (
            "mypy",
            [
                str(BIN / "mypy"),
                "shared",
                "devstack",
                "identity_site",
                "order_site",
                "bff_site",
                "sandbox",
                "wasm_client/src/coffeeshop_client",
                # wasm_client/build.py is checked as wasm_client.build, the name devstack
                # imports it by; listed as a file too, mypy would see it under two names.
                "bench",
                "manage_all.py",
            ],
        ),
        ("import contracts", [str(BIN / "lint-imports")]),
    ]
    for name, cmd in checks:
        if _run(cmd, env=_lint_env() if name == "import contracts" else None) != 0:
            failures.append(name)
    return failures


def _lint_env() -> dict[str, str]:
    """The environment with the web client's source folder on PYTHONPATH: import-linter
    finds `coffeeshop_client` (a root package of the contracts) only there."""
    env = dict(os.environ)
    src = str(REPO_ROOT / "wasm_client" / "src")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
    return env


def django_checks(stack: Stack) -> list[str]:
    failures = []
    for site in SITES:
        for args, flavour in (
            (["check", "--deploy", "--fail-level", "WARNING"], "production"),
            (["makemigrations", "--check", "--dry-run"], "test"),
        ):
            env = dict(os.environ)
            env.update(stack.site_env(site, flavour))
            cmd = [PY, f"{site}_site/manage.py", *args]
            if _run(cmd, env=env) != 0:
                failures.append(f"{site}: {' '.join(args)}")
    return failures


def _junit_counts(path: Path) -> tuple[int, int, int]:
    """(passed, failed, skipped) from a pytest junit XML file."""
    try:
        root = ET.parse(path).getroot()  # noqa: S314 - our own pytest's output
    except (OSError, ET.ParseError):
        return 0, 0, 0
    suites = [root] if root.tag == "testsuite" else list(root)
    tests = failed = skipped = 0
    for suite in suites:
        tests += int(suite.get("tests", 0))
        failed += int(suite.get("failures", 0)) + int(suite.get("errors", 0))
        skipped += int(suite.get("skipped", 0))
    return tests - failed - skipped, failed, skipped


def run_tests(
    pytest_args: list[str], *, lint: bool = True, progress: Callable[[str, str], None]
) -> int:
    problems: list[str] = []
    if lint:
        progress("test", "lint, types and import contracts")
        problems += globals()["lint"]()
    selected = [a for a in pytest_args if not a.startswith("-")]
    if not selected or any(a.startswith("tests/e2e") for a in selected):
        # The browser journeys need Chromium: installed as root, else named up front.
        try:
            ensure_chromium(lambda message: progress("test", message))
        except RuntimeError as err:
            progress("test", f"FAILED: {err}")
            return 1
    tmp = Path(tempfile.mkdtemp(prefix="coffeeshop-test-"))
    ports = {part: free_port() for part in DEFAULT_PORTS}
    stack = Stack(
        StackConfig(state_dir=tmp / "state", ports=ports, for_tests=True, settings_flavour="test"),
        progress,
    )
    totals = [0, 0, 0]
    try:
        progress("test", f"starting the test servers in {tmp}")
        stack.start_infra()
        stack.provision()
        problems += django_checks(stack)
        options = [a for a in pytest_args if a.startswith("-")]
        runs = [
            (name, path, settings, mesh)
            for name, path, settings in SUITES
            for mesh in (e2e_meshes() if name == "e2e" else [""])
        ]
        for name, path, settings, mesh in runs:
            targets = [a for a in selected if a.startswith(path)] if selected else [path]
            if not targets or not (REPO_ROOT / path).exists():
                continue
            env = dict(os.environ)
            env["COFFEESHOP_TEST_STATE"] = str(stack.state)
            junit = tmp / f"junit-{name}{'-' + mesh if mesh else ''}.xml"
            if mesh:
                env["COFFEESHOP_MESH"] = mesh
                name = f"{name} ({mesh})"
            if mesh == "dapr":
                # Built here, not inside the suite's first test: the first build takes
                # minutes, more than one test's time limit.
                try:
                    ensure_daprd(lambda message: progress("dapr", message))
                    ensure_sentry(lambda message: progress("dapr", message))
                except StartError as err:
                    problems.append(str(err))
                    continue
            cmd = [PY, "-m", "pytest", *targets, f"--junitxml={junit}", *options]
            if mesh == "direct":  # Dapr mode's own checks run in the Dapr pass
                cmd.append(f"--ignore={DAPR_ONLY}")
            if settings:
                site = name
                env.update(stack.site_env(site, "test"))
                cmd += [f"--ds={settings}"]
            else:
                env.update(stack.site_env("order", "test"))
                env.pop("DJANGO_SETTINGS_MODULE", None)
                cmd += ["-p", "no:django"]
            progress("test", f"suite {name}")
            code = _run(cmd, env=env)
            counts = _junit_counts(junit)
            totals = [t + c for t, c in zip(totals, counts, strict=True)]
            if code not in (0, 5):
                problems.append(f"pytest suite {name} (exit {code})")
    except StartError as err:
        problems.append(str(err))
    finally:
        stack.purge()
        shutil.rmtree(tmp, ignore_errors=True)
    print()
    for problem in problems:
        print(f"FAILED: {problem}")
    passed, failed, skipped = totals
    if problems and failed == 0:
        failed = len(problems)
    print(f"total: {passed} passed, {failed} failed, {skipped} skipped")
    return 1 if problems or failed else 0
