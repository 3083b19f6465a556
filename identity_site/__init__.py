"""CoffeeShop.Identity: users, roles and the OAuth2/OIDC provider."""
