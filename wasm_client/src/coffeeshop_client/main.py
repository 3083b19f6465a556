"""Entry point the JS bootstrap runs: `from coffeeshop_client import main; await main.start()`."""

from __future__ import annotations

from typing import Any

_app: Any = None  # kept alive for the page's lifetime (and for debugging in the console)


async def start() -> None:
    global _app
    from coffeeshop_client import browser

    _app = await browser.run()
