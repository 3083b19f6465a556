"""The manager's day report (`/manage/report`, another day `/manage/report/<date>`):
what the BFF answers (`GET /api/manage/report`) and the day picker's rules.

The page is `views/manage_report.py`; loading it and the picker's actions are
`manager_actions.ReportActions`, mixed into `App`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
FIRST_DAY, LAST_DAY = "2000-01-01", "2999-12-31"  # what the BFF accepts


@dataclass(frozen=True)
class BestSeller:
    name: str
    quantity: int
    revenue: int

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BestSeller:
        return cls(str(data["name"]), int(data["quantity"]), int(data["revenue"]))


@dataclass(frozen=True)
class DayReport:
    """`GET /api/manage/report` (docs/bff-api.md says what each figure counts)."""

    date: str
    time_zone: str
    currency: str
    orders: int
    gross: int
    refunds: int
    takings: int
    orders_per_hour: tuple[int, ...]
    best_sellers: tuple[BestSeller, ...]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DayReport:
        hours = tuple(int(n) for n in data.get("orders_per_hour") or ())
        return cls(
            date=str(data["date"]),
            time_zone=str(data.get("time_zone") or ""),
            currency=str(data.get("currency") or "GBP"),
            orders=int(data["orders"]),
            gross=int(data["gross"]),
            refunds=int(data["refunds"]),
            takings=int(data["takings"]),
            orders_per_hour=(hours + (0,) * 24)[:24],
            best_sellers=tuple(BestSeller.from_json(s) for s in data.get("best_sellers") or ()),
        )


def day_check(text: str) -> str | None:
    """A day the BFF will take ("2026-12-04"), or None."""
    text = text.strip()
    if not DAY.match(text) or not FIRST_DAY <= text <= LAST_DAY:
        return None
    try:
        date.fromisoformat(text)
    except ValueError:
        return None
    return text


def day_words(iso: str) -> str:
    """ "2026-12-04" → "Friday 4 December 2026"."""
    try:
        day = date.fromisoformat(iso)
    except ValueError:
        return iso
    return f"{day:%A} {day.day} {day:%B %Y}"


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
