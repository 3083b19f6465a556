from typing import Any

from django import forms
from django.contrib import admin
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest

from order_site.menu.models import Calories, Category, Option, OptionGroup, Product, Variation
from order_site.menu.services import menu_change_record
from shared.dietary import BADGES
from shared.photos import PHOTOS


class AnnouncesMenuChanges(admin.ModelAdmin):
    """Every edit made here is announced like the managers' API edits (`menu.changed`,
    in the edit's own transaction), so open menus refresh after an admin edit too."""

    def _announce(self, pk: Any, fields: list[str]) -> None:
        item = self.model._meta.model_name or "menu"
        menu_change_record(item=item, item_id=pk, fields=fields)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            self._announce(obj.pk, list(form.changed_data) if change else [])

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        with transaction.atomic():
            super().save_formset(request, form, formset, change)
            if formset.has_changed():
                self._announce(form.instance.pk, [formset.model._meta.model_name])

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        with transaction.atomic():
            pk = obj.pk
            super().delete_model(request, obj)
            self._announce(pk, [])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        with transaction.atomic():
            super().delete_queryset(request, queryset)
            self._announce(None, [])


class VariationInline(admin.TabularInline):
    model = Variation
    extra = 0


class OptionInline(admin.TabularInline):
    model = Option
    extra = 0


class CaloriesInline(admin.TabularInline):
    """Calories per size: a size is an option of a group of exactly one choice (Size);
    a product without sizes has one row with none."""

    model = Calories
    extra = 0
    fields = ("size", "kcal")

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "size":
            kwargs["queryset"] = Option.objects.filter(
                group__min_selections=1, group__max_selections=1
            ).select_related("group")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ProductAdminForm(forms.ModelForm):
    """A manager picks a shipped photo from a list and ticks badges (never types keys)."""

    photo = forms.ChoiceField(
        choices=[("", "No photo"), *((key, f"{key}: {p.alt}") for key, p in PHOTOS.items())],
        required=False,
    )
    badges = forms.MultipleChoiceField(
        choices=list(BADGES.items()), widget=forms.CheckboxSelectMultiple, required=False
    )

    class Meta:
        model = Product
        fields = [
            "category",
            "name",
            "description",
            "photo",
            "badges",
            "base_price",
            "currency",
            "is_available",
            "allergens",
            "variation_required",
            "variation_label",
            "option_groups",
            "position",
        ]


@admin.register(Category)
class CategoryAdmin(AnnouncesMenuChanges):
    list_display = ("name", "position")


@admin.register(Product)
class ProductAdmin(AnnouncesMenuChanges):
    list_display = ("name", "category", "base_price", "currency", "is_available")
    list_filter = ("category", "is_available")
    list_editable = ("is_available",)
    search_fields = ("name",)
    filter_horizontal = ("option_groups",)
    form = ProductAdminForm
    inlines = [VariationInline, CaloriesInline]


@admin.register(OptionGroup)
class OptionGroupAdmin(AnnouncesMenuChanges):
    list_display = ("name", "min_selections", "max_selections")
    inlines = [OptionInline]
