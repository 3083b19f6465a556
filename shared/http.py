"""The one HTTP client base for calls to another service (httpx).

Every `ServiceClient` call has a timeout. A call is retried, with exponential
backoff and full jitter, only when repeating it is safe: the method is idempotent
(RFC 9110 section 9.2.2: GET, HEAD, OPTIONS, PUT, DELETE), or it carries an
`Idempotency-Key` header (draft-ietf-httpapi-idempotency-key-header), or the
request never reached the server (the connection was refused or timed out). It
retries on connection errors, timeouts and 429/5xx answers, honouring a short
`Retry-After`. An optional `CircuitBreaker` (one per downstream) counts those same
failures and, when open, stops the call before it is made.

A call that still fails raises `DownstreamUnavailable`, and an open breaker
raises `CircuitOpen`: both are `shared.problems.Unavailable`, so an API view
answers 503 with a problem detail naming the downstream ("payment provider is
unavailable"). Any other answer, 4xx included, is returned to the caller, whose
typed client decides what it means.

Given an `app_id`, the client hides the mesh mode (shared/mesh.py): with `MESH=dapr`
it sends every call to this process's Dapr sidecar with `dapr-app-id: <app_id>`, so the
call travels sidecar to sidecar; otherwise to `base_url`. Timeouts, retries and the
breaker stay the same in both modes (docs/decisions.md: what Dapr's Resiliency adds).

A downstream that calls services of its own (Order calls Identity) may answer 503
with a problem naming one of them (`"downstream": "identity"`). With
`relays_unavailable=True` the client takes it at its word: that answer raises
`DownstreamUnavailable` naming the service behind, at once (the downstream has
already tried; retrying here would only multiply the calls to a struggling
service), and the breaker records a success, since the downstream itself answered.

Usage::

    client = ServiceClient(
        name="order", base_url=settings.ORDER_URL, timeout=5.0, retries=2,
        breaker=CircuitBreaker("order", store=RedisBreakerStore.from_url(...)),
    )
    client.get("/api/orders/7")
    client.post("/api/orders", json=body, idempotency_key=key)
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from shared import mesh, metrics
from shared.problems import Unavailable
from shared.resilience import Backoff, CircuitBreaker

logger = logging.getLogger("coffeeshop.http")

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# Answers that say "not now" rather than "no": retried and counted by the breaker.
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
IDEMPOTENCY_HEADER = "Idempotency-Key"


class DownstreamUnavailable(Unavailable):
    """A downstream did not answer usefully (timeout, connection error, 5xx) after retries."""

    def __init__(
        self, downstream: str, reason: str, *, response: httpx.Response | None = None
    ) -> None:
        super().__init__(f"{downstream} is unavailable", downstream=downstream, reason=reason)
        self.downstream = downstream
        self.reason = reason
        self.response = response
        self.status_code = response.status_code if response is not None else None


class ServiceClient:
    """A typed client's transport to one downstream: timeouts, safe retries, circuit breaker.

    Thread-safe; after a fork (gunicorn, Celery prefork) each process opens its own
    connections.
    """

    def __init__(
        self,
        *,
        name: str,
        base_url: str,
        timeout: float | httpx.Timeout,
        retries: int = 2,
        backoff: Backoff | None = None,
        breaker: CircuitBreaker | None = None,
        headers: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        relays_unavailable: bool = False,
        app_id: str | None = None,
    ) -> None:
        if retries < 0:
            raise ValueError("retries must be >= 0")
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.app_id = app_id
        route = mesh.invocation_route(app_id) if app_id else None
        if route is not None:
            self.base_url = route[0]
        self.timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        self.retries = retries
        self.backoff = backoff or Backoff()
        self.breaker = breaker
        self.headers = dict(headers or {})
        if route is not None:
            self.headers |= route[1]
        self.transport = transport
        self.sleep = sleep
        self.relays_unavailable = relays_unavailable
        self._client: httpx.Client | None = None
        self._pid = 0
        self._lock = threading.Lock()

    def _http(self) -> httpx.Client:
        with self._lock:
            if self._client is None or self._pid != os.getpid():
                self._client = httpx.Client(
                    base_url=self.base_url,
                    timeout=self.timeout,
                    headers=self.headers,
                    transport=self.transport,
                )
                self._pid = os.getpid()
            return self._client

    def close(self) -> None:
        with self._lock:
            if self._client is not None and self._pid == os.getpid():
                self._client.close()
            self._client = None

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", path, **kwargs)

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> httpx.Response:
        """Send one logical call; retry it only where that is safe.

        Returns the downstream's answer unless it is a retryable failure (429/5xx,
        timeout, connection error) on the last attempt. Raises `CircuitOpen` when the
        breaker is open and `DownstreamUnavailable` when every allowed attempt failed,
        or, with `relays_unavailable`, naming the service behind the downstream that
        the downstream's 503 names.
        """
        method = method.upper()
        send_headers = dict(headers or {})
        if idempotency_key is not None:
            send_headers[IDEMPOTENCY_HEADER] = idempotency_key
        repeatable = method in IDEMPOTENT_METHODS or idempotency_key is not None
        attempt = 0
        while True:
            attempt += 1
            if self.breaker is not None:
                self.breaker.allow()
            response: httpx.Response | None = None
            started = time.perf_counter()
            try:
                response = self._http().request(
                    method, path, json=json, data=data, params=params, headers=send_headers
                )
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                # The request never reached the server: repeating it is always safe.
                reason, safe = _describe(exc), True
            except httpx.TransportError as exc:
                reason, safe = _describe(exc), repeatable
            finally:
                failed = response is None or response.status_code in RETRY_STATUSES
                metrics.DOWNSTREAM_DURATION.labels(
                    self.name, "failed" if failed else "answered"
                ).observe(time.perf_counter() - started)
            if response is not None:
                behind = self._unavailable_behind(response)
                if behind:
                    # This downstream answered; the failure is the service behind it.
                    if self.breaker is not None:
                        self.breaker.record_success()
                    logger.warning(
                        "%s %s %s: answered 503, %s is unavailable behind it",
                        self.name,
                        method,
                        path,
                        behind,
                    )
                    raise DownstreamUnavailable(
                        behind, f"{self.name} could not reach it", response=response
                    )
                if response.status_code not in RETRY_STATUSES:
                    if self.breaker is not None:
                        self.breaker.record_success()
                    return response
                reason, safe = f"answered {response.status_code}", repeatable
            if self.breaker is not None:
                self.breaker.record_failure()
            if not safe or attempt > self.retries:
                logger.warning(
                    "%s %s %s failed after %d attempt(s): %s",
                    self.name,
                    method,
                    path,
                    attempt,
                    reason,
                )
                raise DownstreamUnavailable(self.name, reason, response=response)
            delay = self._delay(attempt, response)
            logger.info(
                "%s %s %s: %s; retry %d/%d in %.2fs",
                self.name,
                method,
                path,
                reason,
                attempt,
                self.retries,
                delay,
            )
            self.sleep(delay)

    def _unavailable_behind(self, response: httpx.Response) -> str:
        """The other service this downstream's 503 problem names as unavailable, or "".

        Only with `relays_unavailable`; a 503 naming no one, or this downstream
        itself, is this downstream's own failure.
        """
        if not self.relays_unavailable or response.status_code != 503:
            return ""
        try:
            body = response.json()
        except ValueError:
            return ""
        behind = body.get("downstream") if isinstance(body, dict) else None
        if not isinstance(behind, str) or behind in ("", self.name):
            return ""
        return behind

    def _delay(self, attempt: int, response: httpx.Response | None) -> float:
        delay = self.backoff.delay(attempt)
        if response is not None:
            # RFC 9110 section 10.2.3, delay-seconds form only; never longer than our cap.
            retry_after = response.headers.get("Retry-After", "")
            if retry_after.isdigit():
                delay = max(delay, min(float(retry_after), self.backoff.cap))
        return delay


def _describe(exc: httpx.TransportError) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, httpx.ConnectError):
        return "connection refused or failed"
    return type(exc).__name__
