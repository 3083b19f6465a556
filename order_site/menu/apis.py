"""Menu API: anyone reads the menu; only managers change it."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from order_site.menu import selectors, services
from order_site.menu.serializers import (
    CategorySerializer,
    OptionSerializer,
    PriceAvailabilitySerializer,
    ProductCreateSerializer,
    ProductSerializer,
    ProductUpdateSerializer,
    VariationSerializer,
)
from order_site.users.permissions import IsManager

PROBLEM = OpenApiResponse(OpenApiTypes.OBJECT, description="RFC 9457 problem details")
ERRORS = {code: PROBLEM for code in (400, 401, 403, 404)}


class MenuApi(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(operation_id="menu_get", responses={200: CategorySerializer(many=True)}, auth=[])
    def get(self, request: Request) -> Response:
        return Response(CategorySerializer(selectors.menu_categories(), many=True).data)


def _product_data(product_id: int) -> dict[str, Any]:
    product = selectors.menu_product(product_id=product_id)
    return dict(ProductSerializer(product).data)


class ProductCreateApi(APIView):
    permission_classes = [IsManager]

    @extend_schema(
        operation_id="menu_product_create",
        request=ProductCreateSerializer,
        responses={201: ProductSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        serializer = ProductCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        product = services.product_create(**serializer.validated_data)
        return Response(_product_data(product.id), status=201)


class ProductUpdateApi(APIView):
    permission_classes = [IsManager]

    @extend_schema(
        operation_id="menu_product_update",
        request=ProductUpdateSerializer,
        responses={200: ProductSerializer, **ERRORS},
    )
    def patch(self, request: Request, product_id: int) -> Response:
        serializer = ProductUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.product_update(product_id=product_id, changes=dict(serializer.validated_data))
        return Response(_product_data(product_id))


class VariationUpdateApi(APIView):
    permission_classes = [IsManager]

    @extend_schema(
        operation_id="menu_variation_update",
        request=PriceAvailabilitySerializer,
        responses={200: VariationSerializer, **ERRORS},
    )
    def patch(self, request: Request, variation_id: int) -> Response:
        serializer = PriceAvailabilitySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        variation = services.variation_update(
            variation_id=variation_id, **serializer.validated_data
        )
        return Response(VariationSerializer(variation).data)


class OptionUpdateApi(APIView):
    permission_classes = [IsManager]

    @extend_schema(
        operation_id="menu_option_update",
        request=PriceAvailabilitySerializer,
        responses={200: OptionSerializer, **ERRORS},
    )
    def patch(self, request: Request, option_id: int) -> Response:
        serializer = PriceAvailabilitySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        option = services.option_update(option_id=option_id, **serializer.validated_data)
        return Response(OptionSerializer(option).data)
