"""Throughput of CoffeeShop.Identity: client_credentials tokens, cached introspection, baseline.

    .venv/bin/python bench/identity.py [--seconds 10] [--concurrency 16]

Starts its own throw-away stack on free ports (PostgreSQL, Redis, OpenBao, Kafka; the
Identity site under gunicorn exactly as `up` runs it: 2 workers x 4 gthreads) in a
temporary folder, provisions the OAuth clients as `up` does, then measures, one after
the other, with a thread pool of keep-alive httpx clients:

- baseline:   GET /healthz (a trivial JSON view), before and after the token phase and
              at the end (each ratio is over the mean of the baselines either side)
- token:      POST /o/token/ grant_type=client_credentials, HTTP Basic client auth
              (goal ≥ 0.6x of the baseline)
- introspect: POST /o/introspect/ over `--tokens` (10,000) distinct access tokens,
              HTTP Basic client auth: cold, the first introspection of each (read
              from PostgreSQL, then cached), until each has been asked once; then warm,
              round and round the same tokens (each answer from the Redis cache; goal
              ≥ 0.7x)

Rates count successful (200) requests only; failures are counted apart. Prints a line
per phase and, last, one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import itertools
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

from bench.profiler import report  # noqa: E402
from devstack.base import HOST, free_port, spawn, wait_until  # noqa: E402
from devstack.stack import DEFAULT_PORTS, Stack, StackConfig  # noqa: E402

CLIENT_ID = "order-service"


def measure(
    name: str,
    call: Callable[[httpx.Client], httpx.Response | None],
    *,
    seconds: float,
    threads: int,
    warm: bool = True,
) -> dict[str, float]:
    """Run `call` from `threads` threads for `seconds` (or until it answers None: nothing
    left to do); requests/s and latency percentiles of the requests that succeeded
    (a 200), failures counted apart."""
    latencies: list[list[float]] = [[] for _ in range(threads)]
    errors = [0] * threads
    start = threading.Barrier(threads + 1)
    stop_at = [0.0]
    ended = [0.0] * threads

    def worker(i: int) -> None:
        with httpx.Client(timeout=10, trust_env=False) as client:
            if warm:
                call(client)  # warm the connection
            start.wait()
            while time.monotonic() < stop_at[0]:
                t0 = time.perf_counter()
                try:
                    response = call(client)
                except httpx.HTTPError:
                    errors[i] += 1
                    continue
                if response is None:
                    break
                if response.status_code == 200:
                    latencies[i].append(time.perf_counter() - t0)
                else:
                    errors[i] += 1
            ended[i] = time.monotonic()

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    stop_at[0] = time.monotonic() + seconds + 0.05
    began = time.monotonic()
    start.wait()
    for thread in pool:
        thread.join()
    elapsed = max(ended) - began
    every = sorted(x for per in latencies for x in per)
    count = len(every)
    result = {
        "rps": round(count / elapsed, 1),  # successes only
        "p50_ms": round(statistics.median(every) * 1000, 2) if every else float("nan"),
        "p99_ms": round(every[min(count - 1, int(count * 0.99))] * 1000, 2)
        if every
        else float("nan"),
        "requests": count,
        "errors": sum(errors),
        "seconds": round(elapsed, 2),
    }
    print(
        f"{name:<16} {result['rps']:>8.1f} req/s   p50 {result['p50_ms']:>7.2f} ms   "
        f"p99 {result['p99_ms']:>7.2f} ms   ({count} requests, {result['errors']} errors, "
        f"{elapsed:.1f} s)",
        flush=True,
    )
    return result


class Tokens:
    """Access tokens to introspect, handed out to the load's threads in turn: `once`,
    each at most once (the cold pass: none is in Identity's cache yet), else round and
    round (the warm pass)."""

    def __init__(self, tokens: list[str], *, once: bool) -> None:
        self.tokens, self.once = tokens, once
        self.next = itertools.count()
        self.lock = threading.Lock()

    def take(self) -> str | None:
        with self.lock:
            n = next(self.next)
        if self.once and n >= len(self.tokens):
            return None
        return self.tokens[n % len(self.tokens)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--tokens", type=int, default=10_000, help="distinct tokens introspected")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="profile Identity (bench/profiler.py), printed after the JSON",
    )
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
                *(["--config", "python:bench.profiler"] if args.profile else []),
            ],
            state_dir=stack.state,
            env=stack.site_env("identity") | {"BENCH_PROFILE_DIR": str(tmp / "profile")},
            cwd=Path(__file__).resolve().parent.parent,
        )
        wait_until("identity", lambda: stack.site_ready("identity"), timeout=60, process=site)
        base = f"http://{HOST}:{port}"
        auth = (CLIENT_ID, secret)
        opts = {"seconds": args.seconds, "threads": args.concurrency}
        print(f"concurrency {args.concurrency}, {args.seconds:.0f} s per phase", flush=True)
        issued: list[str] = []

        def token_call(client: httpx.Client) -> httpx.Response:
            response = client.post(
                f"{base}/o/token/", data={"grant_type": "client_credentials"}, auth=auth
            )
            if response.status_code == 200:
                issued.append(response.json()["access_token"])
            return response

        # The baseline before and after the token phase (its mean is the ratio's base):
        # the machine's speed drifts over a minute.
        baseline = measure("baseline", lambda c: c.get(f"{base}/healthz"), **opts)
        tokens = measure("token", token_call, **opts)
        baseline_after = measure("baseline", lambda c: c.get(f"{base}/healthz"), **opts)
        base_rps = (baseline["rps"] + baseline_after["rps"]) / 2
        # Distinct tokens to introspect: those the token phase issued, topped up (untimed).
        while len(issued) < args.tokens:
            top_up = min(args.tokens - len(issued), 2000)
            with (
                concurrent.futures.ThreadPoolExecutor(args.concurrency) as pool,
                httpx.Client(timeout=10, trust_env=False) as client,
            ):
                list(pool.map(lambda _: token_call(client), range(top_up)))
        distinct = list(dict.fromkeys(issued))[: args.tokens]
        inactive: list[str] = []
        print(f"{len(distinct)} distinct tokens to introspect", flush=True)

        def introspect_call(pool: Tokens) -> Callable[[httpx.Client], httpx.Response | None]:
            def call(client: httpx.Client) -> httpx.Response | None:
                token = pool.take()
                if token is None:
                    return None
                response = client.post(f"{base}/o/introspect/", data={"token": token}, auth=auth)
                if response.status_code == 200 and response.json().get("active") is not True:
                    inactive.append(token)  # each was issued moments ago: a failure
                    return httpx.Response(500)
                return response

            return call

        # Cold: each token's first introspection (read from PostgreSQL, then cached), until
        # every one has been asked once. Warm: round and round the same tokens, each answer
        # from the Redis cache.
        cold = measure(
            "introspect cold",
            introspect_call(Tokens(distinct, once=True)),
            seconds=3600,
            threads=args.concurrency,
            warm=False,
        )
        warm_tokens = Tokens(distinct, once=False)
        introspect = measure("introspect warm", introspect_call(warm_tokens), **opts)
        baseline_last = measure("baseline", lambda c: c.get(f"{base}/healthz"), **opts)
        intro_base = (baseline_after["rps"] + baseline_last["rps"]) / 2
        figures = {
            "baseline_rps": round(base_rps, 1),
            "token_rps": tokens["rps"],
            "introspect_rps": introspect["rps"],
            "introspect_cold_rps": cold["rps"],
            "token_vs_baseline": round(tokens["rps"] / base_rps, 2),
            "introspect_vs_baseline": round(introspect["rps"] / intro_base, 2),
            "introspect_cold_vs_baseline": round(cold["rps"] / intro_base, 2),
            "introspect_tokens": len(distinct),
            "introspect_inactive": len(inactive),
            "errors": sum(
                int(m["errors"])
                for m in (baseline, tokens, baseline_after, cold, introspect, baseline_last)
            ),
            "baseline": baseline,
            "baseline_after_tokens": baseline_after,
            "baseline_last": baseline_last,
            "token": tokens,
            "introspect": introspect,
            "introspect_cold": cold,
            "concurrency": args.concurrency,
            "seconds": args.seconds,
        }
        print(
            f"tokens {figures['token_vs_baseline']:.2f}x of /healthz (goal ≥ 0.6x); "
            f"introspection over {len(distinct)} tokens {figures['introspect_vs_baseline']:.2f}x "
            f"warm (goal ≥ 0.7x), {figures['introspect_cold_vs_baseline']:.2f}x cold",
            flush=True,
        )
        print(json.dumps(figures))
        return 0
    finally:
        if site is not None:
            site.stop(timeout=10)
        if args.profile:
            report(tmp / "profile", top=70, match="")
        stack.stop_all()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
