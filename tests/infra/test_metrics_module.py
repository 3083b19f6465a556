"""shared/metrics.py on its own: consumer lag from librdkafka's statistics, collectors
that fail, the multiprocess folder at start, and the address setting."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from shared import metrics


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _lag(group: str) -> dict[tuple[str, str], float]:
    found = _samples(generate_latest(metrics.part_registry()).decode())
    return {
        (dict(labels)["topic"], dict(labels)["partition"]): value
        for (name, labels), value in found.items()
        if name == "coffeeshop_kafka_consumer_lag" and dict(labels)["group"] == group
    }


def _stats(partitions: dict[str, int]) -> str:
    return json.dumps(
        {"topics": {"t": {"partitions": {p: {"consumer_lag": v} for p, v in partitions.items()}}}}
    )


def test_consumer_lag_is_reported_per_assigned_partition_and_a_revoked_one_is_dropped() -> None:
    on_stats = metrics.consumer_stats("test-group")
    on_stats(_stats({"0": 7, "1": -1, "-1": 3}))  # 1: not known yet; -1: librdkafka's own
    assert _lag("test-group") == {("t", "0"): 7}
    on_stats(_stats({"1": 2}))
    assert _lag("test-group") == {("t", "1"): 2}
    on_stats("not json")
    assert _lag("test-group") == {("t", "1"): 2}


def test_a_collector_that_fails_leaves_the_others_in_the_answer() -> None:
    def broken() -> list[object]:
        raise ConnectionError("database down")

    registry = metrics.part_registry(
        [
            metrics.ScrapeCollector("broken", broken),  # type: ignore[arg-type]
            metrics.ScrapeCollector("outbox", lambda: metrics.outbox_gauges(4, None)),
        ]
    )
    found = _samples(generate_latest(registry).decode())
    assert found[("coffeeshop_outbox_unpublished_events", ())] == 4
    assert found[("coffeeshop_outbox_oldest_unpublished_age_seconds", ())] == 0


def test_at_start_the_files_of_every_other_process_are_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(metrics.DIR_SETTING, str(tmp_path))
    mine = tmp_path / f"counter_{os.getpid()}.db"
    theirs = [tmp_path / "counter_1.db", tmp_path / "gauge_livesum_99999999.db"]
    for path in (mine, *theirs):
        path.write_bytes(b"")
    metrics.multiprocess_dir_prepare()
    assert sorted(tmp_path.iterdir()) == [mine]


@pytest.mark.parametrize("addr", ["9100", ":9100", "127.0.0.1:", "127.0.0.1:port"])
def test_a_metrics_address_without_host_and_port_is_refused_naming_the_setting(
    addr: str,
) -> None:
    with pytest.raises(ValueError, match="METRICS_ADDR"):
        metrics.parse_addr(addr)
    assert metrics.parse_addr("127.0.0.1:9100") == ("127.0.0.1", 9100)
