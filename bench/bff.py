"""BFF benchmark: the gateway's cost over calling Order straight, and the web client's paint.

Starts its own system (`manage_all.py up --detach` in a temporary folder on free
ports, with the BFF's rate limits raised so the load is not refused), then
measures in one run, with the same load generator for both sides:

- the menu: `GET /api/menu` through the BFF (session, rate limit, Redis cache)
  versus `GET /api/menu/` straight to Order;
- order placement: `POST /api/orders` through the BFF (a signed-in session, CSRF,
  the BFF's client_credentials token to Order with the acting user) versus
  `POST /api/orders/` straight to Order with a bearer token and the same headers;
- an uncached authenticated pass-through: `GET /api/orders/<id>` (one of the
  customer's orders) through the BFF versus `GET /api/orders/<id>/` straight to Order,
  in alternating rounds (`detail_ratio`: the median of the rounds' ratios);
- the web client in Debian's Chromium: first paint and "interactive" (the menu
  rendered by the Python app) on a cold cache and again warm, once the orders the
  load placed have been charged (the worker charging them would share the cores).

Goals (issue 5, issue 16): menu through the BFF ≥ 0.7x straight; placement ≥ 0.7x
straight (was 0.6x); order detail ≥ 0.7x straight; first paint ≤ 0.5 s and interactive
≤ 4 s cold. Rates count successful requests only; failures are the `errors` keys. The
last line is one JSON object.
Run: `.venv/bin/python bench/bff.py [--seconds 10 --threads 8] [--keep]`.

`--baseline REV [--no-traces]` instead compares this BFF with the BFF of another git revision
(its `bff_site/` and `shared/`, from `git archive`), run beside it against the same
Order, Identity, Redis and sessions: menu and placement through each, in alternating
rounds (`--rounds`), so the machine's load falls on both alike. It prints each
round, the medians and this BFF's throughput as a ratio of the baseline's
(`menu_vs_baseline`, `place_vs_baseline`: the median of the rounds' ratios; 1.0 is
"no slower").
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.order import TEST_TOKEN, hammer, mint_token, percentile, wait_until_charged  # noqa: E402
from bench.system import RAISED_LIMITS, bench_system  # noqa: E402
from devstack.base import free_port, spawn  # noqa: E402
from devstack.browser import CHROMIUM_ARGS, ensure_chromium  # noqa: E402
from devstack.cli import demo_password  # noqa: E402
from devstack.sites import gunicorn_argv, site_ready  # noqa: E402
from devstack.stack import Stack  # noqa: E402
from tests.e2e.browserless import browser_client, sign_in  # noqa: E402

DETAIL_ORDERS = 50  # the orders read back in the detail pass (the first placed via the BFF)
DETAIL_ROUNDS = 5  # rounds of the detail pass, each side in each (which first alternates)

PAINT_JS = """() => {
  const paint = performance.getEntriesByName('first-contentful-paint')[0]
      || performance.getEntriesByName('first-paint')[0];
  return paint ? paint.startTime / 1000 : null;
}"""


def espresso_line(menu_categories: list[dict[str, Any]]) -> dict[str, Any]:
    product = next(p for c in menu_categories for p in c["products"] if p["name"] == "Espresso")
    groups = product["option_groups"]
    required = [
        o["id"] for g in groups for o in g["options"][: g.get("min", g.get("min_selections", 0))]
    ]
    return {
        "product_id": product["id"],
        "variation_id": product["variations"][0]["id"],
        "option_ids": required,
        "quantity": 1,
    }


def measure(name: str, threads: int, seconds: float, call: Any) -> dict[str, float]:
    hammer(threads, 2, call)  # warm up connections, caches and workers
    count, latencies, errors = hammer(threads, seconds, call)
    rps = count / seconds  # successes only (hammer)
    p50, p99 = percentile(latencies, 50) * 1000, percentile(latencies, 99) * 1000
    print(
        f"{name:<18} {rps:8.1f} req/s   p50 {p50:7.1f} ms   p99 {p99:7.1f} ms   errors {errors}",
        flush=True,
    )
    return {"rps": rps, "p50_ms": p50, "p99_ms": p99, "errors": errors}


def alternate_detail(
    args: argparse.Namespace, direct: Any, via_bff: Any
) -> tuple[dict[str, Any], dict[str, Any], float]:
    """The order detail straight and through the BFF in `DETAIL_ROUNDS` rounds, each side
    `--seconds / DETAIL_ROUNDS` in each (which goes first alternating), so a load that
    comes and goes on the machine falls on both: each side's rate over all its rounds,
    and the median of the rounds' ratios (BFF over straight)."""
    seconds = args.seconds / DETAIL_ROUNDS
    hammer(args.threads, 2, direct)  # warm up both
    hammer(args.threads, 2, via_bff)
    sides: dict[str, dict[str, Any]] = {
        name: {"done": 0, "latencies": [], "errors": 0, "rates": []}
        for name in ("straight", "via BFF")
    }
    calls = {"straight": direct, "via BFF": via_bff}
    for number in range(DETAIL_ROUNDS):
        for name in ("straight", "via BFF") if number % 2 == 0 else ("via BFF", "straight"):
            count, latencies, errors = hammer(args.threads, seconds, calls[name])
            side = sides[name]
            side["done"] += count
            side["latencies"] += latencies
            side["errors"] += errors
            side["rates"].append(count / seconds)
    ratios = [
        round(b / d, 3)
        for b, d in zip(sides["via BFF"]["rates"], sides["straight"]["rates"], strict=True)
    ]
    figures = {}
    for name, side in sides.items():
        figures[name] = {
            "rps": side["done"] / (seconds * DETAIL_ROUNDS),
            "p50_ms": percentile(side["latencies"], 50) * 1000,
            "p99_ms": percentile(side["latencies"], 99) * 1000,
            "errors": side["errors"],
            "ratios": ratios,
        }
        print(
            f"detail {name:<11} {figures[name]['rps']:8.1f} req/s   p50 "
            f"{figures[name]['p50_ms']:7.1f} ms   p99 {figures[name]['p99_ms']:7.1f} ms   "
            f"errors {side['errors']}   rounds "
            f"{', '.join(f'{r:.0f}' for r in side['rates'])}",
            flush=True,
        )
    return figures["straight"], figures["via BFF"], statistics.median(ratios)


def browser_timings(bff: str) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    results: dict[str, float] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=ensure_chromium(),
            headless=True,
            args=[a for a in CHROMIUM_ARGS if a != "--headless"],
        )
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        for run in ("cold", "warm"):
            page.goto(bff + "/", wait_until="commit")
            page.wait_for_selector('[data-testid="menu-item"]', timeout=60_000)
            interactive = page.evaluate("() => performance.now() / 1000")
            paint = page.evaluate(PAINT_JS)
            results[f"first_paint_{run}_s"] = round(float(paint), 3) if paint else float("nan")
            results[f"interactive_{run}_s"] = round(float(interactive), 3)
            print(
                f"web client {run:<4}    first paint {results[f'first_paint_{run}_s']:.3f} s"
                f"   interactive {results[f'interactive_{run}_s']:.3f} s",
                flush=True,
            )
        browser.close()
    return results


def start_bff(
    stack: Stack, name: str, code: Path, extra_env: dict[str, str] | None = None
) -> tuple[str, Any]:
    """A BFF from the code in `code` (its bff_site/ and shared/) on a free port, with this
    system's BFF environment and raised rate limits: (its URL, its process)."""
    port = free_port()
    env = {**stack.site_env("bff"), **RAISED_LIMITS, "PYTHONPATH": str(code), **(extra_env or {})}
    argv = gunicorn_argv("bff", port=port, workers=stack.config.workers)
    if not (code / "shared" / "gunicorn_config.py").is_file():  # an older revision's
        at = argv.index("--config")
        del argv[at : at + 2]
    proc = spawn(name, argv, state_dir=stack.state, env=env, cwd=code)
    deadline = time.monotonic() + 120
    while not site_ready(port):
        if not proc.alive() or time.monotonic() > deadline:
            proc.stop()
            sys.exit(f"the BFF from {code} did not start: see {proc.logfile}")
        time.sleep(0.5)
    return f"http://127.0.0.1:{port}", proc


def checkout(rev: str, folder: Path) -> Path:
    """`bff_site/` and `shared/` of git revision `rev`, in `folder`."""
    folder.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", "--format=tar", rev, "bff_site", "shared"],
        capture_output=True,
        check=True,
    )
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
    return folder


def paired_ratios(figures: dict[str, dict[str, list[float]]], what: str) -> list[float]:
    """This side's rate over the baseline's, round by round."""
    return [
        round(this / base, 3)
        for this, base in zip(figures["this"][what], figures["baseline"][what], strict=True)
    ]


def paired_ratio(figures: dict[str, dict[str, list[float]]], what: str) -> float:
    return round(statistics.median(paired_ratios(figures, what)), 3)


def compare_with_baseline(args: argparse.Namespace, stack: Stack, tmp: Path) -> None:
    """This BFF against the BFF of `args.baseline`, in alternating rounds (module doc).
    Both run beside the system's own BFF, started alike, against the same Order."""
    password = demo_password(stack)
    order = f"http://127.0.0.1:{stack.ports['order']}"
    line = espresso_line(httpx.get(f"{order}/api/menu/", timeout=10).json())
    # --no-traces: both without tracing (a revision before tracing has none to turn off),
    # to tell the cost of the code apart from the cost of its spans.
    extra = {"OTEL_SDK_DISABLED": "true"} if args.no_traces else {}
    bff, this_proc = start_bff(stack, "bff-this", REPO, extra)
    baseline, proc = start_bff(
        stack, "bff-baseline", checkout(args.baseline, tmp / "baseline"), extra
    )
    signing_in = f"http://127.0.0.1:{stack.ports['bff']}"
    run = uuid.uuid4().hex[:8]
    try:
        # One signed-in session per load thread; the session lives in Redis, which both
        # BFFs share, and the cookie is sent to either port.
        sessions = []
        for _ in range(args.threads):
            client = browser_client(signing_in)
            sign_in(client, email="customer@coffeeshop.local", password=password)
            csrf = client.get("/api/session").json()["csrf_token"]
            # A Cookie header, not httpx's per-request cookies (which it does not send).
            cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
            sessions.append((cookie, csrf))

        def calls(base: str, tag: str) -> tuple[Any, Any]:
            def menu(client: httpx.Client, worker: int, n: int) -> bool:
                return client.get(f"{base}/api/menu").status_code == 200

            def place(client: httpx.Client, worker: int, n: int) -> bool:
                cookie, csrf = sessions[worker]
                response = client.post(
                    f"{base}/api/orders",
                    json={"lines": [line], "payment_method": TEST_TOKEN},
                    headers={
                        "Cookie": cookie,
                        "X-CSRF-Token": csrf,
                        "Idempotency-Key": f"{tag}-{run}-{worker}-{n}",
                    },
                )
                return response.status_code == 201

            return menu, place

        sides = {"this": calls(bff, "this"), "baseline": calls(baseline, "base")}
        figures: dict[str, dict[str, list[float]]] = {
            side: {"menu": [], "place": [], "menu_p50": [], "place_p50": []} for side in sides
        }
        for menu, place in sides.values():  # warm both before any round counts
            hammer(args.threads, 2, menu)
            hammer(args.threads, 1, place)
        for number in range(1, args.rounds + 1):
            # Alternate which side goes first, so neither always follows the other's load.
            order_of_sides = list(sides) if number % 2 else list(reversed(sides))
            for what in ("menu", "place"):
                for side in order_of_sides:
                    if what == "place":
                        wait_until_charged(stack, "", timeout=300, settle=3)
                    call = sides[side][0 if what == "menu" else 1]
                    count, latencies, errors = hammer(args.threads, args.seconds, call)
                    if errors:
                        sys.exit(f"{side} {what}: {errors} requests failed")
                    figures[side][what].append(count / args.seconds)
                    figures[side][f"{what}_p50"].append(percentile(latencies, 50) * 1000)
                    print(
                        f"round {number} {what:<5} {side:<8} {count / args.seconds:8.1f} req/s"
                        f"   p50 {percentile(latencies, 50) * 1000:7.1f} ms",
                        flush=True,
                    )
    finally:
        proc.stop()
        this_proc.stop()
    med = {side: {k: statistics.median(v) for k, v in f.items()} for side, f in figures.items()}
    result = {
        "baseline": args.baseline,
        "traces": not args.no_traces,
        "menu_this_rps": round(med["this"]["menu"], 1),
        "menu_baseline_rps": round(med["baseline"]["menu"], 1),
        "place_this_rps": round(med["this"]["place"], 1),
        "place_baseline_rps": round(med["baseline"]["place"], 1),
        "menu_this_p50_ms": round(med["this"]["menu_p50"], 2),
        "menu_baseline_p50_ms": round(med["baseline"]["menu_p50"], 2),
        "place_this_p50_ms": round(med["this"]["place_p50"], 2),
        "place_baseline_p50_ms": round(med["baseline"]["place_p50"], 2),
        # The median of each round's ratio: a round measures both sides within seconds of
        # each other, so the machine's drift between rounds cancels out.
        "menu_vs_baseline": paired_ratio(figures, "menu"),
        "place_vs_baseline": paired_ratio(figures, "place"),
        "menu_vs_baseline_rounds": paired_ratios(figures, "menu"),
        "place_vs_baseline_rounds": paired_ratios(figures, "place"),
        "rounds": args.rounds,
        "threads": args.threads,
        "seconds": args.seconds,
    }
    print(
        f"this BFF / baseline ({args.baseline}): menu {result['menu_vs_baseline']:.3f}x, "
        f"placement {result['place_vs_baseline']:.3f}x (medians of {args.rounds} rounds' ratios)"
    )
    print(json.dumps(result))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--keep", action="store_true", help="leave the system running")
    parser.add_argument("--baseline", metavar="REV", help="compare with this revision's BFF")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds (--baseline)")
    parser.add_argument("--state", type=Path, help="use the system already up in this folder")
    parser.add_argument(
        "--no-traces", action="store_true", help="both BFFs with tracing off (--baseline)"
    )
    args = parser.parse_args()
    with bench_system("bff", state=args.state, keep=args.keep) as system:
        if args.baseline:
            compare_with_baseline(args, system.stack, system.tmp)
        else:
            measure_against_order(args, system.stack)
    return 0


def measure_against_order(args: argparse.Namespace, stack: Stack) -> None:
    """Menu and placement through the BFF against straight to Order, then the web client."""
    bff = f"http://127.0.0.1:{stack.ports['bff']}"
    order = f"http://127.0.0.1:{stack.ports['order']}"
    password = demo_password(stack)
    token = mint_token(stack)
    line = espresso_line(httpx.get(f"{order}/api/menu/", timeout=10).json())
    customer_id = browser_client(bff)
    sign_in(customer_id, email="customer@coffeeshop.local", password=password)
    acting = customer_id.get("/api/session").json()["user"]
    run = uuid.uuid4().hex[:8]

    sessions: dict[int, tuple[httpx.Client, str]] = {}

    def session_for(worker: int) -> tuple[httpx.Client, str]:
        if worker not in sessions:
            client = browser_client(bff)
            sign_in(client, email="customer@coffeeshop.local", password=password)
            sessions[worker] = (client, client.get("/api/session").json()["csrf_token"])
        return sessions[worker]

    def menu_direct(client: httpx.Client, worker: int, n: int) -> bool:
        return client.get(f"{order}/api/menu/").status_code == 200

    def menu_bff(client: httpx.Client, worker: int, n: int) -> bool:
        return client.get(f"{bff}/api/menu").status_code == 200

    def place_direct(client: httpx.Client, worker: int, n: int) -> bool:
        response = client.post(
            f"{order}/api/orders/",
            json={"lines": [line], "payment_method": TEST_TOKEN},
            headers={
                "Authorization": f"Bearer {token}",
                "X-Acting-User": str(acting["id"]),
                "X-Acting-Roles": "customer",
                "Idempotency-Key": f"direct-{run}-{worker}-{n}",
            },
        )
        return response.status_code == 201

    placed: list[int] = []  # the customer's orders placed through the BFF

    def place_bff(client: httpx.Client, worker: int, n: int) -> bool:
        session, csrf = session_for(worker)
        response = session.post(
            "/api/orders",
            json={"lines": [line], "payment_method": TEST_TOKEN},
            headers={"X-CSRF-Token": csrf, "Idempotency-Key": f"bff-{run}-{worker}-{n}"},
        )
        if response.status_code == 201 and len(placed) < DETAIL_ORDERS:
            placed.append(int(response.json()["id"]))
        return response.status_code == 201

    def detail_direct(client: httpx.Client, worker: int, n: int) -> bool:
        response = client.get(
            f"{order}/api/orders/{placed[(worker * 7 + n) % len(placed)]}/",
            headers={
                "Authorization": f"Bearer {token}",
                "X-Acting-User": str(acting["id"]),
                "X-Acting-Roles": "customer",
            },
        )
        return response.status_code == 200

    def detail_bff(client: httpx.Client, worker: int, n: int) -> bool:
        session, _ = session_for(worker)
        response = session.get(f"/api/orders/{placed[(worker * 7 + n) % len(placed)]}")
        return response.status_code == 200

    for worker in range(args.threads):
        session_for(worker)
    menu_d = measure("menu straight", args.threads, args.seconds, menu_direct)
    menu_b = measure("menu via BFF", args.threads, args.seconds, menu_bff)
    # Each placement run starts on a quiet machine: the charges of the run before
    # would otherwise take the cores from the one measured after it.
    wait_until_charged(stack, "", timeout=300, settle=5)
    place_d = measure("place straight", args.threads, args.seconds, place_direct)
    wait_until_charged(stack, "", timeout=300, settle=5)
    place_b = measure("place via BFF", args.threads, args.seconds, place_bff)
    wait_until_charged(stack, "", timeout=300, settle=5)
    # An authenticated read nobody caches: one of the customer's orders (paid by now),
    # through the BFF (session, CSRF-free GET, its token, Order) and straight.
    detail_d, detail_b, detail_ratio = alternate_detail(args, detail_direct, detail_bff)
    paint = browser_timings(bff)
    menu_ratio = menu_b["rps"] / menu_d["rps"]
    place_ratio = place_b["rps"] / place_d["rps"]
    print(
        f"menu via BFF / straight: {menu_ratio:.2f}x (goal ≥ 0.7x); "
        f"placement via BFF / straight: {place_ratio:.2f}x (goal ≥ 0.7x); "
        f"order detail via BFF / straight: {detail_ratio:.2f}x (goal ≥ 0.7x)"
    )
    print(
        json.dumps(
            {
                "menu_bff_rps": round(menu_b["rps"], 1),
                "menu_bff_p50_ms": round(menu_b["p50_ms"], 1),
                "menu_bff_p99_ms": round(menu_b["p99_ms"], 1),
                "menu_direct_rps": round(menu_d["rps"], 1),
                "menu_direct_p50_ms": round(menu_d["p50_ms"], 1),
                "menu_direct_p99_ms": round(menu_d["p99_ms"], 1),
                "place_bff_rps": round(place_b["rps"], 1),
                "place_bff_p50_ms": round(place_b["p50_ms"], 1),
                "place_bff_p99_ms": round(place_b["p99_ms"], 1),
                "place_direct_rps": round(place_d["rps"], 1),
                "place_direct_p50_ms": round(place_d["p50_ms"], 1),
                "place_direct_p99_ms": round(place_d["p99_ms"], 1),
                "detail_bff_rps": round(detail_b["rps"], 1),
                "detail_bff_p50_ms": round(detail_b["p50_ms"], 1),
                "detail_bff_p99_ms": round(detail_b["p99_ms"], 1),
                "detail_direct_rps": round(detail_d["rps"], 1),
                "detail_direct_p50_ms": round(detail_d["p50_ms"], 1),
                "detail_direct_p99_ms": round(detail_d["p99_ms"], 1),
                "menu_ratio": round(menu_ratio, 2),
                "place_ratio": round(place_ratio, 2),
                "detail_ratio": round(detail_ratio, 2),
                "detail_rounds_ratios": detail_b["ratios"],
                "errors": {
                    "menu_bff": menu_b["errors"],
                    "menu_direct": menu_d["errors"],
                    "place_bff": place_b["errors"],
                    "place_direct": place_d["errors"],
                    "detail_bff": detail_b["errors"],
                    "detail_direct": detail_d["errors"],
                },
                **paint,
                "threads": args.threads,
                "seconds": args.seconds,
            }
        )
    )


if __name__ == "__main__":
    sys.exit(main())
