"""The one environment reader of CoffeeShop.Order (django-environ)."""

import environ

SITE = "order"
env = environ.Env()
