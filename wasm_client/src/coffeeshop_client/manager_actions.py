"""What the manager's Orders pages and day report do, mixed into `App`: load, search,
refund; pick a day, refresh. The pages are `views/manage_orders.py` and
`views/manage_report.py`; what they hold is `manage_orders.py` and `report.py`.

The mixins see the controller through the attributes declared in `_Controller`
(which `App` provides), never by importing app.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from coffeeshop_client import prices, router
from coffeeshop_client.api import ApiClient, ApiError, NetworkError
from coffeeshop_client.manage_orders import SEARCH_FIELDS, refund_check
from coffeeshop_client.platform import Platform
from coffeeshop_client.prices import pounds
from coffeeshop_client.report import FIRST_DAY, LAST_DAY, DayReport, day_check, day_words, plural
from coffeeshop_client.state import State


class _Controller:
    """What a mixin may use of `App`."""

    if TYPE_CHECKING:
        state: State
        api: ApiClient
        platform: Platform

        def render(self, *, focus_heading: bool = False) -> None: ...

        def fail(self, error: BaseException, retry: str | None = None) -> None: ...


class ReportActions(_Controller):
    """The day report's loading and its two actions (`report-day`, `report-refresh`)."""

    async def load_report(self, day: str | None) -> None:
        """Fetch the report of `day` (None: today) and show it; an error goes to the banner
        with a retry, and the last report stays."""
        state = self.state
        state.report_day = day
        state.report_day_error = None
        state.busy.add("report")
        self.render()
        try:
            answer = await self.api.report(day)
        except (ApiError, NetworkError) as err:
            self.fail(err, retry="load-report")
        else:
            if state.report_day == day:  # not another day asked for meanwhile
                state.report, state.report_of = DayReport.from_json(answer), day
                self.platform.announce(
                    f"Report for {day_words(state.report.date)}: takings "
                    f"{prices.format_money(state.report.takings, state.report.currency)}, "
                    f"{plural(state.report.orders, 'order')}."
                )
        finally:
            state.busy.discard("report")
        self.render()

    async def do_report_day(self, data: dict[str, str]) -> None:
        """The date picker's "Show": go to that day's page (the route loads it)."""
        day = day_check(data.get("date", ""))
        if day is None:
            self.state.report_day_error = f"Pick a day between {FIRST_DAY} and {LAST_DAY}."
            self.platform.announce(self.state.report_day_error)
            self.render()
            return
        self.platform.navigate(router.href("manage_report_day", date=day))

    async def do_report_refresh(self, data: dict[str, str]) -> None:
        await self.load_report(self.state.report_day)


class OrdersDeskActions(_Controller):
    """The Orders pages' loading and actions (search, more, the two-step refund)."""

    async def do_orders_search(self, data: dict[str, str]) -> None:
        desk = self.state.orders_desk
        desk.query = {k: data[k].strip() for k in SEARCH_FIELDS if data.get(k, "").strip()}
        desk.searching = True
        self.render()
        try:
            results, desk.next_cursor = await self.api.manage_orders(desk.query)
        except (ApiError, NetworkError) as err:
            self.fail(err)
        else:
            desk.results = results
            found = len(results)
            self.platform.announce(
                f"{found} order{'s' if found != 1 else ''} found"
                + (" (more below)" if desk.next_cursor else "")
                + "."
            )
        finally:
            desk.searching = False
        self.render()

    async def do_orders_more(self, data: dict[str, str]) -> None:
        desk = self.state.orders_desk
        if not desk.next_cursor or desk.results is None:
            return
        try:
            more, desk.next_cursor = await self.api.manage_orders(
                {**desk.query, "cursor": desk.next_cursor}
            )
        except (ApiError, NetworkError) as err:
            self.fail(err)
        else:
            desk.results = [*desk.results, *more]
        self.render()

    async def load_managed_order(self, order_id: str) -> None:
        desk = self.state.orders_desk
        if desk.detail is None or desk.detail.order.id != order_id:
            desk.detail = None
            desk.amount_text = desk.reason_text = ""
            desk.errors, desk.confirming, desk.done = {}, None, None
        try:
            desk.detail = await self.api.manage_order(order_id)
        except (ApiError, NetworkError) as err:
            self.fail(err)
        self.render()

    async def do_refund_full(self, data: dict[str, str]) -> None:
        desk = self.state.orders_desk
        if desk.detail is not None and desk.detail.payment is not None:
            desk.amount_text = pounds(desk.detail.payment.refundable)
            desk.reason_text = data.get("reason", desk.reason_text)
            desk.errors.pop("amount", None)
            self.render()

    async def do_refund_review(self, data: dict[str, str]) -> None:
        """The refund form, checked: its errors beside the fields, or the confirmation."""
        desk = self.state.orders_desk
        if desk.detail is None or desk.detail.payment is None:
            return
        desk.amount_text, desk.reason_text = data.get("amount", ""), data.get("reason", "")
        amount, reason, desk.errors = refund_check(
            desk.amount_text, desk.reason_text, refundable=desk.detail.payment.refundable
        )
        desk.done = None
        if desk.errors or amount is None:
            self.platform.announce(" ".join(desk.errors.values()))
            self.render()
            return
        desk.confirming = (amount, reason)
        attempt = (desk.detail.order.id, amount, reason)
        if desk.key_for != attempt:  # a new refund: a new key; the same one retried: the same
            desk.key, desk.key_for = self.platform.new_key(), attempt
        self.render()

    async def do_refund_back(self, data: dict[str, str]) -> None:
        self.state.orders_desk.confirming = None
        self.render()

    async def do_refund_confirm(self, data: dict[str, str]) -> None:
        desk = self.state.orders_desk
        if desk.detail is None or desk.confirming is None or desk.sending or desk.key is None:
            return
        amount, reason = desk.confirming
        order_id, currency = desk.detail.order.id, desk.detail.order.currency
        desk.sending = True
        self.render()
        try:
            desk.detail = await self.api.refund(order_id, amount, reason, desk.key)
        except NetworkError as err:
            self.fail(err)  # the key is kept: confirming again retries the same refund
        except ApiError as err:
            desk.confirming = None
            named = {
                k: " ".join(map(str, v)) for k, v in err.errors.items() if k in ("amount", "reason")
            }
            if named:
                desk.errors = named
                self.platform.announce(" ".join(named.values()))
            else:
                self.fail(err)
            if err.status in (400, 409, 422):
                desk.key = desk.key_for = None
        else:
            desk.confirming, desk.key, desk.key_for = None, None, None
            desk.amount_text = desk.reason_text = ""
            desk.errors = {}
            desk.done = (
                f"Refund of {prices.format_money(amount, currency)} requested for order "
                f"{desk.detail.order.pickup}. The customer is told by e-mail once the card "
                "is refunded."
            )
            self.platform.announce(desk.done)
        finally:
            desk.sending = False
        self.render()
