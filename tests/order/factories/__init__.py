"""Factories for the Order suite, one module per app of `order_site` (`menu`, `orders`,
`users`, `outbox`, `payments`). They import Order's models, so only the Order suite (run under
Order's settings) can use them."""
