"""A sampling profiler for a site's gunicorn workers (py-spy is not on this machine).

As gunicorn's config (`--config python:bench.sampler`, in place of
`python:shared.gunicorn_config`, whose hooks it keeps), each worker starts a thread
that every `BENCH_SAMPLE_INTERVAL` seconds (0.005) looks at every other thread: one
that used CPU since the last look (its utime + stime in /proc) has its stack
(`sys._current_frames`) counted, weighted by the clock ticks it used. Every two
seconds the counts go to `$BENCH_SAMPLES_DIR/<pid>.stacks` ("frame;frame;… ticks"
lines, leaf last; the folder must be set). `report` ranks functions by their share
of the CPU ticks sampled, on the stack (inclusive) and at its top (self). Coarse
(10 ms ticks) but CPU time, not wall-clock time: a thread waiting for I/O, a lock
or the GIL is not counted.

    .venv/bin/python -m bench.sampler DIR [--top 40] [--match bff_site]
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shared.gunicorn_config import child_exit, when_ready  # noqa: F401 - gunicorn's hooks
from shared.gunicorn_config import post_fork as shared_post_fork

if TYPE_CHECKING:
    from devstack.stack import Stack


def _frame_name(code: Any) -> str:
    filename = code.co_filename
    for marker in ("site-packages/", "/work/main/", "lib/python3"):
        if marker in filename:
            filename = filename.split(marker, 1)[1]
            break
    return f"{filename}:{code.co_name}"


def _cpu_ticks(native_id: int) -> int:
    """The thread's CPU time so far (user + system), in clock ticks."""
    try:
        with open(f"/proc/self/task/{native_id}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)


def _sample(out: Path, interval: float) -> None:
    counts: collections.Counter[str] = collections.Counter()
    me = threading.get_ident()
    last_dump = time.monotonic()
    ticks: dict[int, int] = {}
    while True:
        time.sleep(interval)
        frames = sys._current_frames()
        for thread in threading.enumerate():
            ident, native = thread.ident, thread.native_id
            if ident is None or native is None or ident == me or ident not in frames:
                continue
            now = _cpu_ticks(native)
            used, ticks[native] = now - ticks.get(native, now), now
            if used <= 0:
                continue  # no CPU since the last look: waiting (I/O, a lock, the GIL)
            stack = []
            f: Any = frames[ident]
            while f is not None:
                stack.append(_frame_name(f.f_code))
                f = f.f_back
            counts[";".join(reversed(stack))] += used
        if time.monotonic() - last_dump > 2:
            last_dump = time.monotonic()
            tmp = out.with_suffix(".tmp")
            tmp.write_text("".join(f"{stack} {n}\n" for stack, n in counts.items()))
            tmp.replace(out)


def post_fork(server: Any, worker: Any) -> None:
    shared_post_fork(server, worker)
    folder = Path(os.environ["BENCH_SAMPLES_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    interval = float(os.environ.get("BENCH_SAMPLE_INTERVAL", "0.005"))
    out = folder / f"{os.getpid()}.stacks"
    threading.Thread(target=_sample, args=(out, interval), daemon=True).start()


def sample_site(stack: Stack, site: str, folder: Path) -> None:
    """Restart `site` of a running system (same port and environment) with its workers
    sampled into `folder`; `down` stops it as before (same pid file)."""
    from devstack.base import REPO_ROOT, spawn, wait_until
    from devstack.sites import gunicorn_argv

    proc = stack.process(site)
    if proc is not None:
        proc.stop()
    folder.mkdir(parents=True, exist_ok=True)
    argv = gunicorn_argv(site, port=stack.ports[site], workers=stack.config.workers)
    argv[argv.index("python:shared.gunicorn_config")] = "python:bench.sampler"
    env = stack.site_env(site) | stack.metrics_env(site) | {"BENCH_SAMPLES_DIR": str(folder)}
    if site == "bff":  # as the bench system's `up` started it
        from bench.system import RAISED_LIMITS

        env |= RAISED_LIMITS
    new = spawn(site, argv, state_dir=stack.state, env=env, cwd=REPO_ROOT)
    wait_until(site, lambda: stack.site_ready(site), timeout=60, process=new)


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
    stacks: collections.Counter[str] = collections.Counter()
    for path in folder.glob("*.stacks"):
        for line in path.read_text().splitlines():
            stack, _, times = line.rpartition(" ")
            stacks[stack] += int(times)
    busy = stacks
    total = sum(busy.values()) or 1
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    for stack, count in busy.items():
        frames = stack.split(";")
        own[frames[-1]] += count
        for name in set(frames):
            inclusive[name] += count
    print(f"{total} CPU ticks sampled")
    print("inclusive:")
    shown = [(name, n) for name, n in inclusive.most_common() if match in name][:top]
    for name, n in shown:
        print(f"  {100 * n / total:5.1f}%  {name}")
    print("self:")
    for name, n in own.most_common(25):
        print(f"  {100 * n / total:5.1f}%  {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--match", default="")
    args = parser.parse_args()
    report(args.folder, top=args.top, match=args.match)


if __name__ == "__main__":
    main()
