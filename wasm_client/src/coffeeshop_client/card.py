"""The sandbox test card field: clean-up, Luhn check, display grouping."""

from __future__ import annotations

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
