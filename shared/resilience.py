"""Circuit breakers and retry backoff for calls to another service.

A `CircuitBreaker` guards one downstream (the payment provider, the Order API …):

- **closed**: calls go through. It opens after `failure_threshold` consecutive
  failures, or when at least `minimum_calls` of the last `window_size` calls
  were made and `failure_ratio` of them failed.
- **open**: calls fail at once with `CircuitOpen` (a `shared.problems.Unavailable`,
  so a view answers 503 naming the downstream) for `open_seconds`.
- **half-open**: after that, `half_open_max_calls` trial calls go through; a
  success closes the breaker, a failure opens it again for another `open_seconds`.

Where the state lives: with a `RedisBreakerStore` every process (each gunicorn
worker, each Celery worker) shares one breaker per downstream, so N processes trip
after N failures in total rather than N times the threshold, and all of them stop calling
a dead provider together. Each change is one optimistic Redis transaction
(WATCH/MULTI) over a small JSON document. If Redis itself fails, the breaker falls
back to in-process state and says so in the log: protection degrades, calls don't.
`MemoryBreakerStore` (in-process only) is the default, for scripts and tests.

Plain Python; imports no site.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, TypeVar

from shared.problems import Unavailable

logger = logging.getLogger("coffeeshop.resilience")

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"
R = TypeVar("R")


class CircuitOpen(Unavailable):
    """The breaker of `downstream` is open: no call was made."""

    def __init__(self, downstream: str, retry_after: float) -> None:
        super().__init__(
            f"{downstream} is unavailable",
            downstream=downstream,
            reason="circuit breaker open",
            retry_after=max(1, round(retry_after)),
        )
        self.downstream = downstream
        self.retry_after = retry_after


@dataclass
class BreakerState:
    state: str = CLOSED
    consecutive_failures: int = 0
    # Outcomes of the latest calls while closed, oldest first: 1 failure, 0 success.
    window: list[int] = field(default_factory=list)
    opened_at: float = 0.0
    half_open_since: float = 0.0
    half_open_calls: int = 0


class BreakerStore(Protocol):
    def transact(self, name: str, change: Callable[[BreakerState], R]) -> R:
        """Run `change` on the state of breaker `name` atomically and keep what it changed."""
        ...

    def reset(self, name: str) -> None: ...


class MemoryBreakerStore:
    """Breaker state in this process only."""

    def __init__(self) -> None:
        self._states: dict[str, BreakerState] = {}
        self._lock = threading.Lock()

    def transact(self, name: str, change: Callable[[BreakerState], R]) -> R:
        with self._lock:
            state = self._states.setdefault(name, BreakerState())
            return change(state)

    def reset(self, name: str) -> None:
        with self._lock:
            self._states.pop(name, None)


class RedisBreakerStore:
    """Breaker state shared by every process through Redis (redis-py client)."""

    KEY_PREFIX = "coffeeshop:breaker:"
    TTL_SECONDS = 24 * 3600  # a breaker nobody used for a day starts closed again

    def __init__(self, client: Any, *, fallback: MemoryBreakerStore | None = None) -> None:
        self.client = client
        self.fallback = fallback or MemoryBreakerStore()

    @classmethod
    def from_url(cls, url: str, *, password: str | None = None) -> RedisBreakerStore:
        import redis

        client = redis.Redis.from_url(
            url, password=password, socket_timeout=1, socket_connect_timeout=1
        )
        return cls(client)

    def key(self, name: str) -> str:
        return self.KEY_PREFIX + name.replace(" ", "-")

    def transact(self, name: str, change: Callable[[BreakerState], R]) -> R:
        """Run `change` on the stored state; write it back (optimistic transaction) only
        when `change` altered it. Every call through a healthy breaker (`allow`, then
        `record_success` on a full window of successes) changes nothing, so it costs
        one GET instead of WATCH, GET and MULTI/SET/EXEC."""
        import redis

        key = self.key(name)
        try:
            state = self._load(self.client.get(key))
            before = asdict(state)
            result = change(state)
            if asdict(state) == before:
                return result
            with self.client.pipeline() as pipe:
                while True:
                    try:
                        pipe.watch(key)
                        state = self._load(pipe.get(key))
                        result = change(state)
                        pipe.multi()
                        pipe.set(key, json.dumps(asdict(state)), ex=self.TTL_SECONDS)
                        pipe.execute()
                        return result
                    except redis.WatchError:
                        continue  # another process changed it first: read again
        except redis.RedisError as exc:
            logger.warning(
                "breaker %s: Redis unavailable (%s); using this process's state", name, exc
            )
            return self.fallback.transact(name, change)

    @staticmethod
    def _load(raw: bytes | None) -> BreakerState:
        return BreakerState(**json.loads(raw)) if raw else BreakerState()

    def reset(self, name: str) -> None:
        self.client.delete(self.key(name))
        self.fallback.reset(name)


class CircuitBreaker:
    """A circuit breaker for one downstream, named as people call it ("payment provider")."""

    def __init__(
        self,
        name: str,
        *,
        failure_threshold: int = 5,
        failure_ratio: float = 0.5,
        window_size: int = 20,
        minimum_calls: int = 10,
        open_seconds: float = 30.0,
        half_open_max_calls: int = 1,
        store: BreakerStore | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if failure_threshold < 1 or window_size < 1 or half_open_max_calls < 1:
            raise ValueError("thresholds and sizes must be at least 1")
        if not 0 < failure_ratio <= 1:
            raise ValueError("failure_ratio must be in (0, 1]")
        self.name = name
        self.failure_threshold = failure_threshold
        self.failure_ratio = failure_ratio
        self.window_size = window_size
        self.minimum_calls = min(minimum_calls, window_size)
        self.open_seconds = open_seconds
        self.half_open_max_calls = half_open_max_calls
        self.store: BreakerStore = store or MemoryBreakerStore()
        # Wall-clock time (not monotonic): with a shared store, processes compare it.
        self.clock = clock

    def allow(self) -> None:
        """Let one call through, or raise `CircuitOpen` naming the downstream."""

        def change(st: BreakerState) -> float:
            now = self.clock()
            if st.state == OPEN:
                remaining = st.opened_at + self.open_seconds - now
                if remaining > 0:
                    return remaining
                st.state, st.half_open_since, st.half_open_calls = HALF_OPEN, now, 0
            if st.state == HALF_OPEN:
                if now - st.half_open_since >= self.open_seconds:
                    # Trial calls that never reported back (their process died): new trials.
                    st.half_open_since, st.half_open_calls = now, 0
                if st.half_open_calls >= self.half_open_max_calls:
                    return st.half_open_since + self.open_seconds - now
                st.half_open_calls += 1
            return 0.0

        wait = self.store.transact(self.name, change)
        if wait > 0:
            raise CircuitOpen(self.name, wait)

    def record_success(self) -> None:
        def change(st: BreakerState) -> bool:
            if st.state == HALF_OPEN:
                st.__dict__.update(asdict(BreakerState()))
                return True
            if st.state == CLOSED:
                st.consecutive_failures = 0
                st.window = [*st.window, 0][-self.window_size :]
            return False

        if self.store.transact(self.name, change):
            logger.info("breaker %s: closed again", self.name)

    def record_failure(self) -> None:
        def change(st: BreakerState) -> str:
            now = self.clock()
            why = ""
            if st.state == HALF_OPEN:
                why = "the trial call failed"
            elif st.state == CLOSED:
                st.consecutive_failures += 1
                st.window = [*st.window, 1][-self.window_size :]
                failed = sum(st.window)
                if st.consecutive_failures >= self.failure_threshold:
                    why = f"{st.consecutive_failures} consecutive failures"
                elif (
                    len(st.window) >= self.minimum_calls
                    and failed / len(st.window) >= self.failure_ratio
                ):
                    why = f"{failed} of the last {len(st.window)} calls failed"
            if why:
                st.__dict__.update(asdict(BreakerState()))
                st.state, st.opened_at = OPEN, now
            return why

        # Logged once the change is stored (a Redis transaction may run `change` again).
        why = self.store.transact(self.name, change)
        if why:
            logger.warning("breaker %s: open for %.0fs (%s)", self.name, self.open_seconds, why)

    def state(self) -> str:
        """closed, open or half_open (an open breaker whose time is up reads half_open)."""

        def read(st: BreakerState) -> str:
            if st.state == OPEN and self.clock() >= st.opened_at + self.open_seconds:
                return HALF_OPEN
            return st.state

        return self.store.transact(self.name, read)

    def reset(self) -> None:
        """Forget everything: the breaker is closed with no history."""
        self.store.reset(self.name)


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff
    And Jitter", 2015): the n-th retry waits a random time in [0, min(cap, base * 2**(n-1))]
    so clients that failed together don't retry together."""

    base: float = 0.2
    cap: float = 5.0

    def delay(self, retry: int) -> float:
        return random.uniform(0, min(self.cap, self.base * 2 ** (retry - 1)))  # noqa: S311 - jitter
