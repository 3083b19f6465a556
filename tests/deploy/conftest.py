"""Fixtures of the deploy checks: the pinned tools (built into `.cache/bin/` on first
use), the offline schemas, and `render()` to run `helm template`."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from devstack.base import REPO_ROOT, free_port
from devstack.deploy import schemas, tools
from devstack.stack import DEFAULT_PORTS, Stack, StackConfig

CHART = REPO_ROOT / "charts" / "coffeeshop"
VALUES_FILES = {
    "default": None,
    "minimal": CHART / "ci" / "minimal-values.yaml",
    "production": CHART / "ci" / "production-values.yaml",
}


@pytest.fixture(scope="session")
def test_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The servers `manage_all.py test` started; run alone (`pytest tests/deploy`), this
    suite starts its own the same way, in a temporary folder, and removes them after."""
    state = os.environ.get("COFFEESHOP_TEST_STATE")
    if state:
        config = StackConfig.load(Path(state))
        assert config is not None, f"no stack.json in {state}"
        yield Stack(config)
        return
    ports = {part: free_port() for part in DEFAULT_PORTS}
    config = StackConfig(
        state_dir=tmp_path_factory.mktemp("stack") / "state",
        ports=ports,
        for_tests=True,
        settings_flavour="test",
    )
    stack = Stack(config)
    try:
        stack.start_infra()
        stack.provision()
        yield stack
    finally:
        stack.purge()


@pytest.fixture(scope="session")
def helm() -> Path:
    return tools.helm()


@pytest.fixture(scope="session")
def kubeconform() -> Path:
    return tools.kubeconform()


@pytest.fixture(scope="session")
def schema_locations() -> list[str]:
    return schemas.kubeconform_locations()


@pytest.fixture(scope="session")
def chart_with_dapr_documents() -> Path:
    """The chart, whose files/dapr/ holds the Dapr documents local Dapr mode renders too."""
    assert (CHART / "files" / "dapr" / "configuration.yaml").is_file()
    return CHART


def run(argv: list[str | Path], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in argv], capture_output=True, text=True, check=False, **kwargs
    )


@pytest.fixture(scope="session")
def render(helm: Path) -> Callable[..., list[dict[str, Any]]]:
    """`render(values_file=None, *sets, chart=CHART)`: the objects `helm template` makes."""

    def _render(
        values_file: Path | None = None, *sets: str, chart: Path = CHART
    ) -> list[dict[str, Any]]:
        argv: list[str | Path] = [
            helm,
            "template",
            "coffeeshop",
            chart,
            "--namespace",
            "coffeeshop",
        ]
        if values_file:
            argv += ["--values", values_file]
        for value in sets:
            argv += ["--set", value]
        result = run(argv)
        assert result.returncode == 0, result.stderr
        return [doc for doc in yaml.safe_load_all(result.stdout) if doc]

    return _render


def by_kind(objects: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}
