"""gunicorn's hooks for every site (`gunicorn -c python:shared.gunicorn_config …`): the
master serves the metrics of all its workers (shared/metrics.py).

The master outlives its workers and answers no request, so it holds the metrics port:
`when_ready` runs once the app is loaded (`--preload`) and before the first worker is
forked; a worker closes its copy of the metrics port (`post_fork`), and one that
exits takes its gauges with it (`child_exit`).
"""

from __future__ import annotations

from typing import Any

from shared import metrics


def when_ready(server: Any) -> None:
    metrics.serve(metrics.site_collectors())


def post_fork(server: Any, worker: Any) -> None:
    metrics.forked()


def child_exit(server: Any, worker: Any) -> None:
    metrics.process_dead(worker.pid)
