"""The dashboard's reading of the parts' logs: levels, structured lines, filters, tails."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from devstack.dashboard.logs import (
    LogFilter,
    LogTail,
    merge,
    normalise_trace_id,
    parse_line,
    select,
)

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
OTHER_TRACE = "0af7651916cd43dd8448eb211c80319c"


def _record(message: str, *, level: str = "INFO", trace: str = "", **extra: object) -> str:
    fields: dict[str, object] = {
        "time": "2026-12-05T12:59:01+0000",
        "level": level,
        "logger": "order_site.order_payments.charges",
        "message": message,
        "site": "order",
        **extra,
    }
    if trace:
        fields |= {"trace_id": trace, "span_id": "00f067aa0ba902b7"}
    return json.dumps(fields)


def test_a_json_line_of_a_site_is_structured_with_its_level_time_logger_and_trace() -> None:
    line = parse_line("worker", _record("payment 7 of order 3: succeeded", trace=TRACE))

    assert line.structured
    assert line.level == "INFO"
    assert line.when == datetime(2026, 12, 5, 12, 59, 1, tzinfo=UTC)
    assert line.logger == "order_site.order_payments.charges"
    assert line.message == "payment 7 of order 3: succeeded"
    assert line.trace_id == TRACE
    assert line.span_id == "00f067aa0ba902b7"
    assert line.extra() == {"site": "order"}


@pytest.mark.parametrize(
    ("status", "level"), [(200, "INFO"), (302, "INFO"), (404, "WARNING"), (503, "ERROR")]
)
def test_an_access_line_takes_its_level_from_the_answer_status(status: int, level: str) -> None:
    text = json.dumps({"access": "GET /readyz", "status": status, "ms": 3})

    line = parse_line("order", text)

    assert line.structured
    assert line.level == level
    assert line.message == "GET /readyz"
    assert line.when is None


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("2026-12-05 12:58:14.085 UTC [6554] LOG:  listening on IPv4", "INFO"),
        ('2026-12-05 12:58:14.085 UTC [6554] FATAL:  role "x" does not exist', "CRITICAL"),
        ("[2026-12-05T12:58:54,621] WARN  [GroupCoordinator id=1] rebalancing", "WARNING"),
        ("[2026-12-05 12:58:55,751: ERROR/MainProcess] consumer: Cannot connect", "ERROR"),
        ("%4|1796475532.931|GETPID|rdkafka#producer-1| [thrd:main]: retrying", "WARNING"),
        ("%3|1796475532.931|FAIL|rdkafka#producer-1| [thrd:main]: refused", "ERROR"),
        ("6510:M 05 Dec 2026 12:58:13.079 # WARNING Memory overcommit", "WARNING"),
        ("outbox relay ready", "INFO"),
        # A level word far into the message is the message's, not the line's level.
        ("[2026-12-05 12:58:55,751: INFO/MainProcess] Task done" + " " * 60 + "ERROR", "INFO"),
    ],
)
def test_a_plain_line_takes_the_level_word_near_its_start(text: str, level: str) -> None:
    line = parse_line("kafka", text)

    assert not line.structured
    assert line.level == level
    assert line.message == text
    assert line.trace_id == ""


@pytest.mark.parametrize("text", ["[1, 2]", '"a string"', "{not json", "{}garbage"])
def test_a_line_that_is_not_a_json_object_is_console_output(text: str) -> None:
    assert not parse_line("bff", text).structured


def test_an_all_zero_or_malformed_trace_field_is_no_trace() -> None:
    zero = parse_line("bff", _record("x", trace="0" * 32))
    bad = parse_line("bff", _record("x", trace="not-a-trace-id"))

    assert zero.trace_id == ""
    assert bad.trace_id == ""


def test_opentelemetry_logging_field_names_are_read_too() -> None:
    text = json.dumps({"level": "INFO", "message": "x", "otelTraceID": TRACE.upper()})

    assert parse_line("bff", text).trace_id == TRACE


def test_a_16_digit_trace_id_is_padded_as_zipkin_does() -> None:
    assert normalise_trace_id("A3CE929D0E0E4736") == "0" * 16 + "a3ce929d0e0e4736"
    with pytest.raises(ValueError, match="16 or 32 hexadecimal digits"):
        normalise_trace_id("a3ce929d")


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"level": "loud"}, "level: one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
        ({"trace": "xyz"}, "trace: a trace id is 16 or 32 hexadecimal digits"),
        ({"view": "pretty"}, "view: structured or console"),
    ],
)
def test_a_filter_that_means_nothing_is_refused_naming_the_parameter(
    query: dict[str, str], message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)) as caught:
        LogFilter.from_query(query)

    assert str(caught.value) == message


def test_the_filter_reads_the_pages_parameters() -> None:
    wanted = LogFilter.from_query(
        {"level": "warn", "q": " Payment ", "trace": TRACE.upper(), "view": "console"}
    )

    assert wanted == LogFilter(
        min_level="WARNING", text="Payment", trace_id=TRACE, structured_only=False, probes=False
    )
    assert LogFilter.from_query({}) == LogFilter(structured_only=True)


def _lines() -> list:
    return [
        parse_line("worker", _record("payment 7 of order 3: succeeded", trace=TRACE)),
        parse_line("worker", _record("payment 8: attempt 1 failed", level="WARNING")),
        parse_line("worker", _record("breaker payments: open", level="ERROR", trace=OTHER_TRACE)),
        parse_line("worker", "[2026-12-05 12:58:56,831: INFO/MainProcess] celery@vm ready."),
        parse_line("worker", f"[2026-12-05 12:59:02,000: WARNING/MainProcess] retry {TRACE}"),
    ]


def _messages(lines: list) -> list[str]:
    return [line.message for line in lines]


def test_a_minimum_level_keeps_that_level_and_above() -> None:
    found = select(_lines(), LogFilter(min_level="WARNING"), limit=100)

    assert _messages(found) == [
        "payment 8: attempt 1 failed",
        "breaker payments: open",
        f"[2026-12-05 12:59:02,000: WARNING/MainProcess] retry {TRACE}",
    ]


def test_text_matches_any_case_and_the_structured_view_hides_console_lines() -> None:
    console = select(_lines(), LogFilter(text="PAYMENT"), limit=100)
    structured = select(_lines(), LogFilter(text="ready", structured_only=True), limit=100)

    assert _messages(console) == [
        "payment 7 of order 3: succeeded",
        "payment 8: attempt 1 failed",
        "breaker payments: open",
    ]
    assert structured == []


def test_a_trace_id_keeps_the_lines_of_that_trace_and_plain_lines_that_print_it() -> None:
    console = select(_lines(), LogFilter(trace_id=TRACE), limit=100)
    structured = select(_lines(), LogFilter(trace_id=TRACE, structured_only=True), limit=100)

    assert _messages(console) == [
        "payment 7 of order 3: succeeded",
        f"[2026-12-05 12:59:02,000: WARNING/MainProcess] retry {TRACE}",
    ]
    assert _messages(structured) == ["payment 7 of order 3: succeeded"]


def test_health_probes_access_lines_are_hidden_unless_asked_for() -> None:
    lines = [
        parse_line("order", json.dumps({"access": "GET /readyz", "status": 200, "ms": 3})),
        parse_line("bff", json.dumps({"access": "HEAD /healthz", "status": 200, "ms": 1})),
        parse_line("order", json.dumps({"access": "GET /api/menu", "status": 200, "ms": 9})),
        parse_line("worker", _record("GET /readyz is what the probe asks")),
    ]

    hidden = select(lines, LogFilter.from_query({}), limit=100)
    shown = select(lines, LogFilter.from_query({"probes": "show"}), limit=100)

    assert _messages(hidden) == ["GET /api/menu", "GET /readyz is what the probe asks"]
    assert len(shown) == 4


def test_select_keeps_the_last_matches_oldest_first() -> None:
    lines = [parse_line("bff", _record(f"line {n}")) for n in range(10)]

    assert _messages(select(lines, LogFilter(), limit=3)) == ["line 7", "line 8", "line 9"]


def test_merge_orders_the_lines_of_several_parts_by_time() -> None:
    bff = [parse_line("bff", json.dumps({"time": "2026-12-05T12:00:02+0000", "message": "b"}))]
    order = [
        parse_line("order", json.dumps({"time": "2026-12-05T12:00:01+0000", "message": "a"})),
        parse_line("order", json.dumps({"time": "2026-12-05T12:00:03+0000", "message": "c"})),
    ]

    assert _messages(merge([bff, order])) == ["a", "b", "c"]


def test_a_tail_reads_only_what_was_appended_and_waits_for_a_whole_line(tmp_path: Path) -> None:
    log = tmp_path / "worker.log"
    log.write_text(_record("first") + "\n" + '{"level": "INFO", "message": "sec')
    tail = LogTail("worker", log)

    assert _messages(tail.lines()) == ["first"]
    with log.open("a") as fh:
        fh.write('ond"}\n[ERROR] third\n')
    lines = tail.lines()

    assert _messages(lines) == ["first", "second", "[ERROR] third"]
    assert [line.level for line in lines] == ["INFO", "INFO", "ERROR"]


def test_a_line_without_its_own_time_is_ordered_by_when_it_was_seen_or_the_line_before(
    tmp_path: Path,
) -> None:
    log = tmp_path / "order.log"
    log.write_text(_record("timed") + "\n" + "untimed, already there\n")
    tail = LogTail("order", log)
    first = tail.lines()
    before_append = datetime.now(UTC)
    with log.open("a") as fh:
        fh.write("untimed, appended while watched\n")
    appended = tail.lines()[-1]

    assert first[1].when == first[0].when == datetime(2026, 12, 5, 12, 59, 1, tzinfo=UTC)
    assert appended.when is not None
    assert before_append <= appended.when <= datetime.now(UTC)


def test_a_tail_starts_afresh_when_the_file_is_truncated_or_replaced(tmp_path: Path) -> None:
    log = tmp_path / "bff.log"
    log.write_text("old one\nold two\n")
    tail = LogTail("bff", log)
    assert _messages(tail.lines()) == ["old one", "old two"]

    log.write_text("new\n")
    assert _messages(tail.lines()) == ["new"]

    replacement = tmp_path / "next.log"
    replacement.write_text("replaced and longer than before\n")
    replacement.replace(log)
    assert _messages(tail.lines()) == ["replaced and longer than before"]


def test_a_large_log_is_read_from_its_last_window_starting_at_a_whole_line(
    tmp_path: Path,
) -> None:
    log = tmp_path / "kafka.log"
    log.write_text("".join(f"line {n:04d}\n" for n in range(1000)))  # 10 bytes a line
    tail = LogTail("kafka", log, window=95)

    assert _messages(tail.lines()) == [f"line {n:04d}" for n in range(991, 1000)]


def test_a_tail_keeps_its_last_lines_only(tmp_path: Path) -> None:
    log = tmp_path / "order.log"
    log.write_text("".join(f"{n}\n" for n in range(50)))

    assert _messages(LogTail("order", log, keep=5).lines()) == ["45", "46", "47", "48", "49"]


def test_a_missing_log_has_no_lines(tmp_path: Path) -> None:
    assert LogTail("identity", tmp_path / "identity.log").lines() == []
