"""What the controller needs from the page it runs in: `Platform` (browser.py's
`BrowserPlatform` in the browser, a fake in the tests) and the live-update `Stream`.

Its own module so the controller's parts (app.py, manager_actions.py) share one
definition and nothing that app.py imports has to import app.py back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class Stream(Protocol):
    def close(self) -> None: ...


class Platform(Protocol):
    """What the controller needs from the browser (see browser.BrowserPlatform)."""

    def render(self, nav_html: str, view_html: str, *, focus_heading: bool) -> None: ...

    def adopt(self, nav_html: str, view_html: str) -> None:
        """Take what the page shows as rendered from these strings, without touching it."""
        ...

    def server_fingerprint(self) -> str | None:
        """`views.fingerprint` of the page the server rendered (None: it rendered none)."""
        ...

    def announce(self, text: str) -> None: ...

    def navigate(self, path: str) -> None: ...

    def current_path(self) -> str: ...

    def replace(self, path: str) -> None: ...

    def load(self, key: str) -> str | None: ...

    def save(self, key: str, value: str) -> None: ...

    def filled_choices(self) -> list[tuple[str, str]]:
        """The fields of the product form the server rendered, as the person filled it
        in before Python took the page over ([] when there is none)."""
        ...

    def read_cookie(self, name: str) -> str | None: ...

    def write_cookie(self, name: str, value: str) -> None: ...

    def new_key(self) -> str: ...

    async def sleep(self, seconds: float) -> None: ...

    def open_stream(
        self,
        url: str,
        on_event: Callable[[str], None],
        on_error: Callable[[bool], None],
        on_open: Callable[[], None],
    ) -> Stream: ...
