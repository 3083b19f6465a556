"""JSON logs for every site: one object per line on stdout, secrets never included."""

from __future__ import annotations

import logging
import re
from typing import Any

from opentelemetry import trace

# Values that look like credentials are masked wherever they slip into a message.
_SECRET_PATTERNS = [
    re.compile(
        r"(?i)(password|secret|token|authorization|api[_-]?key)(\"?\s*[:=]\s*\"?)([^\s\",&]+)"
    ),
    re.compile(r"(?i)(bearer\s+)([A-Za-z0-9\-_.~+/]+=*)"),
]


class RedactSecrets(logging.Filter):
    """Mask credential-looking values in log messages (defence in depth only)."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        if request is not None and hasattr(request, "path"):
            # Django attaches the request; its repr carries the query string, where OAuth
            # puts one-time codes and state. Keep the method and path only.
            record.request = f"{getattr(request, 'method', '')} {request.path}"
        message = record.getMessage()
        redacted = message
        for pattern in _SECRET_PATTERNS:
            redacted = pattern.sub(
                lambda m: m.group(0)[: -len(m.group(m.lastindex or 0))] + "***", redacted
            )
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


class TraceIds(logging.Filter):
    """Add `trace_id` and `span_id` (hex, as Zipkin shows them) to a record made inside a
    span, so a log line leads to its trace and a trace to its log lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = trace.get_current_span().get_span_context()
        if context.is_valid:
            record.trace_id = format(context.trace_id, "032x")
            record.span_id = format(context.span_id, "016x")
        return True


def logging_config(site: str, level: str = "INFO") -> dict[str, Any]:
    """A `LOGGING` dict: JSON lines with timestamp, level, logger, site and message."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "redact": {"()": "shared.logging.RedactSecrets"},
            "trace": {"()": "shared.logging.TraceIds"},
        },
        "formatters": {
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
                "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
                "static_fields": {"site": site},
                "datefmt": "%Y-%m-%dT%H:%M:%S%z",
            }
        },
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "filters": ["redact", "trace"],
            }
        },
        "root": {"handlers": ["stdout"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "WARNING"},
            "django.server": {"level": "WARNING"},
            # One INFO line per outgoing request (URL included) is noise at any volume;
            # our clients log what failed themselves.
            "httpx": {"level": "WARNING"},
            "httpcore": {"level": "WARNING"},
            # A trace backend that is down is reported once by shared.telemetry.export;
            # the SDK's and the exporter's own lines would repeat it for every batch.
            "opentelemetry": {"level": "CRITICAL"},
        },
    }
