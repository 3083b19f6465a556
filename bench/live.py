"""Live-updates benchmark: many browser streams on one BFF, none of their events lost.

Starts its own system (`manage_all.py up --detach` in a temporary folder on free
ports, the BFF's rate limits raised), signs in a barista and a few customers, then in
one run, bounded in time:

- opens N server-sent-event streams (`GET /api/events`, default 2,000) through the
  BFF on loopback, each as a browser tab of one of those people (about one in ten a
  barista's, the rest spread over the customers), with asyncio on raw sockets;
- places orders as the customers and moves each through the barista's queue
  (`in_preparation` → `ready` → `collected`) through the BFF's API;
- forces some streams to drop mid-run and come back a moment later with
  `Last-Event-ID`, as a browser does;
- meanwhile calls the API (`GET /api/orders`, `GET /api/menu`) at a steady pace.

It prints: streams held, p50/p99 from the status change in Order (the event's
`occurred_at`) to the event reaching the stream (live deliveries; events replayed
after a forced reconnect are counted apart), events lost (each order's history in
Order, against what each stream that should see it got; must be 0), API p50/p99
with no stream open, with the streams open and idle, and while the orders move (the
payment worker, Order and Kafka then share the 2 cores too), the time from Order to
the Redis Stream and from there to the browser (a Stream id starts with Redis's clock),
CPU used, and the BFF's memory per stream (PSS of its processes, held minus idle).
The last line is one JSON object.

An event's time of arrival is the kernel's receive timestamp of its bytes on the tab's
socket, not when this one process (2,000 tabs, on the cores the system uses) got round
to parsing it; that later time is printed too (`event_handled_*`).

Run: `.venv/bin/python bench/live.py [--streams 2000 --orders 40 --reconnects 200]`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import html
import json
import os
import random
import re
import socket
import struct
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.bff import espresso_line  # noqa: E402
from bench.order import TEST_TOKEN, percentile  # noqa: E402
from bench.system import bench_system  # noqa: E402
from devstack.cli import demo_password  # noqa: E402
from devstack.stack import Stack, memory_mib  # noqa: E402
from tests.e2e.browserless import browser_client, sign_in  # noqa: E402

COOKIE = "__Host-coffeeshop-session"
HOST = "127.0.0.1"
FLOW = ("in_preparation", "ready", "collected")


@dataclass
class Person:
    name: str
    client: httpx.Client
    csrf: str
    user_id: str
    staff: bool

    @property
    def cookie(self) -> str:
        for cookie in self.client.cookies.jar:
            if cookie.name == COOKIE:
                return str(cookie.value)
        raise RuntimeError(f"{self.name} has no session cookie")


@dataclass
class Tab:
    """One browser stream: what it received, by event id."""

    owner: Person
    # event id → (data, arrived at the socket, handled by the bench, replayed)
    received: dict[str, tuple[dict[str, Any], float, float, bool]] = field(default_factory=dict)
    last_id: str | None = None
    connected: bool = False
    connects: int = 0
    duplicates: int = 0
    resyncs: int = 0
    errors: list[str] = field(default_factory=list)


def register(client: httpx.Client, *, email: str, password: str) -> None:
    """BFF /auth/register → Identity's registration form → signed in at the BFF."""
    page = client.get("/auth/register", follow_redirects=True)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    next_field = re.search(r'name="next" value="([^"]*)"', page.text)
    assert token, page.text[:300]

    done = client.post(
        str(page.url),
        data={
            "csrfmiddlewaretoken": token.group(1),
            "email": email,
            "full_name": "Bench Customer",
            "password1": password,
            "password2": password,
            "next": html.unescape(next_field.group(1)) if next_field else "",
        },
        headers={"Referer": str(page.url)},
        follow_redirects=True,
    )
    assert done.status_code == 200, done.text[:300]


def person(bff: str, name: str, *, email: str, password: str, new: bool = False) -> Person:
    client = browser_client(bff)
    if new:
        register(client, email=email, password=password)
    else:
        sign_in(client, email=email, password=password)
    session = client.get("/api/session").json()
    user = session["user"]
    return Person(
        name,
        client,
        session["csrf_token"],
        str(user["id"]),
        bool({"barista", "manager"} & set(user["roles"])),
    )


def cpu_seconds(pid: int | None) -> float:
    """CPU time (user + system) of a process and its children."""
    import psutil

    if not pid:
        return 0.0
    root = psutil.Process(pid)
    total = 0.0
    for proc in [root, *root.children(recursive=True)]:
        times = proc.cpu_times()
        total += times.user + times.system
    return total


def at_seconds(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


# Linux's kernel receive timestamps: each read says when its last bytes reached the tab's
# socket, so a bench process short of CPU (2,000 tabs in one Python on the cores the
# system uses) does not add its own queueing to the BFF's latency.
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
ANCILLARY = socket.CMSG_SPACE(16)


class StreamReading:
    """One connection of a tab, read by a reader callback as bytes arrive (no coroutine
    per line): HTTP head, then chunked `text/event-stream`, each event handed to
    `record` with the kernel's arrival time of its last bytes."""

    def __init__(self, tab: Tab, sock: socket.socket, replay_since: float | None, opened: Any):
        self.tab, self.sock, self.replay_since, self.opened = tab, sock, replay_since, opened
        self.done: asyncio.Future[tuple[str, str]] = asyncio.get_running_loop().create_future()
        self.raw = b""
        self.body = b""
        self.head_read = False

    def finish(self, outcome: str, detail: str = "") -> None:
        if not self.done.done():
            self.done.set_result((outcome, detail))

    def readable(self) -> None:
        try:
            data, ancillary, _, _ = self.sock.recvmsg(262144, ANCILLARY)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self.finish("error", f"read: {exc!r}")
            return
        if not data:
            self.finish("end")
            return
        arrived = time.time()
        handled = arrived
        for level, kind, value in ancillary:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(value) >= 16:
                sec, nsec = struct.unpack("qq", value[:16])
                arrived = sec + nsec / 1e9
        self.raw += data
        if not self.head_read:
            end = self.raw.find(b"\r\n\r\n")
            if end < 0:
                return
            status = self.raw[: self.raw.find(b"\r\n")]
            if b" 200 " not in status:
                self.finish("status", status.decode(errors="replace").strip() or "closed")
                return
            self.raw = self.raw[end + 4 :]
            self.head_read = True
            self.tab.connects += 1
            self.tab.connected = True
            self.opened(self.tab)
        while (line_end := self.raw.find(b"\r\n")) >= 0:
            try:
                size = int(self.raw[:line_end], 16)
            except ValueError as exc:
                self.finish("error", f"read: {exc!r}")
                return
            if size == 0:
                self.finish("end")  # the BFF ended the stream: reconnect
                return
            if len(self.raw) < line_end + 2 + size + 2:
                break
            self.body += self.raw[line_end + 2 : line_end + 2 + size]
            self.raw = self.raw[line_end + 4 + size :]
        while (cut := self.body.find(b"\n\n")) >= 0:
            block, self.body = self.body[:cut], self.body[cut + 2 :]
            record(self.tab, block.decode(), self.replay_since, arrived, handled)


async def follow(tab: Tab, port: int, cut_at: float | None, gap: float, opened: Any) -> None:
    """Hold the tab's stream until cancelled, reconnecting with Last-Event-ID whenever
    it ends, as EventSource does; at `cut_at` (loop time) cut it for `gap` seconds."""
    loop = asyncio.get_running_loop()
    while True:
        began = time.time()
        replaying = tab.last_id is not None
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        try:
            await loop.sock_connect(sock, (HOST, port))
            head = (
                f"GET /api/events HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
                f"Accept: text/event-stream\r\nCookie: {COOKIE}={tab.owner.cookie}\r\n"
            )
            if tab.last_id:
                head += f"Last-Event-ID: {tab.last_id}\r\n"
            await loop.sock_sendall(sock, (head + "\r\n").encode())
        except OSError as exc:
            sock.close()
            tab.errors.append(f"connect: {exc}")
            await asyncio.sleep(1)
            continue
        reading = StreamReading(tab, sock, began if replaying else None, opened)
        loop.add_reader(sock.fileno(), reading.readable)
        cut = None
        if cut_at is not None:
            cut = loop.call_at(cut_at, reading.finish, "cut")
        try:
            outcome, detail = await reading.done
        finally:
            loop.remove_reader(sock.fileno())
            sock.close()
            tab.connected = False
            if cut is not None:
                cut.cancel()
        before_cut = cut_at is None or loop.time() < cut_at
        if outcome == "status" and before_cut:
            tab.errors.append(detail)
            await asyncio.sleep(1)
        elif outcome == "error" and before_cut:
            tab.errors.append(detail)
        if cut_at is not None and loop.time() >= cut_at:
            cut_at = None  # the forced reconnect, once
            await asyncio.sleep(gap)


def record(
    tab: Tab, block: str, replay_since: float | None, arrived: float, handled: float
) -> None:
    fields: dict[str, str] = {}
    for line in block.split("\n"):
        if line.startswith(":") or ":" not in line:
            continue
        name, _, value = line.partition(":")
        fields[name] = value.removeprefix(" ")
    if "id" in fields:
        tab.last_id = fields["id"]
    if fields.get("event") == "resync":
        tab.resyncs += 1
    if fields.get("event") != "order":
        return
    data = json.loads(fields["data"])
    if fields["id"] in tab.received:
        tab.duplicates += 1
        return
    replayed = replay_since is not None and at_seconds(data["at"]) < replay_since
    tab.received[fields["id"]] = (data, arrived, handled, replayed)


def retried(call: Any, *args: Any, **kwargs: Any) -> httpx.Response:
    """A call again after a connection the BFF closed as idle just as it was reused
    (keep-alive race); a browser retries these too."""
    for attempt in range(3):
        try:
            return call(*args, **kwargs)
        except httpx.TransportError:
            if attempt == 2:
                raise
            time.sleep(0.1)
    raise AssertionError("unreachable")


def move_orders(
    *,
    customers: list[Person],
    barista: Person,
    line: dict[str, Any],
    orders: int,
    threads: int,
    placed: list[tuple[Person, int]],
    errors: list[str],
) -> None:
    """Place `orders` orders over the customers and take each through the queue."""
    lock = threading.Lock()
    counter = iter(range(orders))

    def worker() -> None:
        while True:
            with lock:
                n = next(counter, None)
            if n is None:
                return
            who = customers[n % len(customers)]
            answer = retried(
                who.client.post,
                "/api/orders",
                json={"lines": [line], "payment_method": TEST_TOKEN},
                headers={"X-CSRF-Token": who.csrf, "Idempotency-Key": str(uuid.uuid4())},
            )
            if answer.status_code != 201:
                errors.append(f"place {answer.status_code}")
                continue
            order_id = int(answer.json()["id"])
            with lock:
                placed.append((who, order_id))
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if retried(who.client.get, f"/api/orders/{order_id}").json()["status"] == "placed":
                    break
                time.sleep(0.2)
            for to in FLOW:
                time.sleep(random.uniform(0.2, 0.6))
                moved = retried(
                    barista.client.post,
                    f"/api/staff/orders/{order_id}/advance",
                    json={"to": to},
                    headers={"X-CSRF-Token": barista.csrf},
                )
                if moved.status_code not in (200, 409):  # 409: a retry after it moved
                    errors.append(f"advance {to} {moved.status_code}")

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()


def probe_api(customer: Person, stop: threading.Event, latencies: list[float]) -> None:
    """A steady trickle of ordinary API calls through the BFF, each timed."""
    paths = ["/api/orders", "/api/menu"]
    n = 0
    while not stop.is_set():
        began = time.perf_counter()
        try:
            answer = customer.client.get(paths[n % 2])
        except httpx.TransportError:
            stop.wait(0.05)
            continue  # the keep-alive race (see `retried`); not the BFF's latency
        if answer.status_code == 200:
            latencies.append(time.perf_counter() - began)
        n += 1
        stop.wait(0.05)


def api_sample(customer: Person, seconds: float) -> list[float]:
    latencies: list[float] = []
    stop = threading.Event()
    t = threading.Thread(target=probe_api, args=(customer, stop, latencies))
    t.start()
    time.sleep(seconds)
    stop.set()
    t.join()
    return latencies


async def run(args: argparse.Namespace, stack: Stack, bff: str, port: int) -> dict[str, Any]:
    password = demo_password(stack)
    barista = person(bff, "barista", email="barista@coffeeshop.local", password=password)
    customers = [person(bff, "cora", email="customer@coffeeshop.local", password=password)]
    run_id = uuid.uuid4().hex[:6]
    for n in range(1, args.customers):
        customers.append(
            person(
                bff,
                f"customer{n}",
                email=f"bench-{run_id}-{n}@coffeeshop.test",
                password=f"bench-latte-{run_id}-{n}!",
                new=True,
            )
        )
    line = espresso_line(barista.client.get("/api/menu").json()["categories"])
    bff_pid = stack.process("bff").pid()  # type: ignore[union-attr]
    idle_api = api_sample(customers[0], 5)
    memory_idle = memory_mib(bff_pid)

    staff_tabs = max(1, args.streams // 10)
    tabs = [Tab(barista) for _ in range(staff_tabs)] + [
        Tab(customers[n % len(customers)]) for n in range(args.streams - staff_tabs)
    ]
    loop = asyncio.get_running_loop()
    cut_tabs: list[Tab] = []
    opened_once: set[int] = set()
    all_open = asyncio.Event()

    def opened(tab: Tab) -> None:
        opened_once.add(id(tab))
        if len(opened_once) == len(tabs):
            all_open.set()

    began = time.monotonic()
    tasks: list[asyncio.Task[None]] = []
    for index, tab in enumerate(tabs):
        tasks.append(loop.create_task(follow(tab, port, None, 0, opened)))
        if index % 100 == 99:
            await asyncio.sleep(0.05)  # open them at about 2,000 a second
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(all_open.wait(), timeout=120)
    open_s = time.monotonic() - began
    await asyncio.sleep(2)
    held = sum(t.connected for t in tabs)
    memory_held = memory_mib(bff_pid)
    held_api = api_sample(customers[0], 5)  # the streams open, nothing moving yet
    print(
        f"streams held {held}/{len(tabs)} (opened in {open_s:.1f} s); BFF memory "
        f"{memory_idle:.0f} → {memory_held:.0f} MiB",
        flush=True,
    )

    # Forced reconnects land while the orders move: those tabs start again, each with
    # its own moment to be cut (their first stream ends here with its Last-Event-ID).
    move_seconds = args.orders * 3.0 / args.threads
    for index in random.sample(range(len(tabs)), min(args.reconnects, len(tabs))):
        tasks[index].cancel()
        cut_at = loop.time() + random.uniform(0.5, max(1.0, 0.6 * move_seconds))
        tasks[index] = loop.create_task(
            follow(tabs[index], port, cut_at, random.uniform(1.0, 3.0), opened)
        )
        cut_tabs.append(tabs[index])
    placed: list[tuple[Person, int]] = []
    errors: list[str] = []
    during: list[float] = []
    cpu_before = cpu_seconds(bff_pid), time.process_time(), time.monotonic()
    probe_stop = threading.Event()
    prober = threading.Thread(target=probe_api, args=(customers[0], probe_stop, during))
    prober.start()
    await asyncio.to_thread(
        move_orders,
        customers=customers,
        barista=barista,
        line=line,
        orders=args.orders,
        threads=args.threads,
        placed=placed,
        errors=errors,
    )
    await asyncio.sleep(args.settle)  # the last events on their way, cut streams back
    probe_stop.set()
    prober.join()
    held_end = sum(t.connected for t in tabs)
    wall = time.monotonic() - cpu_before[2]
    bff_cpu = cpu_seconds(bff_pid) - cpu_before[0]
    bench_cpu = time.process_time() - cpu_before[1]
    for task in tasks:
        task.cancel()
    await asyncio.wait(tasks, timeout=30)

    # What should have arrived: each order's history in Order, to its customer's tabs
    # and to every barista tab.
    history: dict[int, set[str]] = {}
    owner: dict[int, Person] = {}
    for who, order_id in placed:
        detail = retried(who.client.get, f"/api/orders/{order_id}").json()
        history[order_id] = {step["status"] for step in detail["history"]}
        owner[order_id] = who
    lost = 0
    live_latencies: list[float] = []
    to_redis: list[float] = []
    from_redis: list[float] = []
    handled_latencies: list[float] = []
    replayed = 0
    for tab in tabs:
        got: dict[int, set[str]] = {}
        for entry_id, (data, when, handled, was_replayed) in tab.received.items():
            if data["order_id"] in history:
                got.setdefault(data["order_id"], set()).add(data["status"])
                if was_replayed:
                    replayed += 1
                else:
                    # A Redis Stream id starts with Redis's clock when the entry was added.
                    stored = int(entry_id.split("-")[0]) / 1000
                    live_latencies.append(when - at_seconds(data["at"]))
                    handled_latencies.append(handled - at_seconds(data["at"]))
                    to_redis.append(stored - at_seconds(data["at"]))
                    from_redis.append(when - stored)
        for order_id, statuses in history.items():
            if tab.owner.staff or owner[order_id] is tab.owner:
                lost += len(statuses - got.get(order_id, set()))
            elif order_id in got:
                errors.append("a customer received another customer's event")
    reconnected = sum(1 for t in cut_tabs if t.connects >= 3)
    api_idle = [x * 1000 for x in idle_api]
    api_during = [x * 1000 for x in during]
    api_held = [x * 1000 for x in held_api]
    result = {
        "streams": held,
        "streams_at_end": held_end,
        "open_seconds": round(open_s, 1),
        "orders": len(placed),
        "events_expected_per_staff_stream": sum(len(s) for s in history.values()),
        "event_p50_s": round(percentile(live_latencies, 50), 3),
        "event_p99_s": round(percentile(live_latencies, 99), 3),
        "event_max_s": round(max(live_latencies, default=float("nan")), 3),
        # The same, to when this one bench process got round to reading it (its queue
        # for CPU included): what the figures above measured before 4 December.
        "event_handled_p50_s": round(percentile(handled_latencies, 50), 3),
        "event_handled_p99_s": round(percentile(handled_latencies, 99), 3),
        "order_to_redis_p50_s": round(percentile(to_redis, 50), 3),
        "order_to_redis_p99_s": round(percentile(to_redis, 99), 3),
        "redis_to_stream_p50_s": round(percentile(from_redis, 50), 3),
        "redis_to_stream_p99_s": round(percentile(from_redis, 99), 3),
        "events_delivered_live": len(live_latencies),
        "events_replayed": replayed,
        "forced_reconnects": reconnected,
        "resyncs": sum(t.resyncs for t in tabs),
        "duplicates": sum(t.duplicates for t in tabs),
        "lost_events": lost,
        "api_p50_ms_idle": round(percentile(api_idle, 50), 1),
        "api_p99_ms_idle": round(percentile(api_idle, 99), 1),
        "api_p50_ms_streams_held": round(percentile(api_held, 50), 1),
        "api_p99_ms_streams_held": round(percentile(api_held, 99), 1),
        "api_p50_ms_during": round(percentile(api_during, 50), 1),
        "api_p99_ms_during": round(percentile(api_during, 99), 1),
        "api_calls_during": len(api_during),
        "bff_memory_idle_mib": memory_idle,
        "bff_memory_held_mib": memory_held,
        "bff_kib_per_stream": round((memory_held - memory_idle) * 1024 / max(held, 1), 1),
        "run_seconds": round(wall, 1),
        "bff_cpu_s": round(bff_cpu, 1),
        "bench_client_cpu_s": round(bench_cpu, 1),
        "load_average_1m": round(os.getloadavg()[0], 1),
        "errors": len(errors) + sum(len(t.errors) for t in tabs),
    }
    sample = [e for t in tabs for e in t.errors][:3] + errors[:3]
    if sample:
        print("errors, for example:", sample, flush=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=2000)
    parser.add_argument("--customers", type=int, default=8)
    parser.add_argument("--orders", type=int, default=40)
    parser.add_argument("--threads", type=int, default=4, help="orders moved at once")
    parser.add_argument("--reconnects", type=int, default=200)
    parser.add_argument("--settle", type=float, default=5.0)
    parser.add_argument("--keep", action="store_true", help="leave the system running")
    parser.add_argument("--state", help="use a system already started in this folder")
    args = parser.parse_args()
    with bench_system("live", state=args.state, keep=args.keep) as system:
        stack = system.stack
        ports = stack.ports
        bff = f"http://{HOST}:{ports['bff']}"
        result = asyncio.run(run(args, stack, bff, ports["bff"]))
        print(
            f"streams held {result['streams']}; event p50 {result['event_p50_s']} s, "
            f"p99 {result['event_p99_s']} s; lost {result['lost_events']}; "
            f"API p99 {result['api_p99_ms_idle']} ms idle, "
            f"{result['api_p99_ms_streams_held']} ms with the streams open, "
            f"{result['api_p99_ms_during']} ms while orders move; "
            f"BFF {result['bff_kib_per_stream']} KiB per stream"
        )
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
