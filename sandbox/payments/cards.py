"""Cards as a provider checks them, and Stripe's test cards with what each one does."""

from __future__ import annotations

import re
import time
from typing import Any

from sandbox.payments.errors import card_error, invalid

DECLINED = "4000000000000002"
INSUFFICIENT_FUNDS = "4000000000009995"
PROCESSING_ERROR = "4000000000000119"
SUCCEEDS = "4242424242424242"
SUCCEEDS_MASTERCARD = "5555555555554444"
# What each test card does when charged; a token keeps this name, never the number.
OUTCOMES = {
    SUCCEEDS: "succeeds",
    SUCCEEDS_MASTERCARD: "succeeds",
    DECLINED: "generic_decline",
    INSUFFICIENT_FUNDS: "insufficient_funds",
    PROCESSING_ERROR: "processing_error",
}
# Stripe's fixed test tokens: reusable, never expiring.
TOKENS = {
    "pm_card_visa": SUCCEEDS,
    "pm_card_mastercard": SUCCEEDS_MASTERCARD,
    "pm_card_chargeDeclined": DECLINED,
    "pm_card_chargeDeclinedInsufficientFunds": INSUFFICIENT_FUNDS,
    "pm_card_chargeDeclinedProcessingError": PROCESSING_ERROR,
}
DECLINES = {
    "generic_decline": ("generic_decline", "Your card was declined."),
    "insufficient_funds": ("insufficient_funds", "Your card has insufficient funds."),
}
TOKEN_RE = re.compile(r"^pm_[A-Za-z0-9_]{1,60}\Z")


def luhn_valid(number: str) -> bool:
    total = 0
    for index, ch in enumerate(reversed(number)):
        value = int(ch) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def card_brand(number: str) -> str:
    if number.startswith("4"):
        return "visa"
    if number[:2] in {"51", "52", "53", "54", "55"} or "2221" <= number[:4] <= "2720":
        return "mastercard"
    if number[:2] in {"34", "37"}:
        return "amex"
    return "unknown"


def _card_int(card: dict[str, Any], name: str, code: str, message: str) -> int:
    value = card.get(name)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        raise card_error(code, message, name)
    return value


def card_checked(card: Any, *, now: time.struct_time | None = None) -> dict[str, Any]:
    """The card's number, expiry and CVC checked as a provider checks them.

    Returns `{number, exp_month, exp_year, cvc}` clean; raises a 402 card_error naming
    the first bad field. No message repeats what was sent.
    """
    if not isinstance(card, dict):
        raise invalid("parameter_missing", "Missing required param: card.", "card")
    raw = card.get("number")
    number = "".join(raw.split()).replace("-", "") if isinstance(raw, str) else ""
    if not number.isdigit() or not 12 <= len(number) <= 19 or not luhn_valid(number):
        raise card_error("incorrect_number", "Your card number is incorrect.", "number")
    month = _card_int(
        card, "exp_month", "invalid_expiry_month", "Your card's expiration month is invalid."
    )
    if not 1 <= month <= 12:
        raise card_error(
            "invalid_expiry_month", "Your card's expiration month is invalid.", "exp_month"
        )
    year = _card_int(
        card, "exp_year", "invalid_expiry_year", "Your card's expiration year is invalid."
    )
    if 0 <= year < 100:
        year += 2000
    today = now or time.gmtime()
    if not today.tm_year <= year <= today.tm_year + 50:
        if year < today.tm_year:
            raise card_error("expired_card", "Your card has expired.", "exp_year")
        raise card_error(
            "invalid_expiry_year", "Your card's expiration year is invalid.", "exp_year"
        )
    if (year, month) < (today.tm_year, today.tm_mon):
        raise card_error("expired_card", "Your card has expired.", "exp_month")
    cvc = card.get("cvc")
    digits = 4 if card_brand(number) == "amex" else 3
    if not isinstance(cvc, str) or not cvc.isdigit() or len(cvc) != digits:
        raise card_error("invalid_cvc", "Your card's security code is invalid.", "cvc")
    return {"number": number, "exp_month": month, "exp_year": year, "cvc": cvc}
