"""Dapr mode's cost: order placement through the BFF with and without the sidecars.

Starts its own system in Dapr mode (`manage_all.py up --detach --mesh dapr` in a
temporary folder on free ports), then a direct-mode copy of the three sites beside it
(the same code, database, Redis and secrets; `MESH` unset, so they call each other
straight and read Vault with their AppRole). A customer signs in once; the same session
cookie works on both BFFs (sessions live in Redis). Rounds alternate: placements through
the direct BFF, then through the Dapr BFF (BFF → sidecar → sidecar → Order, and Order →
sidecar → sidecar → Identity for introspection), `--rounds` times, so the machine's drift
hits both alike. Prints each side's requests per second and p50/p99, the ratio, the p99
added per hop (two hops per placement: BFF→Order, Order→Identity when the introspection
is not cached — it is cached after the first call, so about one hop on the hot path),
and each sidecar's memory.

Goals (issue 13): Dapr ≥ 0.8x direct throughput, added p99 ≤ 5 ms per hop.
The last line is one JSON object. Run: `.venv/bin/python bench/mesh.py [--rounds 6]`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import uuid
from contextlib import ExitStack
from functools import partial
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.bff import espresso_line  # noqa: E402
from bench.order import TEST_TOKEN, hammer, percentile, wait_until_charged  # noqa: E402
from bench.system import bench_system  # noqa: E402
from devstack import sites  # noqa: E402
from devstack.base import Process, free_port, spawn, wait_until  # noqa: E402
from devstack.cli import demo_password  # noqa: E402
from devstack.stack import Stack, memory_mib  # noqa: E402
from tests.e2e.browserless import browser_client, sign_in  # noqa: E402

# The hops a placement through the BFF takes between our services.
HOPS = 2


def start_direct_copy(stack: Stack) -> tuple[dict[str, int], list[Process]]:
    """The three sites again, in direct mode on free ports, calling each other."""
    ports = dict(stack.ports)
    ports.update({site: free_port() for site in sites.SITES})
    procs: list[Process] = []
    for site in sites.SITES:
        env = sites.site_env(site, state_dir=stack.state, ports=ports, flavour="local")
        # The same limits as the system's BFF (bench/bff.py raises them for the load).
        env |= {"MESH": "direct", "BFF_RATE_SESSION": "1000000", "BFF_RATE_ADDRESS": "1000000"}
        argv = sites.gunicorn_argv(site, port=ports[site], workers=stack.config.workers)
        procs.append(spawn(f"bench-direct-{site}", argv, state_dir=stack.state, env=env, cwd=REPO))
    for site, proc in zip(sites.SITES, procs, strict=True):
        wait_until(
            f"direct {site}", partial(sites.site_ready, ports[site]), timeout=120, process=proc
        )
    return ports, procs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--round-seconds", type=float, default=5.0)
    parser.add_argument("--threads", type=int, default=6)
    parser.add_argument("--keep", action="store_true", help="leave the system running")
    args = parser.parse_args()
    with bench_system("mesh", keep=args.keep, mesh="dapr") as system, ExitStack() as cleanup:
        stack = system.stack
        ports = stack.ports
        direct_ports, procs = start_direct_copy(stack)
        for proc in procs:
            cleanup.callback(proc.stop, timeout=10)
        bases = {
            "direct": f"http://127.0.0.1:{direct_ports['bff']}",
            "dapr": f"http://127.0.0.1:{ports['bff']}",
        }
        password = demo_password(stack)
        line = espresso_line(
            httpx.get(f"{bases['direct']}/api/menu", timeout=10).json()["categories"]
        )
        run = uuid.uuid4().hex[:8]
        # One signed-in client per load thread; its cookies (host 127.0.0.1, any port)
        # are sent to both BFFs.
        sessions: dict[int, tuple[httpx.Client, str]] = {}
        first_error: dict[str, str] = {}

        def session_for(worker: int) -> tuple[httpx.Client, str]:
            if worker not in sessions:
                client = browser_client(bases["dapr"])
                sign_in(client, email="customer@coffeeshop.local", password=password)
                sessions[worker] = (client, client.get("/api/session").json()["csrf_token"])
            return sessions[worker]

        def placer(mode: str, round_no: int) -> Any:
            def place(_: httpx.Client, worker: int, n: int) -> bool:
                session, csrf = session_for(worker)
                response = session.post(
                    f"{bases[mode]}/api/orders",
                    json={"lines": [line], "payment_method": TEST_TOKEN},
                    headers={
                        "X-CSRF-Token": csrf,
                        "Idempotency-Key": f"mesh-{run}-{mode}-{round_no}-{worker}-{n}",
                    },
                )
                if response.status_code != 201 and mode not in first_error:
                    first_error[mode] = f"{response.status_code} {response.text[:300]}"
                return response.status_code == 201

            return place

        for worker in range(args.threads):
            session_for(worker)
        for mode in ("direct", "dapr"):  # warm up both paths
            hammer(args.threads, 2, placer(mode, -1))
        wait_until_charged(stack, "", timeout=300, settle=3)
        results: dict[str, dict[str, Any]] = {
            m: {"rps": [], "latencies": [], "errors": 0} for m in ("direct", "dapr")
        }
        for round_no in range(args.rounds):
            for mode in ("direct", "dapr") if round_no % 2 == 0 else ("dapr", "direct"):
                count, latencies, errors = hammer(
                    args.threads, args.round_seconds, placer(mode, round_no)
                )
                results[mode]["rps"].append(count / args.round_seconds)
                results[mode]["latencies"] += latencies
                results[mode]["errors"] += errors
            print(
                f"round {round_no + 1}: direct {results['direct']['rps'][-1]:.1f} req/s, "
                f"dapr {results['dapr']['rps'][-1]:.1f} req/s",
                flush=True,
            )
            # The charges these placements cause would slow the next round: let the
            # worker catch up first.
            wait_until_charged(stack, f"mesh-{run}", timeout=300, settle=2)
        for mode, error in first_error.items():
            print(f"first failed placement ({mode}): {error}")
        summary: dict[str, dict[str, float]] = {}
        for mode, data in results.items():
            summary[mode] = {
                "rps": statistics.median(data["rps"]),
                "p50_ms": percentile(data["latencies"], 50) * 1000,
                "p99_ms": percentile(data["latencies"], 99) * 1000,
                "errors": data["errors"],
            }
            print(
                f"{mode:<7} {summary[mode]['rps']:7.1f} req/s"
                f"  p50 {summary[mode]['p50_ms']:6.1f} ms"
                f"  p99 {summary[mode]['p99_ms']:6.1f} ms  errors {data['errors']}"
            )
        assert stack.mesh is not None
        sidecar_mib = {
            name: memory_mib(sidecar.process().pid())
            for name, sidecar in stack.mesh.sidecars.items()
        }
        for name, mib in sidecar_mib.items():
            print(f"{name:<22} {mib:6.1f} MiB")
        ratio = summary["dapr"]["rps"] / summary["direct"]["rps"]
        added_p99 = (summary["dapr"]["p99_ms"] - summary["direct"]["p99_ms"]) / HOPS
        print(
            f"Dapr / direct: {ratio:.2f}x (goal ≥ 0.8x); added p99 per hop {added_p99:.1f} ms "
            "(goal ≤ 5 ms)"
        )
        print(
            json.dumps(
                {
                    "direct_rps": round(summary["direct"]["rps"], 1),
                    "dapr_rps": round(summary["dapr"]["rps"], 1),
                    "ratio": round(ratio, 2),
                    "direct_p50_ms": round(summary["direct"]["p50_ms"], 1),
                    "direct_p99_ms": round(summary["direct"]["p99_ms"], 1),
                    "dapr_p50_ms": round(summary["dapr"]["p50_ms"], 1),
                    "dapr_p99_ms": round(summary["dapr"]["p99_ms"], 1),
                    "added_p99_ms_per_hop": round(added_p99, 1),
                    "sidecar_mib": sidecar_mib,
                    "sidecar_mib_total": round(sum(sidecar_mib.values()), 1),
                    "rounds": args.rounds,
                    "threads": args.threads,
                }
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
