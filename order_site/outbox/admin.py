from django.contrib import admin

from order_site.outbox.models import OutboxEvent, ProcessedEvent


@admin.register(OutboxEvent)
class OutboxEventAdmin(admin.ModelAdmin):
    list_display = ("id", "event_type", "key", "created_at", "sent_at")
    list_filter = ("event_type",)
    readonly_fields = ("event_id", "topic", "key", "event_type", "envelope", "sent_at")


@admin.register(ProcessedEvent)
class ProcessedEventAdmin(admin.ModelAdmin):
    list_display = ("consumer", "event_id", "event_type", "processed_at")
