"""Many paid orders at once, for journeys that need a busy shop (a barista's backlog).

The orders go through Order's own placement API, as the BFF sends them (a short-lived
token of the `bff-customer` client minted in Identity, `X-Acting-User` naming the
customer), and are paid by the real payment worker at the sandbox with Stripe's fixed
test token; nothing is written to a database directly. In Dapr mode they go the way
the BFF's do, through the BFF's sidecar (Order's API refuses callers without it).
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import httpx

from bench.order import TEST_TOKEN, mint_token
from devstack.stack import Stack

# Customers of the backlog: ids no Identity user has, so no e-mail goes to anyone.
BACKLOG_CUSTOMER = 900_000


def order_route(stack: Stack) -> tuple[str, dict[str, str]]:
    """(base URL, headers) that reach Order's API as the BFF does in the stack's mode."""
    if stack.mesh is None:
        return f"http://127.0.0.1:{stack.ports['order']}", {}
    sidecar = stack.mesh.sidecars["bff-dapr"]
    token = sidecar.token_file("api").read_text().strip()
    return sidecar.url, {"dapr-api-token": token, "dapr-app-id": "order"}


def _donut_line(order_url: str, headers: dict[str, str]) -> dict[str, Any]:
    menu = httpx.get(f"{order_url}/api/menu/", headers=headers, timeout=20).json()
    donut = next(p for c in menu for p in c["products"] if p["name"] == "Donuts")
    return {"product_id": donut["id"], "variation_id": donut["variations"][0]["id"], "quantity": 1}


def paid_orders_place(stack: Stack, *, count: int, threads: int = 4) -> list[int]:
    """Place `count` orders of one donut through Order's API, each paid with the test
    card; returns their ids once every one is placed (raises AssertionError if an answer
    is not 201 or the payment worker has not charged them all within 10 minutes)."""
    order_url, route_headers = order_route(stack)
    token = mint_token(stack)
    body = {"lines": [_donut_line(order_url, route_headers)], "payment_method": TEST_TOKEN}
    run = uuid.uuid4().hex[:8]
    ids: list[int] = []
    failures: list[str] = []
    lock = threading.Lock()
    numbers = iter(range(count))

    def place() -> None:
        with httpx.Client(timeout=30) as client:
            while True:
                with lock:
                    n = next(numbers, None)
                if n is None or failures:
                    return
                answer = client.post(
                    f"{order_url}/api/orders/",
                    json=body,
                    headers={
                        **route_headers,
                        "Authorization": f"Bearer {token}",
                        "X-Acting-User": str(BACKLOG_CUSTOMER + n),
                        "X-Acting-Roles": "customer",
                        "Idempotency-Key": f"backlog-{run}-{n}",
                    },
                )
                with lock:
                    if answer.status_code == 201:
                        ids.append(int(answer.json()["id"]))
                    else:
                        failures.append(f"{answer.status_code} {answer.text[:300]}")

    workers = [threading.Thread(target=place) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert not failures, failures[:3]
    _wait_until_paid(stack, prefix=f"backlog-{run}-", count=count)
    return sorted(ids)


PAID = """
from order_site.orders.models import Order
orders = Order.objects.filter(idempotency_key__startswith="{prefix}")
print("PAID", orders.filter(status="placed").count(), orders.exclude(status="placed").exclude(
    status="pending_payment").count())
"""


def _wait_until_paid(stack: Stack, *, prefix: str, count: int, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while True:
        out = stack.manage("order", "shell", "-c", PAID.format(prefix=prefix))
        line = next(line for line in out.splitlines() if line.startswith("PAID "))
        placed, other = (int(x) for x in line.split()[1:])
        assert other == 0, f"{other} backlog orders neither paid nor pending"
        if placed == count:
            return
        assert time.monotonic() < deadline, f"only {placed} of {count} backlog orders paid"
        time.sleep(3)
