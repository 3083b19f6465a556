"""`manage.py payments_requeue [--minutes N]`: queue stuck charges and refunds again."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from order_site.order_payments.dispatcher import payments_requeue_stale


class Command(BaseCommand):
    help = "Queue again every charge and refund still requested after N minutes (default 15)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--minutes", type=int, default=15)

    def handle(self, *args: Any, **options: Any) -> None:
        payments, refunds = payments_requeue_stale(older_than=timedelta(minutes=options["minutes"]))
        self.stdout.write(f"queued {payments} payments and {refunds} refunds again")
