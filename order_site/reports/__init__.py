"""The manager's day report: takings, orders per hour and best sellers.

A small module of reads over both orders and payments (STYLE.md: a third module uses
both, rather than one app importing the other); no models of its own.
"""
