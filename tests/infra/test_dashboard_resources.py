"""The dashboard's CPU share: two readings of a process's CPU time."""

from __future__ import annotations

from devstack.dashboard.resources import cpu_percent


def test_cpu_share_is_cpu_time_over_wall_time_of_one_core() -> None:
    assert cpu_percent((42, 10.0, 100.0), (42, 10.5, 105.0)) == 10.0
    assert cpu_percent((42, 10.0, 100.0), (42, 14.0, 102.0)) == 200.0  # two busy cores


def test_no_share_without_an_earlier_reading_of_the_same_process() -> None:
    assert cpu_percent(None, (42, 10.0, 100.0)) is None
    assert cpu_percent((41, 10.0, 100.0), (42, 10.5, 105.0)) is None  # restarted
    assert cpu_percent((42, 10.0, 100.0), (None, 0.0, 105.0)) is None  # stopped
    assert cpu_percent((42, 10.0, 100.0), (42, 10.0, 100.0)) is None  # no time passed


def test_a_child_that_exited_never_makes_the_share_negative() -> None:
    assert cpu_percent((42, 10.0, 100.0), (42, 8.0, 105.0)) == 0.0
