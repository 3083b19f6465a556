"""The barista's queue (`/queue`): open orders by status, each card with its next step
and "Reject" (with a reason, which refunds the customer)."""

from __future__ import annotations

from coffeeshop_client import statuses
from coffeeshop_client.html import Markup, fragment, h
from coffeeshop_client.models import Order
from coffeeshop_client.state import State
from coffeeshop_client.views.components import TIMES, button, heading, live_note, loading, when


def queue_page(state: State) -> Markup:
    if not state.session.is_staff:
        if state.session_loaded:
            return fragment(heading("Queue"), h("p", None, "The queue is for baristas."))
        return fragment(heading("Queue"), loading())
    if not state.queue_loaded:
        return fragment(heading("Queue"), loading("Loading the queue…"))
    columns = []
    for status, title in statuses.QUEUE_COLUMNS:
        orders = [o for o in state.queue if o.status == status]
        shown = {o.id for o in orders}
        # The newest arrivals behind pages not loaded yet: always in sight.
        newest = [o for o in state.queue_newest.get(status, []) if o.id not in shown]
        count = state.queue_counts.get(status, len(orders))
        cursor = state.queue_more.get(status)
        busy = f"queue-more-{status}" in state.busy
        columns.append(
            h(
                "section",
                {
                    "class_": "queue-column",
                    "aria_labelledby": f"col-{status}",
                    "data_testid": f"queue-column-{status}",
                },
                h(
                    "h2",
                    {"id": f"col-{status}"},
                    title,
                    " ",
                    h(
                        "span",
                        {"class_": "count", "data_testid": f"queue-count-{status}"},
                        f"({count})",
                    ),
                ),
                # At the top, under the count: behind a backlog the oldest page is a long
                # column, and a new arrival at its foot would be out of sight.
                fragment(
                    h("h3", {"class_": "queue-newest"}, "Newest arrivals"),
                    h(
                        "ol",
                        {"class_": "queue-cards", "data_testid": f"queue-newest-{status}"},
                        [queue_card(state, o) for o in newest],  # the latest on top
                    ),
                    h("h3", {"class_": "queue-newest"}, "Oldest first"),
                )
                if newest
                else "",
                h("ol", {"class_": "queue-cards"}, [queue_card(state, o) for o in orders])
                if orders
                else h("p", {"class_": "empty"}, "Nothing here."),
                button(
                    "Loading…" if busy else f"Show more ({count - len(orders) - len(newest)} more)",
                    "queue-more",
                    id=f"queue-more-{status}",
                    testid="queue-more",
                    disabled=busy,
                    status=status,
                )
                if cursor
                else "",
            )
        )
    return fragment(heading("Queue"), h("div", {"class_": "queue"}, columns), live_note(state))


def queue_card(state: State, order: Order) -> Markup:
    step = statuses.NEXT_STEP.get(order.status)
    busy = f"advance-{order.id}" in state.busy
    return h(
        "li",
        {
            "class_": "queue-card",
            "data_testid": "queue-item",
            "data_order_id": order.id,
            "data_status": order.status,
        },
        h(
            "h3",
            None,
            order.pickup,
            " ",
            h("span", {"class_": "when"}, when(order.created_at)),
        ),
        # What to write on the cup, big enough to read across the counter.
        h("p", {"class_": "cup-name", "data_testid": "queue-cup-name"}, order.cup_name)
        if order.cup_name
        else None,
        h(
            "ul",
            {"class_": "queue-lines"},
            [
                h(
                    "li",
                    None,
                    h("strong", None, f"{line.quantity} {TIMES} {line.product_name}"),
                    h(
                        "span",
                        {"class_": "details"},
                        ", ".join(filter(None, [line.variation_name or "", *line.options])),
                    ),
                )
                for line in order.lines
            ],
        ),
        h(
            "p",
            {"class_": "queue-note", "data_testid": "queue-note"},
            h("strong", None, "Note: "),
            order.note,
        )
        if order.note
        else None,
        button(
            "Saving…" if busy else step[1],
            "advance",
            id=f"advance-{order.id}",
            testid="advance-button",
            class_="btn btn-primary btn-big",
            disabled=busy,
            to=step[0],
            order=order.id,
        )
        if step
        else None,
        reject_part(state, order),
    )


def reject_part(state: State, order: Order) -> Markup | None:
    """A paid order a barista cannot make: "Reject", then a small form asking why (the
    customer is told, and refunded in full)."""
    if order.status not in statuses.REJECTABLE:
        return None
    if state.rejecting != order.id:
        return button(
            "Reject",
            "reject-open",
            id=f"reject-open-{order.id}",
            testid="reject-button",
            class_="btn btn-quiet",
            order=order.id,
        )
    busy = f"reject-{order.id}" in state.busy
    field_id = f"reject-reason-{order.id}"
    return h(
        "form",
        {
            "class_": "reject-form",
            "data_action": "reject",
            "data_order": order.id,
            "data_testid": "reject-form",
        },
        h("label", {"for_": field_id}, "Why can't we make it? (the customer is told)"),
        h(
            "input",
            {
                "type": "text",
                "id": field_id,
                "name": "reason",
                "required": True,
                "maxlength": statuses.REJECT_REASON_MAX,
                "autofocus": True,
                "placeholder": "Out of oat milk",
                "data_testid": "reject-reason",
            },
        ),
        h(
            "button",
            {
                "type": "submit",
                "id": f"reject-confirm-{order.id}",
                "class_": "btn btn-danger",
                "disabled": busy,
                "data_testid": "reject-confirm",
            },
            "Rejecting…" if busy else "Reject and refund",
        ),
        button(
            "Keep it",
            "reject-close",
            id=f"reject-close-{order.id}",
            testid="reject-keep",
            class_="btn btn-quiet",
        ),
    )
