"""Dapr mode asked for on a machine that can't build daprd: a clear message naming what
is missing, and nothing started."""

from __future__ import annotations

from pathlib import Path

import pytest

from devstack import gotools
from devstack.base import StartError, free_port
from devstack.stack import DEFAULT_PORTS, Stack, StackConfig


def test_without_go_dapr_mode_names_go_and_starts_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gotools, "BIN_DIR", tmp_path / "bin")  # no daprd built yet
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    state = tmp_path / "state"
    stack = Stack(
        StackConfig(
            state_dir=state, ports={part: free_port() for part in DEFAULT_PORTS}, mesh="dapr"
        )
    )

    with pytest.raises(StartError) as caught:
        stack.start_infra()

    assert caught.value.part == "dapr"
    assert "daprd" in str(caught.value)
    assert "`go` is not on PATH: install Go" in str(caught.value)
    assert not (state / "run").exists()
    assert not (state / "stack.json").exists()
    assert all(row.pid is None for row in stack.status())
