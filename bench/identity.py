"""Throughput of CoffeeShop.Identity: client_credentials tokens, cached introspection, baseline.

    .venv/bin/python bench/identity.py [--seconds 10] [--concurrency 16]

Starts its own throw-away stack on free ports (PostgreSQL, Redis, OpenBao, Kafka; the
Identity site under gunicorn exactly as `up` runs it: 2 workers x 4 gthreads) in a
temporary folder, provisions the OAuth clients as `up` does, then measures, one after
the other, with a thread pool of keep-alive httpx clients:

- baseline:   GET /healthz (a trivial JSON view)
- token:      POST /o/token/ grant_type=client_credentials, HTTP Basic client auth
- introspect: POST /o/introspect/ of one access token (served from the Redis cache
              after the first call), HTTP Basic client auth

Prints a line per phase and, last, one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run as documented, `python bench/identity.py`

from devstack.base import HOST, free_port, spawn, wait_until  # noqa: E402
from devstack.stack import DEFAULT_PORTS, Stack, StackConfig  # noqa: E402

CLIENT_ID = "order-service"


def measure(
    name: str, call: Callable[[httpx.Client], httpx.Response], *, seconds: float, threads: int
) -> dict[str, float]:
    """Run `call` from `threads` threads for `seconds`; requests/s and latency percentiles."""
    latencies: list[list[float]] = [[] for _ in range(threads)]
    errors = [0] * threads
    start = threading.Barrier(threads + 1)
    stop_at = [0.0]

    def worker(i: int) -> None:
        with httpx.Client(timeout=10, trust_env=False) as client:
            call(client)  # warm the connection
            start.wait()
            while time.monotonic() < stop_at[0]:
                t0 = time.perf_counter()
                response = call(client)
                latencies[i].append(time.perf_counter() - t0)
                if response.status_code != 200:
                    errors[i] += 1

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    stop_at[0] = time.monotonic() + seconds + 0.05
    began = time.monotonic()
    start.wait()
    for thread in pool:
        thread.join()
    elapsed = time.monotonic() - began
    every = sorted(x for per in latencies for x in per)
    count = len(every)
    result = {
        "rps": round(count / elapsed, 1),
        "p50_ms": round(statistics.median(every) * 1000, 2),
        "p99_ms": round(every[min(count - 1, int(count * 0.99))] * 1000, 2),
        "requests": count,
        "errors": sum(errors),
    }
    print(
        f"{name:<11} {result['rps']:>8.1f} req/s   p50 {result['p50_ms']:>7.2f} ms   "
        f"p99 {result['p99_ms']:>7.2f} ms   ({count} requests, {result['errors']} errors)",
        flush=True,
    )
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="coffeeshop-bench-identity-"))
    ports = {part: free_port() for part in DEFAULT_PORTS}
    stack = Stack(
        StackConfig(state_dir=tmp / "state", ports=ports, settings_flavour="local"),
        lambda part, message: print(f"  {part:<9} {message}", file=sys.stderr, flush=True),
    )
    site = None
    try:
        stack.start_infra()
        stack.provision()
        stack.manage("identity", "migrate", "--noinput")
        stack.manage("identity", "collectstatic", "--noinput")
        specs = stack.oauth_client_specs()
        stack.manage("identity", "ensure_oauth_clients", stdin=json.dumps(specs))
        secret = next(s["secret"] for s in specs if s["client_id"] == CLIENT_ID)
        port = ports["identity"]
        site = spawn(
            "identity",
            [
                sys.executable,
                "-m",
                "gunicorn",
                "identity_site.config.wsgi:application",
                "--bind",
                f"{HOST}:{port}",
                "--workers",
                "2",
                "--worker-class",
                "gthread",
                "--threads",
                "4",
                "--preload",
            ],
            state_dir=stack.state,
            env=stack.site_env("identity"),
            cwd=Path(__file__).resolve().parent.parent,
        )
        wait_until("identity", lambda: stack.site_ready("identity"), timeout=60, process=site)
        base = f"http://{HOST}:{port}"
        auth = (CLIENT_ID, secret)
        token = httpx.post(
            f"{base}/o/token/",
            data={"grant_type": "client_credentials"},
            auth=auth,
            trust_env=False,
        ).json()["access_token"]

        opts = {"seconds": args.seconds, "threads": args.concurrency}
        print(f"concurrency {args.concurrency}, {args.seconds:.0f} s per phase", flush=True)
        baseline = measure("baseline", lambda c: c.get(f"{base}/healthz"), **opts)
        tokens = measure(
            "token",
            lambda c: c.post(
                f"{base}/o/token/", data={"grant_type": "client_credentials"}, auth=auth
            ),
            **opts,
        )
        introspect = measure(
            "introspect",
            lambda c: c.post(f"{base}/o/introspect/", data={"token": token}, auth=auth),
            **opts,
        )
        figures = {
            "baseline_rps": baseline["rps"],
            "token_rps": tokens["rps"],
            "introspect_rps": introspect["rps"],
            "token_vs_baseline": round(tokens["rps"] / baseline["rps"], 2),
            "introspect_vs_baseline": round(introspect["rps"] / baseline["rps"], 2),
            "baseline": baseline,
            "token": tokens,
            "introspect": introspect,
            "concurrency": args.concurrency,
            "seconds": args.seconds,
        }
        print(json.dumps(figures))
        return 0
    finally:
        if site is not None:
            site.stop(timeout=10)
        stack.stop_all()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
