"""Shapes of the menu API."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from order_site.menu.models import (
    ALLERGEN_KEYS,
    BADGE_KEYS,
    MAX_CALORIES,
    Calories,
    Category,
    Option,
    OptionGroup,
    Product,
    Variation,
)
from shared.photos import PHOTOS

MAX_PRICE = 1_000_000  # £10,000: a sanity bound against typos
PHOTO_KEYS = ["", *PHOTOS]


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


class CaloriesSerializer(serializers.ModelSerializer):
    """The kcal of one size (`size_id`: an option of the product's size group; null
    for a product without sizes)."""

    size_id = serializers.IntegerField(allow_null=True)

    class Meta:
        model = Calories
        fields = ["size_id", "kcal"]


class ProductSerializer(serializers.ModelSerializer):
    variations = VariationSerializer(many=True)
    option_groups = OptionGroupSerializer(many=True)
    allergens = serializers.ListField(child=serializers.CharField())
    badges = serializers.ListField(child=serializers.CharField())
    calories = CaloriesSerializer(many=True)

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
            "photo",
            "badges",
            "calories",
        ]


class CategorySerializer(serializers.ModelSerializer):
    products = ProductSerializer(many=True)

    class Meta:
        model = Category
        fields = ["id", "name", "products"]


class CaloriesInputSerializer(serializers.Serializer):
    size_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1, allow_null=True)
    kcal = serializers.IntegerField(min_value=0, max_value=MAX_CALORIES)


def _badges_field(**kwargs: Any) -> serializers.ListField:
    badge = serializers.ChoiceField(
        choices=BADGE_KEYS,
        error_messages={
            "invalid_choice": f'"{{input}}" is not a badge. Use: {", ".join(BADGE_KEYS)}.'
        },
    )
    return serializers.ListField(child=badge, max_length=len(BADGE_KEYS), **kwargs)


def _photo_field(**kwargs: Any) -> serializers.ChoiceField:
    return serializers.ChoiceField(
        choices=PHOTO_KEYS,
        allow_blank=True,
        error_messages={
            "invalid_choice": f'No photo "{{input}}" is shipped (wasm_client/static/photos/). '
            f'Use one of: {", ".join(PHOTOS)}; or "" for none.'
        },
        **kwargs,
    )


def _calories_field(**kwargs: Any) -> serializers.ListSerializer[Any]:
    return serializers.ListSerializer(child=CaloriesInputSerializer(), max_length=20, **kwargs)


def _each_badge_once(value: list[str]) -> list[str]:
    if len(set(value)) != len(value):
        raise serializers.ValidationError("A badge is listed twice.")
    if {"vegan", "vegan_with_plant_milk"} <= set(value):
        raise serializers.ValidationError("Vegan, or vegan with plant milk: not both.")
    return value


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
    photo = _photo_field(required=False, default="")
    badges = _badges_field(required=False, default=list)
    calories = _calories_field(required=False, default=list)

    def validate_badges(self, value: list[str]) -> list[str]:
        return _each_badge_once(value)


class ProductUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    base_price = serializers.IntegerField(min_value=0, max_value=MAX_PRICE, required=False)
    is_available = serializers.BooleanField(required=False)
    allergens = serializers.ListField(
        child=serializers.ChoiceField(choices=ALLERGEN_KEYS), required=False
    )
    variation_label = serializers.CharField(max_length=40, required=False)
    photo = _photo_field(required=False)
    badges = _badges_field(required=False)
    calories = _calories_field(required=False)

    def validate_badges(self, value: list[str]) -> list[str]:
        return _each_badge_once(value)


class PriceAvailabilitySerializer(serializers.Serializer):
    price_delta = serializers.IntegerField(
        min_value=-MAX_PRICE, max_value=MAX_PRICE, required=False
    )
    is_available = serializers.BooleanField(required=False)
