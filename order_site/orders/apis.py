"""Orders API: thin views over order services and selectors."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from order_site.order_payments import services as order_payments
from order_site.orders import selectors, services
from order_site.orders.models import QUEUE_STATUSES
from order_site.orders.serializers import (
    AdvanceInputSerializer,
    CancelInputSerializer,
    FavouriteInputSerializer,
    FavouriteSerializer,
    OrderSerializer,
    PlaceOrderInputSerializer,
    place_order_input,
    render_finding,
    render_order,
)
from order_site.users.permissions import IsAuthenticatedUser, IsManager, IsStaffMember
from order_site.users.principals import Principal
from shared import telemetry
from shared.cart import errors_flatten
from shared.request_input import idempotency_key_check

QUEUE_PAGE = 50  # orders per column page
QUEUE_NEWEST = 5  # latest arrivals shown with each column, whatever the backlog
PROBLEM = OpenApiResponse(OpenApiTypes.OBJECT, description="RFC 9457 problem details")
ERRORS = {code: PROBLEM for code in (400, 401, 403, 404, 409, 422)}

IDEMPOTENCY_PARAM = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description="Unique per placement; a retry with the same key and body replays the answer.",
)


def _principal(request: Request) -> Principal:
    user = request.user
    assert isinstance(user, Principal)  # guaranteed by the permission classes
    return user


def _id(value: Any) -> int:
    return int(value)


class OrderListCreateApi(APIView):
    permission_classes = [IsAuthenticatedUser]

    @extend_schema(
        operation_id="orders_mine", responses={200: OrderSerializer(many=True), **ERRORS}
    )
    def get(self, request: Request) -> Response:
        orders = selectors.order_list_for_customer(customer_id=_principal(request).user_id)[:100]
        return Response(OrderSerializer(orders, many=True).data)

    @extend_schema(
        operation_id="orders_place",
        parameters=[IDEMPOTENCY_PARAM],
        request=PlaceOrderInputSerializer,
        responses={201: OrderSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        key = idempotency_key_check(request.headers.get("Idempotency-Key"))
        validated = place_order_input(request.data)
        lines, payment_method = validated["lines"], validated["payment_method"]
        cup_name, note = validated["cup_name"], validated["note"]
        printed: dict[str, Any] = {
            "lines": [
                {**line, "option_ids": list(line["option_ids"])}
                for line in lines  # plain data: the same body gives the same print
            ],
            "payment_method": payment_method,
        }
        # Only when given: a body without them prints as it did before they existed.
        printed.update({k: v for k, v in (("cup_name", cup_name), ("note", note)) if v})
        result = services.order_place(
            customer_id=_principal(request).user_id,
            idempotency_key=key,
            fingerprint=services.request_fingerprint(printed),
            payment_method=payment_method,
            cup_name=cup_name,
            note=note,
            lines=[
                services.LineRequest(
                    product_id=line["product_id"],
                    quantity=line["quantity"],
                    variation_id=line["variation_id"],
                    option_ids=tuple(line["option_ids"]),
                )
                for line in lines
            ],
            render=render_order,
        )
        telemetry.annotate(order_id=result.order.id)
        headers = {"Location": f"/api/orders/{result.order.id}/"}
        if result.replayed:
            headers["Idempotent-Replayed"] = "true"
        return Response(result.body, status=result.status_code, headers=headers)


class FavouriteListCreateApi(APIView):
    """The acting customer's favourites ("my usual"): list them, save one."""

    permission_classes = [IsAuthenticatedUser]

    @extend_schema(
        operation_id="favourites_mine", responses={200: FavouriteSerializer(many=True), **ERRORS}
    )
    def get(self, request: Request) -> Response:
        favourites = selectors.favourite_list_for_customer(customer_id=_principal(request).user_id)
        return Response(FavouriteSerializer(favourites, many=True).data)

    @extend_schema(
        operation_id="favourites_save",
        request=FavouriteInputSerializer,
        responses={201: FavouriteSerializer, 200: FavouriteSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        serializer = FavouriteInputSerializer(data=request.data)
        if not serializer.is_valid():
            raise serializers.ValidationError(errors_flatten(serializer.errors))
        data = serializer.validated_data
        favourite, created = services.favourite_save(
            customer_id=_principal(request).user_id,
            product_id=data["product_id"],
            variation_id=data["variation_id"],
            option_ids=list(data["option_ids"]),
            name=data["name"],
        )
        return Response(FavouriteSerializer(favourite).data, status=201 if created else 200)


class FavouriteDetailApi(APIView):
    permission_classes = [IsAuthenticatedUser]

    @extend_schema(operation_id="favourites_delete", responses={204: None, **ERRORS})
    def delete(self, request: Request, favourite_id: int) -> Response:
        services.favourite_delete(
            customer_id=_principal(request).user_id, favourite_id=_id(favourite_id)
        )
        return Response(status=204)


class OrderSummarySerializer(serializers.Serializer):
    order_count = serializers.IntegerField()
    last_order = OrderSerializer(allow_null=True)


class OrderSummaryApi(APIView):
    """The acting customer's order count and newest order (the BFF's profile)."""

    permission_classes = [IsAuthenticatedUser]

    @extend_schema(operation_id="orders_summary", responses={200: OrderSummarySerializer, **ERRORS})
    def get(self, request: Request) -> Response:
        count, newest = selectors.order_summary_for_customer(
            customer_id=_principal(request).user_id
        )
        return Response(
            {
                "order_count": count,
                "last_order": OrderSerializer(newest).data if newest is not None else None,
            }
        )


class OrderDetailApi(APIView):
    permission_classes = [IsAuthenticatedUser]

    @extend_schema(operation_id="orders_get", responses={200: OrderSerializer, **ERRORS})
    def get(self, request: Request, order_id: int) -> Response:
        order = selectors.order_get(order_id=_id(order_id), viewer=_principal(request))
        return Response(OrderSerializer(order).data)


class OrderCancelApi(APIView):
    permission_classes = [IsAuthenticatedUser]

    @extend_schema(
        operation_id="orders_cancel",
        request=CancelInputSerializer,
        responses={200: OrderSerializer, **ERRORS},
    )
    def post(self, request: Request, order_id: int) -> Response:
        serializer = CancelInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        principal = _principal(request)
        order = order_payments.order_cancel(
            order_id=_id(order_id), actor=principal, reason=serializer.validated_data["reason"]
        )
        return Response(render_order(order))


class OrderAdvanceApi(APIView):
    permission_classes = [IsStaffMember]

    @extend_schema(
        operation_id="orders_advance",
        request=AdvanceInputSerializer,
        responses={200: OrderSerializer, **ERRORS},
    )
    def post(self, request: Request, order_id: int) -> Response:
        serializer = AdvanceInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order = services.order_advance(
            order_id=_id(order_id),
            to_status=serializer.validated_data["status"],
            actor=_principal(request),
        )
        return Response(render_order(order))


class QueueQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=[str(s) for s in QUEUE_STATUSES], required=False)
    cursor = serializers.CharField(max_length=100, required=False)
    limit = serializers.IntegerField(min_value=1, max_value=100, default=QUEUE_PAGE)
    newest = serializers.IntegerField(min_value=0, max_value=50, default=QUEUE_NEWEST)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "cursor" in attrs and "status" not in attrs:
            raise serializers.ValidationError({"cursor": ["A cursor needs its status."]})
        return attrs


class QueueColumnSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=[str(s) for s in QUEUE_STATUSES])
    count = serializers.IntegerField()
    results = OrderSerializer(many=True)
    next_cursor = serializers.CharField(allow_null=True)
    newest = OrderSerializer(many=True)


class QueueSerializer(serializers.Serializer):
    counts = serializers.DictField(child=serializers.IntegerField())
    columns = QueueColumnSerializer(many=True)


class OrderQueueApi(APIView):
    """The barista queue by column: each column's count, a page oldest first (keyset
    `cursor`, `limit`) and its `newest` latest arrivals; `status` asks for one column."""

    permission_classes = [IsStaffMember]

    @extend_schema(
        operation_id="orders_queue",
        parameters=[QueueQuerySerializer],
        responses={200: QueueSerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        query = QueueQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        after = selectors.queue_cursor_parse(params["cursor"]) if "cursor" in params else None
        counts = selectors.order_queue_counts()
        statuses = [params["status"]] if "status" in params else list(counts)
        columns = [
            selectors.order_queue_page(
                status=status,
                after=after,
                limit=params["limit"],
                newest=params["newest"],
                count=counts[status],
            )
            for status in statuses
        ]
        return Response(
            {
                "counts": counts,
                "columns": [
                    {
                        "status": column.status,
                        "count": column.count,
                        "results": OrderSerializer(column.orders, many=True).data,
                        "next_cursor": column.next_cursor,
                        "newest": OrderSerializer(column.newest, many=True).data,
                    }
                    for column in columns
                ],
            }
        )


class RejectInputSerializer(serializers.Serializer):
    # Length and blankness are checked by `order_mark_rejected` (1..200 after trimming).
    reason = serializers.CharField(trim_whitespace=False, allow_blank=True)


class OrderRejectApi(APIView):
    """A barista or manager rejects a paid order with a reason; it is refunded in full."""

    permission_classes = [IsStaffMember]

    @extend_schema(
        operation_id="orders_reject",
        request=RejectInputSerializer,
        responses={200: OrderSerializer, **ERRORS},
    )
    def post(self, request: Request, order_id: int) -> Response:
        serializer = RejectInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order = order_payments.order_reject(
            order_id=_id(order_id),
            actor=_principal(request),
            reason=serializer.validated_data["reason"],
        )
        return Response(render_order(order))


# ---- a manager's look-up and refunds (issue 11) -------------------------------------------

SEARCH_PAGE = 20


class SearchQuerySerializer(serializers.Serializer):
    number = serializers.RegexField(
        r"^\s*[A-Za-z]-?[0-9]{1,3}\s*$",
        max_length=12,
        required=False,
        error_messages={"invalid": 'A pickup number such as "A-042".'},
    )
    email = serializers.CharField(max_length=254, required=False)
    date = serializers.DateField(required=False, help_text="The shop's day, YYYY-MM-DD")
    cursor = serializers.CharField(max_length=100, required=False)
    limit = serializers.IntegerField(min_value=1, max_value=100, default=SEARCH_PAGE)


class ManagerOrderSerializer(OrderSerializer):
    """Documentation of `render_finding`: the order, its customer, payment and refunds."""

    customer = serializers.DictField(allow_null=True)
    payment = serializers.DictField(allow_null=True)
    refunds = serializers.ListField(child=serializers.DictField())

    class Meta(OrderSerializer.Meta):
        fields = [*OrderSerializer.Meta.fields, "customer", "payment", "refunds"]


class SearchResultSerializer(serializers.Serializer):
    results = ManagerOrderSerializer(many=True)
    next_cursor = serializers.CharField(allow_null=True)


def _pickup_number(text: str) -> str:
    """ "a42", "A-042 " → "A-042" (the form `orders/numbers.py` gives)."""
    text = text.strip().upper().replace("-", "")
    return f"{text[0]}-{int(text[1:]):03d}"


class OrderSearchApi(APIView):
    """Managers find any order by pickup number, customer e-mail or day, newest first."""

    permission_classes = [IsManager]

    @extend_schema(
        operation_id="orders_search",
        parameters=[SearchQuerySerializer],
        responses={200: SearchResultSerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        query = SearchQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        page = selectors.orders_search(
            number=_pickup_number(params["number"]) if params.get("number") else "",
            email=params.get("email", ""),
            day=params.get("date"),
            after=selectors.queue_cursor_parse(params["cursor"]) if "cursor" in params else None,
            limit=params["limit"],
        )
        return Response(
            {
                "results": [render_finding(finding) for finding in page.results],
                "next_cursor": page.next_cursor,
            }
        )


class OrderManageApi(APIView):
    """One order as a manager sees it: payment, refunds, and who did what."""

    permission_classes = [IsManager]

    @extend_schema(operation_id="orders_manage", responses={200: ManagerOrderSerializer, **ERRORS})
    def get(self, request: Request, order_id: int) -> Response:
        return Response(render_finding(selectors.order_finding(order_id=_id(order_id))))


class RefundInputSerializer(serializers.Serializer):
    amount = serializers.IntegerField(help_text="In the smallest currency unit, at least 1")
    reason = serializers.CharField(help_text="1 to 200 characters")


class OrderRefundApi(APIView):
    """A manager refunds all or part of a paid order with a reason (Idempotency-Key)."""

    permission_classes = [IsManager]

    @extend_schema(
        operation_id="orders_refund",
        parameters=[IDEMPOTENCY_PARAM],
        request=RefundInputSerializer,
        responses={201: ManagerOrderSerializer, **ERRORS},
    )
    def post(self, request: Request, order_id: int) -> Response:
        key = idempotency_key_check(request.headers.get("Idempotency-Key"))
        body = request.data if isinstance(request.data, dict) else {}
        # The service checks amount and reason, naming each wrong one.
        refund = order_payments.order_refund(
            order_id=_id(order_id),
            actor=_principal(request),
            amount=body.get("amount"),
            reason=body.get("reason"),
            idempotency_key=key,
        )
        answer = render_finding(selectors.order_finding(order_id=refund.order_id))
        return Response(
            {**answer, "refund_id": refund.id},
            status=201,
            headers={"Location": f"/api/orders/{refund.order_id}/manage/"},
        )
