"""The provider's own storage: an append-only JSON-lines journal, replayed at start-up.

This is the *external provider's* database, not ours: CoffeeShop keeps its own records
in PostgreSQL and only ever talks to the sandbox over HTTP.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger("sandbox.payments")

KINDS = ("payment_intent", "charge", "refund", "payment_method")


@dataclass
class Stored:
    """An idempotent answer: what the request looked like and what we answered
    (`body` as compact JSON, see `Ledger`)."""

    fingerprint: str
    status: int
    body: bytes


def compact(obj: dict[str, Any]) -> bytes:
    """An object as compact JSON bytes, the form the ledger keeps in memory."""
    return json.dumps(obj, separators=(",", ":")).encode()


class Ledger:
    """Intents, charges, refunds, payment methods and idempotent answers, durable.

    One journal line per executed request holds every object the request wrote (so a
    request is all-or-nothing on disk), flushed and fsynced before the answer is sent,
    and replayed at start-up, so intents, refunds and idempotency keys survive a
    restart like a real provider's would. A torn last line (the process died
    mid-write) belongs to a request that was never answered and is skipped.

    In memory each object and each stored answer is kept as its compact JSON (one copy
    where the answer is the object) and read back into a fresh dict on every look-up,
    which also hands out copies: a large journal loads in a fraction of the memory and
    time plain dicts take (figures in docs/decisions.md).
    """

    KINDS = KINDS
    KEY_LOCKS = 256

    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.path = data_dir / "journal.jsonl"
        self.lock = threading.Lock()
        self.objects: dict[str, dict[str, bytes]] = {kind: {} for kind in self.KINDS}
        self.idempotency: dict[str, Stored] = {}
        # A fixed set of locks, a key always mapped to the same one: two requests with
        # one key never run at once, and the set does not grow with every key seen.
        self._key_locks = [threading.Lock() for _ in range(self.KEY_LOCKS)]
        self._load()

    def _load(self) -> None:
        """Replay the journal line by line (never the whole file in memory at once)."""
        if not self.path.exists():
            return
        with self.path.open("r+b") as fh:
            kept = 0
            for number, line in enumerate(fh, 1):
                if not line.endswith(b"\n"):
                    # A torn last line: cut it off so the next append starts on a line
                    # of its own.
                    logger.warning("dropping a torn last journal line (%d bytes)", len(line))
                    fh.truncate(kept)
                    break
                kept += len(line)
                try:
                    record = json.loads(line)
                except ValueError:
                    logger.warning("skipping unreadable journal line %d", number)
                    continue
                self._apply(record)

    def _apply(self, record: dict[str, Any]) -> None:
        written: dict[bytes, bytes] = {}
        for kind in self.KINDS:
            for obj in record.get(kind, []):
                packed = compact(obj)
                self.objects[kind][obj["id"]] = written[packed] = packed
        stored = record.get("idempotency")
        if stored:
            # The answer is most often the object just written: keep one copy of both.
            body = compact(stored["body"])
            self.idempotency[stored["key"]] = Stored(
                stored["fingerprint"], stored["status"], written.get(body, body)
            )

    def commit(
        self, objects: dict[str, list[dict[str, Any]]], idempotency: dict[str, Any] | None
    ) -> None:
        """Write one request's objects (and its idempotent answer) durably, then apply them."""
        record: dict[str, Any] = {kind: objs for kind, objs in objects.items() if objs}
        if idempotency:
            record["idempotency"] = idempotency
        if not record:
            return
        line = json.dumps(record, separators=(",", ":"), sort_keys=True) + "\n"
        with self.lock:
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(line)
                fh.flush()
                os.fsync(fh.fileno())
            self._apply(record)

    def get(self, kind: str, obj_id: str) -> dict[str, Any] | None:
        with self.lock:
            obj = self.objects[kind].get(obj_id)
        return json.loads(obj) if obj is not None else None

    def list(self, kind: str) -> list[dict[str, Any]]:
        with self.lock:
            objs = list(self.objects[kind].values())
        return [json.loads(obj) for obj in objs]

    def stored(self, key: str) -> Stored | None:
        with self.lock:
            return self.idempotency.get(key)

    def key_lock(self, key: str) -> threading.Lock:
        """The lock of an idempotency key, so two requests with one key never both execute."""
        digest = hashlib.sha256(key.encode()).digest()
        return self._key_locks[int.from_bytes(digest[:4], "big") % self.KEY_LOCKS]

    def counts(self) -> dict[str, int]:
        """How many objects of each kind the journal holds (logged at start-up)."""
        with self.lock:
            return {kind: len(objs) for kind, objs in self.objects.items()}
