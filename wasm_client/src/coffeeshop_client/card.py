"""The card fields of checkout: clean-up, the checks a provider makes, display grouping.

These checks only spare the customer a round trip: the payment provider checks the
card again when it tokenizes it (the browser sends the card to the provider only;
docs/decisions.md "Card data"), and its answer is what counts.
"""

from __future__ import annotations

import time

# The sandbox's test cards, shown as a hint beside the field (never pre-filled).
DEFAULT_TEST_CARD = "4242424242424242"
DECLINING_TEST_CARD = "4000000000000002"


def digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def luhn_valid(number: str) -> bool:
    total = 0
    for index, ch in enumerate(reversed(number)):
        value = int(ch)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def card_problem(text: str) -> str | None:
    """Why this is not a card number, or None. Spaces and dashes are allowed."""
    if any(not (ch.isdigit() or ch in " -") for ch in text):
        return "A card number has only digits."
    number = digits(text)
    if not 12 <= len(number) <= 19:
        return "Enter the 16 digits of the card."
    if not luhn_valid(number):
        return "That card number has a typo (the check digit is wrong)."
    return None


def group(text: str) -> str:
    number = digits(text)
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4))


def expiry_parsed(text: str) -> tuple[int, int] | None:
    """`MM/YY`, `MM / YYYY` or `MMYY` as (month, four-digit year), else None."""
    cleaned = "".join(ch for ch in text if ch.isdigit() or ch == "/")
    if "/" in cleaned:
        month_text, _, year_text = cleaned.partition("/")
    elif len(cleaned) in (4, 6):
        month_text, year_text = cleaned[:2], cleaned[2:]
    else:
        return None
    if not (month_text.isdigit() and year_text.isdigit() and len(year_text) in (2, 4)):
        return None
    month, year = int(month_text), int(year_text)
    if len(year_text) == 2:
        year += 2000
    return month, year


def expiry_problem(text: str, *, now: time.struct_time | None = None) -> str | None:
    """Why this is not a valid, unexpired expiry date, or None."""
    parsed = expiry_parsed(text)
    if parsed is None:
        return "Enter the expiry date as MM/YY."
    month, year = parsed
    if not 1 <= month <= 12:
        return "The expiry month must be 01 to 12."
    today = now or time.gmtime()
    if (year, month) < (today.tm_year, today.tm_mon):
        return "This card has expired."
    return None


def is_amex(number: str) -> bool:
    return digits(number)[:2] in ("34", "37")


def cvc_problem(text: str, number: str = "") -> str | None:
    """Why this is not the card's security code (3 digits; 4 for American Express)."""
    wanted = 4 if is_amex(number) else 3
    if not text.strip().isdigit() or len(text.strip()) != wanted:
        return f"Enter the {wanted}-digit security code from the card."
    return None
