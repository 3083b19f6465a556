"""A real Celery worker killed with SIGKILL in the middle of a charge, then restarted."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from django.db import connection

from devstack.base import REPO_ROOT, stop_pid, tail
from devstack.stack import Stack
from order_site.config.celery import app
from order_site.order_payments.dispatcher import payments_dispatch
from order_site.payments.models import Payment
from tests.order.factories.payments import PaymentFactory
from tests.order.payments.conftest import provider_charges, provider_stats

# The restarted worker looks for deliveries left unacknowledged by a dead worker at once
# (kombu's Redis transport redelivers them after `visibility_timeout`, 300 s in settings).
WORKER = """
import sys
from order_site.config.celery import app
app.conf.broker_transport_options = {
    "visibility_timeout": int(sys.argv[1]),
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
app.worker_main(["worker", "--pool", "prefork", "--concurrency", "1", "--loglevel", "INFO",
                 "--without-gossip", "--without-mingle", "--without-heartbeat"])
"""


def wait_for(what: str, check: Callable[[], bool], timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    pytest.fail(f"{what} did not happen within {timeout:.0f}s; worker log:\n{tail(log, 40)}")


@pytest.fixture
def worker_env(test_stack: Stack) -> dict[str, str]:
    """The order site's environment, pointed at the database pytest-django set up."""
    env = dict(os.environ)
    env.update(test_stack.site_env("order", "test"))
    url = urlsplit(env["DATABASE_URL"])
    env["DATABASE_URL"] = urlunsplit(url._replace(path="/" + connection.settings_dict["NAME"]))
    return env


@pytest.fixture
def start_worker(worker_env: dict[str, str], tmp_path: Path) -> Iterator[Any]:
    started: list[subprocess.Popen[bytes]] = []

    def start(visibility_timeout: int, log: Path) -> subprocess.Popen[bytes]:
        with log.open("ab") as out:
            proc = subprocess.Popen(
                [sys.executable, "-c", WORKER, str(visibility_timeout)],
                cwd=REPO_ROOT,
                env=worker_env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        started.append(proc)
        wait_for("worker start", lambda: " ready." in tail(log, 50), 60, log)
        return proc

    yield start
    for proc in started:
        stop_pid(proc.pid, timeout=10)


@pytest.mark.django_db(transaction=True)
def test_worker_killed_during_a_charge_and_restarted_charges_exactly_once(
    make_order: Any, provider_api: httpx.Client, start_worker: Any, tmp_path: Path
) -> None:
    app.control.purge()  # nothing queued by earlier tests reaches this worker
    provider_api.post("/sandbox/config", json={"latency_ms": 3000})
    before = provider_stats(provider_api)
    log, restarted_log = tmp_path / "worker.log", tmp_path / "worker-restarted.log"
    first = start_worker(300, log)
    order = make_order(total=650)
    # Queued for real: the dispatcher publishes the task of the committed payment.
    payment = PaymentFactory(order=order)
    assert payments_dispatch() == 1

    wait_for(
        "the charge reaching the provider",
        lambda: provider_stats(provider_api)["writes"] > before["writes"],
        30,
        log,
    )
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    payment.refresh_from_db()
    assert (payment.status, payment.attempts) == ("requested", 0)  # its transaction died too
    provider_api.post("/sandbox/config", json={"latency_ms": 0})
    start_worker(1, restarted_log)

    wait_for(
        "the payment to succeed",
        lambda: Payment.objects.get(pk=payment.pk).status == "succeeded",
        60,
        restarted_log,
    )

    payment.refresh_from_db()
    order.refresh_from_db()
    charges = provider_charges(provider_api, order.id)
    assert [(c["status"], c["amount"]) for c in charges] == [("succeeded", 650)]
    assert payment.provider_reference == charges[0]["payment_intent"]
    assert payment.attempts == 1
    # Two calls reached the provider; the second was answered from its idempotency record.
    assert provider_stats(provider_api)["writes"] - before["writes"] == 2
    assert order.status == "placed"
    assert order.payment_reference == payment.provider_reference
