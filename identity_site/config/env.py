"""The one environment reader of CoffeeShop.Identity (django-environ)."""

import environ

SITE = "identity"
env = environ.Env()
