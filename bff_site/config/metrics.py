"""What the BFF's `/metrics` reads when scraped (settings `METRICS_COLLECTORS`, served by
the gunicorn master: shared/metrics.py): the circuit breakers of its downstreams, whose
state all workers share in Redis."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from bff_site.clients.http import identity_service, order_service
from shared import metrics


def _breakers() -> Iterator[Metric]:
    clients = (order_service(), identity_service())
    yield metrics.breaker_states(c.breaker for c in clients if c.breaker is not None)


def collectors() -> list[Collector]:
    return [metrics.ScrapeCollector("breakers", _breakers)]
