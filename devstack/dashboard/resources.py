"""Every part with its state, health, pid, memory, CPU and URL: `Stack.status()`, the
same rows `manage_all.py status --json` prints, plus a CPU percentage and a state word."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from devstack.stack import PartStatus, Stack, usage


@dataclass(frozen=True)
class Resource:
    name: str
    kind: str
    # running; exited (its pid file is there, its process is not: it died); stopped.
    state: str
    healthy: bool
    pid: int | None
    memory_mib: float
    # Of one core, over the time since the previous reading (None on the first).
    cpu_percent: float | None
    url: str
    # The part's Prometheus metrics URL, "" when it has none.
    metrics: str

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "state": self.state,
            "health": self.health,
            "healthy": self.healthy,
            "pid": self.pid,
            "memory_mib": self.memory_mib,
            "cpu_percent": self.cpu_percent,
            "url": self.url if self.url.startswith("http") else "",
            "address": self.url if self.url != "-" else "",
            "metrics": self.metrics,
        }

    @property
    def health(self) -> str:
        if self.state != "running":
            return "-"
        return "healthy" if self.healthy else "unhealthy"


class ResourceMonitor:
    """`Stack.status()` read at most once per `max_age` seconds, whoever asks.

    Reading status probes every part (each site's /readyz, a Kafka admin call…), so the
    dashboard asks only while a page is open, and all its pages share one reading."""

    def __init__(
        self,
        stack: Stack,
        *,
        max_age: float = 4.0,
        too_old: float = 30.0,
        first_sample_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stack = stack
        self.max_age = max_age
        self.too_old = too_old
        self.first_sample_s = first_sample_s
        self.clock = clock
        self._lock = threading.Lock()
        self._read_lock = threading.Lock()
        self._reading = False
        self._taken = -float("inf")
        self._resources: list[Resource] = []
        # name → (pid, cpu seconds, when) of the previous reading
        self._cpu: dict[str, tuple[int | None, float, float]] = {}

    def snapshot(self, max_age: float | None = None) -> list[Resource]:
        """The latest reading. The first call waits for one; later calls answer at once
        and, when the reading is older than `max_age`, start the next one in the
        background (a reading takes a second or more on a busy machine)."""
        limit = self.max_age if max_age is None else max_age
        with self._lock:
            age = self.clock() - self._taken
            # Nothing yet, or a reading from before an idle spell: wait for a fresh one.
            wait = not self._resources or age >= max(limit, self.too_old)
            refresh = not wait and not self._reading and age >= limit
            if refresh:
                self._reading = True
        if wait:
            with self._read_lock:
                if self.clock() - self._taken >= min(limit, self.too_old):
                    self._read()
        elif refresh:
            threading.Thread(target=self._read_in_background, daemon=True).start()
        with self._lock:
            return list(self._resources)

    def _read_in_background(self) -> None:
        try:
            with self._read_lock:
                self._read()
        finally:
            with self._lock:
                self._reading = False

    def _read(self) -> None:
        """One reading of `Stack.status()` (under `_read_lock`, which also guards `_cpu`).

        The first one reads the CPU times again a moment later, so even the first page
        shows a CPU share."""
        rows = self.stack.status()
        now = self.clock()
        if not self._cpu:
            self._cpu = {row.name: (row.pid, row.cpu_seconds, now) for row in rows}
            time.sleep(self.first_sample_s)
            rows = [replace(row, cpu_seconds=usage(row.pid)[1]) for row in rows]
            now = self.clock()
        resources = [self._resource(row, now) for row in rows]
        with self._lock:
            self._resources = resources
            self._taken = now

    def _resource(self, row: PartStatus, now: float) -> Resource:
        return Resource(
            name=row.name,
            kind=row.kind,
            state=self._state(row),
            healthy=row.healthy,
            pid=row.pid,
            memory_mib=row.memory_mib,
            cpu_percent=self._cpu_percent(row, now),
            url=row.url,
            # The metrics field comes with Prometheus support (issue 15); until then: none.
            metrics=str(getattr(row, "metrics", "") or ""),
        )

    def _state(self, row: PartStatus) -> str:
        if row.pid:
            return "running"
        process = self.stack.process(row.name)
        return "exited" if process is not None and process.pidfile.exists() else "stopped"

    def _cpu_percent(self, row: PartStatus, now: float) -> float | None:
        before = self._cpu.get(row.name)
        self._cpu[row.name] = (row.pid, row.cpu_seconds, now)
        return cpu_percent(before, (row.pid, row.cpu_seconds, now))


def cpu_percent(
    before: tuple[int | None, float, float] | None, after: tuple[int | None, float, float]
) -> float | None:
    """The share of one core a process used between two readings of (pid, CPU seconds,
    monotonic time); None without an earlier reading of the same process."""
    if before is None or not after[0] or before[0] != after[0]:
        return None
    elapsed = after[2] - before[2]
    if elapsed <= 0:
        return None
    # A child that exited takes its CPU time with it: never below zero.
    return round(max(after[1] - before[1], 0.0) / elapsed * 100, 1)
