from django.urls import path

from order_site.orders import apis

urlpatterns = [
    path("", apis.OrderListCreateApi.as_view(), name="orders"),
    path("queue/", apis.OrderQueueApi.as_view(), name="orders-queue"),
    path("summary/", apis.OrderSummaryApi.as_view(), name="orders-summary"),
    path("search/", apis.OrderSearchApi.as_view(), name="orders-search"),
    path("favourites/", apis.FavouriteListCreateApi.as_view(), name="favourites"),
    path("favourites/<int:favourite_id>/", apis.FavouriteDetailApi.as_view(), name="favourite"),
    path("<int:order_id>/", apis.OrderDetailApi.as_view(), name="order-detail"),
    path("<int:order_id>/cancel/", apis.OrderCancelApi.as_view(), name="order-cancel"),
    path("<int:order_id>/advance/", apis.OrderAdvanceApi.as_view(), name="order-advance"),
    path("<int:order_id>/reject/", apis.OrderRejectApi.as_view(), name="order-reject"),
    path("<int:order_id>/manage/", apis.OrderManageApi.as_view(), name="order-manage"),
    path("<int:order_id>/refunds/", apis.OrderRefundApi.as_view(), name="order-refunds"),
]
