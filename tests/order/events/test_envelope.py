"""The event envelope of DESIGN.md ("Events"), built and parsed by shared/events.py."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from shared.events import InvalidEvent, build_envelope, parse_envelope


def test_envelope_round_trips_through_json_with_every_field():
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2)))
    envelope = build_envelope(
        event_type="order.placed",
        payload={"order_id": 7},
        event_id="6d6f8f3e-3b8a-4a53-9f61-2a2f0f4c9a01",
        occurred_at=moment,
    )

    data = json.loads(envelope.to_json())

    assert data == {
        "event_id": "6d6f8f3e-3b8a-4a53-9f61-2a2f0f4c9a01",
        "event_type": "order.placed",
        "occurred_at": "2026-01-02T01:04:05Z",
        "schema_version": 1,
        "payload": {"order_id": 7},
    }
    assert parse_envelope(envelope.to_json()) == envelope


def test_new_envelopes_get_distinct_event_ids_and_utc_times():
    first = build_envelope(event_type="order.paid", payload={})
    second = build_envelope(event_type="order.paid", payload={})

    assert first.event_id != second.event_id
    assert first.occurred_at.endswith("Z")
    assert datetime.fromisoformat(first.occurred_at.replace("Z", "+00:00")).tzinfo == UTC


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"not json", "not JSON"),
        (b"[1]", "not a JSON object"),
        (b'{"event_type": "x"}', "missing field event_id"),
        (
            b'{"event_id": "nope", "event_type": "x", "occurred_at": "2026-01-01T00:00:00Z",'
            b' "schema_version": 1, "payload": {}}',
            "event_id is not a UUID",
        ),
        (
            b'{"event_id": "6d6f8f3e-3b8a-4a53-9f61-2a2f0f4c9a01", "event_type": "x",'
            b' "occurred_at": "2026-01-01T00:00:00", "schema_version": 1, "payload": {}}',
            "occurred_at has no time zone",
        ),
        (
            b'{"event_id": "6d6f8f3e-3b8a-4a53-9f61-2a2f0f4c9a01", "event_type": "x",'
            b' "occurred_at": "2026-01-01T00:00:00Z", "schema_version": 1, "payload": []}',
            "payload must be an object",
        ),
    ],
)
def test_malformed_envelopes_are_refused_naming_the_problem(raw, message):
    with pytest.raises(InvalidEvent, match=message):
        parse_envelope(raw)


def test_naive_occurred_at_is_refused_when_building():
    with pytest.raises(ValueError, match="timezone-aware"):
        build_envelope(event_type="x", payload={}, occurred_at=datetime(2026, 1, 1))
