"""Entry point the JS bootstrap runs: `from coffeeshop_client import main; await main.start()`."""

from __future__ import annotations

import importlib
from typing import Any

_app: Any = None  # kept alive for the page's lifetime (and for debugging in the console)

# What the boot snapshot holds imported (static/snapshot-worker.js): the app and the
# standard modules it starts with, and nothing that touches the page (`js`,
# `pyodide.ffi`, `coffeeshop_client.browser`): a snapshot can't keep JavaScript
# objects, and none of the app's code has run when it is taken.
PRELOADED = (
    "asyncio",
    "contextlib",
    "uuid",
    "coffeeshop_client.app",
)


def preload() -> None:
    """Import what a start needs, for the snapshot worker; runs no app code."""
    for name in PRELOADED:
        importlib.import_module(name)


async def start() -> None:
    global _app
    from coffeeshop_client import browser

    _app = await browser.run()
