"""Pickup numbers: the one number people say, see and read in e-mails ("A-042").

A per-day sequence bumped in one UPSERT on the day's `PickupCounter` row, inside the
paying transaction: two payments landing at once serialise on that row for the rest
of their (short) transactions and get consecutive numbers, never the same one; the
unique constraint (day, number) holds it in the database too. The 1st to 999th order
of a day are A-001…A-999, the 1000th B-001, and so on.
"""

from __future__ import annotations

from datetime import date

from django.db import connection

from order_site.orders.models import PickupCounter

PER_LETTER = 999
LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I or O: never read as 1 or 0


def pickup_number_format(sequence: int) -> str:
    """The `sequence`-th number of a day (1-based): 1 → "A-001", 1000 → "B-001"."""
    letter, within = divmod(sequence - 1, PER_LETTER)
    return f"{LETTERS[letter % len(LETTERS)]}-{within + 1:03d}"


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
