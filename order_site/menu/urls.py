from django.urls import path

from order_site.menu import apis

urlpatterns = [
    path("", apis.MenuApi.as_view(), name="menu"),
    path("products/", apis.ProductCreateApi.as_view(), name="menu-product-create"),
    path("products/<int:product_id>/", apis.ProductUpdateApi.as_view(), name="menu-product"),
    path(
        "variations/<int:variation_id>/", apis.VariationUpdateApi.as_view(), name="menu-variation"
    ),
    path("options/<int:option_id>/", apis.OptionUpdateApi.as_view(), name="menu-option"),
]
