"""The connection health check of `shared.postgres_backend`: a kept connection is
checked without a statement, and one the server ended is found and replaced."""

from __future__ import annotations

import time
from collections.abc import Iterator

import psycopg
import pytest
from django.db import connection

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def observer() -> Iterator[psycopg.Connection]:
    """A second session of the same role, to see and end the site's connection."""
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as other:
        yield other


def last_statement(observer: psycopg.Connection, pid: int) -> str:
    row = observer.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()
    assert row is not None
    return str(row[0])


def test_a_healthy_idle_connection_is_usable_without_a_statement(observer):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 42")
    pid = connection.connection.info.backend_pid

    usable = connection.is_usable()

    assert usable is True
    assert last_statement(observer, pid) == "SELECT 42"


def test_a_connection_the_server_ended_is_unusable_and_the_next_query_reconnects(observer):
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    observer.execute("SELECT pg_terminate_backend(%s)", [pid])
    deadline = time.monotonic() + 5
    while observer.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone():
        assert time.monotonic() < deadline, "the backend did not end"
        time.sleep(0.05)

    usable = connection.is_usable()
    connection.health_check_done = False  # as at the start of a request
    connection.close_if_health_check_failed()  # what Django does before its first query
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (new_pid,) = cursor.fetchone()

    assert usable is False
    assert new_pid != pid


def test_a_connection_inside_a_transaction_is_checked_by_the_server(observer):
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    connection.set_autocommit(False)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 7")

        usable = connection.is_usable()
        asked = last_statement(observer, pid)
    finally:
        connection.rollback()
        connection.set_autocommit(True)

    assert usable is True
    assert asked == "SELECT 1"
