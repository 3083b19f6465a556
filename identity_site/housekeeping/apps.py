from django.apps import AppConfig


class HousekeepingConfig(AppConfig):
    name = "identity_site.housekeeping"
    label = "housekeeping"
    verbose_name = "Housekeeping"
