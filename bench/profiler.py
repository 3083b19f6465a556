"""A profiler for a site's gunicorn workers (py-spy is not on this machine), and CPU
used by process.

As gunicorn's config (`--config python:bench.profiler`, in place of
`python:shared.gunicorn_config`, whose hooks it keeps), every thread a worker starts
runs under a cProfile profiler of its own (`threading.setprofile`: the first event
of a new thread enables it). When the worker exits (`worker_exit`: the site stopped)
the threads' profiles are merged into `$BENCH_PROFILE_DIR/<pid>.prof` (pstats);
`report` prints the functions by cumulative and by own time over every worker's
file. Timed by each thread's CPU time (`time.thread_time`), so waits for I/O, locks
or the GIL count for nothing. cProfile slows what it measures about twofold, evenly
enough to rank.

    .venv/bin/python -m bench.profiler DIR [--top 40] [--match bff_site]
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import os
import pstats
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shared.gunicorn_config import child_exit, when_ready  # noqa: F401 - gunicorn's hooks
from shared.gunicorn_config import post_fork as shared_post_fork

if TYPE_CHECKING:
    from devstack.stack import Stack


_profiles: list[cProfile.Profile] = []


def _profile_thread(frame: Any, event: str, arg: Any) -> None:
    """The first profile event of a new thread: profile it from now on (enabling a
    profiler replaces this hook in the thread)."""
    profile = cProfile.Profile(time.thread_time)  # CPU time: not waits for I/O or the GIL
    _profiles.append(profile)
    profile.enable()


def post_fork(server: Any, worker: Any) -> None:
    shared_post_fork(server, worker)
    threading.setprofile(_profile_thread)
    _profile_thread(None, "", None)  # the worker's own thread (uvicorn's event loop)


def worker_exit(server: Any, worker: Any) -> None:
    folder = Path(os.environ["BENCH_PROFILE_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    merged: pstats.Stats | None = None
    for profile in list(_profiles):
        try:
            stats = pstats.Stats(profile)
        except (TypeError, ValueError):  # a thread that profiled nothing
            continue
        if merged is None:
            merged = stats
        else:
            merged.add(stats)
    if merged is not None:
        merged.dump_stats(str(folder / f"{os.getpid()}.prof"))


def profile_site(stack: Stack, site: str, folder: Path) -> Any:
    """Restart `site` of a running system (same port and environment) with its workers
    profiled into `folder` (once stopped); answers its process (`down` stops it too)."""
    from devstack.base import REPO_ROOT, spawn, wait_until
    from devstack.sites import gunicorn_argv

    proc = stack.process(site)
    if proc is not None:
        proc.stop()
    folder.mkdir(parents=True, exist_ok=True)
    argv = gunicorn_argv(site, port=stack.ports[site], workers=stack.config.workers)
    argv[argv.index("python:shared.gunicorn_config")] = "python:bench.profiler"
    env = stack.site_env(site) | stack.metrics_env(site) | {"BENCH_PROFILE_DIR": str(folder)}
    if site == "bff":  # as the bench system's `up` started it
        from bench.system import RAISED_LIMITS

        env |= RAISED_LIMITS
    new = spawn(site, argv, state_dir=stack.state, env=env, cwd=REPO_ROOT)
    wait_until(site, lambda: stack.site_ready(site), timeout=60, process=new)
    return new


def cpu_by_process() -> dict[str, float]:
    """CPU seconds used so far by each process on the machine, by a short name (its
    command line's most telling words), summed over processes of the same name."""
    tick = os.sysconf("SC_CLK_TCK")
    used: dict[str, float] = collections.defaultdict(float)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_bytes().rsplit(b")", 1)[1].split()
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        used[_process_name([a.decode(errors="replace") for a in argv if a])] += (
            int(fields[11]) + int(fields[12])
        ) / tick
    return dict(used)


def _process_name(argv: list[str]) -> str:
    if not argv:
        return "(kernel)"
    for i, arg in enumerate(argv):
        if arg.endswith(":application"):
            return arg.split(".", 1)[0]  # a site: bff_site, order_site, identity_site
        if arg == "-m" and i + 1 < len(argv):
            words = [argv[i + 1], *[a for a in argv[i + 2 : i + 4] if not a.startswith("-")]]
            return " ".join(words)[:60]
        if arg.endswith("manage.py") and i + 1 < len(argv):
            return f"{Path(arg).parent.name} {argv[i + 1]}"
        if arg in ("kafka.Kafka", "zipkin.jar") or arg.endswith("zipkin.jar"):
            return arg
    return Path(argv[0]).name[:40]


def cpu_report(before: dict[str, float], after: dict[str, float], seconds: float) -> str:
    """The processes that used most CPU between two `cpu_by_process` looks, in cores."""
    spent = {name: after.get(name, 0) - before.get(name, 0) for name in after}
    top = sorted(spent.items(), key=lambda item: -item[1])[:14]
    total = sum(v for v in spent.values() if v > 0)
    return f"CPU {total / seconds:.2f} cores: " + ", ".join(
        f"{name} {v / seconds:.2f}" for name, v in top if v > 0
    )


def report(folder: Path, *, top: int, match: str) -> None:
    """The merged profiles of `folder`: the `top` functions by cumulative time (those
    whose file:line:name contains `match`), then by own time."""
    files = sorted(str(path) for path in folder.glob("*.prof"))
    if not files:
        print(f"no profiles in {folder}")
        return
    stats = pstats.Stats(*files)
    stats.strip_dirs()
    restrictions: tuple[Any, ...] = (match, top) if match else (top,)
    stats.sort_stats("cumulative").print_stats(*restrictions)
    stats.sort_stats("tottime").print_stats(25)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--match", default="")
    args = parser.parse_args()
    report(args.folder, top=args.top, match=args.match)


if __name__ == "__main__":
    main()
