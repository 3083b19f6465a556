"""Writing a group of new rows of several models in one SQL statement (PostgreSQL).

A hot write path that saves its rows one `Model.save()` at a time pays a round trip,
a parse and a plan per row, plus BEGIN/COMMIT around them. When every row is new and
their keys are known up front, PostgreSQL can take them all in one statement: data-
modifying CTEs (`WITH a AS (INSERT …), b AS (INSERT …) INSERT …`) run exactly once
each, in one snapshot, and the whole statement commits or fails as one. Foreign keys
between the rows hold because Django declares them DEFERRABLE INITIALLY DEFERRED:
they are checked at commit, when every row is in.

Columns and values come from the models (each value prepared by its field's
`get_db_prep_save`, as Django's insert compiler does), so models stay the one source
of truth about columns. The statement's text depends only on the shape of the group
(which models, how many rows of each), so it is built once per shape and kept; it
runs through psycopg's raw cursor (`$1` placeholders), which skips re-parsing a long
statement on every call. A value that is an SQL expression, or a field that writes
its own placeholder, takes Django's compiler instead. Signals are not sent and
`save()` is not called, as with `bulk_create`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from django.db import connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model
from django.db.models.sql import InsertQuery


def ids_reserve(
    counts: Mapping[type[Model], int], *, using: str = "default"
) -> dict[type[Model], list[int]]:
    """Take `n` primary keys from each model's key sequence, in one round trip.

    The keys are the model's own (the identity sequence behind its auto primary key),
    so rows inserted with them and rows inserted with the default never collide. A
    key taken and not used is simply skipped, as after a rolled-back insert.
    """
    connection = connections[using]
    qn = connection.ops.quote_name
    models = [model for model, n in counts.items() if n > 0]
    if not models:
        return {model: [] for model in counts}
    selects: list[str] = []
    params: list[Any] = []
    for model in models:
        selects.append(
            "ARRAY(SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s))"
        )
        params += [qn(model._meta.db_table), model._meta.pk.column, counts[model]]
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(selects), params)
        row = cursor.fetchone()
    reserved = {model: [int(key) for key in keys] for model, keys in zip(models, row, strict=True)}
    return {model: reserved.get(model, []) for model in counts}


class KeyBlocks:
    """Primary keys taken from the sequences a block at a time and handed out one by one
    (the "hi/lo" pattern): a writer that needs its keys before it inserts (see
    `rows_insert_together`) pays one round trip per block instead of one per write.

    Keys are unique, not gap-free and not in creation order across processes (order by
    a timestamp, not by key, where order matters). A block is kept per process (a
    forked child starts empty) and shared by its threads; what is left when the
    process ends is skipped, as after a rollback.
    """

    def __init__(self, block: int = 64, *, using: str = "default") -> None:
        self.block = block
        self.using = using
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._free: dict[type[Model], list[int]] = {}

    def take(self, counts: Mapping[type[Model], int]) -> dict[type[Model], list[int]]:
        """`n` new keys for each model; reserves a new block for those that ran short."""
        with self._lock:
            if self._pid != os.getpid():  # inherited through fork: not ours to hand out
                self._pid, self._free = os.getpid(), {}
            short = {
                model: max(self.block, n)
                for model, n in counts.items()
                if len(self._free.get(model, ())) < n
            }
            if short:
                for model, keys in ids_reserve(short, using=self.using).items():
                    self._free.setdefault(model, []).extend(keys)
            taken = {}
            for model, n in counts.items():
                free = self._free.setdefault(model, [])
                taken[model], free[:n] = free[:n], []
            return taken


def rows_stamp(rows: Sequence[Model]) -> None:
    """Fill each unset field that fills itself on insert (`auto_now`, `auto_now_add`).

    Call it before reading such a field of a row not yet written (e.g. to render an
    answer); `rows_insert_together` stamps whatever is still unset.
    """
    for row in rows:
        for field in row._meta.concrete_fields:
            if getattr(row, field.attname) is None:
                value = field.pre_save(row, add=True)
                setattr(row, field.attname, value)


@dataclass(frozen=True)
class _Statement:
    """The INSERT of one shape of rows, with its placeholders both ways."""

    sql: str  # `%s` placeholders: for Django's cursor (captured and debug queries)
    raw_sql: str  # `$1`, `$2` …: for psycopg's raw cursor, which does not parse it
    fields: tuple[tuple[Field, ...], ...]  # the columns of each model's rows, in order


# Shape (model, rows carry their keys, how many rows) of each group -> its statement,
# or None when the shape needs Django's compiler (a field with its own placeholder).
_statements: dict[tuple[tuple[type[Model], bool, int], ...], _Statement | None] = {}


class _NeedsCompiler(Exception):
    """A value is an SQL expression: only Django's compiler can write it."""


def _insert_fields(model: type[Model], with_key: bool) -> tuple[Field, ...]:
    meta = model._meta
    return tuple(
        field
        for field in meta.concrete_fields
        if not field.generated and (field is not meta.pk or with_key)
    )


def _statement(
    shape: tuple[tuple[type[Model], bool, int], ...], connection: BaseDatabaseWrapper
) -> _Statement | None:
    if shape in _statements:
        return _statements[shape]
    qn = connection.ops.quote_name
    fields = tuple(_insert_fields(model, with_key) for model, with_key, _ in shape)
    statement: _Statement | None = None
    if not any(hasattr(f, "get_placeholder") for group in fields for f in group):
        parts: list[tuple[str, str]] = []
        n = 0
        for (model, _, rows), columns in zip(shape, fields, strict=True):
            # Names from the model's own metadata, quoted; values only as placeholders.
            table, names = qn(model._meta.db_table), ", ".join(qn(f.column) for f in columns)
            head = f"INSERT INTO {table} ({names}) VALUES "  # noqa: S608
            plain = ", ".join(["(" + ", ".join(["%s"] * len(columns)) + ")"] * rows)
            numbered = []
            for _ in range(rows):
                numbered.append("(" + ", ".join(f"${n + i + 1}" for i in range(len(columns))) + ")")
                n += len(columns)
            parts.append((head + plain, head + ", ".join(numbered)))
        statement = _Statement(
            sql=_chain([plain for plain, _ in parts]),
            raw_sql=_chain([raw for _, raw in parts]),
            fields=fields,
        )
    _statements[shape] = statement
    return statement


def _chain(statements: Sequence[str]) -> str:
    """`WITH w0 AS (first) , w1 AS (second) … last`: one statement, every INSERT run once."""
    *ctes, last = statements
    return "".join(f"{'WITH' if i == 0 else ','} w{i} AS ({s}) " for i, s in enumerate(ctes)) + last


def _values(
    groups: Sequence[Sequence[Model]],
    fields: Sequence[Sequence[Field]],
    connection: BaseDatabaseWrapper,
) -> list[Any]:
    params: list[Any] = []
    for group, columns in zip(groups, fields, strict=True):
        for row in group:
            for field in columns:
                value = getattr(row, field.attname)
                if hasattr(value, "resolve_expression"):
                    raise _NeedsCompiler
                params.append(field.get_db_prep_save(value, connection=connection))
    return params


def _compiled(
    groups: Sequence[Sequence[Model]], shape: Sequence[tuple[type[Model], bool, int]], using: str
) -> tuple[str, list[Any]]:
    """The statement as Django's insert compiler writes it (expressions and all)."""
    statements: list[str] = []
    params: list[Any] = []
    for group, (model, with_key, _) in zip(groups, shape, strict=True):
        query = InsertQuery(model)
        query.insert_values(list(_insert_fields(model, with_key)), list(group), raw=True)
        ((sql, sql_params),) = query.get_compiler(using=using).as_sql()
        statements.append(sql)
        params.extend(sql_params)
    return _chain(statements), params


def _execute(
    connection: BaseDatabaseWrapper, sql: str, raw_sql: str | None, params: list[Any]
) -> None:
    """Run the statement: through psycopg's raw cursor when there is a `$n` text and
    nobody records queries (tests capturing them, DEBUG), else through Django's cursor.
    Either way a database error surfaces as Django's (IntegrityError …)."""
    if raw_sql is None or connection.queries_logged or connection.execute_wrappers:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
        return
    # What `connection.cursor()` and its execute() check first, without their wrappers.
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_no_broken_transaction()
    with connection.wrap_database_errors, psycopg.RawCursor(connection.connection) as cursor:
        cursor.execute(raw_sql, params)


def rows_insert_together(rows: Sequence[Model], *, using: str = "default") -> None:
    """INSERT every row in one statement: all of them are written, or none.

    Rows of a model go in one multi-row INSERT, models in order of first appearance.
    A row's primary key is written when it is set (see `ids_reserve`) and left to the
    database when it is None, the same for every row of a model. Raises the database's
    IntegrityError when a constraint refuses a row; inside a transaction the statement
    runs under a savepoint, so that transaction stays usable.
    """
    by_model: dict[type[Model], list[Model]] = {}
    for row in rows:
        by_model.setdefault(type(row), []).append(row)
    if not by_model:
        return
    rows_stamp(rows)
    connection = connections[using]
    shape: list[tuple[type[Model], bool, int]] = []
    for model, group in by_model.items():
        with_key = {row.pk is not None for row in group}
        if len(with_key) != 1:
            raise ValueError(f"{model._meta.label}: either every row has its key or none has")
        shape.append((model, with_key == {True}, len(group)))
    groups = list(by_model.values())
    statement = _statement(tuple(shape), connection)
    try:
        if statement is None:
            raise _NeedsCompiler
        sql, raw_sql = statement.sql, statement.raw_sql
        params = _values(groups, statement.fields, connection)
    except _NeedsCompiler:
        (sql, params), raw_sql = _compiled(groups, shape, using), None
    if connection.in_atomic_block:
        with transaction.atomic(using=using):
            _execute(connection, sql, raw_sql, params)
    else:
        _execute(connection, sql, raw_sql, params)  # autocommit: one statement, one transaction
