from django.contrib import admin

from order_site.users.models import Customer


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("id", "email", "name", "is_active", "source_event_at")
    search_fields = ("email", "name")
    readonly_fields = ("id", "email", "name", "roles", "is_active", "source_event_at")
