"""The system a bench measures: started in a temporary folder on free ports, or one
already up (`--state`), and stopped afterwards unless asked to keep it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from devstack.base import REPO_ROOT, free_port
from devstack.mesh import free_base_port
from devstack.stack import DEFAULT_PORTS, Stack, StackConfig, port_setting

# Load generators would be refused by the BFF's per-session and per-address limits.
RAISED_LIMITS = {"BFF_RATE_SESSION": "1000000", "BFF_RATE_ADDRESS": "1000000"}


@dataclass
class BenchSystem:
    stack: Stack
    env: dict[str, str]  # names the system for `manage_all.py` (its state folder, ports)
    tmp: Path  # a scratch folder of the bench's own, removed at the end

    @property
    def ports(self) -> dict[str, int]:
        return self.stack.ports

    def url(self, part: str) -> str:
        return f"http://127.0.0.1:{self.stack.ports[part]}"


def start_system(state: Path, mesh: str = "direct") -> tuple[dict[str, str], dict[str, int]]:
    """`manage_all.py up --detach` in `state` on free ports, with raised BFF limits."""
    ports = {part: free_port() for part in DEFAULT_PORTS}
    ports["dapr"] = free_base_port()  # a block of ports, not one
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "VAULT_"))}
    env.update({port_setting(part): str(port) for part, port in ports.items()})
    env.update(COFFEESHOP_STATE_DIR=str(state), COFFEESHOP_MESH=mesh, **RAISED_LIMITS)
    up = subprocess.run(
        [sys.executable, str(REPO_ROOT / "manage_all.py"), "up", "--detach"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if up.returncode != 0:
        sys.exit(up.stdout[-3000:] + up.stderr[-3000:])
    return env, ports


def stop_system(env: dict[str, str]) -> None:
    """`manage_all.py down` for the system `start_system` (or `--state`) named in `env`."""
    subprocess.run(
        [sys.executable, str(REPO_ROOT / "manage_all.py"), "down"],
        env=env,
        capture_output=True,
        check=False,
    )


@contextmanager
def bench_system(
    name: str, *, state: str | Path | None = None, keep: bool = False, mesh: str = "direct"
) -> Iterator[BenchSystem]:
    """The system to measure: the one already up in `state`, else a new one (stopped at
    the end unless `keep`). A system the bench did not start is never stopped."""
    tmp = Path(tempfile.mkdtemp(prefix=f"coffeeshop-bench-{name}-"))
    started = state is None
    if state is None:
        state = tmp / "state"
        mode = " in Dapr mode" if mesh == "dapr" else ""
        print(f"starting the system{mode} in {tmp} …", flush=True)
        env, _ = start_system(state, mesh=mesh)
    else:
        env = {**os.environ, "COFFEESHOP_STATE_DIR": str(state)}
    try:
        config = StackConfig.load(Path(state))
        if config is None:
            sys.exit(f"no system in {state}: run `manage_all.py up` first")
        yield BenchSystem(stack=Stack(config), env=env, tmp=tmp)
    finally:
        if started and not keep:
            stop_system(env)
            shutil.rmtree(tmp, ignore_errors=True)
        elif not started:
            shutil.rmtree(tmp, ignore_errors=True)
