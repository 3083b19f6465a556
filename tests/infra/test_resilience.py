"""`shared.http.ServiceClient` and `shared.resilience.CircuitBreaker` against a real HTTP server."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import redis

from devstack.base import HOST, free_port
from devstack.stack import Stack
from shared.http import DownstreamUnavailable, ServiceClient
from shared.problems import Unavailable
from shared.resilience import (
    Backoff,
    CircuitBreaker,
    CircuitOpen,
    MemoryBreakerStore,
    RedisBreakerStore,
)


class Script:
    """What the test server answers: a queue of (status, delay seconds, headers), then 200."""

    def __init__(self) -> None:
        self.answers: list[tuple[int, float, dict[str, str]]] = []
        self.seen: list[tuple[str, str, str | None]] = []
        self.lock = threading.Lock()

    def then(self, status: int, *, delay: float = 0.0, **headers: str) -> Script:
        self.answers.append((status, delay, headers))
        return self

    def next(self, method: str, path: str, key: str | None) -> tuple[int, float, dict[str, str]]:
        with self.lock:
            self.seen.append((method, path, key))
            return self.answers.pop(0) if self.answers else (200, 0.0, {})


class Handler(BaseHTTPRequestHandler):
    server: Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        status, delay, headers = self.server.script.next(
            self.command, self.path, self.headers.get("Idempotency-Key")
        )
        if delay:
            time.sleep(delay)
        body = json.dumps({"status": status}).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name.replace("_", "-"), value)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    do_GET = do_POST = do_PUT = do_DELETE = _answer


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        self.script = Script()
        super().__init__((HOST, free_port()), Handler)
        self.url = f"http://{HOST}:{self.server_address[1]}"


@pytest.fixture
def server() -> Iterator[Server]:
    srv = Server()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def make_client(
    server: Server, *, retries: int = 2, breaker: CircuitBreaker | None = None, **kw: Any
) -> tuple[ServiceClient, list[float]]:
    slept: list[float] = []
    client = ServiceClient(
        name="payment provider",
        base_url=server.url,
        timeout=kw.pop("timeout", 5.0),
        retries=retries,
        breaker=breaker,
        sleep=slept.append,
        **kw,
    )
    return client, slept


# ---- retries --------------------------------------------------------------------------------
def test_get_is_retried_on_503_and_502_then_answers(server: Server) -> None:
    server.script.then(503).then(502)
    client, slept = make_client(server, retries=2)

    response = client.get("/v1/things")

    assert response.status_code == 200
    assert [s[:2] for s in server.script.seen] == [("GET", "/v1/things")] * 3
    assert len(slept) == 2


def test_post_without_idempotency_key_is_not_retried_on_500(server: Server) -> None:
    server.script.then(500)
    client, slept = make_client(server, retries=3)

    with pytest.raises(DownstreamUnavailable) as caught:
        client.post("/v1/charges", json={"amount": 1})

    assert caught.value.detail == "payment provider is unavailable"
    assert caught.value.reason == "answered 500"
    assert caught.value.status_code == 500
    assert len(server.script.seen) == 1
    assert slept == []


def test_post_with_idempotency_key_is_retried_with_the_same_key(server: Server) -> None:
    server.script.then(500).then(503)
    client, _ = make_client(server, retries=2)

    response = client.post("/v1/charges", json={"amount": 1}, idempotency_key="order-7-charge")

    assert response.status_code == 200
    assert server.script.seen == [("POST", "/v1/charges", "order-7-charge")] * 3


def test_retries_are_bounded_and_the_last_failure_raises_unavailable(server: Server) -> None:
    for _ in range(5):
        server.script.then(503)
    client, slept = make_client(server, retries=2)

    with pytest.raises(DownstreamUnavailable) as caught:
        client.get("/v1/things")

    assert isinstance(caught.value, Unavailable)
    assert caught.value.status == 503
    assert caught.value.extra == {"downstream": "payment provider", "reason": "answered 503"}
    assert len(server.script.seen) == 3
    assert len(slept) == 2


def test_a_4xx_answer_is_returned_and_not_retried(server: Server) -> None:
    server.script.then(402)
    client, slept = make_client(server, retries=2)

    response = client.post("/v1/charges", json={}, idempotency_key="k")

    assert response.status_code == 402
    assert len(server.script.seen) == 1
    assert slept == []


def test_a_timed_out_get_is_retried_then_raises_timed_out(server: Server) -> None:
    for _ in range(3):
        server.script.then(200, delay=1.0)
    client, _ = make_client(server, retries=2, timeout=0.2)

    with pytest.raises(DownstreamUnavailable) as caught:
        client.get("/slow")

    assert caught.value.reason == "timed out"
    assert caught.value.status_code is None
    assert len(server.script.seen) == 3


def test_a_timed_out_post_without_key_is_not_repeated(server: Server) -> None:
    server.script.then(200, delay=1.0)
    client, _ = make_client(server, retries=2, timeout=0.2)

    with pytest.raises(DownstreamUnavailable):
        client.post("/v1/charges", json={})

    assert len(server.script.seen) == 1


def test_a_refused_connection_is_retried_even_for_a_post_without_key() -> None:
    slept: list[float] = []
    client = ServiceClient(
        name="order",
        base_url=f"http://{HOST}:{free_port()}",
        timeout=1.0,
        retries=2,
        sleep=slept.append,
    )

    with pytest.raises(DownstreamUnavailable) as caught:
        client.post("/api/orders", json={})

    assert caught.value.detail == "order is unavailable"
    assert caught.value.reason == "connection refused or failed"
    assert len(slept) == 2


def test_retry_after_is_honoured_up_to_the_backoff_cap(server: Server) -> None:
    server.script.then(503, Retry_After="2").then(429, Retry_After="120")
    client, slept = make_client(server, retries=2, backoff=Backoff(base=0.01, cap=3.0))

    client.get("/v1/things")

    assert slept == [2.0, 3.0]


def test_backoff_grows_exponentially_with_full_jitter_under_the_cap() -> None:
    backoff = Backoff(base=0.5, cap=3.0)

    delays = {retry: [backoff.delay(retry) for _ in range(200)] for retry in (1, 2, 3, 4, 5)}

    for retry, ceiling in {1: 0.5, 2: 1.0, 3: 2.0, 4: 3.0, 5: 3.0}.items():
        assert all(0 <= d <= ceiling for d in delays[retry])
    assert len(set(delays[1])) > 1


# ---- circuit breaker ------------------------------------------------------------------------
def test_breaker_opens_after_n_consecutive_failures_and_stops_calling(server: Server) -> None:
    for _ in range(10):
        server.script.then(500)
    breaker = CircuitBreaker("payment provider", failure_threshold=3, open_seconds=30)
    client, _ = make_client(server, retries=0, breaker=breaker)
    for _ in range(3):
        with pytest.raises(DownstreamUnavailable):
            client.get("/v1/things")

    with pytest.raises(CircuitOpen) as caught:
        client.get("/v1/things")

    assert isinstance(caught.value, Unavailable)
    assert caught.value.status == 503
    assert caught.value.detail == "payment provider is unavailable"
    assert caught.value.extra["downstream"] == "payment provider"
    assert breaker.state() == "open"
    assert len(server.script.seen) == 3


def test_a_success_resets_the_consecutive_failure_count(server: Server) -> None:
    server.script.then(500).then(500).then(200).then(500).then(500)
    breaker = CircuitBreaker("order", failure_threshold=3, minimum_calls=100, window_size=100)
    client, _ = make_client(server, retries=0, breaker=breaker)

    for _ in range(5):
        with contextlib.suppress(DownstreamUnavailable):
            client.get("/x")

    assert breaker.state() == "closed"
    assert len(server.script.seen) == 5


def test_breaker_opens_on_failure_ratio_in_the_window(server: Server) -> None:
    for _ in range(5):
        server.script.then(200).then(503)
    breaker = CircuitBreaker(
        "order", failure_threshold=100, failure_ratio=0.5, window_size=10, minimum_calls=10
    )
    client, _ = make_client(server, retries=0, breaker=breaker)
    for call in range(10):
        assert breaker.state() == "closed", call
        with contextlib.suppress(DownstreamUnavailable):
            client.get("/x")

    with pytest.raises(CircuitOpen):
        client.get("/x")

    assert len(server.script.seen) == 10


def test_half_open_trial_success_closes_the_breaker(server: Server) -> None:
    clock = Clock()
    breaker = CircuitBreaker("order", failure_threshold=1, open_seconds=30, clock=clock)
    server.script.then(500)
    client, _ = make_client(server, retries=0, breaker=breaker)
    with pytest.raises(DownstreamUnavailable):
        client.get("/x")
    clock.now += 29
    with pytest.raises(CircuitOpen):
        client.get("/x")
    clock.now += 1

    assert breaker.state() == "half_open"
    assert client.get("/x").status_code == 200
    assert breaker.state() == "closed"
    assert len(server.script.seen) == 2


def test_half_open_trial_failure_opens_again_for_the_full_time(server: Server) -> None:
    clock = Clock()
    breaker = CircuitBreaker("order", failure_threshold=1, open_seconds=30, clock=clock)
    server.script.then(500).then(500)
    client, _ = make_client(server, retries=0, breaker=breaker)
    with pytest.raises(DownstreamUnavailable):
        client.get("/x")
    clock.now += 30

    with pytest.raises(DownstreamUnavailable):
        client.get("/x")
    clock.now += 29

    with pytest.raises(CircuitOpen):
        client.get("/x")
    assert breaker.state() == "open"
    assert len(server.script.seen) == 2


def test_half_open_lets_only_the_configured_number_of_trials_through() -> None:
    clock = Clock()
    breaker = CircuitBreaker(
        "order", failure_threshold=1, open_seconds=10, half_open_max_calls=2, clock=clock
    )
    breaker.allow()
    breaker.record_failure()
    clock.now += 10

    breaker.allow()
    breaker.allow()
    with pytest.raises(CircuitOpen):
        breaker.allow()


def test_retries_stop_as_soon_as_the_breaker_opens(server: Server) -> None:
    for _ in range(10):
        server.script.then(503)
    breaker = CircuitBreaker("order", failure_threshold=2)
    client, _ = make_client(server, retries=5, breaker=breaker)

    with pytest.raises(CircuitOpen):
        client.get("/x")

    assert len(server.script.seen) == 2


# ---- shared state in Redis ------------------------------------------------------------------
@pytest.fixture
def redis_store(test_stack: Stack) -> Iterator[RedisBreakerStore]:
    store = RedisBreakerStore(test_stack.redis.client())
    store.reset("payment provider")
    yield store
    store.reset("payment provider")


def test_breaker_state_in_redis_is_shared_by_every_process(
    redis_store: RedisBreakerStore, test_stack: Stack
) -> None:
    # Two breakers with their own Redis connections stand for two worker processes.
    other = RedisBreakerStore(test_stack.redis.client())
    first = CircuitBreaker("payment provider", failure_threshold=4, store=redis_store)
    second = CircuitBreaker("payment provider", failure_threshold=4, store=other)

    for breaker in (first, second, first, second):
        breaker.allow()
        breaker.record_failure()

    with pytest.raises(CircuitOpen):
        second.allow()
    with pytest.raises(CircuitOpen):
        first.allow()
    assert redis_store.fallback.transact("payment provider", lambda st: st.state) == "closed"


def test_concurrent_failures_in_redis_are_all_counted(redis_store: RedisBreakerStore) -> None:
    breaker = CircuitBreaker(
        "payment provider",
        failure_threshold=1000,
        window_size=100,
        minimum_calls=100,
        store=redis_store,
    )

    threads = [threading.Thread(target=breaker.record_failure) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert redis_store.transact("payment provider", lambda st: st.consecutive_failures) == 20


def test_breaker_falls_back_to_process_state_when_redis_is_down() -> None:
    down = redis.Redis(host=HOST, port=free_port(), socket_timeout=0.5, socket_connect_timeout=0.5)
    store = RedisBreakerStore(down, fallback=MemoryBreakerStore())
    breaker = CircuitBreaker("order", failure_threshold=2, store=store)

    breaker.allow()
    breaker.record_failure()
    breaker.allow()
    breaker.record_failure()

    with pytest.raises(CircuitOpen):
        breaker.allow()


def test_client_against_a_real_server_with_a_redis_breaker(
    server: Server, redis_store: RedisBreakerStore
) -> None:
    for _ in range(3):
        server.script.then(500)
    breaker = CircuitBreaker("payment provider", failure_threshold=3, store=redis_store)
    client, _ = make_client(server, retries=2, breaker=breaker)

    with pytest.raises(DownstreamUnavailable):
        client.post("/v1/payment_intents", json={}, idempotency_key="order-1-charge")
    with pytest.raises(CircuitOpen) as caught:
        client.post("/v1/payment_intents", json={}, idempotency_key="order-1-charge")

    assert caught.value.detail == "payment provider is unavailable"
    assert len(server.script.seen) == 3
