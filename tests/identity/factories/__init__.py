"""Factories for the Identity suite, one module per app of `identity_site`
(`accounts`, `oauth`, `outbox`). They import Identity's models, so only the Identity
suite (run under Identity's settings) can use them."""
