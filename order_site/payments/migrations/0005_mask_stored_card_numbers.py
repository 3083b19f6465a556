"""Mask every card number stored before tokenization (issue 10).

A row whose `payment_token` is not a provider token (`pm_…`) held the card as typed:
it keeps only the brand and last four. The sandbox's test cards become their
provider test tokens (so a payment still `requested` can be charged as before);
any other number becomes `pm_masked`, which the provider refuses (a payment still
waiting then fails at the provider instead of charging a number we no longer keep).
"""

from typing import Any

from django.db import migrations

TEST_CARD_TOKENS = {
    "4242424242424242": "pm_card_visa",
    "4000000000000002": "pm_card_chargeDeclined",
    "4000000000009995": "pm_card_chargeDeclinedInsufficientFunds",
    "4000000000000119": "pm_card_chargeDeclinedProcessingError",
}


def brand(number: str) -> str:
    if number.startswith("4"):
        return "visa"
    if number[:2] in {"51", "52", "53", "54", "55"} or "2221" <= number[:4] <= "2720":
        return "mastercard"
    if number[:2] in {"34", "37"}:
        return "amex"
    return "unknown"


def mask(apps: Any, schema_editor: Any) -> None:
    Payment = apps.get_model("payments", "Payment")
    for payment in Payment.objects.exclude(payment_token__startswith="pm_").iterator():
        number = "".join(ch for ch in payment.payment_token if ch.isdigit())
        payment.payment_token = TEST_CARD_TOKENS.get(number, "pm_masked")
        payment.card_brand = brand(number) if number else ""
        payment.card_last4 = number[-4:] if len(number) >= 4 else ""
        payment.save(update_fields=["payment_token", "card_brand", "card_last4"])


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0004_payment_token_brand_last4"),
    ]

    operations = [
        # Irreversible by design: the numbers are gone.
        migrations.RunPython(mask, migrations.RunPython.noop),
    ]
