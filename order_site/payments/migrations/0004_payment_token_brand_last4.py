"""Card data (issue 10): the payment keeps the provider's token, brand and last four.

`payment_method` held whatever checkout sent, card numbers included; it becomes
`payment_token`, and 0005 masks the numbers already stored.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0003_payment_idempotency_key_constraint"),
    ]

    operations = [
        migrations.RenameField(
            model_name="payment", old_name="payment_method", new_name="payment_token"
        ),
        migrations.AddField(
            model_name="payment",
            name="card_brand",
            field=models.CharField(blank=True, default="", max_length=16),
        ),
        migrations.AddField(
            model_name="payment",
            name="card_last4",
            field=models.CharField(blank=True, default="", max_length=4),
        ),
    ]
