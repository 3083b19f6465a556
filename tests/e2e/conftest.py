"""The whole system, started once per test session the way a user starts it.

`manage_all.py up --detach` on free ports in a temporary state folder, so it
never touches a running `up`; `down` at the end.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from devstack.base import REPO_ROOT, free_port
from devstack.mesh import free_base_port, ports_needed
from devstack.stack import DEFAULT_PORTS, METRICS_PARTS, Stack, StackConfig, port_setting

MANAGE_ALL = [sys.executable, str(REPO_ROOT / "manage_all.py")]

# The BFF renders each page's first HTML; what Python then updates in place (a price
# after a choice made while it loaded) comes once it has taken the page over, which on
# a busy 2-core machine takes longer than Playwright's default 5 s.
expect.set_options(timeout=20_000)


def _run(
    args: list[str], env: dict[str, str], timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*MANAGE_ALL, *args],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="session")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    # The ports are free when chosen, but they are the kernel's ephemeral ones: an
    # outgoing connection made while `up` starts the servers may take one before its
    # server binds it. `up` then refuses with PortInUse and stops everything; a second
    # try on other ports and a fresh state folder is the honest answer to that race.
    for attempt in range(3):
        state = tmp_path_factory.mktemp("system") / "state"
        ports = {part: free_port() for part in DEFAULT_PORTS}
        # Blocks of ports, not one: the sidecars' and, after them, the metrics ports.
        ports["dapr"] = free_base_port(span=ports_needed() + len(METRICS_PARTS))
        ports["metrics"] = ports["dapr"] + ports_needed()
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DJANGO_", "VAULT_", "DATABASE_"))
        }
        env["COFFEESHOP_STATE_DIR"] = str(state)
        env.update({port_setting(part): str(port) for part, port in ports.items()})
        began = time.monotonic()
        up = _run(["up", "--detach"], env)
        cold = time.monotonic() - began
        print(f"\ncold up: {cold:.1f}s\n{up.stdout[-3000:]}")
        if up.returncode == 0 or "is already in use" not in up.stdout + up.stderr or attempt == 2:
            break
        print("a chosen port was taken meanwhile: again on other ports")
    assert up.returncode == 0, up.stdout[-4000:] + up.stderr[-4000:]
    yield {"env": env, "ports": ports, "state": state, "cold_s": cold}
    _run(["down"], env)


@pytest.fixture(scope="session")
def system_stack(system: dict[str, object]) -> Stack:
    config = StackConfig.load(system["state"])  # type: ignore[arg-type]
    assert config is not None
    return Stack(config)
