"""Writing a group of new rows of several models in one SQL statement (PostgreSQL).

A hot write path that saves its rows one `Model.save()` at a time pays a round trip,
a parse and a plan per row, plus BEGIN/COMMIT around them. When every row is new and
their keys are known up front, PostgreSQL can take them all in one statement: data-
modifying CTEs (`WITH a AS (INSERT …), b AS (INSERT …) INSERT …`) run exactly once
each, in one snapshot, and the whole statement commits or fails as one. Foreign keys
between the rows hold because Django declares them DEFERRABLE INITIALLY DEFERRED:
they are checked at commit, when every row is in.

The SQL of each INSERT is Django's own (its insert compiler: column types, JSON and
other adaptations as `bulk_create` would write them), so models stay the one source
of truth about columns. Signals are not sent and `save()` is not called, as with
`bulk_create`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import connections, transaction
from django.db.models import Model
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
    rows_stamp(rows)
    connection = connections[using]
    statements: list[str] = []
    params: list[Any] = []
    for model, group in by_model.items():
        meta = model._meta
        with_key = {row.pk is not None for row in group}
        if len(with_key) != 1:
            raise ValueError(f"{meta.label}: either every row has its key or none has")
        fields = [
            field
            for field in meta.concrete_fields
            if not field.generated and (field is not meta.pk or with_key == {True})
        ]
        query = InsertQuery(model)
        query.insert_values(fields, group, raw=True)  # raw: the values as stamped above
        ((sql, sql_params),) = query.get_compiler(using=using).as_sql()
        statements.append(sql)
        params.extend(sql_params)
    if not statements:
        return
    *ctes, last = statements
    sql = "".join(f"{'WITH' if i == 0 else ','} w{i} AS ({s}) " for i, s in enumerate(ctes)) + last
    if connection.in_atomic_block:
        with transaction.atomic(using=using), connection.cursor() as cursor:
            cursor.execute(sql, params)
    else:
        with connection.cursor() as cursor:  # autocommit: one statement, one transaction
            cursor.execute(sql, params)
