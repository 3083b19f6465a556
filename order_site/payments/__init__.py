"""Payments of CoffeeShop.Order: charges and refunds at the payment provider, run by Celery."""
