"""Celery application of CoffeeShop.Order (payments and other background work)."""

import os
from typing import Any

from celery import Celery, signals

from shared import metrics

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "order_site.config.settings.local")

app = Celery("order_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# The worker's main process serves the pool's metrics; tasks are counted and timed.
metrics.celery_connect()


@signals.task_prerun.connect
def _database_connection_per_task_policy(task: Any = None, **kwargs: Any) -> None:
    """Treat each task run by a worker like a request: drop a connection that is
    broken, errored or older than CONN_MAX_AGE, keep a good one (settings:
    CELERY_DB_REUSE_MAX stops Celery from closing it after every task). A task run
    eagerly (`apply()`) runs inside its caller's connection and transaction: untouched."""
    if task is not None and getattr(task.request, "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()
