"""The web client as a phone on a mobile network gets it (issue 16): Chromium with network
and CPU emulation, cold cache, several runs each, medians.

Run: .venv/bin/python bench/client.py [--runs 3] [--state FOLDER]

For each profile (Fast 4G: 9 Mbit/s, 40 ms; Slow 4G: 1.6 Mbit/s, 150 ms, CPU 4x slower;
and loopback for reference), a fresh browser context (empty cache) opens `/` and the bench
reads:
- usable: the menu can be browsed, customised and added to the cart: the server-rendered
  page is parsed (its forms are in the document) and painted with its stylesheet
  (max of first contentful paint and domInteractive);
- interactive: Python has taken the page over (the bootstrap's `coffeeshop:app-started`
  mark);
- transfer before usable: bytes received on the wire (Chromium's own counts, headers
  included) until the usable moment, whatever was in flight then;
- warm reload (Fast 4G): once the first start's worker has stored the boot snapshot,
  the same context reloads the page; interactive again (Python restored from it).

The last line is one JSON object (keys in the issue: usable_fast4g_s,
usable_slow4g_cpu4x_s, interactive_fast4g_s, interactive_warm_s, usable_transfer_kib).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as bench/client.py

from playwright.sync_api import Browser, sync_playwright

from bench.system import bench_system
from devstack.browser import CHROMIUM_ARGS, ensure_chromium

MBIT = 1_000_000 / 8  # bytes per second in one Mbit/s
PROFILES: dict[str, dict[str, float]] = {
    "loopback": {"latency_ms": 0, "down": 0, "up": 0, "cpu": 1},
    "fast4g": {"latency_ms": 40, "down": 9 * MBIT, "up": 1.5 * MBIT, "cpu": 1},
    "slow4g_cpu4x": {"latency_ms": 150, "down": 1.6 * MBIT, "up": 0.75 * MBIT, "cpu": 4},
}
USABLE_JS = """() => {
  const paint = performance.getEntriesByName("first-contentful-paint")[0];
  const nav = performance.getEntriesByType("navigation")[0];
  if (!paint || !nav || !nav.domInteractive) return null;
  if (!document.querySelector("[data-testid=quick-add]")) return null;
  const at = Math.max(paint.startTime, nav.domInteractive);
  return {at: at, epoch: performance.timeOrigin + at};
}"""
STARTED_JS = """() => {
  const mark = performance.getEntriesByName("coffeeshop:app-started")[0];
  return mark ? mark.startTime : null;
}"""


SNAPSHOT_JS = """() => {
  const mark = performance.getEntriesByName("coffeeshop:snapshot-stored")[0];
  return mark ? mark.startTime : null;
}"""


def _wait(page: Any, script: str, timeout_s: float) -> Any:
    handle = page.wait_for_function(script, timeout=timeout_s * 1000, polling=50)
    return handle.json_value()


def measure(browser: Browser, url: str, profile: dict[str, float], *, warm: bool) -> dict[str, Any]:
    """One cold load of `url` (and a warm reload if asked) under `profile`."""
    context = browser.new_context()
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    if profile["latency_ms"] or profile["down"]:
        cdp.send(
            "Network.emulateNetworkConditions",
            {
                "offline": False,
                "latency": profile["latency_ms"],
                "downloadThroughput": profile["down"],
                "uploadThroughput": profile["up"],
            },
        )
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": profile["cpu"]})
    clock: dict[str, float] = {}  # the navigation's monotonic time and wall time
    received: list[tuple[float, int]] = []  # (monotonic s, bytes) as they arrive
    finished: dict[str, tuple[float, int]] = {}
    streamed: dict[str, int] = {}

    def sent(event: dict[str, Any]) -> None:
        if not clock and event.get("type") == "Document":
            clock.update(monotonic=event["timestamp"], wall=event["wallTime"])

    def data(event: dict[str, Any]) -> None:
        if event.get("encodedDataLength"):
            received.append((event["timestamp"], int(event["encodedDataLength"])))
            streamed[event["requestId"]] = streamed.get(event["requestId"], 0) + int(
                event["encodedDataLength"]
            )

    def done(event: dict[str, Any]) -> None:
        finished[event["requestId"]] = (event["timestamp"], int(event["encodedDataLength"]))

    cdp.on("Network.requestWillBeSent", sent)
    cdp.on("Network.dataReceived", data)
    cdp.on("Network.loadingFinished", done)

    page.goto(url, wait_until="commit", timeout=180_000)
    usable = _wait(page, USABLE_JS, 120)
    started = _wait(page, STARTED_JS, 300)
    # Bytes on the wire until the usable moment: each chunk as it came, and for a
    # request whose chunks were not reported, the rest of its total when it finished.
    usable_monotonic = clock["monotonic"] + (usable["epoch"] / 1000 - clock["wall"])
    on_wire = sum(size for at, size in received if at <= usable_monotonic)
    for request_id, (at, total) in finished.items():
        rest = total - streamed.get(request_id, 0)
        if rest > 0 and at <= usable_monotonic:
            on_wire += rest
    result = {
        "usable_s": usable["at"] / 1000,
        "interactive_s": started / 1000,
        "transfer_kib": on_wire / 1024,
    }
    if warm:
        # A returning customer: the first start's worker has stored the boot snapshot
        # (wasm_client/static/snapshot-worker.js) by the time they come back.
        result["snapshot_stored_s"] = _wait(page, SNAPSHOT_JS, 120) / 1000
        page.reload(wait_until="commit", timeout=180_000)
        result["warm_usable_s"] = _wait(page, USABLE_JS, 120)["at"] / 1000
        result["warm_interactive_s"] = _wait(page, STARTED_JS, 300) / 1000
    context.close()
    return result


def run(url: str, runs: int) -> dict[str, Any]:
    figures: dict[str, list[float]] = {}
    executable = ensure_chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable,
            headless=True,
            args=[a for a in CHROMIUM_ARGS if a != "--headless"],
        )
        try:
            measure(browser, url, PROFILES["loopback"], warm=False)  # server caches warm
            for n in range(runs):
                for name, profile in PROFILES.items():
                    one = measure(browser, url, profile, warm=name == "fast4g")
                    print(
                        f"run {n + 1} {name:13s} "
                        + "  ".join(f"{k} {v:.2f}" for k, v in one.items()),
                        flush=True,
                    )
                    for key, value in one.items():
                        figures.setdefault(f"{name}:{key}", []).append(value)
        finally:
            browser.close()
    return {key: statistics.median(values) for key, values in figures.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--state", help="use a system already started in this folder")
    args = parser.parse_args()
    with bench_system("client", state=args.state) as system:
        medians = run(system.url("bff") + "/", args.runs)
    summary = {
        "runs": args.runs,
        "usable_fast4g_s": round(medians["fast4g:usable_s"], 2),
        "usable_slow4g_cpu4x_s": round(medians["slow4g_cpu4x:usable_s"], 2),
        "interactive_fast4g_s": round(medians["fast4g:interactive_s"], 2),
        "interactive_slow4g_cpu4x_s": round(medians["slow4g_cpu4x:interactive_s"], 2),
        "interactive_warm_s": round(medians["fast4g:warm_interactive_s"], 2),
        "usable_warm_s": round(medians["fast4g:warm_usable_s"], 2),
        "usable_transfer_kib": round(medians["fast4g:transfer_kib"], 1),
        "usable_transfer_slow4g_kib": round(medians["slow4g_cpu4x:transfer_kib"], 1),
        "usable_loopback_s": round(medians["loopback:usable_s"], 2),
        "interactive_loopback_s": round(medians["loopback:interactive_s"], 2),
    }
    print(
        f"menu usable: Fast 4G {summary['usable_fast4g_s']} s (goal 2.5), Slow 4G + 4x CPU "
        f"{summary['usable_slow4g_cpu4x_s']} s (goal 6), {summary['usable_transfer_kib']} KiB "
        f"before it (goal 200 KB); Python interactive: Fast 4G "
        f"{summary['interactive_fast4g_s']} s (goal 8), warm reload "
        f"{summary['interactive_warm_s']} s (goal 1.5)"
    )
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
