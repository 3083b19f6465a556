"""The app's controller: state, and what each user action does to it.

Plain Python: everything the browser does is behind `Platform` (platform.py: render, announce,
storage, timers, the event stream) and `ApiClient` (fetch), so the whole flow runs
on CPython in tests with fakes. `browser.py` provides the real ones.
"""

from __future__ import annotations

import asyncio
import json
import math
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from coffeeshop_client import card as cards
from coffeeshop_client import customize, payments, reorder, router, statuses, views
from coffeeshop_client.api import ApiClient, ApiError, NetworkError, describe_error
from coffeeshop_client.cart import CART_COOKIE, Cart
from coffeeshop_client.customize import Selection
from coffeeshop_client.manager_actions import OrdersDeskActions, ReportActions
from coffeeshop_client.models import Menu, Order, QueueColumn, Session
from coffeeshop_client.platform import Platform, Stream
from coffeeshop_client.prices import pence_parse
from coffeeshop_client.state import Problem, State

CART_STORAGE_KEY = "coffeeshop.cart"
# Whose cart it is (a user id; "" for a visitor's), so a shared device never shows one
# person's cart to the next.
CART_OWNER_KEY = "coffeeshop.cart.owner"
POLL_SECONDS = 3.0
REPORT_ROUTES = ("manage_report", "manage_report_day")
# Pages whose first render shows the person's orders (the BFF renders them with them).
ORDERS_FIRST = ("menu", "orders")
# Stream errors in a row before giving up on EventSource and polling instead.
STREAM_ERRORS_BEFORE_POLLING = 3
# Polls before trying the stream again (3 s x 20 = a minute).
POLLS_BEFORE_STREAM_RETRY = 20


class App(OrdersDeskActions, ReportActions):
    def __init__(self, api: ApiClient, platform: Platform) -> None:
        self.api = api
        self.platform = platform
        self.state = State()
        self._stream: Stream | None = None
        self._stream_errors = 0
        self._poll_task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._announced: dict[str, str] = {}
        self._queue_fetching = False
        self._queue_stale = False
        self.clock: Callable[[], float] = time.time
        self._ticking: str | None = None  # the order whose cancel countdown is running
        self._server_print: str | None = None  # views.fingerprint of the server's page
        self._orders_fresh = False  # loaded just before the first render
        self._next_notice: str | None = None  # said by the page a navigation leads to

    # ---- rendering ---------------------------------------------------------

    def render(self, *, focus_heading: bool = False) -> None:
        self.state.now = self.clock()
        nav_html, view_html = views.nav(self.state), views.page(self.state)
        server_print, self._server_print = self._server_print, None
        token = self.state.session.csrf_token
        if server_print is not None and server_print == views.fingerprint(
            nav_html, view_html, token
        ):
            # Python's first render of the page the BFF rendered is what it already
            # shows: the DOM is kept as it is, so a click landing now is not lost.
            self.platform.adopt(nav_html, view_html)
        else:
            self.platform.render(nav_html, view_html, focus_heading=focus_heading)
        self._tick_cancel_window()

    def _tick_cancel_window(self) -> None:
        """While an order page shows a paid order's cancel window, re-render once a
        second so the time left counts down, and the Cancel button goes at the end."""
        state = self.state
        order = state.orders.get(state.route.params.get("id", ""))
        left = statuses.seconds_left(order, state.now) if state.route.name == "order" else None
        if order is None or not left or self._ticking == order.id:
            return
        self._ticking = order.id

        async def tick(order_id: str, ticks: int) -> None:
            try:
                for _ in range(ticks):
                    await self.platform.sleep(1.0)
                    if self.state.route.params.get("id") != order_id:
                        return
                    self.state.now = self.clock()
                    self.platform.render(
                        views.nav(self.state), views.page(self.state), focus_heading=False
                    )
            finally:
                self._ticking = None

        self.spawn(tick(order.id, math.ceil(left) + 1))

    def spawn(self, coro: Any) -> asyncio.Task[Any]:
        """Run a coroutine in the background, keeping a reference so it isn't collected."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def fail(self, error: BaseException, retry: str | None = None) -> None:
        status = error.status if isinstance(error, ApiError) else None
        service = error.service if isinstance(error, ApiError) else None
        if isinstance(error, ApiError) and error.status in (400, 403, 404, 409):
            retry = None  # trying the same thing again would fail the same way
        problem = Problem(describe_error(error), retry, status, service)
        self.state.problem = problem
        self.platform.announce(problem.message)
        if isinstance(error, ApiError) and error.status == 429 and retry:
            problem.waiting = True
            self.spawn(self._unblock(problem, error.retry_after or 5))

    async def _unblock(self, problem: Problem, seconds: int) -> None:
        await self.platform.sleep(seconds)
        problem.waiting = False
        if self.state.problem is problem:
            self.render()

    # ---- start-up and navigation ------------------------------------------

    async def start(self) -> None:
        """Load the session and the menu, show the page the URL names, go live."""
        # The cookie holds the newest cart: what the server-rendered page's forms added
        # before Python had loaded is in it (and every change here writes it too).
        shared = self.platform.read_cookie(CART_COOKIE)
        if shared is not None:
            self.state.cart = Cart.from_token(shared)
            # The device's copy follows at once: it is what a lost cookie falls back to.
            self.platform.save(CART_STORAGE_KEY, self.state.cart.dumps())
        else:
            self.state.cart = Cart.loads(self.platform.load(CART_STORAGE_KEY))
        path = self.platform.current_path()
        self.state.route = router.parse(path)
        asked = router.query(path)
        if asked:  # `?added=`: said once; a reload does not say it again
            self.platform.replace(path.partition("?")[0])
        self._server_print = self.platform.server_fingerprint()
        self.state.loading = True
        await self.load_basics()
        self.claim_cart()
        self.keep_filled_choices()
        if self.state.session.authenticated and self.state.route.name in ORDERS_FIRST:
            # Loaded before the first render, as the BFF's page had them: the page
            # Python renders is the one already shown (no shift under the person's tap).
            await asyncio.gather(
                self.load_active_orders(render=False), self.load_favourites(render=False)
            )
            self._orders_fresh = self.state.orders_loaded
        await self.show(self.state.route, focus_heading=False, notice=self.added(asked))
        if self.state.session.authenticated:
            self.go_live()
            if not self.state.orders_loaded:
                await self.load_active_orders()
            if not self.state.favourites_loaded:
                await self.load_favourites()

    def keep_filled_choices(self) -> None:
        """What the person chose on the server-rendered product page while Python was
        loading stays chosen when Python renders it (the same reading as the BFF's)."""
        if self.state.route.name != "product" or self.state.menu is None:
            return
        product = self.state.menu.product(_int(self.state.route.params.get("id")))
        filled = self.platform.filled_choices()
        if product is None or not filled:
            return
        selection, unknown = customize.from_form(product, filled)
        if unknown is None:
            self.state.selection = selection

    def added(self, asked: dict[str, str]) -> str | None:
        """What the server-rendered page said its form had just added (`?added=`)."""
        product = self.state.menu.product(_int(asked.get("added"))) if self.state.menu else None
        if product is None:
            return None
        return views.added_notice(product.name, max(1, _int(asked.get("qty"))))

    async def load_active_orders(self, *, render: bool = True) -> None:
        """My orders, quietly (no error banner): the menu shows the ones in progress."""
        try:
            orders = await self.api.orders()
        except (ApiError, NetworkError):
            return
        self._remember_orders(orders)
        self.state.order_ids = [o.id for o in orders]
        self.state.orders_loaded = True
        if render:
            self.render()

    async def load_favourites(self, *, render: bool = True) -> None:
        """My saved drinks ("my usual"), quietly: the menu shows them with "Add"."""
        try:
            favourites = await self.api.favourites()
        except (ApiError, NetworkError):
            return
        self.state.favourites = favourites
        self.state.favourites_loaded = True
        if render:
            self.render()

    async def load_basics(self) -> None:
        session_result, menu_result = await asyncio.gather(
            self.api.session(), self.api.menu(), return_exceptions=True
        )
        self.state.loading = False
        if isinstance(session_result, Session):
            self.state.session = session_result
            self.state.session_loaded = True
        if isinstance(menu_result, Menu):
            self.state.menu = menu_result
            self.state.problem = None
        for result in (session_result, menu_result):
            if isinstance(result, BaseException):
                if not isinstance(result, ApiError | NetworkError):
                    raise result
                self.fail(result, retry="reload")
                break

    async def on_route(self, path: str) -> None:
        notice, self._next_notice = self._next_notice, None
        await self.show(router.parse(path), focus_heading=True, notice=notice)

    async def show(
        self, route: router.Route, *, focus_heading: bool, notice: str | None = None
    ) -> None:
        self.state.route = route
        self.state.notice = notice
        if self.state.problem is not None and self.state.problem.retry != "reload":
            self.state.problem = None
        if route.name == "product" and self.state.menu is not None:
            product = self.state.menu.product(_int(route.params.get("id")))
            if product is not None and (
                self.state.selection is None or self.state.selection.product_id != product.id
            ):
                self.state.selection = customize.default_selection(product)
        self.render(focus_heading=focus_heading)
        fresh, self._orders_fresh = self._orders_fresh, False
        if route.name == "orders" and self.state.session.authenticated and not fresh:
            await self.load_orders()
        elif route.name == "order" and self.state.session.authenticated:
            await self.load_order(route.params.get("id", ""))
        elif route.name == "queue" and self.state.session.is_staff:
            await self.load_queue()
        elif route.name == "manage_menu" and self.state.session.is_manager:
            await self.reload_menu()
        elif route.name in REPORT_ROUTES and self.state.session.is_manager:
            await self.load_report(route.params.get("date"))
        elif route.name == "manage_order" and self.state.session.is_manager:
            await self.load_managed_order(route.params.get("id", ""))

    # ---- data --------------------------------------------------------------

    async def load_orders(self) -> None:
        try:
            orders = await self.api.orders()
        except (ApiError, NetworkError) as err:
            self.fail(err, retry="load-orders")
        else:
            self._remember_orders(orders)
            self.state.order_ids = [o.id for o in orders]
            self.state.orders_loaded = True
        self.render()

    async def load_order(self, order_id: str) -> None:
        try:
            order = await self.api.order(order_id)
        except (ApiError, NetworkError) as err:
            self.fail(err, retry="load-order")
        else:
            self._remember_orders([order])
        self.render()

    async def load_queue(self) -> None:
        """Fetch the queue; calls made while one is in flight collapse into one more
        fetch after it (a burst of events at the rush hour makes two requests, not N)."""
        if self._queue_fetching:
            self._queue_stale = True
            return
        self._queue_fetching = True
        try:
            while True:
                self._queue_stale = False
                try:
                    self._queue_show(*await self.api.queue())
                except (ApiError, NetworkError) as err:
                    self.fail(err, retry="load-queue")
                    break
                if not self._queue_stale:
                    break
        finally:
            self._queue_fetching = False
        self.render()

    def _remember_orders(self, orders: list[Order]) -> None:
        for order in orders:
            previous = self.state.orders.get(order.id)
            self.state.orders[order.id] = order
            if previous is not None and previous.status != order.status:
                self._announce_status(order)
            self._settle_cart(order)

    def _settle_cart(self, order: Order) -> None:
        """Empty the cart once the order it became is paid; keep it after a decline,
        so the customer can try another card."""
        if order.id != self.state.placed_order_id:
            return
        if order.status not in ("pending_payment", "payment_failed"):
            self.set_cart(Cart())
            self.state.placed_order_id = None

    def _announce_status(self, order: Order) -> None:
        if self._announced.get(order.id) == order.status:
            return
        self._announced[order.id] = order.status
        self.platform.announce(
            statuses.announcement(
                order.pickup, order.status, order.failure_reason or order.status_reason
            )
        )

    def claim_cart(self) -> None:
        """The stored cart is kept for whoever made it: a visitor's goes with them when
        they sign in; a signed-in person's is emptied when someone else (or nobody) is
        signed in now."""
        if not self.state.session_loaded:
            return
        owner = self.platform.load(CART_OWNER_KEY) or ""
        user = self.state.session.user if self.state.session.authenticated else None
        current = user.id if user is not None else ""
        if owner and owner != current:
            self.set_cart(Cart())
        if current != owner:
            self.platform.save(CART_OWNER_KEY, current)

    def forget_person(self) -> None:
        """Sign-out on this device: nothing of the person stays in the browser's storage."""
        self.set_cart(Cart())
        self.platform.save(CART_OWNER_KEY, "")

    def set_cart(self, cart: Cart) -> None:
        self.state.cart = cart
        self.platform.save(CART_STORAGE_KEY, cart.dumps())
        self.platform.write_cookie(CART_COOKIE, cart.to_token())

    # ---- live order status -------------------------------------------------

    def go_live(self) -> None:
        """Follow order changes through `GET /api/events`; poll every 3 s if it fails."""
        self._stream_errors = 0
        try:
            self._stream = self.platform.open_stream(
                "/api/events", self.on_stream_event, self.on_stream_error, self.on_stream_open
            )
            self.state.live_mode = "stream"
        except Exception:  # no EventSource in this browser
            self.start_polling()

    def on_stream_event(self, data: str) -> None:
        self._stream_errors = 0
        try:
            event = json.loads(data)
            if isinstance(event, dict) and event.get("event") == "menu.changed":
                self.spawn(self.reload_menu())  # a manager changed the menu
                return
            if isinstance(event, dict) and event.get("resync") is True:
                # The BFF could not replay what we missed while reconnecting: refetch.
                self.spawn(self.poll_once())
                return
            order_id, status = str(event["order_id"]), str(event["status"])
            reason = str(event["reason"]) if event.get("reason") else None
        except (ValueError, KeyError, TypeError):
            return
        self.spawn(self.apply_status(order_id, status, reason))

    def on_stream_open(self) -> None:
        # The BFF ends each stream after a while and the browser reconnects: only
        # errors with no successful (re)connection in between count as failures.
        self._stream_errors = 0

    def on_stream_error(self, closed: bool) -> None:
        """EventSource retries by itself; after a few failures in a row, or when the
        browser gave up (closed), switch to polling."""
        self._stream_errors += 1
        if closed or self._stream_errors >= STREAM_ERRORS_BEFORE_POLLING:
            self.start_polling()

    def start_polling(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None
        self.state.live_mode = "polling"
        if self._poll_task is None or self._poll_task.done():
            self._poll_task = self.spawn(self.poll())

    async def poll(self, rounds: int = POLLS_BEFORE_STREAM_RETRY) -> None:
        for _ in range(rounds):
            await self.platform.sleep(POLL_SECONDS)
            await self.poll_once()
        self._poll_task = None
        self.go_live()

    def _queue_show(self, counts: dict[str, int], columns: list[QueueColumn]) -> None:
        """Show a fresh queue answer, announcing each order that arrived since the last."""
        state = self.state
        known = {o.id for o in state.queue} | {
            o.id for column in state.queue_newest.values() for o in column
        }
        state.queue = [o for column in columns for o in column.orders]
        state.queue_newest = {c.status: list(c.newest) for c in columns}
        state.queue_more = {c.status: c.next_cursor for c in columns if c.next_cursor}
        state.queue_counts = counts
        arrived = [
            o
            for c in columns
            if c.status == "placed"
            for o in (*c.newest, *c.orders)
            if o.id not in known
        ]
        if state.queue_loaded and arrived:
            numbers = ", ".join(dict.fromkeys(o.pickup for o in arrived))
            self.platform.announce(f"New order{'s' if len(arrived) > 1 else ''}: {numbers}.")
        state.queue_loaded = True

    async def do_queue_more(self, data: dict[str, str]) -> None:
        """The next page of one column ("Show more")."""
        status = data.get("status", "")
        cursor = self.state.queue_more.get(status)
        busy = "queue-more-" + status
        if cursor is None or busy in self.state.busy:
            return
        self.state.busy.add(busy)
        self.render()
        try:
            counts, columns = await self.api.queue(status, cursor)
        except (ApiError, NetworkError) as err:
            self.fail(err)
        else:
            shown = {o.id for o in self.state.queue}
            for column in columns:
                self.state.queue += [o for o in column.orders if o.id not in shown]
                if column.next_cursor:
                    self.state.queue_more[column.status] = column.next_cursor
                else:
                    self.state.queue_more.pop(column.status, None)
            self.state.queue_counts = counts
        self.state.busy.discard(busy)
        self.render()

    async def poll_once(self) -> None:
        route = self.state.route.name
        try:
            if route == "queue" and self.state.session.is_staff:
                self._queue_show(*await self.api.queue())
            elif route in ("orders", "order") or any(
                statuses.is_live(o.status) for o in self.state.orders.values()
            ):
                orders = await self.api.orders()
                self._remember_orders(orders)
                self.state.order_ids = [o.id for o in orders]
            else:
                return
        except (ApiError, NetworkError):
            return  # keep polling quietly; the next round may work
        self.render()

    async def apply_status(self, order_id: str, status: str, reason: str | None = None) -> None:
        """An `order` event: update what we show, fetch details we lack. A rejected
        order's event carries the barista's reason, shown at once."""
        if self.state.route.name == "queue" and self.state.session.is_staff:
            await self.load_queue()
        known = self.state.orders.get(order_id)
        if known is not None and known.status == status:
            return
        # Paid: the order now says until when it can be cancelled (its countdown).
        needs_details = known is None or status in ("payment_failed", "placed", "rejected")
        if needs_details and (
            order_id == self.state.placed_order_id
            or self.state.route.params.get("id") == order_id
            # Staff get every order's events: fetching strangers' orders would 404.
            or (self.state.orders_loaded and not self.state.session.is_staff)
        ):
            try:
                order = await self.api.order(order_id)
            except (ApiError, NetworkError):
                return
            self._remember_orders([order])
            if order_id not in self.state.order_ids:
                self.state.order_ids.insert(0, order_id)
            if known is None:
                self._announce_status(order)
        elif known is not None:
            self._remember_orders(
                [replace(known, status=status, status_reason=reason or known.status_reason)]
            )
        self.render()

    # ---- user actions ------------------------------------------------------

    async def dispatch(self, action: str, data: dict[str, str]) -> None:
        """Run what a button/form with `data-action` asks, through `ACTIONS`. An action
        the table lacks is a bug in the views (tests/wasm_client/test_actions.py holds
        the table to them); it is said on the console rather than passed over."""
        handler = ACTIONS.get(action)
        if handler is None:
            print(f"coffeeshop: no handler for data-action {action!r}", file=sys.stderr)
            return
        await handler(self, data)

    async def do_quick_add(self, data: dict[str, str]) -> None:
        product = self.state.menu.product(_int(data.get("product"))) if self.state.menu else None
        if product is None:
            return
        selection = customize.default_selection(product)
        if customize.problems(product, selection):
            self.platform.navigate(router.href("product", id=product.id))
            return
        self._add(selection, product.name)

    def _add(self, selection: Selection, name: str) -> None:
        self.set_cart(
            self.state.cart.add(
                selection.product_id,
                selection.variation_id,
                selection.option_ids,
                selection.quantity,
            )
        )
        self.state.notice = views.added_notice(name, selection.quantity)
        self.platform.announce(self.state.notice)
        self.render()

    def _product(self) -> Any:
        if self.state.menu is None or self.state.selection is None:
            return None
        return self.state.menu.product(self.state.selection.product_id)

    async def do_choose_variation(self, data: dict[str, str]) -> None:
        product = self._product()
        if product is not None and self.state.selection is not None:
            self.state.selection = customize.choose_variation(
                product, self.state.selection, _int(data.get("id"))
            )
            self.render()

    async def do_toggle_option(self, data: dict[str, str]) -> None:
        product = self._product()
        if product is not None and self.state.selection is not None:
            self.state.selection = customize.toggle_option(
                product, self.state.selection, _int(data.get("id"))
            )
            self.render()

    async def do_clear_group(self, data: dict[str, str]) -> None:
        product = self._product()
        if product is not None and self.state.selection is not None:
            self.state.selection = customize.clear_group(
                product, self.state.selection, _int(data.get("id"))
            )
            self.render()

    async def do_selection_quantity(self, data: dict[str, str]) -> None:
        if self.state.selection is not None:
            change = _int(data.get("by"))
            self.state.selection = customize.set_quantity(
                self.state.selection, self.state.selection.quantity + change
            )
            self.render()

    async def do_add_to_cart(self, data: dict[str, str]) -> None:
        product = self._product()
        selection = self.state.selection
        if product is None or selection is None or customize.problems(product, selection):
            self.render()
            return
        self._add(selection, product.name)
        self.state.selection = customize.default_selection(product)
        self.render()

    async def do_cart_change(self, data: dict[str, str]) -> None:
        self.set_cart(self.state.cart.change_quantity(data.get("key", ""), _int(data.get("by"))))
        self.render()

    async def do_cart_remove(self, data: dict[str, str]) -> None:
        self.set_cart(self.state.cart.remove(data.get("key", "")))
        self.platform.announce("Removed from your cart.")
        self.render()

    async def do_card_input(self, data: dict[str, str]) -> None:
        # Typing doesn't re-render (it would move the caret); the value is kept for submit.
        field_name = data.get("field", "number")
        value = data.get("value", "")
        if field_name == "cup_name":
            self.state.cup_name = value
        elif field_name == "note":
            self.state.note = value
        elif field_name == "expiry":
            self.state.card_expiry = value
        elif field_name == "cvc":
            self.state.card_cvc = value
        else:
            self.state.card_text = value

    def _card_problems(self) -> dict[str, str]:
        state = self.state
        problems = {
            "number": cards.card_problem(state.card_text),
            "expiry": cards.expiry_problem(state.card_expiry, now=time.gmtime(self.clock())),
            "cvc": cards.cvc_problem(state.card_cvc, state.card_text),
        }
        return {name: text for name, text in problems.items() if text}

    async def _card_token(self) -> str | None:
        """The provider's token for the card as typed (the one made for this attempt, if
        the card is unchanged); None with `card_errors` set when the provider refuses it.
        Raises ApiError/NetworkError when the provider or the BFF can't be reached."""
        state = self.state
        card = (cards.digits(state.card_text), state.card_expiry.strip(), state.card_cvc.strip())
        if state.checkout_token and state.checkout_card == card:
            return state.checkout_token
        if state.payment_config is None:
            state.payment_config = payments.PaymentConfig.from_json(await self.api.config())
        expiry = cards.expiry_parsed(card[1])
        assert expiry is not None  # checked by _card_problems
        try:
            token = await payments.tokenize(
                self.api.fetch,
                state.payment_config,
                number=card[0],
                exp_month=expiry[0],
                exp_year=expiry[1],
                cvc=card[2],
            )
        except payments.CardRefused as refused:
            state.card_errors = {refused.field: refused.message}
            return None
        # A new card is a new attempt: a new token and a new idempotency key.
        state.checkout_token, state.checkout_card = token.id, card
        state.checkout_key = None
        return token.id

    async def do_checkout(self, data: dict[str, str]) -> None:
        state = self.state
        for name, attr in (
            ("card", "card_text"),
            ("expiry", "card_expiry"),
            ("cvc", "card_cvc"),
            ("cup_name", "cup_name"),
            ("note", "note"),
        ):
            if name in data:
                setattr(state, attr, data[name])
        if not state.session.authenticated:
            self.platform.navigate(router.href("checkout"))
            return
        if state.cart.is_empty or "checkout" in state.busy:
            return
        state.card_errors = self._card_problems()
        if state.card_errors:
            self.platform.announce(next(iter(state.card_errors.values())))
            self.render()
            return
        state.busy.add("checkout")
        state.problem = None
        self.render()
        try:
            token = await self._card_token()
            if token is None:
                state.busy.discard("checkout")
                self.platform.announce(next(iter(state.card_errors.values())))
                self.render()
                return
            # Same cart, same card, same attempt: reuse the key, so a retry after a
            # network error replays the first answer instead of charging twice.
            # Order trims them too; trimmed here, a retry sends the very same body.
            cup_name, note = state.cup_name.strip(), state.note.strip()
            cart_text = "\0".join((state.cart.dumps(), cup_name, note))
            if state.checkout_key is None or state.checkout_cart != cart_text:
                state.checkout_key = self.platform.new_key()
                state.checkout_cart = cart_text
            order = await self.api.place_order(
                state.cart.to_api(), token, state.checkout_key, cup_name=cup_name, note=note
            )
        except (ApiError, NetworkError) as err:
            if isinstance(err, ApiError) and 400 <= err.status < 500 and err.status != 429:
                # A refused request: the next one is a new attempt, with a new token.
                state.checkout_key = state.checkout_token = state.checkout_card = None
            self.fail(err, retry="checkout")
            state.busy.discard("checkout")
            self.render()
            return
        state.busy.discard("checkout")
        state.checkout_key = state.checkout_token = state.checkout_card = None
        state.card_text = state.card_expiry = state.card_cvc = ""
        state.cup_name = state.note = ""
        state.placed_order_id = order.id
        self._remember_orders([order])
        if order.id not in state.order_ids:
            state.order_ids.insert(0, order.id)
        self._announce_status(order)
        self.platform.navigate(router.href("order", id=order.id))

    # ---- order again and "my usual" (issue 17) ---------------------------------------

    async def do_order_again(self, data: dict[str, str]) -> None:
        """A past order's lines back in the cart, priced from today's menu (the cart
        prices every line itself); lines the menu can no longer serve are flagged."""
        order = self.state.orders.get(data.get("order", ""))
        if order is None or self.state.menu is None:
            return
        done = reorder.order_again(self.state.cart, self.state.menu, order)
        self.set_cart(done.cart)
        items = "1 item" if done.added == 1 else f"{done.added} items"
        said = f"Added {items} from order {order.pickup} at today's prices."
        if done.flagged:
            said += " Needs a look \u2014 " + " ".join(done.flagged)
        self.platform.announce(said)
        self._next_notice = said
        self.platform.navigate(router.href("cart"))

    def _favourite(self, favourite_id: str) -> Any:
        return next((f for f in self.state.favourites if f.id == favourite_id), None)

    async def do_favourite_add(self, data: dict[str, str]) -> None:
        """One tap: the saved drink into the cart, as it was saved."""
        favourite = self._favourite(data.get("favourite", ""))
        menu = self.state.menu
        if favourite is None or menu is None:
            return
        problem = reorder.line_problem(
            menu, favourite.product_id, favourite.variation_id, favourite.option_ids
        )
        if problem is not None:
            self.platform.announce(problem)
            self.render()
            return
        self.set_cart(
            self.state.cart.add(favourite.product_id, favourite.variation_id, favourite.option_ids)
        )
        self.state.notice = views.added_notice(reorder.favourite_title(menu, favourite), 1)
        self.platform.announce(self.state.notice)
        self.render()

    async def do_favourite_remove(self, data: dict[str, str]) -> None:
        favourite = self._favourite(data.get("favourite", ""))
        busy = f"favourite-remove-{data.get('favourite', '')}"
        if favourite is None or busy in self.state.busy:
            return
        self.state.busy.add(busy)
        self.render()
        try:
            await self.api.favourite_delete(favourite.id)
        except ApiError as err:
            if err.status != 404:  # already gone (another tab): just drop it here
                self.fail(err)
                self.state.busy.discard(busy)
                self.render()
                return
        except NetworkError as err:
            self.fail(err)
            self.state.busy.discard(busy)
            self.render()
            return
        self.state.busy.discard(busy)
        self.state.favourites = [f for f in self.state.favourites if f.id != favourite.id]
        self.platform.announce(f"Removed {reorder.favourite_title(self.state.menu, favourite)}.")
        self.render()

    async def _favourite_save(
        self,
        busy: str,
        product_id: int,
        variation_id: int | None,
        option_ids: tuple[int, ...],
        name: str,
    ) -> None:
        if busy in self.state.busy:
            return
        self.state.busy.add(busy)
        self.render()
        try:
            saved = await self.api.favourite_save(product_id, variation_id, option_ids, name)
        except (ApiError, NetworkError) as err:
            self.fail(err)
        else:
            self.state.favourites = [f for f in self.state.favourites if f.id != saved.id]
            self.state.favourites.append(saved)
            self.state.favourites_loaded = True
            title = reorder.favourite_title(self.state.menu, saved)
            self.state.notice = f"Saved {title} as my usual: it is on the menu page."
            self.platform.announce(self.state.notice)
        self.state.busy.discard(busy)
        self.render()

    async def do_favourite_save(self, data: dict[str, str]) -> None:
        """ "Save as my usual" on a product page: the drink as chosen there."""
        product, selection = self._product(), self.state.selection
        if product is None or selection is None or customize.problems(product, selection):
            return
        name = " ".join(data.get("name", "").split())
        await self._favourite_save(
            "favourite-save",
            selection.product_id,
            selection.variation_id,
            selection.option_ids,
            name,
        )

    async def do_favourite_from_line(self, data: dict[str, str]) -> None:
        """ "Save as my usual" on a line of a past order."""
        order = self.state.orders.get(data.get("order", ""))
        index = _int(data.get("line"))
        if order is None or not 0 <= index < len(order.lines):
            return
        line = order.lines[index]
        if line.product_id is None:
            return
        await self._favourite_save(
            f"favourite-line-{order.id}-{index}",
            line.product_id,
            line.variation_id,
            tuple(sorted(line.option_ids)),
            "",
        )

    async def do_cancel_order(self, data: dict[str, str]) -> None:
        order_id = data.get("order", "")
        self.state.busy.add("cancel-" + order_id)
        self.render()
        try:
            order = await self.api.cancel(order_id)
        except (ApiError, NetworkError) as err:
            self.fail(err)
        else:
            self._remember_orders([order])
        self.state.busy.discard("cancel-" + order_id)
        self.render()

    async def do_advance(self, data: dict[str, str]) -> None:
        order_id, to = data.get("order", ""), data.get("to", "")
        busy = "advance-" + order_id
        if busy in self.state.busy:
            return
        self.state.busy.add(busy)
        self.render()
        try:
            order = await self.api.advance(order_id, to)
        except (ApiError, NetworkError) as err:
            self.fail(err)
            self.state.busy.discard(busy)
            if isinstance(err, ApiError) and err.status == 409:
                await self.load_queue()  # someone else moved it: show the truth
            self.render()
            return
        self.state.busy.discard(busy)
        in_queue = order.status in dict(statuses.QUEUE_COLUMNS)
        self.state.queue = [
            order if o.id == order.id else o
            for o in self.state.queue
            if not (o.id == order.id and not in_queue)
        ]
        if in_queue and order.id not in {o.id for o in self.state.queue}:
            self.state.queue.append(order)  # it was among the newest arrivals only
        self.state.queue_newest = {
            status: [o for o in column if o.id != order.id]
            for status, column in self.state.queue_newest.items()
        }
        self.platform.announce(
            f"Order {order.pickup} is now {statuses.label(order.status).lower()}."
        )
        self.render()

    async def do_reject_open(self, data: dict[str, str]) -> None:
        """ "Reject" on a queue card: ask for the reason (a small form on the card)."""
        self.state.rejecting = data.get("order") or None
        self.render()  # the reason field has `autofocus`

    async def do_reject_close(self, data: dict[str, str]) -> None:
        self.state.rejecting = None
        self.render()

    async def do_reject(self, data: dict[str, str]) -> None:
        """The reason form: Order refunds the order in full and tells the customer."""
        order_id, reason = data.get("order", ""), " ".join(data.get("reason", "").split())
        busy = "reject-" + order_id
        if busy in self.state.busy:
            return
        if not reason:
            self.state.problem = Problem(
                "Say why the order is rejected; the customer is told.", status=400
            )
            self.platform.announce(self.state.problem.message)
            self.render()
            return
        self.state.busy.add(busy)
        self.render()
        try:
            order = await self.api.reject(order_id, reason)
        except (ApiError, NetworkError) as err:
            self.fail(err)
            self.state.busy.discard(busy)
            if isinstance(err, ApiError) and err.status == 409:
                self.state.rejecting = None
                await self.load_queue()  # someone else moved it: show the truth
            self.render()
            return
        self.state.busy.discard(busy)
        self.state.rejecting = None
        self.state.queue = [o for o in self.state.queue if o.id != order.id]
        self.platform.announce(f"Order {order.pickup} rejected and refunded: {reason}")
        self.render()

    # ---- the manager's menu page (views/manage_menu.py) ----------------------

    async def reload_menu(self) -> None:
        """Fetch the menu again, quietly (the old one stays on a failure)."""
        try:
            self.state.menu = await self.api.menu()
        except (ApiError, NetworkError):
            return
        self.render()

    async def _menu_item_update(self, item: str, item_id: str, changes: dict[str, Any]) -> None:
        key = f"{item}-{item_id}"
        busy = f"menu-{key}"
        if item not in ("product", "variation", "option") or busy in self.state.busy:
            return
        self.state.busy.add(busy)
        self.state.menu_edit_errors.pop(key, None)
        self.render()
        try:
            updated = await self.api.menu_item_update(item, _int(item_id), changes)
        except ApiError as err:
            self.state.menu_edit_errors[key] = describe_error(err)
        except NetworkError as err:
            self.fail(err)
        else:
            name = str(updated.get("name", item))
            if "is_available" in changes:
                now = "back on the menu" if changes["is_available"] else "sold out"
                self.platform.announce(f"{name} is now {now}.")
            else:
                self.platform.announce(f"{name} saved.")
            await self.reload_menu()
        finally:
            self.state.busy.discard(busy)
        self.render()

    async def do_menu_availability(self, data: dict[str, str]) -> None:
        available = data.get("available") == "true"
        await self._menu_item_update(
            data.get("item", ""), data.get("id", ""), {"is_available": available}
        )

    async def do_menu_edit(self, data: dict[str, str]) -> None:
        item, item_id = data.get("item", ""), data.get("id", "")
        price_field = "base_price" if item == "product" else "price_delta"
        price = pence_parse(data.get(price_field, ""), allow_negative=item != "product")
        if price is None:
            self.state.menu_edit_errors[f"{item}-{item_id}"] = (
                "Enter a price in pounds and pence, like 4.20."
            )
            self.render()
            return
        changes: dict[str, Any] = {price_field: price}
        if item == "product" and "description" in data:
            changes["description"] = data["description"].strip()
        await self._menu_item_update(item, item_id, changes)

    async def do_dismiss(self, data: dict[str, str]) -> None:
        self.state.problem = None
        self.render()

    async def do_retry(self, data: dict[str, str]) -> None:
        problem, self.state.problem = self.state.problem, None
        retry = problem.retry if problem else None
        self.render()
        if retry == "reload":
            self.state.loading = True
            self.render()
            await self.load_basics()
            await self.show(self.state.route, focus_heading=False)
            if self.state.session.authenticated and self.state.live_mode == "off":
                self.go_live()
        elif retry == "checkout":
            await self.do_checkout({})
        elif retry in ("load-orders", "load-order", "load-queue", "load-report"):
            await self.show(self.state.route, focus_heading=False)


# Every `data-action` the views use, and the App method that runs it. One table, so a
# misspelt action fails a test (tests/wasm_client/test_actions.py) instead of doing nothing.
ACTIONS: dict[str, Callable[[App, dict[str, str]], Awaitable[None]]] = {
    "queue-more": App.do_queue_more,
    "quick-add": App.do_quick_add,
    "choose-variation": App.do_choose_variation,
    "toggle-option": App.do_toggle_option,
    "clear-group": App.do_clear_group,
    "selection-quantity": App.do_selection_quantity,
    "add-to-cart": App.do_add_to_cart,
    "cart-change": App.do_cart_change,
    "cart-remove": App.do_cart_remove,
    "card-input": App.do_card_input,
    "checkout": App.do_checkout,
    "cancel-order": App.do_cancel_order,
    "order-again": App.do_order_again,
    "favourite-add": App.do_favourite_add,
    "favourite-remove": App.do_favourite_remove,
    "favourite-save": App.do_favourite_save,
    "favourite-from-line": App.do_favourite_from_line,
    "advance": App.do_advance,
    "reject-open": App.do_reject_open,
    "reject-close": App.do_reject_close,
    "reject": App.do_reject,
    "menu-availability": App.do_menu_availability,
    "menu-edit": App.do_menu_edit,
    "report-day": App.do_report_day,
    "report-refresh": App.do_report_refresh,
    "dismiss": App.do_dismiss,
    "retry": App.do_retry,
    "orders-search": App.do_orders_search,
    "orders-more": App.do_orders_more,
    "refund-full": App.do_refund_full,
    "refund-review": App.do_refund_review,
    "refund-back": App.do_refund_back,
    "refund-confirm": App.do_refund_confirm,
}


def _int(value: object) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return 0
