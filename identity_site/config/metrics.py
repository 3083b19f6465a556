"""What Identity's `/metrics` reads when scraped (settings `METRICS_COLLECTORS`, served
by the gunicorn master: shared/metrics.py): the outbox's lag. A scrape runs on a thread
of its own: its database connection is closed at the end."""

from __future__ import annotations

from collections.abc import Iterator

from django.db import connections
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from identity_site.outbox.selectors import outbox_backlog
from shared import metrics


def _outbox() -> Iterator[Metric]:
    try:
        yield from metrics.outbox_gauges(*outbox_backlog())
    finally:
        connections.close_all()


def collectors() -> list[Collector]:
    return [metrics.ScrapeCollector("outbox", _outbox)]
