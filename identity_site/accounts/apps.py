from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "identity_site.accounts"
    label = "accounts"
    verbose_name = "Accounts"
