"""An index on when orders were paid, for the manager's day report (issue 11): a day's
paid orders are a range of `paid_at`, read through it instead of the whole history."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0005_order_pickup_number"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="order",
            index=models.Index(
                condition=models.Q(("paid_at__isnull", False)),
                fields=["paid_at"],
                name="orders_paid_at",
            ),
        ),
    ]
