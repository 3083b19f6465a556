"""A part's log as the dashboard shows it: every line (console), the JSON ones (structured).

Each part writes stdout and stderr to `<state>/logs/<part>.log` (devstack/base.py
`spawn`). The sites and workers log one JSON object per line (shared/logging.py: `time`,
`level`, `logger`, `site`, `message`, and `trace_id`/`span_id` when tracing is on);
gunicorn's access lines are JSON too; the servers (PostgreSQL, Kafka, Celery's banner…)
write plain text, whose level is guessed from the usual words. `LogTail` keeps the last
lines of one file and reads only what was appended since the last look.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_RANK = {level: rank for rank, level in enumerate(LEVELS)}
# Other spellings, by the programs that use them (PostgreSQL's LOG, Redis' NOTICE, Log4j's
# WARN and FATAL, Go's ERR…).
_ALIASES = {
    "TRACE": "DEBUG",
    "NOTICE": "INFO",
    "LOG": "INFO",
    "WARN": "WARNING",
    "ERR": "ERROR",
    "FATAL": "CRITICAL",
    "PANIC": "CRITICAL",
}
_LEVEL_WORD = re.compile(
    r"\b(DEBUG|TRACE|INFO|NOTICE|LOG|WARNING|WARN|ERROR|ERR|CRITICAL|FATAL|PANIC)\b"
)
# librdkafka's own lines start with a syslog severity: `%4|1796475532.931|GETPID|…`.
_SYSLOG = re.compile(r"^%([0-7])\|")
_SYSLOG_LEVELS = ("CRITICAL", "CRITICAL", "CRITICAL", "ERROR", "WARNING", "INFO", "INFO", "DEBUG")
# The level word of a plain line is looked for near its start only, so a message that
# mentions "error" does not make the line an error.
_LEVEL_SEARCH_CHARS = 80
# A W3C trace id is 32 hex digits (Zipkin also accepts 16); OpenTelemetry's logging
# integration names the fields otelTraceID/otelSpanID.
_TRACE_ID = re.compile(r"^[0-9a-f]{16}([0-9a-f]{16})?$")
_TRACE_FIELDS = ("trace_id", "traceId", "otelTraceID")
# Health probes (`up`'s wait, `status`, this dashboard's own refresh, Kubernetes) answer
# every few seconds: the access lines they leave are hidden unless asked for.
_PROBE = re.compile(r"\b(GET|HEAD) /(healthz|readyz)\b")
_SPAN_FIELDS = ("span_id", "spanId", "otelSpanID")
# Longer lines are cut for the page (a traceback is many lines, not one long one).
MAX_LINE_CHARS = 8192


def level_of(word: str | None) -> str | None:
    """The canonical level for a level word (`warn` → WARNING), or None."""
    if not word:
        return None
    word = str(word).strip().upper()
    word = _ALIASES.get(word, word)
    return word if word in _RANK else None


def normalise_trace_id(value: str) -> str:
    """A trace id as lowercase hex, 32 digits (a 16-digit id padded the way Zipkin does).

    Raises ValueError when it is not 16 or 32 hex digits."""
    value = value.strip().lower()
    if not _TRACE_ID.match(value):
        raise ValueError("a trace id is 16 or 32 hexadecimal digits")
    return value.zfill(32)


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    return when if when.tzinfo is not None else None


@dataclass(frozen=True)
class LogLine:
    """One line of a part's log. `fields` is the JSON object of a structured line."""

    part: str
    text: str
    level: str
    fields: Mapping[str, Any] | None = None
    # When it was written, to merge the lines of several parts in order: its own `time`;
    # else, for a line appended while the dashboard watched, when it was read; else the
    # time of the line before it in the same file; else None.
    when: datetime | None = None

    @property
    def structured(self) -> bool:
        return self.fields is not None

    @property
    def message(self) -> str:
        if self.fields is None:
            return self.text
        for key in ("message", "msg", "event", "access", "request"):
            value = self.fields.get(key)
            if value not in (None, ""):
                return str(value)
        return self.text

    @property
    def probe(self) -> bool:
        """Whether this is the access line of a health probe (`GET /readyz`…)."""
        if self.fields is None:
            return False
        access = self.fields.get("access") or self.fields.get("request") or ""
        return bool(_PROBE.search(str(access)))

    @property
    def logger(self) -> str:
        if self.fields is None:
            return ""
        return str(self.fields.get("logger") or self.fields.get("name") or "")

    @property
    def trace_id(self) -> str:
        return self._id(_TRACE_FIELDS, normalise=True)

    @property
    def span_id(self) -> str:
        return self._id(_SPAN_FIELDS, normalise=False)

    def _id(self, keys: tuple[str, ...], *, normalise: bool) -> str:
        if self.fields is None:
            return ""
        for key in keys:
            value = self.fields.get(key)
            if isinstance(value, str) and value and set(value) != {"0"}:
                try:
                    return normalise_trace_id(value) if normalise else value.lower()
                except ValueError:
                    return ""
        return ""

    def extra(self) -> dict[str, Any]:
        """The fields a structured line has beyond the ones shown in their own column."""
        if self.fields is None:
            return {}
        shown = {"time", "level", "logger", "message", *_TRACE_FIELDS, *_SPAN_FIELDS}
        return {k: v for k, v in self.fields.items() if k not in shown}

    def as_json(self) -> dict[str, Any]:
        return {
            "part": self.part,
            "text": self.text,
            "level": self.level,
            "structured": self.structured,
            "time": self.when.isoformat() if self.when else None,
            "logger": self.logger,
            "message": self.message,
            "trace_id": self.trace_id,
            "span_id": self.span_id,
            "fields": self.extra(),
        }


def parse_line(part: str, text: str, previous_time: datetime | None = None) -> LogLine:
    """One line of `part`'s log (without its newline) as the dashboard reads it.

    A line holding a JSON object is structured: its level is its `level` field, or for an
    access line (gunicorn's `{"access": …, "status": …}`) ERROR for a 5xx answer,
    WARNING for a 4xx and INFO otherwise. A plain line's level is the first level word
    near its start (PostgreSQL's `LOG:` is INFO, Log4j's `WARN` is WARNING, librdkafka's
    `%4|` is WARNING); a line naming none is INFO.
    """
    text = text.rstrip("\r")[:MAX_LINE_CHARS]
    fields = _json_object(text)
    if fields is not None:
        level = level_of(fields.get("level") or fields.get("levelname") or fields.get("severity"))
        if level is None:
            level = _level_of_status(fields.get("status"))
        when = _parse_time(fields.get("time") or fields.get("timestamp"))
        return LogLine(part, text, level, fields, when or previous_time)
    return LogLine(part, text, _level_of_text(text), None, previous_time)


def _json_object(text: str) -> dict[str, Any] | None:
    stripped = text.strip()
    if not stripped.startswith("{"):
        return None
    try:
        value = json.loads(stripped)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _level_of_status(status: Any) -> str:
    try:
        code = int(status)
    except (TypeError, ValueError):
        return "INFO"
    return "ERROR" if code >= 500 else "WARNING" if code >= 400 else "INFO"


def _level_of_text(text: str) -> str:
    syslog = _SYSLOG.match(text)
    if syslog:
        return _SYSLOG_LEVELS[int(syslog.group(1))]
    found = _LEVEL_WORD.search(text[:_LEVEL_SEARCH_CHARS])
    return level_of(found.group(1) if found else None) or "INFO"


@dataclass(frozen=True)
class LogFilter:
    """What the person asked to see: a minimum level, some text, one trace.

    Build it with `from_query`, which refuses what it cannot mean (an unknown level, a
    trace id that is not hex)."""

    min_level: str = ""
    text: str = ""
    trace_id: str = ""
    structured_only: bool = False
    probes: bool = False

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> LogFilter:
        """From the page's parameters `level`, `q`, `trace`, `view` (`structured` or
        `console`) and `probes` (`show`: keep health probes' access lines). Raises
        ValueError naming the parameter that is wrong."""
        level_word = query.get("level", "").strip()
        level = level_of(level_word) if level_word else ""
        if level is None:
            raise ValueError(f"level: one of {', '.join(LEVELS)}")
        trace = query.get("trace", "").strip()
        if trace:
            try:
                trace = normalise_trace_id(trace)
            except ValueError as err:
                raise ValueError(f"trace: {err}") from None
        view = query.get("view", "structured").strip() or "structured"
        if view not in ("structured", "console"):
            raise ValueError("view: structured or console")
        return cls(
            min_level=level,
            text=query.get("q", "").strip(),
            trace_id=trace,
            structured_only=view == "structured",
            probes=query.get("probes", "") == "show",
        )

    def matches(self, line: LogLine) -> bool:
        if self.structured_only and not line.structured:
            return False
        if not self.probes and line.probe:
            return False
        if self.min_level and _RANK[line.level] < _RANK[self.min_level]:
            return False
        if self.text and self.text.casefold() not in line.text.casefold():
            return False
        # A plain line has no trace field; one that prints the id still belongs.
        return not self.trace_id or (
            line.trace_id == self.trace_id or self.trace_id.lstrip("0") in line.text
        )


def select(lines: Iterable[LogLine], wanted: LogFilter, limit: int) -> list[LogLine]:
    """The last `limit` lines that match, oldest first."""
    found: deque[LogLine] = deque(maxlen=max(limit, 0))
    for line in lines:
        if wanted.matches(line):
            found.append(line)
    return list(found)


def merge(parts: Iterable[list[LogLine]]) -> list[LogLine]:
    """Lines of several parts in one list, in time order (a stable sort: lines of one
    part keep their order; lines with no time yet come first)."""
    everything = [line for lines in parts for line in lines]
    return sorted(everything, key=lambda line: line.when.timestamp() if line.when else 0.0)


@dataclass
class LogTail:
    """The last `keep` lines of one log file, read incrementally.

    The first look reads at most `window` bytes from the end; later looks read only
    what was appended. A file that was replaced or truncated is read afresh."""

    part: str
    path: Path
    keep: int = 5000
    window: int = 4 * 2**20
    _lines: deque[LogLine] = field(init=False)
    _offset: int = field(default=0, init=False)
    _inode: int | None = field(default=None, init=False)
    _partial: bytes = field(default=b"", init=False)
    _last_time: datetime | None = field(default=None, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def __post_init__(self) -> None:
        self._lines = deque(maxlen=self.keep)

    def lines(self) -> list[LogLine]:
        """Every line kept, oldest first, after reading what was appended."""
        with self._lock:
            self._read()
            return list(self._lines)

    def _read(self) -> None:
        try:
            with self.path.open("rb") as fh:
                stat = os.fstat(fh.fileno())
                if stat.st_ino != self._inode or stat.st_size < self._offset:
                    self._restart(stat.st_ino)
                if stat.st_size == self._offset:
                    return
                start = self._offset
                skip_first = False
                if self._offset == 0 and stat.st_size > self.window:
                    start, skip_first = stat.st_size - self.window, True
                fh.seek(start)
                data = fh.read(stat.st_size - start)
        except OSError:
            return
        # Lines that arrive after the first look were written just now.
        seen = datetime.now(UTC) if self._offset else None
        self._offset = start + len(data)
        data = self._partial + data
        chunks = data.split(b"\n")
        self._partial = chunks.pop()  # the line being written, if any
        if skip_first and chunks:
            chunks.pop(0)  # began mid-line
        for raw in chunks:
            line = parse_line(self.part, raw.decode("utf-8", "replace"), seen or self._last_time)
            if line.when is not None:
                self._last_time = line.when
            self._lines.append(line)

    def _restart(self, inode: int) -> None:
        self._inode = inode
        self._offset = 0
        self._partial = b""
        self._last_time = None
        self._lines.clear()
