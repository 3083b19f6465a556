"""What the web client knows and shows: one `State` the controller (app.py) changes
and the views (the `views` package) render, and the error banner's `Problem`."""

from __future__ import annotations

from dataclasses import dataclass, field

from coffeeshop_client import payments, router
from coffeeshop_client.cart import Cart
from coffeeshop_client.customize import Selection
from coffeeshop_client.manage_orders import OrdersDesk
from coffeeshop_client.models import Favourite, Menu, Order, Session
from coffeeshop_client.report import DayReport


@dataclass
class Problem:
    """A message for the error banner, and whether 'Try again' makes sense."""

    message: str
    retry: str | None = None  # the action to run again
    status: int | None = None
    service: str | None = None
    waiting: bool = False  # 429: 'Try again' stays disabled until Retry-After has passed


@dataclass
class State:
    route: router.Route = field(default_factory=lambda: router.Route("menu"))
    session: Session = field(default_factory=Session.anonymous)
    session_loaded: bool = False
    menu: Menu | None = None
    cart: Cart = field(default_factory=Cart)
    selection: Selection | None = None
    orders: dict[str, Order] = field(default_factory=dict)
    order_ids: list[str] = field(default_factory=list)  # newest first
    orders_loaded: bool = False
    queue: list[Order] = field(default_factory=list)  # the loaded pages, oldest first
    queue_loaded: bool = False
    queue_counts: dict[str, int] = field(default_factory=dict)  # status → open orders
    queue_more: dict[str, str] = field(default_factory=dict)  # status → next page's cursor
    queue_newest: dict[str, list[Order]] = field(default_factory=dict)  # newest first
    busy: set[str] = field(default_factory=set)  # ids of buttons waiting for an answer
    rejecting: str | None = None  # the queue card whose "Reject" asks for a reason
    loading: bool = False
    problem: Problem | None = None
    # The card fields as typed: kept in memory only (never stored), sent to the payment
    # provider only. No pre-filled card (issue 10): the test cards are a hint.
    card_text: str = ""
    card_expiry: str = ""
    card_cvc: str = ""
    card_errors: dict[str, str] = field(default_factory=dict)  # field → message
    payment_config: payments.PaymentConfig | None = None
    checkout_key: str | None = None
    checkout_cart: str | None = None  # the cart the key was minted for
    # The provider's token for the card of this attempt: a retry of the same attempt
    # (same key) must send the same token, or Order sees another request.
    checkout_token: str | None = None
    checkout_card: tuple[str, str, str] | None = None  # the card the token was made for
    now: float = 0.0  # the clock at the last render (seconds since the epoch)
    placed_order_id: str | None = None
    live_mode: str = "off"  # off | stream | polling
    menu_edit_errors: dict[str, str] = field(default_factory=dict)  # "option-3" → message
    notice: str | None = None
    report: DayReport | None = None  # the manager's day report (report.py)
    report_day: str | None = None  # the day asked for; None: today
    report_of: str | None = None  # the day `report` was asked for (None: today)
    report_day_error: str | None = None
    orders_desk: OrdersDesk = field(default_factory=OrdersDesk)  # the manager's Orders pages
    # Checkout's name for the cup and note for the barista, as typed (issue 17).
    cup_name: str = ""
    note: str = ""
    favourites: list[Favourite] = field(default_factory=list)  # "my usual", oldest first
    favourites_loaded: bool = False
