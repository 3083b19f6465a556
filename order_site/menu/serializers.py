"""Shapes of the menu API."""

from __future__ import annotations

from rest_framework import serializers

from order_site.menu.models import ALLERGEN_KEYS, Category, Option, OptionGroup, Product, Variation

MAX_PRICE = 1_000_000  # £10,000: a sanity bound against typos


class OptionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Option
        fields = ["id", "name", "price_delta", "is_available", "allergens", "removes_allergens"]


class OptionGroupSerializer(serializers.ModelSerializer):
    options = OptionSerializer(many=True)

    class Meta:
        model = OptionGroup
        fields = ["id", "name", "min_selections", "max_selections", "options"]


class VariationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Variation
        fields = ["id", "name", "price_delta", "is_available"]


class ProductSerializer(serializers.ModelSerializer):
    variations = VariationSerializer(many=True)
    option_groups = OptionGroupSerializer(many=True)
    allergens = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = Product
        fields = [
            "id",
            "name",
            "description",
            "base_price",
            "currency",
            "is_available",
            "allergens",
            "variation_required",
            "variation_label",
            "variations",
            "option_groups",
        ]


class CategorySerializer(serializers.ModelSerializer):
    products = ProductSerializer(many=True)

    class Meta:
        model = Category
        fields = ["id", "name", "products"]


class ProductCreateSerializer(serializers.Serializer):
    category_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    name = serializers.CharField(max_length=120)
    description = serializers.CharField(required=False, default="", allow_blank=True)
    base_price = serializers.IntegerField(min_value=0, max_value=MAX_PRICE)
    currency = serializers.RegexField(r"^[A-Z]{3}$", required=False, default="GBP")
    is_available = serializers.BooleanField(required=False, default=True)
    allergens = serializers.ListField(
        child=serializers.ChoiceField(choices=ALLERGEN_KEYS), required=False, default=list
    )
    variation_required = serializers.BooleanField(required=False, default=True)
    variation_label = serializers.CharField(max_length=40, required=False, default="Choice")
    option_group_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        required=False,
        default=list,
        max_length=20,
    )


class ProductUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    base_price = serializers.IntegerField(min_value=0, max_value=MAX_PRICE, required=False)
    is_available = serializers.BooleanField(required=False)
    allergens = serializers.ListField(
        child=serializers.ChoiceField(choices=ALLERGEN_KEYS), required=False
    )
    variation_label = serializers.CharField(max_length=40, required=False)


class PriceAvailabilitySerializer(serializers.Serializer):
    price_delta = serializers.IntegerField(
        min_value=-MAX_PRICE, max_value=MAX_PRICE, required=False
    )
    is_available = serializers.BooleanField(required=False)
