from django.apps import AppConfig


class AdminOidcConfig(AppConfig):
    name = "shared.admin_oidc"
    label = "admin_oidc"
    verbose_name = "Admin sign-in with CoffeeShop"

    def ready(self) -> None:
        from django.contrib import admin

        # The admin's login page offers "Sign in with CoffeeShop" first.
        admin.site.login_template = "admin_oidc/login.html"
