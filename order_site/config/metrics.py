"""What Order's `/metrics` reads when scraped (settings `METRICS_COLLECTORS`, served by
the gunicorn master: shared/metrics.py): the outbox's lag, the barista queue, the
Celery queue and the payment provider's circuit breaker.

Each is read on its own, so one that fails (the database down) leaves the others. A
scrape runs on a thread of its own: its database connection is closed at the end.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator

import redis
from django.db import connections
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from order_site.config.celery import app as celery_app
from order_site.orders.selectors import order_queue_counts
from order_site.outbox.selectors import outbox_backlog
from order_site.payments.providers import payment_breaker
from shared import metrics

# The queue the payment tasks wait in (Celery's default; no routes are set).
CELERY_QUEUES = ("celery",)


def _outbox() -> Iterator[Metric]:
    try:
        yield from metrics.outbox_gauges(*outbox_backlog())
    finally:
        connections.close_all()


def _barista_queue() -> Iterator[Metric]:
    try:
        counts = order_queue_counts()
    finally:
        connections.close_all()
    yield metrics.labelled_gauge(
        "coffeeshop_barista_queue_orders",
        "Orders in the barista queue, by column (placed, in_preparation, ready).",
        "status",
        {status: float(n) for status, n in counts.items()},
    )


@functools.cache
def _broker() -> redis.Redis:
    return redis.Redis.from_url(str(celery_app.conf.broker_url), socket_timeout=2)


def _celery_queue() -> Iterator[Metric]:
    yield metrics.labelled_gauge(
        "coffeeshop_celery_queue_length",
        "Celery messages waiting in the broker, by queue (a message may carry several charges).",
        "queue",
        {queue: float(_broker().llen(queue)) for queue in CELERY_QUEUES},
    )


def _breaker() -> Iterator[Metric]:
    yield metrics.breaker_states([payment_breaker()])


def collectors() -> list[Collector]:
    return [
        metrics.ScrapeCollector("outbox", _outbox),
        metrics.ScrapeCollector("barista queue", _barista_queue),
        metrics.ScrapeCollector("celery queue", _celery_queue),
        metrics.ScrapeCollector("payment breaker", _breaker),
    ]
