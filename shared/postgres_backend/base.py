"""The PostgreSQL backend every site uses (`ENGINE = "shared.postgres_backend"`).

Django's own, but for the connection health check (`CONN_HEALTH_CHECKS`): Django
asks the server `SELECT 1` before a kept connection's first query in every request,
a round trip and a statement for PostgreSQL on each request that touches the
database (a twentieth of an order placement's CPU, and its latency). An idle
connection has nothing to read, so a look at its socket tells the same without
asking: a server that went away (restart, `pg_terminate_backend`, idle timeout) has
closed the socket or sent its FATAL error, and either makes it readable. Only then,
or when libpq already knows something is wrong, does this fall back to Django's
`SELECT 1`, which decides.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base
from psycopg import pq


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        """True when the kept connection can take a query; never raises.

        Cheap answers first: no connection, or libpq marks it closed or broken, is
        unusable. An idle connection whose socket has nothing to read is usable.
        Anything else (data waiting, a transaction open, an unexpected state) is
        decided by Django's `SELECT 1`.
        """
        conn = self.connection
        if conn is None or conn.closed or conn.broken:
            return False
        pgconn = conn.pgconn
        if (
            pgconn.status == pq.ConnStatus.OK
            and pgconn.transaction_status == pq.TransactionStatus.IDLE
        ):
            try:
                poller = select.poll()
                poller.register(pgconn.socket, select.POLLIN | select.POLLPRI)
                if not poller.poll(0):
                    return True
            except (OSError, ValueError):
                return False
        return bool(super().is_usable())
