"""The one environment reader of CoffeeShop.BFF (django-environ)."""

import environ

SITE = "bff"
env = environ.Env()
