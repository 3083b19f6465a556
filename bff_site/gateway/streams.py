"""Server-sent events for `GET /api/events`, served asynchronously (the BFF runs as ASGI).

A browser's stream reads one Redis Stream: its customer's (`live:stream:user:<id>`)
or, for staff, every order's (`live:stream:staff`). Every event carries that
stream's entry id as its SSE `id:`, so ids only grow, and a browser that reconnects
with `Last-Event-ID` is sent what it missed. When that id has been trimmed away
(the Stream keeps `LIVE_STREAM_MAXLEN` entries and expires when idle) the browser is
sent `event: resync` and refetches its orders.

No stream holds a thread or a Redis connection of its own: each process keeps one
pub/sub subscription (`live:bus`, the `Hub`) and hands each new entry to the queues
of the streams reading that key. Order of work for a new stream, so nothing falls
between replay and live (`live.publish` stores an entry before announcing it):
listen on the hub, then replay from the Stream, then follow the queue, skipping
what the replay already sent.

A `{"menu": …}` note on the bus (Order's `menu.changed`, `live.menu_publish`) goes to
every queue and out as `event: menu` with no `id:`, so it never moves a browser's
Last-Event-ID and is not replayed: the browser just fetches the menu again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import AsyncIterator
from typing import Any

from django.conf import settings
from redis.asyncio import BlockingConnectionPool, Redis

from bff_site.gateway.live import BUS_CHANNEL, STAFF_STREAM, user_stream
from shared import metrics

logger = logging.getLogger("coffeeshop.bff.live")

STAFF_ROLES = {"barista", "manager"}
QUEUE_LIMIT = 1000  # entries waiting for one slow browser; past it, it reconnects and replays
REPLAY_BATCH = 500
REDIS_CONNECTIONS = 32  # per process, shared by all its streams (the hub has its own)
MENU_NOTE = ""  # the entry id of a queued `menu` note: not in any Stream, sent without an id
EVENT_ID = re.compile(r"^\d{1,20}-\d{1,20}$")

EntryId = tuple[int, int]


class BadEventId(ValueError):
    """`Last-Event-ID` is not an id this endpoint hands out."""


def parse_id(value: str) -> EntryId:
    if not EVENT_ID.match(value):
        raise BadEventId(value)
    ms, seq = value.split("-")
    return int(ms), int(seq)


def stream_key(user: dict[str, Any]) -> str:
    """Staff follow every order; a customer only their own (the key comes from the session)."""
    if STAFF_ROLES & set(user.get("roles", [])):
        return STAFF_STREAM
    return user_stream(str(user["id"]))


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def frame(*, event: str, entry_id: str, data: str) -> bytes:
    return f"event: {event}\nid: {entry_id}\ndata: {data}\n\n".encode()


class Hub:
    """One pub/sub subscription per process, fanned out to the streams' queues."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self.queues: dict[str, set[asyncio.Queue[tuple[str, str] | None]]] = {}
        # The same queues by person, so a change of their access ends their streams.
        self.people: dict[str, set[asyncio.Queue[tuple[str, str] | None]]] = {}
        self.subscribed = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    async def listen(self, key: str, person: str) -> asyncio.Queue[tuple[str, str] | None]:
        """A queue receiving (entry id, data) for `key` from now on; None means "reconnect"
        (also sent when Identity changes `person`'s access, sessions/people.py)."""
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._run())
        await asyncio.wait_for(self.subscribed.wait(), timeout=5)
        queue: asyncio.Queue[tuple[str, str] | None] = asyncio.Queue(maxsize=QUEUE_LIMIT)
        self.queues.setdefault(key, set()).add(queue)
        self.people.setdefault(person, set()).add(queue)
        return queue

    def forget(
        self, key: str, queue: asyncio.Queue[tuple[str, str] | None], person: str | None = None
    ) -> None:
        for index, name in ((self.queues, key), (self.people, person)):
            listeners = index.get(name) if name is not None else None
            if listeners is not None:
                listeners.discard(queue)
                if not listeners:
                    del index[name]  # type: ignore[arg-type]

    async def _run(self) -> None:
        while True:
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(BUS_CHANNEL)
                self.subscribed.set()
                async for message in pubsub.listen():
                    self._deliver(_text(message["data"]))
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("live bus subscription lost; streams will reconnect", exc_info=True)
            finally:
                self.subscribed.clear()
                # Whatever was announced while we were away is in the Streams: every
                # stream ends, and its browser reconnects with Last-Event-ID and replays.
                for listeners in self.queues.values():
                    for queue in listeners:
                        _close(queue)
                self.queues.clear()
                self.people.clear()
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
            await asyncio.sleep(1)

    def _deliver(self, raw: str) -> None:
        try:
            note = json.loads(raw)
            if "menu" in note:
                # Every stream of every person: the menu is everyone's.
                menu = (MENU_NOTE, str(note["menu"]))
                for listeners in list(self.queues.values()):
                    for queue in list(listeners):
                        try:
                            queue.put_nowait(menu)
                        except asyncio.QueueFull:
                            _close(queue)
                return
            if "account" in note:
                # Their streams were authorised with the old roles: end them; the
                # browser reconnects with the new ones, or is refused.
                for queue in list(self.people.get(str(note["account"]), ())):
                    _close(queue)
                return
            key, entry_id, data = note["stream"], note["id"], note["data"]
        except (ValueError, KeyError, TypeError):
            return
        for queue in list(self.queues.get(key, ())):
            try:
                queue.put_nowait((entry_id, data))
            except asyncio.QueueFull:
                self.forget(key, queue)
                _close(queue)


def _close(queue: asyncio.Queue[tuple[str, str] | None]) -> None:
    with contextlib.suppress(asyncio.QueueEmpty):
        while True:  # make room so the end marker always fits
            queue.get_nowait()
    queue.put_nowait(None)


_state: dict[int, tuple[Redis, Hub]] = {}


def _shared() -> tuple[Redis, Hub]:
    """This event loop's Redis client and hub (one of each per process in the server)."""
    loop = asyncio.get_running_loop()
    found = _state.get(id(loop))
    if found is None:
        # Commands are short; streams wait for a free connection rather than fail.
        pool = BlockingConnectionPool.from_url(
            settings.REDIS_URL,
            password=settings.REDIS_PASSWORD,
            max_connections=REDIS_CONNECTIONS,
            timeout=5,
            socket_connect_timeout=2,
            health_check_interval=30,
        )
        redis = Redis(connection_pool=pool)
        found = (redis, Hub(redis))
        _state[id(loop)] = found
    return found


async def _last_id(redis: Redis, key: str) -> str:
    """The newest entry's id, adding a `hello` entry to an empty Stream so that every id a
    browser is given is a real entry (a trimmed one then tells a gap apart)."""
    newest = await redis.xrevrange(key, "+", "-", count=1)
    if newest:
        return _text(newest[0][0])
    entry = await redis.xadd(
        key, {"kind": "hello"}, maxlen=settings.LIVE_STREAM_MAXLEN, approximate=True
    )
    await redis.expire(key, settings.LIVE_STREAM_TTL_SECONDS)
    return _text(entry)


async def _gap(redis: Redis, key: str, last: EntryId) -> bool:
    """Whether entries after `last` may have been trimmed: the Stream is gone, or its
    oldest entry is younger than `last` (so `last` itself was trimmed)."""
    oldest = await redis.xrange(key, "-", "+", count=1)
    return not oldest or parse_id(_text(oldest[0][0])) > last


async def events_stream(
    *, user: dict[str, Any], last_event_id: str | None, session_key: str | None
) -> AsyncIterator[bytes]:
    """The `text/event-stream` body for this user; ends after `LIVE_STREAM_SECONDS`, when
    the session is gone, or when it can no longer promise to miss nothing (the browser
    then reconnects with its Last-Event-ID)."""
    redis, hub = _shared()
    key = stream_key(user)
    person = str(user["id"])
    queue = await hub.listen(key, person)
    loop = asyncio.get_running_loop()
    metrics.LIVE_STREAMS.inc()
    try:
        yield b"retry: 2000\n\n"
        if last_event_id is not None and await _gap(redis, key, parse_id(last_event_id)):
            last_text = await _last_id(redis, key)
            yield frame(event="resync", entry_id=last_text, data='{"resync": true}')
        elif last_event_id is not None:
            last_text = last_event_id
            while True:
                batch = await redis.xrange(key, f"({last_text}", "+", count=REPLAY_BATCH) or []
                out = []
                for raw_id, fields in batch:
                    last_text = _text(raw_id)
                    if fields and _text(fields.get(b"kind", b"")) == "order":
                        out.append(
                            frame(event="order", entry_id=last_text, data=_text(fields[b"data"]))
                        )
                if out:
                    yield b"".join(out)
                if len(batch) < REPLAY_BATCH:
                    break
        else:
            last_text = await _last_id(redis, key)
            yield frame(event="ready", entry_id=last_text, data="{}")
        last = parse_id(last_text)
        deadline = loop.time() + settings.LIVE_STREAM_SECONDS
        while (left := deadline - loop.time()) > 0:
            try:
                async with asyncio.timeout(min(left, settings.LIVE_HEARTBEAT_SECONDS)):
                    item = await queue.get()
            except TimeoutError:
                if session_key and not await redis.exists(session_key):
                    return  # signed out: the reconnect is answered 401
                yield b": keep-alive\n\n"
                continue
            # A burst goes out as one write.
            items = [item]
            while item is not None and not queue.empty():
                item = queue.get_nowait()
                items.append(item)
            out = []
            for entry in items:
                if entry is None:
                    break
                entry_id, data = entry
                if entry_id == MENU_NOTE:
                    # No `id:` line: the browser's Last-Event-ID stays its Stream's.
                    out.append(f"event: menu\ndata: {data}\n\n".encode())
                    continue
                if parse_id(entry_id) <= last:
                    continue  # already sent by the replay
                last = parse_id(entry_id)
                out.append(frame(event="order", entry_id=entry_id, data=data))
            if out:
                yield b"".join(out)
            if items[-1] is None:
                return
    finally:
        metrics.LIVE_STREAMS.dec()
        hub.forget(key, queue, person)
