"""A manager finds an order by its pickup number (issue 11): an index on it, only over
orders that have one (paid)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0006_order_paid_at_index"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="order",
            index=models.Index(
                condition=models.Q(("number_day__isnull", False)),
                fields=["number", "created_at"],
                name="orders_by_number",
            ),
        ),
    ]
