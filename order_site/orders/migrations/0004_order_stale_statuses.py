"""Statuses for stale orders (issue 11): rejected, not_collected, expired."""

from django.db import migrations, models

STATUSES = [
    ("pending_payment", "Pending payment"),
    ("placed", "Placed"),
    ("in_preparation", "In preparation"),
    ("ready", "Ready"),
    ("collected", "Collected"),
    ("payment_failed", "Payment failed"),
    ("cancelled", "Cancelled"),
    ("rejected", "Rejected"),
    ("not_collected", "Not collected"),
    ("expired", "Expired"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0003_order_paid_at"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="order", name="orders_order_status_valid"),
        migrations.AlterField(
            model_name="order",
            name="status",
            field=models.CharField(choices=STATUSES, default="pending_payment", max_length=20),
        ),
        migrations.AlterField(
            model_name="orderstatuschange",
            name="to_status",
            field=models.CharField(choices=STATUSES, max_length=20),
        ),
        migrations.AddConstraint(
            model_name="order",
            constraint=models.CheckConstraint(
                condition=models.Q(("status__in", [value for value, _ in STATUSES])),
                name="orders_order_status_valid",
            ),
        ),
        migrations.AddIndex(
            model_name="order",
            index=models.Index(
                condition=models.Q(("status", "pending_payment")),
                fields=["created_at"],
                name="orders_pending_payment",
            ),
        ),
    ]
