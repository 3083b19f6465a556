from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0007_refund_reason_part_refunds"),
    ]

    operations = [
        migrations.AddField(
            model_name="payment",
            name="traceparent",
            field=models.CharField(blank=True, default="", max_length=128),
        ),
    ]
