"""Order benchmark: what a shop sees, then Order's placement path on its own.

Starts its own system (`manage_all.py up --detach` in a temporary folder on free ports,
BFF rate limits raised, stopped at the end; `--state DIR` uses one already up instead).

First, the sustained windows (issue 16), every process running (nothing paused):
customers order through the BFF, each with a signed-in browser session (sign-in at
Identity, session cookie, CSRF), a mix of 1-4 lines with sizes, milks, flavours and
extra shots from the seeded menu (`order_mix`), paid with the test card by the Celery
payment worker and mailed a receipt by Order's consumer. Each customer follows their
order on the BFF's status stream (`GET /api/events`, as the web client's order page
does) until it is paid, then orders again (closed: the backlog never exceeds
`--customers` orders). `--sustained-rounds` windows of `--sustained-seconds` (≥ 30 s)
alternate with `/healthz` (the trivial view), which opens and closes the sequence; a
window's rate counts the orders paid within it, over the mean of the `/healthz`
rounds either side of it (`sustained_ratio`: the median of the windows'). p99 from
sending the placement to the stream saying "paid" (`paid_p99_s`; Order's own
`paid_at` too), and afterwards every order checked: paid, charged, its receipt in the
e-mail sink.

Then, straight to Order (no BFF), the cheapest order (one donut, a token minted into
the database):
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

Every rate counts only the requests that succeeded; failures are reported apart (the
`*_errors` keys). Run: `.venv/bin/python bench/order.py [--seconds 15 --threads 8]
[--customers 32 --sustained-seconds 30 --sustained-rounds 2] [--only-sustained]
[--state DIR]`. The token is minted for the `bff-customer` client through Identity's
own manage.py (a local, short-lived token; no secret is read). The last line is JSON.
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing
import os
import random
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

from bench.profiler import cpu_by_process, cpu_report, profile_site, report  # noqa: E402
from bench.system import bench_system  # noqa: E402
from devstack.stack import Stack  # noqa: E402

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
    """(requests that succeeded, their latencies in s, requests that failed) of `threads`
    loops calling `call(client, worker, n)` for `seconds`. Only successes count in a
    rate, and only their latencies in a percentile (a fast refusal would flatter both);
    failures are reported on their own. A call that raises (a refused or timed-out
    connection) is a failure."""
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
                try:
                    ok = call(client, worker, n)
                except httpx.HTTPError:
                    ok = False
                took = time.perf_counter() - began
                with lock:
                    if ok:
                        latencies.append(took)
                    else:
                        errors[0] += 1

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


# ---- the sustained window: orders through the BFF, paid and e-mailed, every worker up ----

# How many lines a customer's order has (1-4), and how often: most orders are small.
LINE_COUNTS = (1, 2, 3, 4)
LINE_WEIGHTS = (45, 30, 15, 10)
# The statuses that end the wait for an order placed (STATUS_BY_EVENT in the BFF).
PAID, PAYMENT_FAILED = "placed", "payment_failed"

ORDERS_OF_RUN = """
import json
from order_site.orders.models import Order
rows = Order.objects.filter(idempotency_key__startswith="{prefix}").values_list(
    "id", "status", "number", "paid_at"
)
print("ORDERS", json.dumps([
    [i, status, number, paid_at.timestamp() if paid_at else None]
    for i, status, number, paid_at in rows
]))
"""


def _available(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [i for i in items if i.get("is_available", True) and not i.get("sold_out")]


def random_line(menu: list[dict[str, Any]], rng: random.Random) -> dict[str, Any]:
    """One line as a customer builds it from the menu: any product on sale, one of its
    variations, in each option group between its minimum and maximum of the options on
    sale (the extras chosen about a third of the time), one or two of it."""
    products = _available([p for c in menu for p in c["products"]])
    product = rng.choice(products)
    line: dict[str, Any] = {"product_id": product["id"], "quantity": rng.choice((1, 1, 1, 2))}
    variations = _available(product.get("variations") or [])
    if variations:
        line["variation_id"] = rng.choice(variations)["id"]
    chosen: list[int] = []
    for group in product.get("option_groups") or []:
        options = _available(group.get("options") or [])
        low = int(group.get("min_selections", group.get("min", 0)))
        high = min(len(options), int(group.get("max_selections", group.get("max", len(options)))))
        count = low if high <= low or rng.random() > 1 / 3 else rng.randint(low + 1, high)
        chosen += [o["id"] for o in rng.sample(options, count)]
    line["option_ids"] = chosen
    return line


def order_mix(menu: list[dict[str, Any]], count: int, *, seed: int = 16) -> list[dict[str, Any]]:
    """`count` order bodies, 1-4 lines each (LINE_WEIGHTS), from the menu as seeded:
    sizes, milks, flavours, extra shots, donuts. The same seed gives the same mix."""
    rng = random.Random(seed)
    return [
        {
            "lines": [
                random_line(menu, rng)
                for _ in range(rng.choices(LINE_COUNTS, weights=LINE_WEIGHTS)[0])
            ],
            "payment_method": TEST_TOKEN,
        }
        for _ in range(count)
    ]


def status_follower(bff: str, cookie: str, started: Any, stop: Any, out: Any) -> None:
    """Run in its own process: follow the signed-in customer's `GET /api/events` (what
    the web client's order page does) and send `(order id, status, time received)` for
    each order that reaches PAID or PAYMENT_FAILED. Reconnects with Last-Event-ID if the
    stream ends."""
    last_id: str | None = None
    done: set[int] = set()
    with httpx.Client(timeout=httpx.Timeout(10, read=None), trust_env=False) as client:
        while not stop.is_set():
            headers = {"Cookie": cookie, "Accept": "text/event-stream"}
            if last_id:
                headers["Last-Event-ID"] = last_id
            try:
                with client.stream("GET", f"{bff}/api/events", headers=headers) as response:
                    if response.status_code != 200:
                        time.sleep(0.5)
                        continue
                    started.set()
                    event: dict[str, str] = {}
                    for line in response.iter_lines():
                        if stop.is_set():
                            break
                        if line:
                            field, _, value = line.partition(":")
                            event[field] = value.lstrip(" ")
                            continue
                        received = time.time()
                        last_id = event.get("id") or last_id
                        data = event.get("data")
                        event = {}
                        if not data:
                            continue
                        message = json.loads(data)
                        status = message.get("status") if isinstance(message, dict) else None
                        if status in (PAID, PAYMENT_FAILED):
                            order_id = int(message["order_id"])
                            if order_id not in done:
                                done.add(order_id)
                                out.send((order_id, status, received))
            except httpx.HTTPError:
                time.sleep(0.2)
    out.send(None)


def sign_in_sessions(bff: str, password: str, count: int) -> list[tuple[str, str]]:
    """`count` signed-in browser sessions of the demo customer, each as (Cookie header,
    CSRF token): the BFF's sign-in through Identity, as a browser does it."""
    from tests.e2e.browserless import browser_client, sign_in

    sessions = []
    for _ in range(count):
        with browser_client(bff) as client:
            sign_in(client, email="customer@coffeeshop.local", password=password)
            csrf = client.get("/api/session").json()["csrf_token"]
            cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
            sessions.append((cookie, csrf))
    return sessions


class Sustained:
    """Customers ordering through the BFF as a shop sees them: each of `customers`
    places an order (a body from `bodies`, in turn), follows it until it is paid (the
    status stream), then orders again. Closed: a customer waits for their order, so the
    backlog never exceeds `customers` orders and the rate is what the whole path (BFF,
    Order, relay, Kafka, payment worker, live updates) sustains."""

    def __init__(
        self,
        bff: str,
        sessions: list[tuple[str, str]],
        bodies: list[dict[str, Any]],
        *,
        customers: int,
        wait_s: float = 30,
    ) -> None:
        self.bff, self.sessions, self.bodies = bff, sessions, bodies
        self.customers, self.wait_s = customers, wait_s
        self.seen: dict[int, tuple[str, float]] = {}
        self.changed = threading.Condition()
        self.next_body = itertools.count()
        self.placed: dict[int, float] = {}  # order id -> when its placement was sent
        self.place_latencies: list[float] = []
        self.errors: dict[str, int] = {"placement": 0, "payment_failed": 0, "not_paid": 0}
        self.failures: list[str] = []  # the first few, to tell what went wrong
        self.lock = threading.Lock()

    def deliver(self, receive: Any) -> None:
        """The follower's messages, until it sends None (run in a thread)."""
        while True:
            message = receive.recv()
            if message is None:
                return
            order_id, status, at = message
            with self.changed:
                self.seen[order_id] = (status, at)
                self.changed.notify_all()

    def wait_for(self, order_id: int) -> tuple[str, float]:
        """(PAID or PAYMENT_FAILED, when the stream said so), or ("", 0) after `wait_s`."""
        with self.changed:
            self.changed.wait_for(lambda: order_id in self.seen, timeout=self.wait_s)
            return self.seen.get(order_id, ("", 0.0))

    def run(self, seconds: float, keys: str) -> dict[str, Any]:
        """One window of `seconds`, its orders under Idempotency-Keys `keys-customer-n`:
        paid per second (the orders paid within the window) and the latencies from
        placement to paid (every order placed in it, however late it was paid)."""
        began = time.time()
        stop_at = began + seconds
        paid: list[tuple[float, float]] = []  # (placement sent, paid seen)

        def customer(number: int) -> None:
            cookie, csrf = self.sessions[number % len(self.sessions)]
            with httpx.Client(timeout=30, trust_env=False) as client:
                n = 0
                while time.time() < stop_at:
                    n += 1
                    body = self.bodies[next(self.next_body) % len(self.bodies)]
                    sent = time.time()
                    try:
                        response = client.post(
                            f"{self.bff}/api/orders",
                            json=body,
                            headers={
                                "Cookie": cookie,
                                "X-CSRF-Token": csrf,
                                "Idempotency-Key": f"{keys}-{number}-{n}",
                            },
                        )
                        ok = response.status_code == 201
                        failure = f"{response.status_code} {response.text[:300]}"
                    except httpx.HTTPError as exc:
                        ok, failure = False, repr(exc)
                    if not ok:
                        with self.lock:
                            self.errors["placement"] += 1
                            if len(self.failures) < 5:
                                self.failures.append(failure)
                        time.sleep(0.05)
                        continue
                    answered = time.time()
                    order_id = int(response.json()["id"])
                    with self.lock:
                        self.placed[order_id] = sent
                        self.place_latencies.append(answered - sent)
                    status, at = self.wait_for(order_id)
                    with self.lock:
                        if status == PAID:
                            paid.append((sent, at))
                        else:
                            self.errors["not_paid" if not status else "payment_failed"] += 1

        threads = [threading.Thread(target=customer, args=(i,)) for i in range(self.customers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        in_window = sum(1 for _, at in paid if at <= stop_at)
        return {
            "paid_rps": in_window / seconds,
            "paid_latencies": [at - sent for sent, at in paid],
            "paid": len(paid),
        }


def receipts_mailed(maildir: Path, numbers: dict[str, int], since: float) -> dict[int, float]:
    """The receipt mails (subject "Order A-042: paid") the e-mail sink stored since
    `since` for the pickup numbers in `numbers`: {order id: when the mail arrived}."""
    import email.parser

    parser = email.parser.BytesHeaderParser()
    mailed: dict[int, float] = {}
    for folder in ("new", "cur"):
        path = maildir / folder
        if not path.is_dir():
            continue
        for entry in os.scandir(path):
            arrived = entry.stat().st_mtime
            if arrived < since:
                continue
            with open(entry.path, "rb") as handle:
                subject = str(parser.parse(handle).get("Subject", ""))
            number = subject.removeprefix("Order ").removesuffix(": paid")
            if subject.endswith(": paid") and number in numbers:
                mailed[numbers[number]] = arrived
    return mailed


def orders_of_run(stack: Stack, prefix: str) -> list[tuple[int, str, str, float | None]]:
    out = stack.manage("order", "shell", "-c", ORDERS_OF_RUN.format(prefix=prefix))
    line = next(line for line in out.splitlines() if line.startswith("ORDERS "))
    return [(int(i), str(s), str(n), p) for i, s, n, p in json.loads(line.removeprefix("ORDERS "))]


def sustained_window(
    args: argparse.Namespace, stack: Stack, healthz: Callable[..., bool], run: str
) -> dict[str, Any]:
    """The sustained measurement (module doc): `/healthz` and `--sustained-rounds` windows
    of `--sustained-seconds` of customers ordering through the BFF alternate, starting
    and ending with `/healthz`; each window's paid rate over the mean of the `/healthz`
    rounds either side of it; then every order of the windows checked paid once and its
    receipt mailed."""
    from devstack.cli import demo_password

    bff = f"http://127.0.0.1:{stack.ports['bff']}"
    order = f"http://127.0.0.1:{stack.ports['order']}"
    menu = httpx.get(f"{order}/api/menu/", timeout=10).json()
    bodies = order_mix(menu, 1000)
    sessions = sign_in_sessions(bff, demo_password(stack), min(args.customers, 8) + 1)
    prefix = f"sus-{run}"
    sustained = Sustained(
        bff, sessions[1:], bodies, customers=args.customers, wait_s=args.paid_wait
    )
    context = multiprocessing.get_context("spawn")
    started, stop = context.Event(), context.Event()
    receive, send = context.Pipe(duplex=False)
    follower = context.Process(
        target=status_follower, args=(bff, sessions[0][0], started, stop, send)
    )
    follower.start()
    deliver = threading.Thread(target=sustained.deliver, args=(receive,), daemon=True)
    deliver.start()
    if not started.wait(30):
        stop.set()
        follower.join(10)
        sys.exit("the status stream did not open")
    mails_since = time.time()
    baselines: list[float] = []
    rounds: list[dict[str, Any]] = []
    h_errors = 0
    try:
        # Warm up (sessions, connections, the menu cached, every worker awake); its
        # orders are not the run's.
        sustained.run(3, f"warm-{run}")
        sustained.placed.clear()
        sustained.place_latencies.clear()
        sustained.errors = dict.fromkeys(sustained.errors, 0)
        wait_until_charged(stack, f"warm-{run}", timeout=args.drain_timeout, settle=args.settle / 3)
        for window in range(args.sustained_rounds + 1):
            count, _, errors = hammer(args.threads, args.sustained_baseline_seconds, healthz)
            baselines.append(count / args.sustained_baseline_seconds)
            h_errors += errors
            if window == args.sustained_rounds:
                break
            cpu_before, cpu_began = cpu_by_process(), time.monotonic()
            result = sustained.run(args.sustained_seconds, f"{prefix}-{window}")
            print(
                cpu_report(cpu_before, cpu_by_process(), time.monotonic() - cpu_began),
                flush=True,
            )
            rounds.append(result)
            print(
                f"sustained window {window + 1}: /healthz {baselines[-1]:.0f}/s, then "
                f"{result['paid_rps']:.1f} orders/s placed through the BFF and paid, p99 "
                f"placement to paid {percentile(result['paid_latencies'], 99):.2f} s",
                flush=True,
            )
            time.sleep(args.settle / 3)  # e-mails and events the window left behind
    finally:
        stop.set()
        follower.join(15)
        if follower.is_alive():
            follower.terminate()
    ratios = [r["paid_rps"] / ((baselines[i] + baselines[i + 1]) / 2) for i, r in enumerate(rounds)]
    latencies = [x for r in rounds for x in r["paid_latencies"]]
    # Every order of the windows: paid once, and its receipt in the e-mail sink.
    wait_until_charged(stack, prefix, timeout=args.drain_timeout, settle=0)
    rows = [row for row in orders_of_run(stack, prefix) if row[0] in sustained.placed]
    numbers = {number: order_id for order_id, status, number, _ in rows if status == PAID}
    deadline = time.monotonic() + 60
    mailed = receipts_mailed(stack.maildir, numbers, mails_since)
    while len(mailed) < len(numbers) and time.monotonic() < deadline:
        time.sleep(2)
        mailed = receipts_mailed(stack.maildir, numbers, mails_since)
    mail_latencies = [at - sustained.placed[i] for i, at in mailed.items()]
    server_paid = [
        paid_at - sustained.placed[i] for i, _, _, paid_at in rows if paid_at is not None
    ]
    _, _, charges = backlog(stack, prefix)
    for failure in sustained.failures:
        print(f"a failed placement: {failure}", flush=True)
    return {
        "sustained_paid_rps": round(statistics.mean(r["paid_rps"] for r in rounds), 1),
        "sustained_ratio": round(statistics.median(ratios), 3),
        "sustained_ratios": [round(r, 3) for r in ratios],
        "sustained_baseline_rps": round(statistics.mean(baselines), 1),
        "sustained_baselines_rps": [round(b, 1) for b in baselines],
        "sustained_rounds_paid_rps": [round(r["paid_rps"], 1) for r in rounds],
        "paid_p50_s": round(percentile(latencies, 50), 3),
        "paid_p99_s": round(percentile(latencies, 99), 3),
        "paid_p99_server_s": round(percentile(server_paid, 99), 3),
        "sustained_place_p50_ms": round(percentile(sustained.place_latencies, 50) * 1000, 1),
        "sustained_place_p99_ms": round(percentile(sustained.place_latencies, 99) * 1000, 1),
        "sustained_orders": len(rows),
        "sustained_paid": len(numbers),
        "sustained_charges": charges,
        "sustained_mailed": len(mailed),
        "mailed_p99_s": round(percentile(mail_latencies, 99), 3),
        "sustained_errors": sum(sustained.errors.values()) + h_errors,
        "sustained_error_kinds": {**sustained.errors, "healthz": h_errors},
        "sustained_customers": args.customers,
        "sustained_seconds": args.sustained_seconds,
        "sustained_rounds": args.sustained_rounds,
        "sustained_lines_mean": round(statistics.mean(len(b["lines"]) for b in bodies), 2),
    }


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
    parser.add_argument(
        "--customers", type=int, default=32, help="customers ordering in the sustained windows"
    )
    parser.add_argument(
        "--sustained-seconds", type=float, default=30, help="length of each sustained window"
    )
    parser.add_argument("--sustained-rounds", type=int, default=2, help="sustained windows")
    parser.add_argument(
        "--sustained-baseline-seconds",
        type=float,
        default=5,
        help="seconds of /healthz before, between and after the sustained windows",
    )
    parser.add_argument(
        "--paid-wait", type=float, default=30, help="seconds a customer waits for 'paid'"
    )
    parser.add_argument(
        "--only-sustained", action="store_true", help="skip windows 1 and 2 (quicker)"
    )
    parser.add_argument("--state", type=Path, help="use the system already up in this folder")
    parser.add_argument("--keep", action="store_true", help="leave the system running")
    parser.add_argument(
        "--profile",
        default="",
        help="sites to profile, comma-separated (bff,order,identity): restarted under "
        "bench/profiler.py, stopped at the end and their profiles printed (after the JSON)",
    )
    args = parser.parse_args()
    with bench_system("order", state=args.state, keep=args.keep) as system:
        profiled = {
            site: profile_site(system.stack, site, system.tmp / "profiles" / site)
            for site in args.profile.split(",")
            if site
        }
        try:
            measure(args, system.stack)
        finally:
            for site, proc in profiled.items():
                proc.stop()
                print(f"---- profile of {site}", flush=True)
                report(system.tmp / "profiles" / site, top=70, match="")


def measure(args: argparse.Namespace, stack: Stack) -> None:
    config = stack.config
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

    # The sustained windows: what a shop sees (orders through the BFF, paid, e-mailed).
    sustained = sustained_window(args, stack, healthz, run)
    print(
        f"sustained: {sustained['sustained_paid_rps']:.1f} orders/s placed through the BFF "
        f"and paid ({sustained['sustained_ratio']:.2f}x of /healthz, median of the windows "
        f"{sustained['sustained_ratios']}; goal >= 0.3x), placement to paid p50 "
        f"{sustained['paid_p50_s']:.2f} s, p99 {sustained['paid_p99_s']:.2f} s (goal <= 2 s); "
        f"{sustained['sustained_orders']} orders, {sustained['sustained_paid']} paid, "
        f"{sustained['sustained_charges']} charges, {sustained['sustained_mailed']} receipts "
        f"mailed (p99 {sustained['mailed_p99_s']:.2f} s after placement); errors "
        f"{sustained['sustained_error_kinds']}",
        flush=True,
    )
    if args.only_sustained:
        print(json.dumps(sustained))
        return
    drain_and_settle()

    def rate(call: Any, seconds: float) -> tuple[float, list[float], int]:
        count, latencies, errors = hammer(args.threads, seconds, call)
        return count / seconds, latencies, errors  # successes only

    # Window 1: everything running, the asynchronous workers busy beside Order.
    shared_baseline, _, shared_h_errors = rate(healthz, args.seconds / 2)
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
                "place_errors_workers_busy": shared_errors,
                "baseline_errors": h_errors + shared_h_errors,
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
                **sustained,
            }
        )
    )


if __name__ == "__main__":
    main()
