"""Delivery admin: outbox messages with every attempt, a "retry now" action, and ERP tokens."""
from django.contrib import admin, messages

from collaboration.admin import ReadOnlyInline
from erp_bridge.models import DeliveryAttempt, ErpApiToken, OutboxMessage
from erp_bridge.tasks import replay


class DeliveryAttemptInline(ReadOnlyInline):
    model = DeliveryAttempt
    fields = ["attempted_at", "outcome", "status_code", "latency_ms", "error"]


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ["occurred_at", "type", "aggregate", "sequence", "destination", "status", "attempt_count", "next_attempt_at", "delivered_at"]
    list_filter = ["status", "type", "destination"]
    search_fields = ["aggregate", "id"]
    readonly_fields = [f.name for f in OutboxMessage._meta.fields]
    inlines = [DeliveryAttemptInline]
    actions = ["retry_now"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="Retry / replay now (pending and dead letters)")
    def retry_now(self, request, queryset):
        ids = replay(queryset)
        self.message_user(request, f"{len(ids)} message(s) queued for delivery now.", messages.SUCCESS)


@admin.register(ErpApiToken)
class ErpApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["name", "prefix", "key_hash", "created_at", "last_used_at", "revoked_at"]

    def has_add_permission(self, request) -> bool:
        # Tokens are created with `manage.py create_erp_token`, which shows the secret once.
        return False
