"""From a manager's menu edit to every open menu: the time from `PATCH /api/manage/...`
to `event: menu` on a customer's open stream, through the real system.

Starts its own system (`manage_all.py up --detach` in a temporary folder on free ports,
or `--state` for one already running), signs in the demo manager and customer, opens
the customer's stream (`GET /api/events`), then N times marks Oat milk sold out and
back through the BFF, timing each PATCH → stream event (Order's write and outbox,
the relay, Kafka, `bff-live`, Redis, the BFF's stream). Checks on the way that the
BFF's menu shows Oat sold out and that ordering it is refused as "Oat milk is sold
out.". The last line is one JSON object.

Run: `.venv/bin/python bench/menu_live.py [--rounds 10] [--state DIR]`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import queue
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.live import COOKIE, Person, person  # noqa: E402
from bench.order import percentile  # noqa: E402
from bench.system import bench_system  # noqa: E402
from devstack.cli import demo_password  # noqa: E402


def follow(bff: str, customer: Person, events: queue.Queue[tuple[str, float]]) -> None:
    """The customer's stream: (event name, when it arrived) for each event, until the
    system goes down."""
    with (
        contextlib.suppress(httpx.HTTPError),
        httpx.Client(
            base_url=bff,
            cookies={COOKIE: customer.cookie},
            timeout=httpx.Timeout(5, read=None),
        ) as client,
        client.stream("GET", "/api/events", headers={"Accept": "text/event-stream"}) as answer,
    ):
        name = ""
        for line in answer.iter_lines():
            if line.startswith("event:"):
                name = line.partition(":")[2].strip()
            elif line == "" and name:
                events.put((name, time.monotonic()))
                name = ""


def oat(menu: dict[str, Any]) -> dict[str, Any]:
    for category in menu["categories"]:
        for product in category["products"]:
            for group in product["option_groups"]:
                for option in group["options"]:
                    if group["name"] == "Milk" and option["name"] == "Oat":
                        return {"product": product, "option": option}
    raise AssertionError("no Oat milk on the menu")


def run(bff: str, password: str, rounds: int) -> dict[str, Any]:
    manager = person(bff, "manager", email="manager@coffeeshop.local", password=password)
    customer = person(bff, "customer", email="customer@coffeeshop.local", password=password)
    events: queue.Queue[tuple[str, float]] = queue.Queue()
    threading.Thread(target=follow, args=(bff, customer, events), daemon=True).start()
    assert events.get(timeout=10)[0] == "ready"
    found = oat(customer.client.get("/api/menu").json())
    option_id, latte = found["option"]["id"], found["product"]
    took: list[float] = []
    refused = ""
    for index in range(rounds * 2):
        available = index % 2 == 1
        sent = time.monotonic()
        answer = manager.client.patch(
            f"/api/manage/options/{option_id}",
            json={"is_available": available},
            headers={"X-CSRF-Token": manager.csrf},
        )
        assert answer.status_code == 200, answer.text
        while True:
            name, at = events.get(timeout=10)
            if name == "menu":
                took.append(at - sent)
                break
        shown = oat(customer.client.get("/api/menu").json())["option"]["is_available"]
        assert shown is available, f"menu shows Oat available={shown}"
        if not available and not refused:
            line = {
                "product_id": latte["id"],
                "variation_id": None,
                "option_ids": [option_id],
                "quantity": 1,
            }
            price = customer.client.post(
                "/api/cart/price",
                json={"lines": [line]},
                headers={"X-CSRF-Token": customer.csrf},
            )
            refused = json.dumps(price.json().get("errors"))
    return {
        "edits": len(took),
        "patch_to_stream_p50_s": round(percentile(took, 50), 3),
        "patch_to_stream_max_s": round(max(took), 3),
        "refusal": refused,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--state", help="use a system already started in this folder")
    args = parser.parse_args()
    with bench_system("menu", state=args.state) as system:
        bff = system.url("bff")
        result = run(bff, demo_password(system.stack), args.rounds)
        print(
            f"{result['edits']} edits: PATCH → customer's stream p50 "
            f"{result['patch_to_stream_p50_s']} s, max {result['patch_to_stream_max_s']} s; "
            f"ordering sold-out Oat: {result['refusal']}"
        )
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
