"""Local stand-ins for the external services CoffeeShop talks to (DESIGN.md: Payment Service).

Nothing here is part of a site: the sites reach these servers over HTTP exactly as
they would reach the real provider, and an import contract forbids the sites and
`shared` from importing this package.
"""
