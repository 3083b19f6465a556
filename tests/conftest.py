"""Test-wide fixtures. `manage_all.py test` starts the real servers and passes them in the env."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from devstack.stack import Stack, StackConfig


@pytest.fixture(scope="session")
def test_stack() -> Stack:
    """The servers `manage_all.py test` started for this run (PostgreSQL, Redis, Kafka, OpenBao)."""
    state = os.environ.get("COFFEESHOP_TEST_STATE")
    if not state:
        pytest.fail("run the tests through `python3 manage_all.py test` (it starts the servers)")
    config = StackConfig.load(Path(state))
    assert config is not None, f"no stack.json in {state}"
    return Stack(config)
