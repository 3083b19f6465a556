"""Chromium for the browser journeys: launching Debian's Chromium under Playwright,
signing into the web app as a person would, and screenshots of the key steps.

Screenshots are saved only when `COFFEESHOP_SCREENSHOTS` names a folder.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright

from devstack.browser import CHROMIUM_ARGS, ensure_chromium

DESKTOP: ViewportSize = {"width": 1280, "height": 900}


@contextmanager
def chromium_launch() -> Iterator[Browser]:
    """A headless Chromium (this machine's flags), closed on exit."""
    executable = ensure_chromium()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable,
            headless=True,
            args=[a for a in CHROMIUM_ARGS if a != "--headless"],
        )
        try:
            yield launched
        finally:
            launched.close()


def app_sign_in(page: Page, *, email: str, password: str) -> None:
    """From any page of the web app: "Sign in" → Identity's login form → back signed in."""
    # The app starts Pyodide first: on a busy machine that takes a while.
    page.get_by_test_id("sign-in").first.click(timeout=90_000)
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def shot(page: Page, name: str) -> None:
    """Save what the page shows as `<name>.png` in `COFFEESHOP_SCREENSHOTS`, if set."""
    folder = os.environ.get("COFFEESHOP_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=False)


def within(seconds: float, check: Callable[[], bool], what: str, every: float = 0.5) -> float:
    """Wait until `check()` holds; the time it took. AssertionError naming `what` after
    `seconds`."""
    began = time.monotonic()
    while not check():
        assert time.monotonic() - began < seconds, f"{what}: not within {seconds:g} s"
        time.sleep(every)
    return time.monotonic() - began
