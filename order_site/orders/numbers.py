"""Pickup numbers: the one number people say, see and read in e-mails ("A-042").

A per-day sequence bumped in one UPSERT on the day's `PickupCounter` row, inside the
paying transaction: two payments landing at once serialise on that row for the rest
of their (short) transactions and get consecutive numbers, never the same one; the
unique constraint (day, number) holds it in the database too. The 1st to 999th order
of a day are A-001…A-999, the 1000th B-001, and so on; after Z-999 (the 23,976th)
come AA-001, AB-001 …, so a number never repeats within a day (a repeat would break
the unique constraint and with it every later payment of that day).
"""

from __future__ import annotations

from datetime import date

from django.db import connection

from order_site.orders.models import PickupCounter

PER_LETTER = 999
LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I or O: never read as 1 or 0


def pickup_number_format(sequence: int) -> str:
    """The `sequence`-th number of a day (1-based): 1 → "A-001", 1000 → "B-001",
    23,977 → "AA-001"."""
    letter, within = divmod(sequence - 1, PER_LETTER)
    return f"{_letters(letter)}-{within + 1:03d}"


def _letters(index: int) -> str:
    """0 → "A" … 23 → "Z", 24 → "AA", 25 → "AB" … (bijective base 24: no two alike)."""
    out = ""
    index += 1
    while index:
        index, digit = divmod(index - 1, len(LETTERS))
        out = LETTERS[digit] + out
    return out


def pickup_number_next(*, day: date) -> str:
    """The next pickup number of `day`. Call inside the transaction that stores it."""
    table = PickupCounter._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (day, last) VALUES (%s, 1) "  # noqa: S608 (our table name)
            f"ON CONFLICT (day) DO UPDATE SET last = {table}.last + 1 RETURNING last",
            [day],
        )
        (sequence,) = cursor.fetchone()
    return pickup_number_format(int(sequence))
