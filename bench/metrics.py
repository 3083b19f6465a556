"""What the request metrics cost: one site's middleware chain with and without
`shared.metrics.RequestMetricsMiddleware`, side by side in one process.

Order's full middleware chain is built twice (Django's WSGI handler, as gunicorn calls
it), once as configured and once without the metrics middleware, in multiprocess mode
(values in memory-mapped files, as every part runs them). The two answer `GET /healthz`
(a view that touches nothing: the least work a request can be, so the metrics' share is
the largest it can be) in alternating rounds of `--round-seconds`; the figure is the
median of the rounds' throughput ratios (with metrics / without) and the cost per request
in microseconds. The settings need the secret store of a running stack (`up`).

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


def round_of(handler: Any, seconds: float) -> float:
    """Requests per second `handler` answers in `seconds`."""
    base = environ()

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        assert status.startswith("200"), status

    count = 0
    began = time.perf_counter()
    deadline = began + seconds
    while time.perf_counter() < deadline:
        for _ in range(50):
            body = handler(dict(base), start_response)
            b"".join(body)
            body.close()
        count += 50
    return count / (time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--round-seconds", type=float, default=1.0)
    args = parser.parse_args()

    config = StackConfig.load(default_state_dir())
    if config is None:
        raise SystemExit("no stack here: run `python3 manage_all.py up` (or set the state dir)")
    stack = Stack(config)
    folder = tempfile.mkdtemp(prefix="coffeeshop-bench-metrics-")
    os.environ.update(stack.site_env("order"))
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
    with_metrics, plain = handlers()
    round_of(with_metrics, 0.5)  # warm both: imports, caches, the mmap files
    round_of(plain, 0.5)
    ratios, on, off = [], [], []
    for index in range(args.rounds):
        # Alternate which goes first, so a drift of the machine within a pair cancels.
        pair = (with_metrics, plain) if index % 2 == 0 else (plain, with_metrics)
        rates = {id(h): round_of(h, args.round_seconds) for h in pair}
        on.append(rates[id(with_metrics)])
        off.append(rates[id(plain)])
        ratios.append(on[-1] / off[-1])
    cost_us = statistics.median(1e6 / a - 1e6 / b for a, b in zip(on, off, strict=True))
    quartiles = statistics.quantiles(ratios, n=4)
    result = {
        "view": "GET /healthz (Order, in-process WSGI handler, multiprocess mode)",
        "rounds": args.rounds,
        "with_metrics_rps": round(statistics.median(on)),
        "without_rps": round(statistics.median(off)),
        "ratio_median": round(statistics.median(ratios), 3),
        "ratio_quartiles": [round(q, 3) for q in (quartiles[0], quartiles[2])],
        "cost_per_request_us": round(cost_us, 1),
    }
    print(
        f"{result['view']}: {result['with_metrics_rps']} req/s with the request metrics, "
        f"{result['without_rps']} without; ratio {result['ratio_median']} (median of "
        f"{args.rounds} alternating rounds, quartiles {result['ratio_quartiles']}); "
        f"{result['cost_per_request_us']} µs per request"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
