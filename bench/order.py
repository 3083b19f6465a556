"""Order benchmark against a running `manage_all.py up` stack.

Measures, straight to Order (no BFF):
- `/healthz` requests per second (the baseline of the stack: gunicorn, Django, no DB);
- placements per second with p50/p99 latency (`POST /api/orders/`, a fresh
  Idempotency-Key each, a bearer token introspected at Identity then cached);
- outbox-to-Kafka lag: from an event's `occurred_at` to its arrival on
  `coffeeshop.order-events` (relay + broker), p50/p99.

Run: `COFFEESHOP_STATE_DIR=... .venv/bin/python bench/order.py [--seconds 15 --threads 8]`.
The token is minted for the `bff-customer` client through Identity's own
manage.py (a local, short-lived token; no secret is read). The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
import uuid
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


def lag_collector(
    bootstrap: str, started: threading.Event, stop: threading.Event, lags: list[float]
) -> None:
    from confluent_kafka import OFFSET_END, Consumer

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    config = StackConfig.load(default_state_dir())
    if config is None:
        sys.exit("no running stack: start one with `python3 manage_all.py up --detach`")
    stack = Stack(config)
    order = f"http://127.0.0.1:{config.ports['order']}"
    bootstrap = f"127.0.0.1:{config.ports['kafka']}"

    token = mint_token(stack)
    menu = httpx.get(f"{order}/api/menu/", timeout=10).json()
    donut = next(p for c in menu for p in c["products"] if p["name"] == "Donuts")
    body = {
        "lines": [
            {"product_id": donut["id"], "variation_id": donut["variations"][0]["id"], "quantity": 1}
        ]
    }
    run = uuid.uuid4().hex[:8]

    def healthz(client: httpx.Client, worker: int, n: int) -> bool:
        return client.get(f"{order}/healthz").status_code == 200

    def place(client: httpx.Client, worker: int, n: int) -> bool:
        response = client.post(
            f"{order}/api/orders/",
            json=body,
            headers={
                "Authorization": f"Bearer {token}",
                "X-Acting-User": str(500000 + worker),
                "X-Acting-Roles": "customer",
                "Idempotency-Key": f"bench-{run}-{worker}-{n}",
            },
        )
        return response.status_code == 201

    hammer(args.threads, 2, healthz)  # warm up
    hammer(args.threads, 2, place)
    count, _, h_errors = hammer(args.threads, args.seconds, healthz)
    baseline_rps = count / args.seconds
    print(f"/healthz: {baseline_rps:.0f} req/s ({h_errors} errors)", flush=True)

    lags: list[float] = []
    started, stop = threading.Event(), threading.Event()
    collector = threading.Thread(target=lag_collector, args=(bootstrap, started, stop, lags))
    collector.start()
    started.wait(30)
    count, latencies, p_errors = hammer(args.threads, args.seconds, place)
    time.sleep(5)  # let the relay drain
    stop.set()
    collector.join()
    place_rps = count / args.seconds
    p50, p99 = percentile(latencies, 50) * 1000, percentile(latencies, 99) * 1000
    print(
        f"placements: {place_rps:.1f}/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
        f"{p_errors} errors, {args.threads} threads, {args.seconds:.0f} s",
        flush=True,
    )
    lag_p50, lag_p99 = percentile(lags, 50), percentile(lags, 99)
    print(f"outbox to Kafka lag: {len(lags)} events, p50 {lag_p50:.3f} s, p99 {lag_p99:.3f} s")
    print(
        json.dumps(
            {
                "baseline_rps": round(baseline_rps, 1),
                "place_rps": round(place_rps, 1),
                "place_p50_ms": round(p50, 1),
                "place_p99_ms": round(p99, 1),
                "place_errors": p_errors,
                "outbox_events": len(lags),
                "outbox_lag_p50_s": round(lag_p50, 3),
                "outbox_lag_p99_s": round(lag_p99, 3),
                "threads": args.threads,
                "seconds": args.seconds,
            }
        )
    )


if __name__ == "__main__":
    main()
