"""Deleting old rows in bounded batches, for the scheduled purges of every site.

One `DELETE` of a month of rows holds its locks and its WAL until the end and can
stall the writers beside it; batches of a few thousand primary keys keep each
statement short. Only the ORM is used here, so each site passes its own queryset.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

PURGE_BATCH_SIZE = 5000


def delete_in_batches(queryset: QuerySet[Any], *, batch_size: int = PURGE_BATCH_SIZE) -> int:
    """Delete every row `queryset` matches, `batch_size` primary keys per statement;
    answers how many rows went. Rows that start matching meanwhile may go too."""
    model = queryset.model
    deleted = 0
    while True:
        ids = list(queryset.order_by().values_list("pk", flat=True)[:batch_size])
        if not ids:
            return deleted
        # A model nothing references and no signal listens to is deleted in one
        # statement (Django's fast delete); others collect their cascades per batch.
        _, per_model = model._base_manager.filter(pk__in=ids).delete()
        deleted += per_model.get(model._meta.label, 0)
        if len(ids) < batch_size:
            return deleted
