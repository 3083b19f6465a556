"""Whether and where a process exports its traces, read from the environment.

The settings are OpenTelemetry's own names, so an operator's habits apply:

- `OTEL_EXPORTER_ZIPKIN_ENDPOINT` (no default: no traces): Zipkin's `/api/v2/spans`;
  locally `up` points it at the `traces` part.
- `OTEL_TRACES_SAMPLER_ARG` (default 1.0): the share of new traces kept, 0 to 1; a
  trace begun elsewhere keeps its caller's decision.
- `OTEL_SDK_DISABLED` (default false): `true` turns traces off, whatever else is set.
- `OTEL_SERVICE_NAME` (default: the process's role, `order`, `order-relay` …): the
  name its spans are shown under.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_SAMPLE_RATIO = 1.0


class TraceSettingError(ValueError):
    """A trace setting that cannot be used (names the variable)."""


@dataclass(frozen=True)
class TraceSettings:
    endpoint: str = ""
    sample_ratio: float = DEFAULT_SAMPLE_RATIO
    disabled: bool = False
    service_name: str = ""

    @property
    def enabled(self) -> bool:
        return bool(self.endpoint) and not self.disabled


def trace_settings(environ: Mapping[str, str] | None = None) -> TraceSettings:
    """The trace settings of this process; raises TraceSettingError for a ratio outside
    0..1 or not a number (a typo must not silently trace everything or nothing)."""
    environ = os.environ if environ is None else environ
    raw = environ.get("OTEL_TRACES_SAMPLER_ARG", "").strip()
    try:
        ratio = float(raw) if raw else DEFAULT_SAMPLE_RATIO
    except ValueError:
        raise TraceSettingError(
            f"OTEL_TRACES_SAMPLER_ARG={raw!r}: expected a number from 0 to 1"
        ) from None
    if not 0.0 <= ratio <= 1.0:
        raise TraceSettingError(f"OTEL_TRACES_SAMPLER_ARG={raw!r}: expected a number from 0 to 1")
    return TraceSettings(
        endpoint=environ.get("OTEL_EXPORTER_ZIPKIN_ENDPOINT", "").strip(),
        sample_ratio=ratio,
        disabled=environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true",
        service_name=environ.get("OTEL_SERVICE_NAME", "").strip(),
    )
