"""What the request metrics cost: one site's middleware chain with and without
`shared.metrics.RequestMetricsMiddleware`, side by side in one process.

Order's full middleware chain is built twice (Django's WSGI handler, as gunicorn calls
it), once as configured and once without the metrics middleware, in multiprocess mode
(values in memory-mapped files, as every part runs them). The two answer `GET /healthz`
(a view that touches nothing: the least work a request can be, so the metrics' share is
the largest it can be) in alternating rounds of `--requests`; the figure is the
median of the rounds' throughput ratios (with metrics / without) and the cost per request
in microseconds. Each round is timed in this process's CPU time, not the wall clock: on
a machine shared with other work the wall clock measures the neighbours. The settings
need the secret store of a running stack (`up`).

Run: `COFFEESHOP_STATE_DIR=... .venv/bin/python bench/metrics.py [--rounds 20]`.
The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from devstack.stack import Stack, StackConfig, default_state_dir  # noqa: E402

METRICS_MIDDLEWARE = "shared.metrics.RequestMetricsMiddleware"


def handlers() -> tuple[Any, Any]:
    """Order's WSGI handler as configured, and the same without the metrics middleware."""
    import django
    from django.conf import settings
    from django.core.handlers.wsgi import WSGIHandler
    from django.test import override_settings

    django.setup()
    assert METRICS_MIDDLEWARE in settings.MIDDLEWARE
    with_metrics = WSGIHandler()
    without = [m for m in settings.MIDDLEWARE if m != METRICS_MIDDLEWARE]
    with override_settings(MIDDLEWARE=without):
        plain = WSGIHandler()
    return with_metrics, plain


def environ() -> dict[str, Any]:
    from django.test import RequestFactory

    env = dict(RequestFactory().get("/healthz").environ)
    env["HTTP_HOST"] = "127.0.0.1"
    return env


def batch_cpu(handler: Any, requests: int) -> float:
    """CPU seconds of this process `handler` takes to answer `requests` requests."""
    base = environ()

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        assert status.startswith("200"), status

    began = time.process_time()
    for _ in range(requests):
        body = handler(dict(base), start_response)
        b"".join(body)
        body.close()
    return time.process_time() - began


def observe_alone(requests: int) -> float:
    """Microseconds of `_observe` by itself (the work the middleware adds)."""
    from types import SimpleNamespace

    from shared import metrics

    request = SimpleNamespace(method="GET", resolver_match=SimpleNamespace(route="healthz"))
    response = SimpleNamespace(status_code=200)
    began = time.process_time()
    for _ in range(requests):
        metrics._observe(request, response, 0.001)
    return (time.process_time() - began) / requests * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--requests", type=int, default=1000, help="requests per round")
    args = parser.parse_args()

    config = StackConfig.load(default_state_dir())
    if config is None:
        raise SystemExit("no stack here: run `python3 manage_all.py up` (or set the state dir)")
    stack = Stack(config)
    folder = tempfile.mkdtemp(prefix="coffeeshop-bench-metrics-")
    os.environ.update(stack.site_env("order"))
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
    with_metrics, plain = handlers()
    batch_cpu(with_metrics, 500)  # warm both: imports, caches, the mmap files
    batch_cpu(plain, 500)
    ratios, on, off = [], [], []
    for index in range(args.rounds):
        # Alternate which goes first, so a drift of the machine within a pair cancels.
        pair = (with_metrics, plain) if index % 2 == 0 else (plain, with_metrics)
        cpu = {id(h): batch_cpu(h, args.requests) for h in pair}
        on.append(cpu[id(with_metrics)] / args.requests * 1e6)
        off.append(cpu[id(plain)] / args.requests * 1e6)
        ratios.append(off[-1] / on[-1])  # throughput with / without, CPU-bound
    quartiles = statistics.quantiles(ratios, n=4)
    result = {
        "view": "GET /healthz (Order, in-process WSGI handler, multiprocess mode)",
        "rounds": args.rounds,
        "requests_per_round": args.requests,
        "with_metrics_cpu_us": round(statistics.median(on), 1),
        "without_cpu_us": round(statistics.median(off), 1),
        "ratio_median": round(statistics.median(ratios), 3),
        "ratio_quartiles": [round(quartiles[0], 3), round(quartiles[2], 3)],
        "cost_per_request_us": round(
            statistics.median(a - b for a, b in zip(on, off, strict=True)), 1
        ),
        "observe_alone_us": round(observe_alone(20000), 1),
    }
    print(
        f"{result['view']}: {result['with_metrics_cpu_us']} µs of CPU per request with the "
        f"request metrics, {result['without_cpu_us']} without; throughput ratio "
        f"{result['ratio_median']} (median of {args.rounds} alternating rounds, quartiles "
        f"{result['ratio_quartiles']}); {result['cost_per_request_us']} µs per request "
        f"({result['observe_alone_us']} µs for the counting alone)"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
