"""The thin DOM layer: `js` and `pyodide.ffi` plugged into the plain-Python app.

Only this module and `main.py` need Pyodide; they are not imported on CPython
(tests) and are excluded from mypy (the `js` module exists only in the browser).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable
from typing import Any

import js
from pyodide.ffi import create_proxy, to_js

try:
    from pyodide.ffi import jsnull
except ImportError:  # older Pyodide converted null to None
    jsnull = None

from coffeeshop_client import router
from coffeeshop_client.api import ApiClient, HttpRequest, HttpResponse
from coffeeshop_client.app import App

EVENT_SOURCE_CLOSED = 2


def absent(value: Any) -> bool:
    """JS `null`/`undefined` (Pyodide maps null to `jsnull`, undefined to None)."""
    return value is None or value is jsnull


KEPT_HEADERS = ("retry-after", "content-type", "ratelimit", "ratelimit-policy")


async def browser_fetch(request: HttpRequest) -> HttpResponse:
    """`window.fetch` with the session cookie (same-origin) and no HTTP cache."""
    init: dict[str, Any] = {
        "method": request.method,
        "headers": request.headers,
        "credentials": "same-origin",
        "cache": "no-store",
        "redirect": "error",  # an API call that redirects means a misrouted request
    }
    if request.body is not None:
        init["body"] = request.body
    response = await js.fetch(request.url, to_js(init, dict_converter=js.Object.fromEntries))
    headers = {}
    for name in KEPT_HEADERS:
        value = response.headers.get(name)
        if not absent(value):
            headers[name] = str(value)
    body = await response.text()
    return HttpResponse(int(response.status), headers, str(body))


class BrowserStream:
    """An EventSource on `url`, calling back on `order` and `resync` events and on errors."""

    def __init__(
        self,
        url: str,
        on_event: Callable[[str], None],
        on_error: Callable[[bool], None],
        on_open: Callable[[], None],
    ) -> None:
        self._source = js.EventSource.new(url)
        self._on_event = create_proxy(lambda event: on_event(str(event.data)))
        self._on_error = create_proxy(
            lambda _event: on_error(self._source.readyState == EVENT_SOURCE_CLOSED)
        )
        self._on_open = create_proxy(lambda _event: on_open())
        self._source.addEventListener("order", self._on_event)
        self._source.addEventListener("resync", self._on_event)  # data: {"resync": true}
        self._source.addEventListener("menu", self._on_event)  # a manager changed the menu
        self._source.addEventListener("error", self._on_error)
        self._source.addEventListener("open", self._on_open)

    def close(self) -> None:
        self._source.close()
        self._source.removeEventListener("order", self._on_event)
        self._source.removeEventListener("resync", self._on_event)
        self._source.removeEventListener("menu", self._on_event)
        self._source.removeEventListener("error", self._on_error)
        self._source.removeEventListener("open", self._on_open)
        self._on_event.destroy()
        self._on_error.destroy()
        self._on_open.destroy()


class BrowserPlatform:
    def __init__(self) -> None:
        self.document = js.document
        self.view = js.document.getElementById("app")
        self.nav = js.document.getElementById("nav")
        self.live = js.document.getElementById("live")
        self.on_same_route: Callable[[], None] | None = None
        self.on_path_change: Callable[[], None] | None = None
        self._last_nav = ""
        self._last_view = ""
        self._focus_id = ""
        self._autofocused = ""

    def adopt(self, nav_html: str, view_html: str) -> None:
        self._last_nav, self._last_view = nav_html, view_html

    def server_fingerprint(self) -> str | None:
        value = _attribute(self.view, "data-rendered")
        return value or None

    def render(self, nav_html: str, view_html: str, *, focus_heading: bool) -> None:
        active = self.document.activeElement
        if absent(active) or active == self.document.body:
            # Focus fell to <body> (its element was replaced or disabled while busy):
            # put it back on the control that had it, once that exists and is enabled.
            active_id = self._focus_id
        else:
            active_id = str(active.id) if active.id else ""
            self._focus_id = active_id
        # Replace only what changed, so focus and scroll stay where they were.
        if nav_html != self._last_nav:
            self.nav.innerHTML = nav_html
            self._last_nav = nav_html
        if view_html != self._last_view:
            self.view.innerHTML = view_html
            self._last_view = view_html
        # `autofocus` acts only when a page loads: a field it marks that has just
        # appeared (the reason asked for on a queue card) takes the focus here, once.
        autofocus = self.view.querySelector("[autofocus]")
        autofocus_id = "" if absent(autofocus) else str(autofocus.id)
        if autofocus_id and autofocus_id != self._autofocused:
            autofocus.focus()
        elif focus_heading:
            heading = self.view.querySelector("h1")
            if not absent(heading):
                heading.focus()
                js.window.scrollTo(0, 0)
        elif active_id:
            again = self.document.getElementById(active_id)
            if not absent(again) and again != self.document.activeElement:
                again.focus()
            elif absent(again):
                # The control is gone (an order left the queue): keep keyboard users
                # on the page rather than dropping them at the top of <body>.
                heading = self.view.querySelector("h1")
                if not absent(heading):
                    heading.focus()
        self._autofocused = autofocus_id
        focused = self.document.activeElement
        if not absent(focused) and focused != self.document.body and focused.id:
            self._focus_id = str(focused.id)

    def announce(self, text: str) -> None:
        # Same text twice would not be read again: vary it invisibly.
        if str(self.live.textContent) == text:
            text += "\u00a0"
        self.live.textContent = text

    def navigate(self, path: str) -> None:
        if self.current_path() == path:
            if self.on_same_route is not None:
                self.on_same_route()
            return
        js.window.history.pushState(jsnull, "", path)
        if self.on_path_change is not None:
            self.on_path_change()

    def replace(self, path: str) -> None:
        js.window.history.replaceState(jsnull, "", path)

    def current_path(self) -> str:
        location = js.window.location
        fragment = str(location.hash)
        if fragment.startswith("#/"):
            # An old link (`/#/cart`): shown under its real path from now on.
            self.replace(fragment[1:])
            return fragment[1:]
        return str(location.pathname) + str(location.search)

    def filled_choices(self) -> list[tuple[str, str]]:
        form = js.document.querySelector("#app form.customise")
        if absent(form):
            return []
        entries = js.Array.from_(js.FormData.new(form).entries())
        return [(str(pair[0]), str(pair[1])) for pair in entries]

    def read_cookie(self, name: str) -> str | None:
        for pair in str(js.document.cookie).split(";"):
            key, _, value = pair.strip().partition("=")
            if key == name:
                return value
        return None

    def write_cookie(self, name: str, value: str) -> None:
        # Read by the BFF's pages too (not HttpOnly: it holds product ids, nothing secret).
        secure = "; Secure" if str(js.window.location.protocol) == "https:" else ""
        js.document.cookie = f"{name}={value}; Path=/; Max-Age=2592000; SameSite=Lax{secure}"

    def load(self, key: str) -> str | None:
        try:
            value = js.window.localStorage.getItem(key)
        except Exception:  # storage disabled (privacy mode)
            return None
        return None if absent(value) else str(value)

    def save(self, key: str, value: str) -> None:
        # A full or disabled storage only loses the saved cart.
        with contextlib.suppress(Exception):
            js.window.localStorage.setItem(key, value)

    def new_key(self) -> str:
        return str(uuid.uuid4())

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    def open_stream(
        self,
        url: str,
        on_event: Callable[[str], None],
        on_error: Callable[[bool], None],
        on_open: Callable[[], None],
    ) -> BrowserStream:
        return BrowserStream(url, on_event, on_error, on_open)


def _attribute(element: Any, name: str) -> str:
    """An element's attribute, or "" (reading an absent `dataset` key raises on Pyodide)."""
    if absent(element) or not hasattr(element, "getAttribute"):
        return ""
    value = element.getAttribute(name)
    return "" if absent(value) else str(value)


def _data(element: Any) -> dict[str, str]:
    entries = js.Object.entries(element.dataset)
    return {str(pair[0]): str(pair[1]) for pair in entries}


class Wiring:
    """Delegated listeners on <body>: one for clicks, changes, input and submits.

    They are installed before `App.start()` runs (a form Python renders must never be
    submitted natively), but an action taken while it runs (the session, the menu and
    the person's orders still loading; the page it shows is the server's) is queued and
    dispatched once the app has started, in order: a tap at the moment of the take-over
    is never lost. Links stay the browser's until then (the server renders every page).
    """

    def __init__(self, app: App, platform: BrowserPlatform) -> None:
        self.app = app
        self.platform = platform
        self._proxies: list[Any] = []
        self._started = False
        self._queued: list[tuple[str, dict[str, str]]] = []

    def dispatch(self, action: str, data: dict[str, str]) -> None:
        if self._started:
            self.run(self.app.dispatch(action, data))
        else:
            self._queued.append((action, data))

    def started(self) -> None:
        """The app has started: what was asked meanwhile is done now, then live."""
        self._started = True
        queued, self._queued = self._queued, []
        for action, data in queued:
            self.run(self.app.dispatch(action, data))

    def run(self, coro: Any) -> None:
        task = self.app.spawn(coro)
        task.add_done_callback(self._report)

    def _report(self, task: asyncio.Task[Any]) -> None:
        if not task.cancelled() and task.exception() is not None:
            js.console.error("CoffeeShop:", repr(task.exception()))
            self.app.fail(task.exception())  # type: ignore[arg-type]
            self.app.render()

    def listen(self, target: Any, event: str, handler: Callable[[Any], None]) -> None:
        proxy = create_proxy(handler)
        self._proxies.append(proxy)
        target.addEventListener(event, proxy)

    def install(self) -> None:
        body = js.document.body
        self.listen(body, "click", self.on_click)
        self.listen(body, "change", self.on_change)
        self.listen(body, "input", self.on_input)
        self.listen(body, "submit", self.on_submit)
        self.listen(js.window, "hashchange", self.on_path)
        self.listen(js.window, "popstate", self.on_path)
        self.platform.on_same_route = self.platform.on_path_change = lambda: self.run(
            self.app.on_route(self.platform.current_path())
        )

    def on_click(self, event: Any) -> None:
        link = event.target.closest("a[href]")
        if not absent(link) and self.follow(event, link):
            return
        element = event.target.closest("button[data-action]")
        if absent(element) or element.disabled:
            return
        event.preventDefault()
        self.dispatch(str(element.dataset.action), _data(element))

    def on_change(self, event: Any) -> None:
        element = event.target
        if str(element.tagName) != "INPUT" or str(element.type) not in ("radio", "checkbox"):
            return
        action = _attribute(element, "data-action")
        if action:
            self.dispatch(action, _data(element))

    def on_input(self, event: Any) -> None:
        element = event.target
        action = _attribute(element, "data-action")
        if action and str(element.tagName) == "INPUT" and str(element.type) == "text":
            data = _data(element)
            data["value"] = str(element.value)
            self.dispatch(action, data)

    def on_submit(self, event: Any) -> None:
        form = event.target
        action = _attribute(form, "data-action")
        if not action:
            # A real form goes to the server. Signing out: forget this person's cart
            # first, so the next person on this device starts empty.
            if _attribute(form, "data-sign-out"):
                self.app.forget_person()
            return
        event.preventDefault()
        data = _data(form)
        for pair in js.Array.from_(js.FormData.new(form).entries()):
            data[str(pair[0])] = str(pair[1])
        self.dispatch(action, data)

    def follow(self, event: Any, link: Any) -> bool:
        """A plain click on a link to one of the app's own pages: shown here, without
        loading the page again. Anything else (a new tab, /auth/login, /admin/) is the
        browser's."""
        if not self._started or event.defaultPrevented or event.button != 0:
            return False
        if event.metaKey or event.ctrlKey or event.shiftKey or event.altKey:
            return False
        if _attribute(link, "target") or _attribute(link, "download"):
            return False
        url = js.URL.new(link.href)
        if str(url.origin) != str(js.window.location.origin):
            return False
        if router.match(str(url.pathname)) is None:
            return False
        event.preventDefault()
        self.platform.navigate(str(url.pathname) + str(url.search))
        return True

    def on_path(self, _event: Any) -> None:
        if self._started:
            self.run(self.app.on_route(self.platform.current_path()))


async def run() -> App:
    platform = BrowserPlatform()
    app = App(ApiClient(browser_fetch), platform)
    wiring = Wiring(app, platform)
    wiring.install()
    await app.start()
    wiring.started()
    return app
