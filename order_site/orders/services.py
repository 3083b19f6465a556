"""Writes of the order domain: placing, advancing, and the order's side of cancels,
rejects and payment outcomes.

Every change locks the order row (`select_for_update`), records the transition
(who, when) and writes its event to the outbox in the same transaction. What also
moves money — a charge's outcome, a cancel or reject that refunds, a manager's refund —
runs in `order_site.order_payments`, which calls the `order_mark_…` functions here
inside its own transaction; this module asks the payments app only to write a new
order's charge and to cancel an expired order's untried one.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from order_site.menu.selectors import pricing_menu
from order_site.orders.events import order_event_new, order_event_payload
from order_site.orders.models import (
    FAVOURITES_MAX,
    TRANSITIONS,
    Favourite,
    Order,
    OrderLine,
    OrderStatus,
    OrderStatusChange,
)
from order_site.orders.numbers import pickup_number_next
from order_site.orders.placement import PlacementWriter, Render, placement_write
from order_site.orders.selectors import order_cancellable_until
from order_site.outbox.services import outbox_record
from order_site.payments.models import Payment, PaymentStatus
from order_site.payments.selectors import refunded_total
from order_site.payments.services import payment_cancel
from order_site.users.principals import Principal
from shared import metrics
from shared.cart import CartInvalid, CartLine, Catalogue, cart_check
from shared.db import rows_insert_together
from shared.events import ORDER_EVENTS_TOPIC
from shared.problems import Conflict, DomainError, InvalidInput, NotFound

logger = logging.getLogger("coffeeshop.order.orders")


class IdempotencyKeyReused(DomainError):
    """RFC 9457 + draft-ietf-httpapi-idempotency-key-header section 2.7: 422 for a key
    reused with a different request."""

    status, slug, title = 422, "idempotency-key-reused", "Idempotency key reused"


class IllegalTransition(Conflict):
    slug, title = "illegal-transition", "Illegal status transition"


class Forbidden(DomainError):
    status, slug, title = 403, "forbidden", "Forbidden"


@dataclass(frozen=True)
class LineRequest:
    product_id: int
    quantity: int
    variation_id: int | None = None
    option_ids: tuple[int, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class PlacementResult:
    order: Order
    status_code: int
    body: dict[str, Any]
    replayed: bool


def request_fingerprint(data: Any) -> str:
    """SHA-256 of the request body in canonical JSON: the same body, the same print."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


# ---- placing -----------------------------------------------------------------------------


@dataclass
class _PricedRequest:
    lines: list[OrderLine]
    total: int
    currency: str


def _price_lines(lines: Sequence[LineRequest]) -> _PricedRequest:
    """Check every line against the menu and price it with the validator the BFF's
    price preview uses (`shared.cart`); raises InvalidInput naming each offending
    field (`lines[0].product_id` …) with the same words as the preview."""
    menu = pricing_menu(
        product_ids={line.product_id for line in lines},
        option_ids={oid for line in lines for oid in line.option_ids},
    )
    cart = [
        CartLine(line.product_id, line.quantity, line.variation_id, line.option_ids)
        for line in lines
    ]
    try:
        checked = cart_check(lines=cart, catalogue=menu.catalogue)
    except CartInvalid:
        # The copy may be up to a second behind a menu change made elsewhere (oat milk
        # back on sale, already shown to the customer): ask the version before refusing.
        fresh = pricing_menu(
            product_ids={line.product_id for line in lines},
            option_ids={oid for line in lines for oid in line.option_ids},
            recheck=True,
        )
        try:
            checked = cart_check(lines=cart, catalogue=fresh.catalogue)
        except CartInvalid as err:
            raise InvalidInput(err.detail, errors=err.errors) from None
    order_lines = [
        OrderLine(
            product_id=line.product.id,
            product_name=line.product.name,
            variation_id=line.variation.id if line.variation else None,
            variation_name=line.variation.name if line.variation else "",
            base_price=line.product.base_price,
            variation_delta=line.variation.price_delta if line.variation else 0,
            options=[
                {"id": o.id, "group": g.name, "name": o.name, "price_delta": o.price_delta}
                for g, o in line.options
            ],
            quantity=line.line.quantity,
            unit_price=line.unit_price,
            line_total=line.line_total,
        )
        for line in checked.lines
    ]
    return _PricedRequest(order_lines, checked.total, checked.currency)


def _find_placement(customer_id: int, idempotency_key: str) -> Order | None:
    return Order.objects.filter(customer_id=customer_id, idempotency_key=idempotency_key).first()


def _replay(order: Order, fingerprint: str) -> PlacementResult:
    if order.request_fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was used with a different request.",
            errors={"Idempotency-Key": ["Already used with a different request body."]},
        )
    return PlacementResult(order, order.response_status, order.response_body, replayed=True)


def order_place(
    *,
    customer_id: int,
    idempotency_key: str,
    fingerprint: str,
    lines: Sequence[LineRequest],
    render: Render,
    payment_method: str,
    cup_name: str = "",
    note: str = "",
    write: PlacementWriter = placement_write,
) -> PlacementResult:
    """Place an order once per (customer, idempotency key).

    A retry with the same key and fingerprint replays the first answer (even when
    many retries race: the unique key lets one insert win, the others wait for it
    and replay); the same key with another fingerprint raises IdempotencyKeyReused
    (422). Raises InvalidInput naming the field for lines the menu cannot serve or a
    `payment_method` that is not a provider token; nothing is written then. On
    success the order is `pending_payment`, its `order.placed` event is in the outbox
    and the charge is requested; `cup_name` and `note` (checked by the API's serializer)
    are kept with it for the barista. `write` writes the rows (`placement.py`): in one
    statement by default, or `placement_write_plain`, the same rows through the ORM.
    """
    # No look-up first: the unique (customer, key) constraint decides. A retry fails
    # the insert below (waiting for the first placement to commit) and replays it.
    try:
        priced = _price_lines(lines)
    except InvalidInput:
        # The menu may have changed since the first placement: its answer still stands.
        existing = _find_placement(customer_id, idempotency_key)
        if existing is None:
            raise
        return _replay(existing, fingerprint)
    order = Order(
        customer_id=customer_id,
        status=OrderStatus.PENDING_PAYMENT,
        total=priced.total,
        currency=priced.currency,
        idempotency_key=idempotency_key,
        request_fingerprint=fingerprint,
        response_status=201,
        cup_name=cup_name,
        note=note,
    )
    try:
        body = write(order, priced.lines, payment_method=payment_method, render=render)
    except IntegrityError:
        # Another request with this key won the race; its transaction has committed.
        existing = _find_placement(customer_id, idempotency_key)
        if existing is None:
            raise
        return _replay(existing, fingerprint)
    # The charge is queued by Order's relay process (payments_dispatch), not from here.
    transaction.on_commit(metrics.ORDERS_PLACED.inc)
    return PlacementResult(order, 201, body, replayed=False)


# ---- transitions -------------------------------------------------------------------------


def _emit(order: Order, event_type: str, **extra: Any) -> None:
    outbox_record(
        topic=ORDER_EVENTS_TOPIC,
        key=str(order.id),
        event_type=event_type,
        payload=order_event_payload(order, extra),
    )


def order_locked(*, order_id: int) -> Order:
    """The order, its row locked until the caller's transaction ends. Raises NotFound."""
    order = Order.objects.select_for_update().filter(id=order_id).first()
    if order is None:
        raise NotFound(f"No order {order_id}.")
    return order


def _transition(
    order: Order,
    to_status: str,
    *,
    actor_id: int | None,
    note: str = "",
    also: Sequence[str] = (),
    event: tuple[str, dict[str, Any]] | None = None,
) -> str:
    """Move a locked order to `to_status`; raises IllegalTransition (409), changing nothing.

    Saves the status (and the fields named in `also`) in one UPDATE, then writes the
    recorded transition and, when given, the event `(type, extra payload)` in one
    INSERT statement (shared.db). Returns the status the order left.
    """
    from_status = order.status
    if to_status not in TRANSITIONS[from_status]:
        raise IllegalTransition(
            f"An order that is {from_status} cannot become {to_status}.",
            current_status=from_status,
            requested_status=to_status,
        )
    order.status = to_status
    order.save(update_fields=["status", "updated_at", *also])
    rows: list[Any] = [
        OrderStatusChange(
            order=order, from_status=from_status, to_status=to_status, actor_id=actor_id, note=note
        )
    ]
    if event is not None:
        event_type, extra = event
        rows.append(order_event_new(order, event_type, **extra))
    rows_insert_together(rows)
    return from_status


ADVANCE_TARGETS = (OrderStatus.IN_PREPARATION, OrderStatus.READY, OrderStatus.COLLECTED)


@transaction.atomic
def order_advance(*, order_id: int, to_status: str, actor: Principal) -> Order:
    """Staff move an order along the queue (placed → in_preparation → ready → collected).

    Raises Forbidden for non-staff, NotFound, or IllegalTransition (409) when the
    order is not in the state before `to_status` (e.g. two baristas racing).
    """
    if not actor.is_staff_member:
        raise Forbidden("Only baristas and managers may advance orders.")
    if to_status not in ADVANCE_TARGETS:
        raise InvalidInput(
            f"{to_status} is not a queue step.",
            errors={"status": [f"Must be one of {', '.join(ADVANCE_TARGETS)}."]},
        )
    order = order_locked(order_id=order_id)
    _transition(
        order,
        to_status,
        actor_id=actor.user_id,
        event=(
            "order.status_changed",
            {"from_status": order.status, "to_status": to_status, "actor_id": actor.user_id},
        ),
    )
    return order


class CancelWindowClosed(Conflict):
    slug, title = "cancel-window-closed", "Too late to cancel here"


class PaymentInProgress(Conflict):
    slug, title = "payment-in-progress", "Payment in progress"


CANCEL_LOCK_WAIT_MS = 2000


@transaction.atomic
def order_mark_cancelled(
    *, order_id: int, actor: Principal, reason: str = ""
) -> tuple[Order, bool]:
    """The order's side of a cancel (`order_payments.services.order_cancel` adds the
    refund of a paid order, in the same transaction).

    Its customer may cancel while it is `pending_payment` (its charge then never
    runs: `payment_charge` checks the order under its lock), and a paid (`placed`)
    order within `ORDER_CANCEL_WINDOW_SECONDS` of paying, until a barista starts it;
    a manager may cancel while `pending_payment` or `placed`. Returns the order and
    whether it was paid (`placed`), which is when its refund is due (the event says
    so too). Raises NotFound for someone else's order, CancelWindowClosed (409) after the window,
    PaymentInProgress (409) while its charge is at the provider for more than
    CANCEL_LOCK_WAIT_MS, or IllegalTransition (409) once preparation started or it is
    already cancelled; nothing changes then.
    """
    # A charge holds the order's lock while the provider answers (`order_chargeable`):
    # wait for it a little, not for the whole provider timeout.
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL lock_timeout = '{CANCEL_LOCK_WAIT_MS}ms'")
    try:
        order = order_locked(order_id=order_id)
    except OperationalError:
        raise PaymentInProgress(
            "The payment for this order is being taken right now. Try again in a few seconds."
        ) from None
    if order.customer_id != actor.user_id and not actor.is_manager:
        raise NotFound(f"No order {order_id}.")
    if order.status == OrderStatus.PLACED and not actor.is_manager:
        until = order_cancellable_until(order)
        if until is None or timezone.now() > until:
            window = settings.ORDER_CANCEL_WINDOW_SECONDS
            raise CancelWindowClosed(
                f"A paid order can be cancelled here for {_duration(window)} after paying; "
                "that time has passed. Please ask at the counter.",
                cancellable_until=until.isoformat() if until else None,
            )
    if order.status == OrderStatus.IN_PREPARATION and not actor.is_manager:
        raise IllegalTransition(
            "A barista has started this order, so it can no longer be cancelled here. "
            "Please ask at the counter.",
            current_status=order.status,
            requested_status=OrderStatus.CANCELLED,
        )
    was_paid = order.status == OrderStatus.PLACED
    _transition(
        order,
        OrderStatus.CANCELLED,
        actor_id=actor.user_id,
        note=reason,
        event=(
            "order.cancelled",
            {
                "from_status": order.status,
                "actor_id": actor.user_id,
                "refund_requested": was_paid,
                "reason": reason,
            },
        ),
    )
    return order, was_paid


REJECT_FROM = (OrderStatus.PLACED, OrderStatus.IN_PREPARATION)
REASON_MAX = 200


@transaction.atomic
def order_mark_rejected(*, order_id: int, actor: Principal, reason: str) -> Order:
    """The order's side of a reject (`order_payments.services.order_reject` adds the
    full refund, in the same transaction): a barista or manager turns a paid order down
    (`placed` or `in_preparation` → `rejected`), saying why ("out of oat milk"); the
    customer is told why (the event carries the reason: e-mail and live update).

    Raises Forbidden (403) for non-staff, InvalidInput (400) for a reason that is
    blank or longer than REASON_MAX, NotFound, or IllegalTransition (409) from any
    other status — a second reject included; nothing changes then.
    """
    if not actor.is_staff_member:
        raise Forbidden("Only baristas and managers may reject orders.")
    reason = " ".join(reason.split())
    if not 1 <= len(reason) <= REASON_MAX:
        raise InvalidInput(
            "Say why the order is rejected (1 to 200 characters).",
            errors={"reason": [f"Must be 1 to {REASON_MAX} characters."]},
        )
    order = order_locked(order_id=order_id)
    if order.status not in REJECT_FROM:
        raise IllegalTransition(
            f"An order that is {order.status} cannot be rejected.",
            current_status=order.status,
            requested_status=OrderStatus.REJECTED,
        )
    _transition(
        order,
        OrderStatus.REJECTED,
        actor_id=actor.user_id,
        note=reason,
        event=(
            "order.status_changed",
            {
                "from_status": order.status,
                "to_status": OrderStatus.REJECTED,
                "actor_id": actor.user_id,
                "reason": reason,
                "refund_requested": True,
            },
        ),
    )
    return order


# ---- sweeps of stale orders (Celery beat: order_site/orders/tasks.py) ----------------------

SWEEP_BATCH = 500


def _sweep_transition(order_id: int, *, from_status: str, to_status: str, note: str) -> bool:
    """In the caller's transaction: move the order from `from_status` to `to_status` as
    done by the system (actor None, `note` as the reason, with its `order.status_changed`
    event). False when someone else holds the order now or it has moved on."""
    order = (
        Order.objects.select_for_update(skip_locked=True)
        .filter(id=order_id, status=from_status)
        .first()
    )
    if order is None:
        return False
    _transition(
        order,
        to_status,
        actor_id=None,
        note=note,
        event=(
            "order.status_changed",
            {"from_status": from_status, "to_status": to_status, "actor_id": None, "reason": note},
        ),
    )
    return True


def orders_not_collected_sweep(*, older_than: timedelta, limit: int = SWEEP_BATCH) -> int:
    """Move `ready` orders that became ready more than `older_than` ago to
    `not_collected`, recorded as done by the system (actor None) with the reason, each
    with its `order.status_changed` event; returns how many. Orders locked by someone
    else right now (a barista marking one collected) are left for the next run."""
    cutoff = timezone.now() - older_than
    minutes = int(older_than.total_seconds() // 60)
    note = f"not collected within {minutes} minutes of being ready"
    moved = 0
    ids = list(
        Order.objects.filter(
            status=OrderStatus.READY,
            status_changes__to_status=OrderStatus.READY,
            status_changes__at__lt=cutoff,
        )
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
    for order_id in ids:
        with transaction.atomic():
            if _sweep_transition(
                order_id,
                from_status=OrderStatus.READY,
                to_status=OrderStatus.NOT_COLLECTED,
                note=note,
            ):
                moved += 1
    if moved:
        logger.info("orders: %d ready orders marked not collected", moved)
    return moved


def orders_unpaid_expire(*, older_than: timedelta, limit: int = SWEEP_BATCH) -> int:
    """Move orders still `pending_payment` more than `older_than` after placement to
    `expired` (actor None, with the reason and an `order.status_changed` event);
    returns how many.

    Their payment, when still `requested` and never tried at the provider
    (attempts 0), is cancelled in the same transaction: it is never charged. A payment
    already tried (its answer lost: timeout, 5xx) is left to its retries, because the
    provider may have charged: if it turns out charged, `order_mark_paid` records it
    and refunds it in full at once; if declined, nothing more happens. A payment whose
    charge is running right now (its row locked) is skipped until the next run, so the
    sweep never waits on the provider.
    """
    cutoff = timezone.now() - older_than
    minutes = int(older_than.total_seconds() // 60)
    note = f"not paid within {minutes} minutes"
    expired = 0
    ids = list(
        Order.objects.filter(status=OrderStatus.PENDING_PAYMENT, created_at__lt=cutoff)
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
    for order_id in ids:
        with transaction.atomic():
            # Payment first, then order: the order in which `payment_charge` locks them.
            payments = list(
                Payment.objects.select_for_update(skip_locked=True).filter(order_id=order_id)
            )
            if len(payments) != Payment.objects.filter(order_id=order_id).count():
                continue  # its charge is running now
            if not _sweep_transition(
                order_id,
                from_status=OrderStatus.PENDING_PAYMENT,
                to_status=OrderStatus.EXPIRED,
                note=note,
            ):
                continue
            for payment in payments:
                if payment.status == PaymentStatus.REQUESTED and payment.attempts == 0:
                    payment_cancel(payment)
            expired += 1
    if expired:
        logger.info("orders: %d unpaid orders expired", expired)
    return expired


def _duration(seconds: int) -> str:
    if seconds % 60 == 0 and seconds >= 60:
        minutes = seconds // 60
        return f"{minutes} minute" + ("s" if minutes != 1 else "")
    return f"{seconds} second" + ("s" if seconds != 1 else "")


# ---- the order's side of payment outcomes (called by order_site.order_payments) ---------


def order_chargeable(*, order_id: int) -> bool:
    """Whether the order's charge may run: locks the order (inside the caller's
    transaction, held until it commits) and answers False once it is cancelled or
    gone. `order_payments.charges.payment_charge` asks this before calling the
    provider, so a cancel that committed first stops the charge, and a cancel that
    comes later waits for it. An expired order (never paid in time) is not chargeable
    either."""
    order = Order.objects.select_for_update().filter(id=order_id).first()
    return order is not None and order.status not in (OrderStatus.CANCELLED, OrderStatus.EXPIRED)


@transaction.atomic
def order_mark_paid(*, order_id: int, payment_reference: str) -> Order:
    """pending_payment → placed, emitting `order.paid`. Idempotent: any later state is
    returned unchanged. A payment that lands after the order was cancelled or expired
    (a charge already at the provider when the order expired) is recorded on the order,
    which stays as it is: the caller (`order_payments.charges`) refunds it. Raises
    NotFound."""
    order = order_locked(order_id=order_id)
    if order.status == OrderStatus.PENDING_PAYMENT:
        order.payment_reference = payment_reference
        order.paid_at = timezone.now()
        order.number_day = timezone.localdate(order.paid_at)
        order.number = pickup_number_next(day=order.number_day)
        _transition(
            order,
            OrderStatus.PLACED,
            actor_id=None,
            note="payment captured",
            also=["payment_reference", "paid_at", "number", "number_day"],
            event=("order.paid", {"payment_reference": payment_reference}),
        )
        transaction.on_commit(metrics.ORDERS_PAID.inc)
    elif (
        order.status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED) and not order.payment_reference
    ):
        order.payment_reference = payment_reference
        order.save(update_fields=["payment_reference", "updated_at"])
        logger.warning("order %s was paid after it was %s: refunding", order.id, order.status)
    return order


@transaction.atomic
def order_mark_payment_failed(*, order_id: int, reason: str) -> Order:
    """pending_payment → payment_failed, emitting `order.payment_failed`. Idempotent:
    any other state is returned unchanged. Raises NotFound."""
    order = order_locked(order_id=order_id)
    if order.status == OrderStatus.PENDING_PAYMENT:
        order.failure_reason = reason[:255]
        _transition(
            order,
            OrderStatus.PAYMENT_FAILED,
            actor_id=None,
            note=reason[:255],
            also=["failure_reason"],
            event=("order.payment_failed", {"reason": reason}),
        )
        transaction.on_commit(metrics.ORDERS_PAYMENT_FAILED.inc)
    return order


@transaction.atomic
def order_mark_refunded(
    *,
    order_id: int,
    refund_reference: str,
    amount: int | None = None,
    reason: str = "",
) -> Order:
    """Record a refund the provider confirmed, with its `order.refunded` event (carrying
    `amount`, the `refunded_total` so far and whether that is `full`); the order is
    marked refunded once its refunds reach its total. `amount` None is a full refund
    (then idempotent: a second call changes nothing). A part refund's event is written
    once per refund because `order_payments.refunds.payment_refund` calls this once,
    under the refund's lock. Raises NotFound."""
    order = order_locked(order_id=order_id)  # the refunds' sum is read after this lock: no race
    if amount is None:
        amount = total = order.total
    else:
        total = refunded_total(order_id=order_id)
    full = total >= order.total
    if full and order.refund_reference:
        return order
    if full:
        order.refund_reference = refund_reference
        order.refunded_at = timezone.now()
        order.save(update_fields=["refund_reference", "refunded_at", "updated_at"])
    _emit(
        order,
        "order.refunded",
        refund_reference=refund_reference,
        amount=amount,
        refunded_total=total,
        full=full,
        reason=reason,
    )
    transaction.on_commit(metrics.ORDERS_REFUNDED.inc)
    return order


# ---- favourites ("my usual", issue 17) -----------------------------------------------------


class TooManyFavourites(Conflict):
    slug, title = "too-many-favourites", "Too many favourites"


def _ignoring_availability(catalogue: Catalogue) -> Catalogue:
    """The menu as if nothing were sold out: a favourite may be saved while its oat milk
    is out today (the menu page flags it until it is back)."""
    return Catalogue(
        {
            product_id: replace(
                product,
                is_available=True,
                variations=tuple(replace(v, is_available=True) for v in product.variations),
                groups=tuple(
                    replace(g, options=tuple(replace(o, is_available=True) for o in g.options))
                    for g in product.groups
                ),
            )
            for product_id, product in catalogue.products.items()
        }
    )


def favourite_save(
    *,
    customer_id: int,
    product_id: int,
    variation_id: int | None,
    option_ids: Sequence[int],
    name: str = "",
) -> tuple[Favourite, bool]:
    """Save a drink as the customer's favourite; returns it and whether it is new.

    The drink is checked against the menu as a cart line is (the product, its variation
    and options must exist and fit its groups; sold out is allowed). The same drink saved
    again keeps one favourite, renamed when `name` is given. Raises InvalidInput naming
    the field (`product_id`, `variation_id`, `option_ids`), TooManyFavourites (409) past
    FAVOURITES_MAX; nothing is written then.
    """
    options = sorted(option_ids)
    menu = pricing_menu(product_ids={product_id}, option_ids=set(options))
    try:
        cart_check(
            lines=[CartLine(product_id, 1, variation_id, tuple(options))],
            catalogue=_ignoring_availability(menu.catalogue),
        )
    except CartInvalid as err:
        raise InvalidInput(
            "This drink is not on the menu as chosen.",
            errors={key.removeprefix("lines[0]."): msgs for key, msgs in err.errors.items()},
        ) from None
    with transaction.atomic():
        # The customer's favourites, locked: two saves at once cannot pass the cap.
        mine = list(
            Favourite.objects.select_for_update().filter(customer_id=customer_id).order_by("id")
        )
        for favourite in mine:
            if (
                favourite.product_id == product_id
                and favourite.variation_id == variation_id
                and favourite.option_ids == options
            ):
                if name and favourite.name != name:
                    favourite.name = name
                    favourite.save(update_fields=["name"])
                return favourite, False
        if len(mine) >= FAVOURITES_MAX:
            raise TooManyFavourites(
                f"You have {FAVOURITES_MAX} favourites already: remove one first.",
                errors={"favourites": [f"At most {FAVOURITES_MAX}."]},
            )
        try:
            with transaction.atomic():  # a savepoint: the same drink saved at once elsewhere
                favourite = Favourite.objects.create(
                    customer_id=customer_id,
                    product_id=product_id,
                    variation_id=variation_id,
                    option_ids=options,
                    name=name,
                )
        except IntegrityError:
            # The unique (person, drink) constraint: the other save won; it is this one.
            same = Favourite.objects.filter(
                customer_id=customer_id, product_id=product_id, option_ids=options
            )
            if variation_id is None:
                return same.get(variation__isnull=True), False
            return same.get(variation_id=variation_id), False
    return favourite, True


def favourite_delete(*, customer_id: int, favourite_id: int) -> None:
    """Remove one of the customer's favourites. Raises NotFound for anyone else's (so
    its existence is not revealed) or one already gone."""
    deleted, _ = Favourite.objects.filter(id=favourite_id, customer_id=customer_id).delete()
    if not deleted:
        raise NotFound(f"No favourite {favourite_id}.")
