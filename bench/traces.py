"""What tracing costs a placement: Order with traces on (the default sampling) against
Order with traces off, in one run, on one running stack (`manage_all.py up`).

The bench starts two more Order web servers beside the stack's, exactly as `up` runs
Order (gunicorn, the same workers and threads, the same environment) on free ports:
one as `up` starts it (traces to the `traces` part, `OTEL_TRACES_SAMPLER_ARG` as set,
1.0 by default), one with `OTEL_SDK_DISABLED=true`. Placements (`POST /api/orders/`,
a fresh Idempotency-Key each, a bearer token minted for `bff-customer`) go to one, then
the other, in `--rounds` alternating rounds of `--round-seconds`, so both see the same
machine; the ratio printed is the median of the rounds' (on / off), with quartiles.
On a machine shared with other work the rounds' rates swing widely, so the bench also
counts the CPU time each server's processes spent per placement (user + system, from
/proc): the cost of tracing in CPU, which a neighbour's load hardly moves.

While it measures, the workers downstream of a placement (the relay, the Celery worker,
the consumers) are paused (SIGSTOP) as in `bench/order.py`'s window 2: what is compared
is Order's placement path alone. They resume afterwards and the bench waits until the
run's orders are charged.

Run: `COFFEESHOP_STATE_DIR=... .venv/bin/python bench/traces.py [--rounds 10]`.
The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.order import (  # noqa: E402
    donut_order,
    hammer,
    mint_token,
    percentile,
    placement_call,
    wait_until_charged,
)
from devstack.base import REPO_ROOT, Process, free_port, spawn, wait_until  # noqa: E402
from devstack.sites import gunicorn_argv, site_ready  # noqa: E402
from devstack.stack import Stack, StackConfig, default_state_dir  # noqa: E402

# Paused while measuring: everything a placement sets off.
PAUSED = ("order-relay", "worker", "order-consumers", "bff-live")


def pause(stack: Stack, sig: int) -> None:
    for name in PAUSED:
        proc = stack.process(name)
        pid = proc.pid() if proc is not None else None
        if pid is not None:
            os.killpg(pid, sig)


def cpu_seconds(proc: Process) -> float:
    """CPU time (user + system) of a server's process and its children so far."""
    import psutil

    pid = proc.pid()
    if pid is None:
        return 0.0
    root = psutil.Process(pid)
    total = 0.0
    for one in (root, *root.children(recursive=True)):
        try:
            times = one.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


def start_order(stack: Stack, name: str, extra_env: dict[str, str]) -> tuple[Process, str]:
    """Another Order web server as `up` runs it, on a free port, with `extra_env`."""
    port = free_port()
    env = {**stack.site_env("order"), **extra_env}
    argv = gunicorn_argv("order", port=port, workers=stack.config.workers)
    proc = spawn(name, argv, state_dir=stack.state, env=env, cwd=REPO_ROOT)
    wait_until(name, lambda: site_ready(port), timeout=120, process=proc)
    return proc, f"http://127.0.0.1:{port}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--round-seconds", type=float, default=3.0)
    parser.add_argument("--drain-timeout", type=float, default=300)
    args = parser.parse_args()
    config = StackConfig.load(default_state_dir())
    if config is None:
        sys.exit("no running stack: start one with `python3 manage_all.py up --detach`")
    stack = Stack(config)
    sampling = os.environ.get("OTEL_TRACES_SAMPLER_ARG", "1.0 (default)")
    servers = {
        "on": start_order(stack, "bench-order-traced", {"OTEL_SDK_DISABLED": "false"}),
        "off": start_order(stack, "bench-order-untraced", {"OTEL_SDK_DISABLED": "true"}),
    }
    token = mint_token(stack)
    menu = httpx.get(f"{servers['off'][1]}/api/menu/", timeout=10).json()
    body = donut_order(menu)
    run = uuid.uuid4().hex[:8]

    def placements(mode: str, window: int) -> Any:
        keys = f"bench-{run}-{mode}-{window}"
        return placement_call(servers[mode][1], body, token, first_user=600000, keys=keys)

    rates: dict[str, list[float]] = {"on": [], "off": []}
    latencies: dict[str, list[float]] = {"on": [], "off": []}
    errors = {"on": 0, "off": 0}
    cpu = {"on": 0.0, "off": 0.0}
    done = {"on": 0, "off": 0}
    try:
        for mode in ("on", "off"):  # warm both (menus cached, connections open)
            hammer(args.threads, 3, placements(mode, -1))
        pause(stack, signal.SIGSTOP)
        try:
            for window in range(args.rounds):
                # Alternate which goes first, so neither always follows the other.
                order = ("on", "off") if window % 2 == 0 else ("off", "on")
                for mode in order:
                    before = cpu_seconds(servers[mode][0])
                    count, took, failed = hammer(
                        args.threads, args.round_seconds, placements(mode, window)
                    )
                    cpu[mode] += cpu_seconds(servers[mode][0]) - before
                    done[mode] += count  # successes only (hammer)
                    rates[mode].append(count / args.round_seconds)
                    latencies[mode] += took
                    errors[mode] += failed
        finally:
            pause(stack, signal.SIGCONT)
    finally:
        for proc, _url in servers.values():
            proc.stop(timeout=15)
    ratios = [on / off for on, off in zip(rates["on"], rates["off"], strict=True) if off]
    quartiles = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else [ratios[0]] * 3
    for mode in ("on", "off"):
        print(
            f"traces {mode:>3}: placements {statistics.median(rates[mode]):.1f}/s "
            f"(rounds {min(rates[mode]):.0f}-{max(rates[mode]):.0f}), "
            f"p50 {percentile(latencies[mode], 50) * 1000:.1f} ms, "
            f"p99 {percentile(latencies[mode], 99) * 1000:.1f} ms, {errors[mode]} errors",
            flush=True,
        )
    ratio = statistics.median(ratios)
    cpu_ms = {mode: cpu[mode] / max(1, done[mode]) * 1000 for mode in cpu}
    print(
        f"Order's CPU per placement: {cpu_ms['on']:.2f} ms traced, {cpu_ms['off']:.2f} ms "
        f"untraced: a traced placement costs {cpu_ms['on'] / cpu_ms['off']:.2f}x "
        f"(throughput ratio at equal CPU {cpu_ms['off'] / cpu_ms['on']:.2f})",
        flush=True,
    )
    print(
        f"on/off ratio (median of {len(ratios)} rounds): {ratio:.2f} "
        f"(quartiles {quartiles[0]:.2f}-{quartiles[2]:.2f}); sampling {sampling}",
        flush=True,
    )
    began = time.monotonic()
    wait_until_charged(stack, f"bench-{run}", timeout=args.drain_timeout, settle=0)
    print(f"backlog charged in {time.monotonic() - began:.0f}s", flush=True)
    print(
        json.dumps(
            {
                "ratio": round(ratio, 3),
                "cpu_ms_per_placement": {k: round(v, 3) for k, v in cpu_ms.items()},
                "quartiles": [round(quartiles[0], 3), round(quartiles[2], 3)],
                "on_per_s": rates["on"],
                "off_per_s": rates["off"],
                "sampling": sampling,
                "errors": errors,
            }
        )
    )


if __name__ == "__main__":
    main()
