"""The BFF's ASGI handler: sync views on one thread per request, async views in the loop.

Django's own ASGI handler runs the whole request in async mode: each of the BFF's
middlewares that is not async-native (Django's own `MiddlewareMixin` ones call
`process_request`/`process_response` through `sync_to_async`; ours, WhiteNoise, the
problem-details and header checks are sync only) and every sync view cost a crossing
between the event loop and a thread, and each request got a new thread of its own
(asgiref's `ThreadSensitiveContext`). With thousands of live streams on the loop each
crossing waits for the loop's turn, so an ordinary API call paid that five or six
times (docs/decisions.md, "The BFF's API under ASGI").

This handler keeps two middleware chains built from the same `MIDDLEWARE`: the async
one (as Django builds it) for views that are coroutines (`GET /api/events`), and a sync
one, as under WSGI, that a pool thread runs from start to end (request signals,
middlewares, view) for every other request. The loop reads the body and writes the
answer; a request crosses to a thread and back once.
"""

from __future__ import annotations

import asyncio
import functools
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import iscoroutinefunction
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.core.handlers.base import BaseHandler
from django.http import FileResponse, HttpResponseBase
from django.urls import Resolver404, resolve, set_script_prefix

# Threads per process for sync requests in flight: as many as the gthread workers had.
# Each blocks on a downstream call (Order, Identity) or Redis, not on the CPU.
SYNC_THREADS = 32


@functools.lru_cache(maxsize=512)
def _async_view(path: str) -> bool:
    """Whether `path` is served by a coroutine view (resolved once per distinct path)."""
    try:
        return iscoroutinefunction(resolve(path).func)
    except Resolver404:
        return False


class BffASGIHandler(ASGIHandler):
    def __init__(self) -> None:
        super().__init__()  # the async chain, for coroutine views
        self.sync_handler = BaseHandler()
        self.sync_handler.load_middleware(is_async=False)
        self.executor = ThreadPoolExecutor(max_workers=SYNC_THREADS, thread_name_prefix="bff-sync")

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or _async_view(scope["path"]):
            await super().__call__(scope, receive, send)
            return
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        loop = asyncio.get_running_loop()
        # No copy of the loop's context: a pool thread keeps its own, as a WSGI thread
        # keeps its thread-locals, so the cache and Redis clients Django keeps in
        # context-local storage are made once per thread, not once per request.
        try:
            response = await loop.run_in_executor(self.executor, self.respond, scope, body_file)
            await self.send_response(response, send)
            if response.streaming:  # a file from WhiteNoise: closed once it is sent
                await loop.run_in_executor(self.executor, response.close)
        finally:
            body_file.close()

    def respond(self, scope: dict[str, Any], body_file: Any) -> HttpResponseBase:
        """The whole sync part of one request, on one pool thread, as a WSGI worker runs it."""
        set_script_prefix(get_script_prefix(scope))
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, response = self.create_request(scope, body_file)
        if request is not None:
            response = self.sync_handler.get_response(request)
            response._handler_class = self.__class__  # type: ignore[attr-defined]
        if isinstance(response, FileResponse):
            response.block_size = self.chunk_size  # as Django's handler: the server chunks
        assert response is not None
        if not response.streaming:
            # The content is in memory: close now (request_finished, on this thread,
            # where the request's database connection lives), then send from the loop.
            response.close()
        return response
