from django.apps import AppConfig


class OrderPaymentsConfig(AppConfig):
    name = "order_site.order_payments"
    label = "order_payments"
    verbose_name = "Order payments"
