"""Part refunds (issue 11): a refund says why and who asked, a caller's Idempotency-Key
is checked against what was asked, and the payment keeps the sum of its refunds under a
check that it never exceeds the charge. Existing refunds (one full refund per order, the
provider's refusals excepted) give each payment its starting sum."""

from django.db import migrations, models
from django.db.models import F, Q


def refunded_amounts(apps, schema_editor):
    Payment = apps.get_model("payments", "Payment")
    Refund = apps.get_model("payments", "Refund")
    totals: dict[int, int] = {}
    for payment_id, amount in Refund.objects.exclude(status="failed").values_list(
        "payment_id", "amount"
    ):
        totals[payment_id] = totals.get(payment_id, 0) + amount
    for payment_id, total in totals.items():
        Payment.objects.filter(pk=payment_id).update(refunded_amount=total)


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0006_payment_token_constraints_cancelled_status"),
    ]

    operations = [
        migrations.AddField(
            model_name="payment",
            name="refunded_amount",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="refund",
            name="reason",
            field=models.CharField(blank=True, default="", max_length=200),
        ),
        migrations.AddField(
            model_name="refund",
            name="requested_by",
            field=models.BigIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="refund",
            name="request_fingerprint",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.RunPython(refunded_amounts, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="payment",
            constraint=models.CheckConstraint(
                condition=Q(refunded_amount__lte=F("amount")),
                name="payments_payment_refunds_within_charge",
            ),
        ),
    ]
