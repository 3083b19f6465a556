"""Order benchmark against a running `manage_all.py up` stack.

Measures, straight to Order (no BFF):
- `/healthz` requests per second (the baseline of the stack: gunicorn, Django, no DB);
- placements per second with p50/p99 latency (`POST /api/orders/`, a fresh
  Idempotency-Key each, a bearer token introspected at Identity then cached), twice:
  1. with every process running: the asynchronous workers (the Celery payment worker,
     Order's e-mail consumers, the BFF's live-update consumer) work through the
     charges and events the placements cause, on the same two cores (its baseline is
     measured before, once the warm-up's charges are worked off);
  2. with those asynchronous workers paused (SIGSTOP) for the window, as when they run
     on their own machines: what Order's placement path itself sustains. The outbox
     relay and Kafka keep running (their lag is measured). `/healthz` and placements
     alternate in `--rounds` short rounds of `--round-seconds` each, and the ratio
     reported is the median of the rounds' (the machine's speed drifts over minutes
     and a noisy neighbour or an autovacuum hits a round or two: short rounds put
     baseline and placements side by side, and the median of many shrugs off the
     odd one; the quartiles are printed too). The workers are
     resumed afterwards and the bench waits until every order placed is paid, checking
     each was charged exactly once, and prints how long the backlog took.
- outbox-to-Kafka lag: from an event's `occurred_at` to its arrival on
  `coffeeshop.order-events` (relay + broker), p50/p99, during window 2.

Run: `COFFEESHOP_STATE_DIR=... .venv/bin/python bench/order.py [--seconds 15 --threads 8]`.
The token is minted for the `bff-customer` client through Identity's own
manage.py (a local, short-lived token; no secret is read). The last line is JSON.
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing
import os
import signal
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from devstack.stack import Stack, StackConfig, default_state_dir  # noqa: E402

MINT = """
import datetime, secrets
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application
app = Application.objects.get(client_id="bff-customer")
token = AccessToken.objects.create(
    application=app, token=secrets.token_urlsafe(32),
    expires=timezone.now() + datetime.timedelta(minutes=30),
    scope="orders:read orders:write orders:on-behalf-of",
)
print("TOKEN", token.token)
"""


# The asynchronous workers paused in window 2 (devstack.workers.WORKERS names).
ASYNC_WORKERS = ("worker", "order-consumers", "bff-live")
# Stripe's fixed test token for 4242 4242 4242 4242 (the sandbox honours it too).
TEST_TOKEN = "pm_card_visa"  # noqa: S105 - a public test token, not a secret

BACKLOG = """
from order_site.orders.models import Order
from order_site.payments.models import Payment
orders = Order.objects.filter(idempotency_key__startswith="{prefix}")
ids = list(orders.values_list("id", flat=True))
pending = orders.filter(status="pending_payment").count()
paid = Payment.objects.filter(order_id__in=ids, status="succeeded").count()
print("BACKLOG", len(ids), pending, paid)
"""


def signal_workers(stack: Stack, sig: int) -> None:
    """Send `sig` to each asynchronous worker's whole process group (Celery's children too)."""
    for name in ASYNC_WORKERS:
        proc = stack.process(name)
        pid = proc.pid() if proc is not None else None
        if pid is not None:
            os.killpg(pid, sig)


def backlog(stack: Stack, prefix: str) -> tuple[int, int, int]:
    """(orders placed by this run, still pending payment, charges succeeded)."""
    out = stack.manage("order", "shell", "-c", BACKLOG.format(prefix=prefix))
    line = next(line for line in out.splitlines() if line.startswith("BACKLOG "))
    placed, pending, paid = (int(x) for x in line.split()[1:])
    return placed, pending, paid


def wait_until_charged(stack: Stack, prefix: str, *, timeout: float, settle: float) -> None:
    """Wait until the workers have charged every order whose Idempotency-Key starts with
    `prefix` ("" for all), then `settle` seconds of quiet for the events those charges
    raise (and autovacuum after the burst): the payment worker busy on both cores would
    slow whatever is measured next."""
    deadline = time.monotonic() + timeout
    while backlog(stack, prefix)[1] and time.monotonic() < deadline:
        time.sleep(5)  # each look is a manage.py process: not too often
    time.sleep(settle)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def mint_token(stack: Stack) -> str:
    out = stack.manage("identity", "shell", "-c", MINT)
    return next(line.split()[1] for line in out.splitlines() if line.startswith("TOKEN "))


def hammer(threads: int, seconds: float, call: Any) -> tuple[int, list[float], int]:
    """(requests done, latencies in s, errors) of `threads` loops calling `call(client, n)`."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def loop(worker: int) -> None:
        with httpx.Client(timeout=30) as client:
            n = 0
            while time.monotonic() < stop_at:
                n += 1
                began = time.perf_counter()
                ok = call(client, worker, n)
                took = time.perf_counter() - began
                with lock:
                    latencies.append(took)
                    errors[0] += 0 if ok else 1

    workers = [threading.Thread(target=loop, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return len(latencies), latencies, errors[0]


def donut_order(menu: list[dict[str, Any]]) -> dict[str, Any]:
    """The body of the cheapest order there is: one donut, paid with the test token."""
    donut = next(p for c in menu for p in c["products"] if p["name"] == "Donuts")
    return {
        "lines": [
            {"product_id": donut["id"], "variation_id": donut["variations"][0]["id"], "quantity": 1}
        ],
        # Stripe's fixed test token (the sandbox's too): reusable, so every placement of
        # the run can pay with it without tokenizing a card each time.
        "payment_method": TEST_TOKEN,
    }


def placement_call(
    base: str, body: dict[str, Any], token: str, *, first_user: int, keys: str
) -> Callable[[httpx.Client, int, int], bool]:
    """A `hammer` call placing `body` straight at Order (`base`) with a bearer token, as
    user `first_user + worker`, each under its own Idempotency-Key `keys-worker-n`. A
    replayed answer would not be a placement: it counts as an error."""

    def place(client: httpx.Client, worker: int, n: int) -> bool:
        response = client.post(
            f"{base}/api/orders/",
            json=body,
            headers={
                "Authorization": f"Bearer {token}",
                "X-Acting-User": str(first_user + worker),
                "X-Acting-Roles": "customer",
                "Idempotency-Key": f"{keys}-{worker}-{n}",
            },
        )
        return response.status_code == 201 and "Idempotent-Replayed" not in response.headers

    return place


def lag_collector(bootstrap: str, started: Any, stop: Any, results: Any) -> None:
    """Run in its own process (not a thread of the load generator, whose GIL it would
    share): collect each event's lag until `stop` is set, then send the list."""
    from confluent_kafka import OFFSET_END, Consumer

    lags: list[float] = []

    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"bench-{uuid.uuid4().hex}",
            "enable.auto.commit": False,
        }
    )

    def on_assign(c: Any, partitions: Any) -> None:
        for p in partitions:
            p.offset = OFFSET_END
        c.assign(partitions)
        started.set()

    consumer.subscribe(["coffeeshop.order-events"], on_assign=on_assign)
    try:
        while not stop.is_set():
            message = consumer.poll(0.2)
            if message is None or message.error():
                continue
            arrived = time.time()
            value = message.value()
            if value is None:
                continue
            occurred = json.loads(value)["occurred_at"].replace("Z", "+00:00")
            lags.append(arrived - datetime.fromisoformat(occurred).timestamp())
    finally:
        consumer.close()
        results.send(lags)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--settle", type=float, default=15, help="seconds of quiet before window 2")
    parser.add_argument(
        "--rounds", type=int, default=9, help="baseline/placement rounds in window 2"
    )
    parser.add_argument(
        "--round-seconds",
        type=float,
        default=2.5,
        help="seconds of baseline, then of placements, in each round of window 2",
    )
    parser.add_argument(
        "--drain-timeout", type=float, default=300, help="seconds to wait for the backlog"
    )
    args = parser.parse_args()
    config = StackConfig.load(default_state_dir())
    if config is None:
        sys.exit("no running stack: start one with `python3 manage_all.py up --detach`")
    stack = Stack(config)
    order = f"http://127.0.0.1:{config.ports['order']}"
    bootstrap = f"127.0.0.1:{config.ports['kafka']}"

    token = mint_token(stack)
    menu = httpx.get(f"{order}/api/menu/", timeout=10).json()
    body = donut_order(menu)
    run = uuid.uuid4().hex[:8]
    windows = itertools.count()  # each hammer() of placements gets its own keys

    def healthz(client: httpx.Client, worker: int, n: int) -> bool:
        return client.get(f"{order}/healthz").status_code == 200

    def placements() -> Any:
        """A placement call for one window: its own Idempotency-Keys (none replayed)."""
        keys = f"bench-{run}-{next(windows)}"
        return placement_call(order, body, token, first_user=500000, keys=keys)

    hammer(args.threads, 3, healthz)  # warm up
    hammer(args.threads, 3, placements())

    def drain_and_settle() -> None:
        wait_until_charged(stack, f"bench-{run}", timeout=args.drain_timeout, settle=args.settle)

    # The warm-up's charges are worked off first: a baseline measured beside them
    # would be low and flatter the ratio.
    drain_and_settle()

    def rate(call: Any, seconds: float) -> tuple[float, list[float], int]:
        count, latencies, errors = hammer(args.threads, seconds, call)
        return (count - errors) / seconds, latencies, errors  # successes only

    # Window 1: everything running, the asynchronous workers busy beside Order.
    shared_baseline, _, _ = rate(healthz, args.seconds / 2)
    shared_rps, latencies, shared_errors = rate(placements(), args.seconds)
    print(
        f"every worker busy on the same cores: /healthz {shared_baseline:.0f}/s, "
        f"placements {shared_rps:.1f}/s ({shared_rps / shared_baseline:.2f}x), "
        f"p50 {percentile(latencies, 50) * 1000:.1f} ms, "
        f"p99 {percentile(latencies, 99) * 1000:.1f} ms, {shared_errors} errors",
        flush=True,
    )
    # Let the workers catch up before the next window, so they are idle when paused.
    drain_and_settle()

    # Window 2: the asynchronous workers paused; relay and Kafka running (lag measured).
    # Baseline and placements alternate, so a noisy neighbour hits both alike; the
    # ratio is the median of the rounds'.
    context = multiprocessing.get_context("spawn")
    started, stop = context.Event(), context.Event()
    receive, send = context.Pipe(duplex=False)
    collector = context.Process(target=lag_collector, args=(bootstrap, started, stop, send))
    collector.start()
    started.wait(30)
    baselines: list[float] = []
    rates: list[float] = []
    latencies, h_errors, p_errors = [], 0, 0
    signal_workers(stack, signal.SIGSTOP)
    try:
        for _ in range(args.rounds):
            baseline, _, errors = rate(healthz, args.round_seconds)
            baselines.append(baseline)
            h_errors += errors
            placed_rps, round_latencies, errors = rate(placements(), args.round_seconds)
            rates.append(placed_rps)
            latencies += round_latencies
            p_errors += errors
        time.sleep(5)  # let the relay drain
    finally:
        signal_workers(stack, signal.SIGCONT)
    stop.set()
    lags: list[float] = receive.recv() if receive.poll(60) else []
    collector.join(30)
    baseline_rps = statistics.mean(baselines)
    place_rps = statistics.mean(rates)
    ratios = [p / b for p, b in zip(rates, baselines, strict=True)]
    ratio = statistics.median(ratios)
    q1, _, q3 = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else (ratio,) * 3
    p50, p99 = percentile(latencies, 50) * 1000, percentile(latencies, 99) * 1000
    print(
        f"asynchronous workers paused, {args.rounds} rounds of {args.round_seconds:g} s: "
        f"/healthz {', '.join(f'{b:.0f}' for b in baselines)}/s ({h_errors} errors); "
        f"placements {', '.join(f'{r:.0f}' for r in rates)}/s, p50 {p50:.1f} ms, "
        f"p99 {p99:.1f} ms, {p_errors} errors; ratio per round "
        f"{', '.join(f'{r:.2f}' for r in ratios)}: median {ratio:.2f}x "
        f"(quartiles {q1:.2f}-{q3:.2f}), {args.threads} threads",
        flush=True,
    )
    lag_p50, lag_p99 = percentile(lags, 50), percentile(lags, 99)
    print(f"outbox to Kafka lag: {len(lags)} events, p50 {lag_p50:.3f} s, p99 {lag_p99:.3f} s")

    # The workers resumed: every order of the run gets paid, each charged once.
    resumed = time.monotonic()
    placed, pending, paid = backlog(stack, f"bench-{run}")
    while pending and time.monotonic() - resumed < args.drain_timeout:
        time.sleep(5)  # each look is a manage.py process: not too often
        placed, pending, paid = backlog(stack, f"bench-{run}")
    drain_s = time.monotonic() - resumed
    print(
        f"after resuming: {placed} orders placed in this run, {pending} still pending "
        f"payment, {paid} charges succeeded, backlog worked off in {drain_s:.0f} s",
        flush=True,
    )
    print(
        json.dumps(
            {
                "baseline_rps": round(baseline_rps, 1),
                "place_rps": round(place_rps, 1),
                "place_p50_ms": round(p50, 1),
                "place_p99_ms": round(p99, 1),
                "place_errors": p_errors,
                "place_ratio": round(ratio, 3),
                "place_ratio_q1": round(q1, 3),
                "place_ratio_q3": round(q3, 3),
                "baseline_rps_workers_busy": round(shared_baseline, 1),
                "place_rps_workers_busy": round(shared_rps, 1),
                "place_ratio_workers_busy": round(shared_rps / shared_baseline, 3),
                "orders_placed": placed,
                "orders_pending_after_drain": pending,
                "charges_succeeded": paid,
                "backlog_drain_s": round(drain_s, 1),
                "outbox_events": len(lags),
                "outbox_lag_p50_s": round(lag_p50, 3),
                "outbox_lag_p99_s": round(lag_p99, 3),
                "threads": args.threads,
                "seconds": args.seconds,
                "rounds": args.rounds,
                "round_seconds": args.round_seconds,
            }
        )
    )


if __name__ == "__main__":
    main()
