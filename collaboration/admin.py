"""The buyers' admin: suppliers and their users, purchase orders with lines and revisions, acknowledgements, audit."""
from django.contrib import admin

from collaboration.models import (
    Acknowledgement,
    AcknowledgementLine,
    AuditEvent,
    Membership,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderRevision,
    Supplier,
)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def get_readonly_fields(self, request, obj=None):
        return self.fields


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Supplier)
class SupplierAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["code", "name"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "supplier", "role", "created_at"]
    list_filter = ["role", "supplier"]
    search_fields = ["user__username", "user__email", "supplier__code"]
    autocomplete_fields = ["user", "supplier"]


class PurchaseOrderLineInline(ReadOnlyInline):
    model = PurchaseOrderLine
    fields = ["line_number", "item", "description", "quantity", "uom", "unit_price", "requested_date", "is_cancelled", "changed_in_revision"]


class PurchaseOrderRevisionInline(ReadOnlyInline):
    model = PurchaseOrderRevision
    fields = ["revision", "received_at", "content_hash", "changes"]


class AcknowledgementInline(ReadOnlyInline):
    model = Acknowledgement
    fields = ["revision", "status", "channel", "submitted_by", "submitted_at"]
    show_change_link = True


@admin.register(PurchaseOrder)
class PurchaseOrderAdmin(admin.ModelAdmin):
    # Orders come from the ERP; the admin shows them, services change them.
    list_display = ["number", "supplier", "revision", "status", "order_date", "ship_to", "currency"]
    list_filter = ["status", "supplier", "currency"]
    search_fields = ["number", "lines__item"]
    date_hierarchy = "order_date"
    list_select_related = ["supplier"]
    readonly_fields = ["number", "supplier", "revision", "currency", "order_date", "ship_to", "status", "content_hash", "created_at", "updated_at"]
    inlines = [PurchaseOrderLineInline, PurchaseOrderRevisionInline, AcknowledgementInline]

    def has_add_permission(self, request) -> bool:
        return False


class AcknowledgementLineInline(ReadOnlyInline):
    model = AcknowledgementLine
    fields = ["order_line", "action", "quantity", "unit_price", "promised_date"]


@admin.register(Acknowledgement)
class AcknowledgementAdmin(admin.ModelAdmin):
    list_display = ["purchase_order", "revision", "status", "channel", "submitted_by", "submitted_at"]
    list_filter = ["status", "channel"]
    search_fields = ["purchase_order__number"]
    list_select_related = ["purchase_order", "submitted_by"]
    readonly_fields = ["purchase_order", "revision", "status", "channel", "submitted_by", "submitted_at"]
    inlines = [AcknowledgementLineInline]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["occurred_at", "action", "object_type", "object_id", "actor_label", "channel", "supplier"]
    list_filter = ["channel", "action", "object_type"]
    search_fields = ["object_id", "actor_label", "action"]
    list_select_related = ["supplier"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
