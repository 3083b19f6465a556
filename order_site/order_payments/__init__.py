"""Where an order and its money meet: each flow here writes the payment's side
(`order_site.payments`, which knows nothing of orders) and the order's side
(`order_site.orders`) in one transaction.

- `charges.py`: a charge at the provider and the order paid or failed with it (a charge
  landing on a cancelled or expired order is refunded); the charge tasks.
- `refunds.py`: a refund requested (its task queued once committed) and, once the
  provider confirms it, recorded on the order; the refund task.
- `services.py`: cancel, reject and a manager's refund, which move the order and ask
  for its money back.
- `dispatcher.py`: the loop in Order's relay process that queues requested charges
  (and requeues stale charges and refunds).
"""
