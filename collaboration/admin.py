"""The buyers' admin: suppliers and their users, purchase orders with lines and revisions, acknowledgements, audit."""
from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.db.models import Exists, F, OuterRef
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from collaboration import selectors, services
from collaboration.actors import Actor
from collaboration.errors import DomainError
from collaboration.models import (
    Acknowledgement,
    AcknowledgementLine,
    AuditEvent,
    Channel,
    ExceptionCase,
    InvoiceStatus,
    ItemRule,
    Membership,
    Package,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderRevision,
    Receipt,
    ReceiptLine,
    RejectionReason,
    Shipment,
    ShipmentLine,
    Supplier,
    TolerancePolicy,
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


class AcknowledgementDueFilter(admin.SimpleListFilter):
    title = "acknowledgement"
    parameter_name = "answer"

    def lookups(self, request, model_admin):
        return [("overdue", "Overdue"), ("due_soon", "Due within 2 days")]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        open_orders = queryset.filter(status__in=PurchaseOrder.OPEN_STATUSES)
        if self.value() == "overdue":
            return open_orders.filter(acknowledgement_due__lt=today)
        if self.value() == "due_soon":
            return open_orders.filter(acknowledgement_due__gte=today, acknowledgement_due__lte=today + timedelta(days=2))
        return queryset


class CommitmentFilter(admin.SimpleListFilter):
    """Orders with a line committed later than requested: the planning alert, in the admin."""

    title = "commitment"
    parameter_name = "commitment"

    def lookups(self, request, model_admin):
        return [("late", "Committed later than requested")]

    def queryset(self, request, queryset):
        if self.value() == "late":
            late = PurchaseOrderLine.objects.filter(purchase_order=OuterRef("pk"), confirmed_date__gt=F("requested_date"))
            return queryset.filter(Exists(late))
        return queryset


class PurchaseOrderLineInline(ReadOnlyInline):
    model = PurchaseOrderLine
    fields = ["line_number", "item", "description", "quantity", "uom", "unit_price", "requested_date", "is_cancelled",
              "changed_in_revision", "response_status", "confirmed_quantity", "confirmed_price", "confirmed_date"]


class PurchaseOrderRevisionInline(ReadOnlyInline):
    model = PurchaseOrderRevision
    fields = ["revision", "received_at", "content_hash", "changes"]


class AcknowledgementInline(ReadOnlyInline):
    model = Acknowledgement
    fields = ["revision", "status", "channel", "submitted_by", "submitted_at"]
    show_change_link = True


@admin.register(PurchaseOrder)
class PurchaseOrderAdmin(admin.ModelAdmin):
    # Orders come from the ERP; the admin shows them, services change them: view only.
    list_display = ["number", "supplier", "revision", "status", "order_date", "acknowledgement_due", "ship_to", "currency"]
    list_filter = [AcknowledgementDueFilter, CommitmentFilter, "status", "supplier", "currency"]
    search_fields = ["number", "lines__item"]
    date_hierarchy = "order_date"
    list_select_related = ["supplier"]
    readonly_fields = ["number", "supplier", "revision", "currency", "order_date", "ship_to", "status", "acknowledgement_due",
                       "content_hash", "created_at", "updated_at", "timeline"]

    @admin.display(description="Timeline")
    def timeline(self, po: PurchaseOrder):
        events = selectors.purchase_order_timeline(po=po)
        return format_html(
            "<ol>{}</ol>",
            format_html_join("", "<li>{} · {} · {} ({})</li>", (
                (e.occurred_at.strftime("%Y-%m-%d %H:%M"), e.action, e.actor_label, e.get_channel_display()) for e in events
            )),
        ) if events else "—"
    inlines = [PurchaseOrderLineInline, PurchaseOrderRevisionInline, AcknowledgementInline]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class AcknowledgementLineInline(ReadOnlyInline):
    model = AcknowledgementLine
    fields = ["order_line", "action", "quantity", "unit_price", "deliveries", "reason", "reason_text", "decision",
              "decided_at", "decided_by", "decision_comment"]

    @admin.display(description="Deliveries")
    def deliveries(self, response: AcknowledgementLine) -> str:
        return "; ".join(f"{e.quantity.normalize()} on {e.date:%Y-%m-%d}" for e in response.schedule.all())


@admin.register(Acknowledgement)
class AcknowledgementAdmin(admin.ModelAdmin):
    list_display = ["purchase_order", "revision", "status", "channel", "actor_label", "submitted_at"]
    list_filter = ["status", "channel"]
    search_fields = ["purchase_order__number"]
    list_select_related = ["purchase_order"]
    readonly_fields = ["purchase_order", "revision", "status", "channel", "submitted_by", "actor_label", "created_at", "submitted_at"]
    inlines = [AcknowledgementLineInline]

    def has_add_permission(self, request) -> bool:
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records other systems or services write; the admin shows them."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["occurred_at", "action", "object_type", "object_id", "actor_label", "channel", "supplier"]
    list_filter = ["channel", "action", "object_type"]
    search_fields = ["object_id", "actor_label", "action"]
    list_select_related = ["supplier"]


class ReceiptLineInline(ReadOnlyInline):
    model = ReceiptLine
    fields = ["order_line", "quantity", "lot", "sscc"]


@admin.register(Receipt)
class ReceiptAdmin(ReadOnlyAdmin):
    list_display = ["reference", "purchase_order", "supplier", "received_on", "recorded_at"]
    search_fields = ["reference", "purchase_order__number"]
    date_hierarchy = "received_on"
    list_select_related = ["purchase_order__supplier"]
    inlines = [ReceiptLineInline]

    @admin.display(description="Supplier", ordering="purchase_order__supplier__code")
    def supplier(self, receipt: Receipt) -> str:
        return receipt.purchase_order.supplier.code


@admin.register(InvoiceStatus)
class InvoiceStatusAdmin(ReadOnlyAdmin):
    list_display = ["invoice_number", "supplier", "purchase_order", "status", "version", "reason", "paid_on", "updated_at"]
    list_filter = ["status", "supplier"]
    search_fields = ["invoice_number", "purchase_order__number"]
    list_select_related = ["supplier", "purchase_order"]


@admin.register(RejectionReason)
class RejectionReasonAdmin(admin.ModelAdmin):
    list_display = ["code", "label", "needs_text", "is_active"]
    list_filter = ["is_active"]


@admin.register(TolerancePolicy)
class TolerancePolicyAdmin(admin.ModelAdmin):
    list_display = ["__str__", "supplier", "item", "quantity_under_pct", "quantity_over_pct", "days_earlier",
                    "days_later", "price_under_pct", "price_over_pct", "price_abs"]
    list_filter = ["supplier"]
    search_fields = ["item", "supplier__code"]
    autocomplete_fields = ["supplier"]


class DecisionForm(forms.Form):
    comment = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False,
                              help_text="Shown to the supplier. Required when declining.")


@admin.register(ExceptionCase)
class ExceptionCaseAdmin(admin.ModelAdmin):
    """Buyers decide proposals here: one by one on the case page, or in bulk from the list."""

    list_display = ["id", "kind", "status", "supplier", "purchase_order", "summary", "opened_at", "decided_by"]
    list_filter = ["status", "kind", "supplier", ("opened_at", admin.DateFieldListFilter)]
    search_fields = ["summary", "purchase_order__number", "supplier__code"]
    list_select_related = ["supplier", "purchase_order", "decided_by"]
    readonly_fields = ["kind", "status", "supplier", "purchase_order", "shipment", "receipt", "summary", "side_by_side",
                       "opened_at", "decided_at", "decided_by", "decision_comment"]
    fields = readonly_fields
    actions = ["approve_selected", "decline_selected"]
    change_form_template = "admin/collaboration/exceptioncase/change_form.html"

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="Details")
    def side_by_side(self, case: ExceptionCase):
        details = case.details or {}
        ordered, proposed = details.get("ordered", {}), details.get("proposed", {})
        if not ordered:
            return format_html_join("", "<div><strong>{}</strong>: {}</div>", (
                (key.replace("_", " ").capitalize(), ", ".join(map(str, value)) if isinstance(value, list) else value)
                for key, value in details.items()
            )) or "—"

        def schedule(values):
            return "; ".join(f"{e['quantity']} on {e['date']}" for e in values.get("schedule", [])) or "—"

        outside = {b["field"] for b in details.get("outside_tolerance", [])}
        rows = [
            ("Quantity", ordered.get("quantity"), proposed.get("quantity"), "quantity" in outside),
            ("Unit price", ordered.get("unit_price"), proposed.get("unit_price"), "unit_price" in outside),
            ("Deliveries", schedule(ordered), schedule(proposed), "date" in outside),
        ]
        if proposed.get("reason"):
            rows.append(("Reason", "", f"{proposed['reason']} {proposed.get('reason_text', '')}", True))
        body = format_html_join(
            "", "<tr><th>{}</th><td>{}</td><td{}>{}</td></tr>",
            ((label, a, mark_safe(' style="font-weight:bold;color:#b3261e"') if flag else "", b) for label, a, b, flag in rows),
        )
        breaches = format_html_join(
            "", "<li>{}: {} (allowed {})</li>", ((b["field"], b["difference"], b["allowed"]) for b in details.get("outside_tolerance", []))
        )
        return format_html(
            '<table><thead><tr><th></th><th>Ordered</th><th>Proposed</th></tr></thead><tbody>{}</tbody></table><ul>{}</ul>',
            body, breaches,
        )

    def get_urls(self):
        return [
            path("<int:case_id>/decide/", self.admin_site.admin_view(self.decide_view), name="collaboration_exceptioncase_decide"),
        ] + super().get_urls()

    def decide_view(self, request, case_id: int):
        if request.method != "POST":
            return redirect("admin:collaboration_exceptioncase_change", case_id)
        approve = "approve" in request.POST
        actor = Actor.for_user(request.user, channel=Channel.ADMIN)
        comment = request.POST.get("comment", "")
        try:
            if "resolve" in request.POST:
                services.exception_case_resolve(case_id=case_id, comment=comment, actor=actor)
                done = "resolved"
            else:
                services.exception_case_decide(case_id=case_id, approve=approve, comment=comment, actor=actor)
                done = "approved" if approve else "declined"
        except DomainError as error:
            self.message_user(request, error.message, messages.ERROR)
        else:
            self.message_user(request, f"Case #{case_id} {done}.", messages.SUCCESS)
        return redirect("admin:collaboration_exceptioncase_change", case_id)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "decision_form": DecisionForm()}
        return super().change_view(request, object_id, form_url, extra_context)

    def _decide_many(self, request, queryset, *, approve: bool, comment: str) -> None:
        actor = Actor.for_user(request.user, channel=Channel.ADMIN)
        done, failed = 0, []
        for case_id in queryset.filter(status=ExceptionCase.Status.OPEN).values_list("pk", flat=True):
            try:
                services.exception_case_decide(case_id=case_id, approve=approve, comment=comment, actor=actor)
                done += 1
            except DomainError as error:
                failed.append(f"#{case_id}: {error.message}")
        self.message_user(request, f"{done} case(s) {'approved' if approve else 'declined'}.", messages.SUCCESS)
        for failure in failed:
            self.message_user(request, failure, messages.ERROR)

    @admin.action(description="Approve selected proposals")
    def approve_selected(self, request, queryset):
        self._decide_many(request, queryset, approve=True, comment="")

    @admin.action(description="Decline selected proposals (asks for a comment)")
    def decline_selected(self, request, queryset):
        form = DecisionForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid() and form.cleaned_data["comment"].strip():
            self._decide_many(request, queryset, approve=False, comment=form.cleaned_data["comment"])
            return None
        return TemplateResponse(request, "admin/collaboration/exceptioncase/decline.html", {
            **self.admin_site.each_context(request), "title": "Decline proposals", "cases": queryset,
            "form": form, "opts": self.model._meta, "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            "missing_comment": "apply" in request.POST,
        })


class ShipmentLineInline(ReadOnlyInline):
    model = ShipmentLine
    fields = ["line_number", "order_line", "quantity", "received_quantity", "lot", "serial_numbers"]


class PackageInline(ReadOnlyInline):
    model = Package
    fields = ["position", "reference", "sscc", "kind", "parent"]


@admin.register(Shipment)
class ShipmentAdmin(ReadOnlyAdmin):
    """Suppliers' shipment notices; they change them through the portal, the API or EDI."""

    list_display = ["number", "supplier", "status", "receipt_status", "revision", "ship_to", "despatch_date",
                    "expected_arrival", "carrier", "submitted_at"]
    list_filter = ["status", "receipt_status", "supplier", "ship_to"]
    search_fields = ["number", "tracking_number", "packages__sscc", "lines__order_line__purchase_order__number"]
    date_hierarchy = "despatch_date"
    list_select_related = ["supplier"]
    inlines = [ShipmentLineInline, PackageInline]


@admin.register(ItemRule)
class ItemRuleAdmin(admin.ModelAdmin):
    list_display = ["item", "lot_controlled", "serial_controlled"]
    search_fields = ["item"]
