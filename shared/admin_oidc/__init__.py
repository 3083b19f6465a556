"""Staff sign into a site's Django admin with their CoffeeShop (Identity) account.

Reusable by every site (no site imports): add `shared.admin_oidc` to INSTALLED_APPS,
`admin_oidc_urls()` before `admin.site.urls` in the URLconf, and an `ADMIN_OIDC` setting
(see `views.config`). The site's own username/password form stays at /admin/login/ for
the bootstrap superuser only (docs/decisions.md, "Admin sign-in").
"""
