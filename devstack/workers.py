"""The long-lived background processes beside the sites, one `Worker` each."""

from __future__ import annotations

from dataclasses import dataclass

from devstack.base import REPO_ROOT


def _manage(site: str, command: str) -> tuple[str, ...]:
    return (str(REPO_ROOT / f"{site}_site" / "manage.py"), command)


def _celery(site: str, *args: str) -> tuple[str, ...]:
    return ("-m", "celery", "-A", f"{site}_site.config.celery", *args, "--loglevel", "INFO")


@dataclass(frozen=True)
class Worker:
    """A process run in a site's environment: `python <argv>`, ready once its log says
    `ready_word` (read from where this start began); `metrics`: it serves its metrics
    (shared/metrics.py) on a port of its own."""

    name: str
    site: str
    argv: tuple[str, ...]
    ready_word: str
    metrics: bool = True


_NO_CHATTER = ("--without-gossip", "--without-mingle")

WORKERS: dict[str, Worker] = {
    worker.name: worker
    for worker in (
        Worker(
            "worker",
            "order",
            (*_celery("order", "worker", "--concurrency", "2"), *_NO_CHATTER),
            "ready",
        ),
        # Order's schedule (CELERY_BEAT_SCHEDULE: the purges), run by the worker above.
        # One beat only: a second would send every task twice.
        # It only sends tasks on time: nothing to measure beyond what the worker counts.
        Worker("order-beat", "order", _celery("order", "beat"), "beat: Starting", metrics=False),
        # Identity's housekeeping (its purges): one worker with its beat embedded.
        Worker(
            "identity-worker",
            "identity",
            (*_celery("identity", "worker", "--beat", "--pool", "solo"), *_NO_CHATTER),
            "ready",
        ),
        Worker("bff-live", "bff", _manage("bff", "run_live_updates"), "consuming"),
        # Identity's outbox (user events) to Kafka.
        Worker("identity-relay", "identity", _manage("identity", "run_outbox_relay"), "relaying"),
        # Order's outbox to Kafka, and its consumers (user copy, notification e-mails).
        Worker("order-relay", "order", _manage("order", "run_outbox_relay"), "outbox relay ready"),
        Worker(
            "order-consumers",
            "order",
            _manage("order", "run_order_consumers"),
            "order consumers ready",
        ),
    )
}
