"""The Celery tasks of an order's payments, for Celery's autodiscovery (which reads
each app's `tasks` module). Each is declared beside the flow it runs and the flows that
queue it (`charges.py`, `refunds.py`): a charge can queue a refund, so one module of
tasks would import the flows that import it back. Retry settings: `ProviderTask`
(`order_site.payments.provider_tasks`)."""

from order_site.order_payments.charges import payment_charge_batch_task, payment_charge_task
from order_site.order_payments.refunds import payment_refund_task

__all__ = ["payment_charge_batch_task", "payment_charge_task", "payment_refund_task"]
