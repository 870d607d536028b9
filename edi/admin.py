from django.contrib import admin

from edi.models import Interchange, TradingPartner


@admin.register(TradingPartner)
class TradingPartnerAdmin(admin.ModelAdmin):
    list_display = ["supplier", "qualifier", "edi_id", "charset", "directory", "is_active", "inbound_dir", "outbound_dir"]
    list_filter = ["is_active", "charset", "directory"]
    search_fields = ["supplier__code", "supplier__name", "edi_id"]
    list_select_related = ["supplier"]
    readonly_fields = ["last_control_ref", "created_at"]


@admin.register(Interchange)
class InterchangeAdmin(admin.ModelAdmin):
    """The interchange browser: what came in and went out, with its status and errors."""

    list_display = ["created_at", "direction", "partner", "control_ref", "status", "message_types", "file_name"]
    list_filter = ["direction", "status", "partner"]
    search_fields = ["control_ref", "file_name", "sender"]
    list_select_related = ["partner__supplier"]
    readonly_fields = ["partner", "direction", "control_ref", "sender", "recipient", "status", "file_name", "message_types",
                       "errors", "answer", "created_at", "raw_text"]
    exclude = ["raw"]

    @admin.display(description="Raw interchange")
    def raw_text(self, interchange: Interchange) -> str:
        return bytes(interchange.raw).decode("latin-1")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
