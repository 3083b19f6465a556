"""One pickup number per order, unique for its day, and an index per queue column
(issue 11)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0004_order_stale_statuses"),
    ]

    operations = [
        migrations.CreateModel(
            name="PickupCounter",
            fields=[
                ("day", models.DateField(primary_key=True, serialize=False)),
                ("last", models.PositiveIntegerField()),
            ],
        ),
        migrations.AddField(
            model_name="order",
            name="number",
            field=models.CharField(blank=True, default="", max_length=8),
        ),
        migrations.AddField(
            model_name="order",
            name="number_day",
            field=models.DateField(blank=True, null=True),
        ),
        migrations.AddConstraint(
            model_name="order",
            constraint=models.UniqueConstraint(
                condition=models.Q(("number_day__isnull", False)),
                fields=("number_day", "number"),
                name="orders_one_number_per_day",
            ),
        ),
        migrations.AddIndex(
            model_name="order",
            index=models.Index(
                condition=models.Q(("status__in", ("placed", "in_preparation", "ready"))),
                fields=["status", "created_at", "id"],
                name="orders_queue_by_status",
            ),
        ),
    ]
