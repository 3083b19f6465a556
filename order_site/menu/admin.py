from django.contrib import admin

from order_site.menu.models import Category, Option, OptionGroup, Product, Variation


class VariationInline(admin.TabularInline):
    model = Variation
    extra = 0


class OptionInline(admin.TabularInline):
    model = Option
    extra = 0


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "position")


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("name", "category", "base_price", "currency", "is_available")
    list_filter = ("category", "is_available")
    list_editable = ("is_available",)
    search_fields = ("name",)
    filter_horizontal = ("option_groups",)
    inlines = [VariationInline]


@admin.register(OptionGroup)
class OptionGroupAdmin(admin.ModelAdmin):
    list_display = ("name", "min_selections", "max_selections")
    inlines = [OptionInline]
