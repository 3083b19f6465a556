"""The database holds the card-data rule (issue 10): a payment keeps a provider token
and at most four digits, never a number; and a payment can end `cancelled` (its order
was cancelled before the charge ran: the provider was never asked)."""

from django.db import migrations, models

STATUSES = ["requested", "succeeded", "failed", "cancelled"]
CHOICES = [(status, status.capitalize()) for status in STATUSES]


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0005_mask_stored_card_numbers"),
    ]

    operations = [
        migrations.AlterField(
            model_name="payment",
            name="status",
            field=models.CharField(choices=CHOICES, default="requested", max_length=16),
        ),
        migrations.AlterField(
            model_name="refund",
            name="status",
            field=models.CharField(choices=CHOICES, default="requested", max_length=16),
        ),
        migrations.RemoveConstraint(model_name="payment", name="payments_payment_status_valid"),
        migrations.AddConstraint(
            model_name="payment",
            constraint=models.CheckConstraint(
                condition=models.Q(("status__in", STATUSES)),
                name="payments_payment_status_valid",
            ),
        ),
        migrations.RemoveConstraint(model_name="refund", name="payments_refund_status_valid"),
        migrations.AddConstraint(
            model_name="refund",
            constraint=models.CheckConstraint(
                condition=models.Q(("status__in", STATUSES)),
                name="payments_refund_status_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="payment",
            constraint=models.CheckConstraint(
                condition=models.Q(("payment_token__regex", "^pm_[A-Za-z0-9_]+$")),
                name="payments_payment_token_is_a_token",
            ),
        ),
        migrations.AddConstraint(
            model_name="payment",
            constraint=models.CheckConstraint(
                condition=models.Q(("card_last4__regex", "^([0-9]{4})?$")),
                name="payments_payment_card_last4_digits",
            ),
        ),
    ]
