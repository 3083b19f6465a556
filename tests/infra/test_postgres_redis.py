"""PostgreSQL and Redis as the orchestrator runs them, against the real servers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from devstack.base import PortInUse, free_port
from devstack.servers.postgres import Postgres
from devstack.servers.redis import Redis


@pytest.fixture(scope="module")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Postgres]:
    server = Postgres(state_dir=tmp_path_factory.mktemp("pg"), port=free_port())
    server.start()
    yield server
    server.stop()
    server.account.purge()


def _connect(server: Postgres, role: str, password: str, db: str) -> psycopg.Connection:
    return psycopg.connect(
        host="127.0.0.1",
        port=server.port,
        user=role,
        password=password,
        dbname=db,
        connect_timeout=3,
    )


def test_each_site_role_reaches_its_own_database_and_no_other(postgres: Postgres) -> None:
    postgres.ensure_database(name="identity", role="identity", password="pw-identity-1")
    postgres.ensure_database(name="order", role="order", password="pw-order-1")
    with _connect(postgres, "identity", "pw-identity-1", "identity") as conn:
        assert conn.execute("SELECT current_user").fetchone() == ("identity",)
        conn.execute("CREATE TABLE kept (id int)")
        conn.commit()
    with pytest.raises(psycopg.OperationalError, match='permission denied for database "order"'):
        _connect(postgres, "identity", "pw-identity-1", "order")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        _connect(postgres, "order", "wrong-password", "order")


def test_ensure_database_twice_keeps_the_data_and_updates_the_password(postgres: Postgres) -> None:
    postgres.ensure_database(name="bff", role="bff", password="first-password")
    with _connect(postgres, "bff", "first-password", "bff") as conn:
        conn.execute("CREATE TABLE notes (body text)")
        conn.execute("INSERT INTO notes VALUES ('still here')")
        conn.commit()
    postgres.ensure_database(name="bff", role="bff", password="second-password")
    with _connect(postgres, "bff", "second-password", "bff") as conn:
        assert conn.execute("SELECT body FROM notes").fetchall() == [("still here",)]


def test_a_taken_port_is_refused_before_anything_starts(tmp_path: Path, postgres: Postgres) -> None:
    other = Postgres(state_dir=tmp_path, port=postgres.port)
    with pytest.raises(PortInUse, match="COFFEESHOP_POSTGRES_PORT"):
        other.start()
    assert not other.data.exists()


def test_redis_needs_its_password_and_keeps_data_across_a_restart(tmp_path: Path) -> None:
    server = Redis(state_dir=tmp_path, port=free_port(), password="s3cret-pw")
    server.start()
    try:
        server.client().set("greeting", "hello")
        import redis as redis_py

        anonymous = redis_py.Redis(host="127.0.0.1", port=server.port, socket_timeout=2)
        with pytest.raises(redis_py.AuthenticationError):
            anonymous.get("greeting")
        server.stop()
        server.start()
        assert server.client().get("greeting") == b"hello"
    finally:
        server.stop()
        server.account.purge()
