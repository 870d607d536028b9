"""The buyers' admin: suppliers and their users, purchase orders with lines and revisions, acknowledgements, audit."""
from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError
from django.db.models import Exists, F, OuterRef
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, gettext_lazy as _, ngettext

from collaboration import selectors, services
from collaboration.actors import Actor
from collaboration.documents import parse_quality_incident
from collaboration.errors import DomainError, InvalidDocument
from collaboration.models import (
    Acknowledgement,
    AcknowledgementLine,
    AuditEvent,
    Channel,
    ExceptionCase,
    Forecast,
    ForecastVersion,
    IncidentStep,
    InventoryPosition,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    ItemRule,
    Membership,
    Package,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderRevision,
    QualityDocument,
    QualityIncident,
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
    list_display = ["user", "supplier", "role", "is_active", "created_at"]
    list_filter = ["role", "is_active", "supplier"]
    search_fields = ["user__username", "user__email", "supplier__code"]
    autocomplete_fields = ["user", "supplier"]


class AcknowledgementDueFilter(admin.SimpleListFilter):
    title = _("acknowledgement")
    parameter_name = "answer"

    def lookups(self, request, model_admin):
        return [("overdue", _("Overdue")), ("due_soon", _("Due within 2 days"))]

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

    title = _("commitment")
    parameter_name = "commitment"

    def lookups(self, request, model_admin):
        return [("late", _("Committed later than requested"))]

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
    list_display = ["number", "supplier", "revision", "status", "order_date", "acknowledgement_due", "ship_to", "buyer", "currency"]
    list_filter = [AcknowledgementDueFilter, CommitmentFilter, "status", "supplier", "buyer", "currency"]
    search_fields = ["number", "lines__item"]
    date_hierarchy = "order_date"
    list_select_related = ["supplier"]
    readonly_fields = ["number", "supplier", "revision", "currency", "order_date", "ship_to", "buyer", "status",
                       "acknowledgement_due", "content_hash", "created_at", "updated_at", "timeline"]

    @admin.display(description=_("Timeline"))
    def timeline(self, po: PurchaseOrder):
        events = selectors.purchase_order_timeline(po=po)
        link = format_html('<p><a href="{}">{}</a> {}</p>', reverse("purchase-order-timeline", args=[po.number]),
                           gettext("Traceability timeline"), gettext("(deliveries to the ERP, EDI interchanges, receipts)"))
        return link + (format_html(
            "<ol>{}</ol>",
            format_html_join("", "<li>{} · {} · {} ({})</li>", (
                (e.occurred_at.strftime("%Y-%m-%d %H:%M"), e.action, e.actor_label, e.get_channel_display()) for e in events
            )),
        ) if events else "—")
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

    @admin.display(description=_("Deliveries"))
    def deliveries(self, response: AcknowledgementLine) -> str:
        return "; ".join(_delivery(e.quantity.normalize(), f"{e.date:%Y-%m-%d}") for e in response.schedule.all())


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

    @admin.display(description=_("Supplier"), ordering="purchase_order__supplier__code")
    def supplier(self, receipt: Receipt) -> str:
        return receipt.purchase_order.supplier.code


@admin.register(InvoiceStatus)
class InvoiceStatusAdmin(ReadOnlyAdmin):
    list_display = ["invoice_number", "supplier", "purchase_order", "status", "version", "reason", "paid_on", "updated_at"]
    list_filter = ["status", "supplier"]
    search_fields = ["invoice_number", "purchase_order__number"]
    list_select_related = ["supplier", "purchase_order"]


class InvoiceLineInline(ReadOnlyInline):
    model = InvoiceLine
    fields = ["line_number", "order_line", "quantity", "unit_price", "amount", "reason", "differences"]


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    """Supplier invoices as submitted (portal, API, EDIFACT); their differences open exception cases."""

    list_display = ["number", "supplier", "invoice_date", "currency", "net_amount", "tax_amount", "channel", "submitted_at"]
    list_filter = ["channel", "supplier", ("submitted_at", admin.DateFieldListFilter)]
    search_fields = ["number", "lines__order_line__purchase_order__number"]
    list_select_related = ["supplier"]
    inlines = [InvoiceLineInline]


class ForecastVersionInline(ReadOnlyInline):
    model = ForecastVersion
    fields = ["version", "published_on", "received_at"]


@admin.register(Forecast)
class ForecastAdmin(ReadOnlyAdmin):
    """The planning system's forecasts; suppliers' commitments show on the forecast page."""

    list_display = ["item", "ship_to", "supplier", "version", "uom", "updated_at"]
    list_filter = ["supplier", "ship_to"]
    search_fields = ["item", "description"]
    list_select_related = ["supplier"]
    inlines = [ForecastVersionInline]

    def view_on_site(self, forecast: Forecast) -> str:
        return reverse("collaboration:forecast-detail", args=[forecast.pk])


class BelowMinimumFilter(admin.SimpleListFilter):
    title = _("stock")
    parameter_name = "stock"

    def lookups(self, request, model_admin):
        return [("below", _("below minimum"))]

    def queryset(self, request, queryset):
        return queryset.filter(min_level__gt=F("on_hand") + F("consignment")) if self.value() == "below" else queryset


@admin.register(InventoryPosition)
class InventoryPositionAdmin(ReadOnlyAdmin):
    list_display = ["item", "site", "supplier", "on_hand", "in_transit", "consignment", "min_level", "max_level", "as_of"]
    list_filter = [BelowMinimumFilter, "supplier", "site"]
    search_fields = ["item"]
    list_select_related = ["supplier"]


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
                              label=_("Comment"), help_text=_("Shown to the supplier. Required when declining."))


class BulkDecisionAdmin(admin.ModelAdmin):
    """Bulk actions that call a service for each selected row; a negative answer asks for a comment first."""

    def _each(self, request, ids, call, *, done) -> None:
        """`done(count)` is the success message for `count` rows."""
        succeeded, failed = 0, []
        for pk in ids:
            try:
                call(pk)
                succeeded += 1
            except DomainError as error:
                failed.append(f"#{pk}: {error.message}")
        self.message_user(request, done(succeeded), messages.SUCCESS)
        for failure in failed:
            self.message_user(request, failure, messages.ERROR)

    def _with_comment(self, request, queryset, apply, *, template: str, title: str, listed_as: str):
        form = DecisionForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid() and form.cleaned_data["comment"].strip():
            apply(form.cleaned_data["comment"])
            return None
        return TemplateResponse(request, template, {
            **self.admin_site.each_context(request), "title": title, listed_as: queryset,
            "form": form, "opts": self.model._meta, "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            "missing_comment": "apply" in request.POST,
        })


def _delivery(quantity, day) -> str:
    return gettext("%(quantity)s on %(date)s") % {"quantity": quantity, "date": day}


DETAIL_COLUMNS = {  # the columns of a case's detail tables, in this order, with their headings
    "purchase_order": _("purchase order"), "line": _("line"), "start": _("start"), "field": _("field"),
    "forecast": _("forecast"), "ordered": _("ordered"), "proposed": _("proposed"), "committed": _("committed"),
    "difference": _("difference"), "allowed": _("allowed"), "differences": _("differences"), "reason": _("reason"),
}


def _detail_value(value):
    """A case detail for the page: a list of records (forecast periods, invoice lines) as a small table."""
    if isinstance(value, list) and value and all(isinstance(entry, dict) for entry in value):
        # PostgreSQL's jsonb does not keep the keys' order: the columns follow DETAIL_COLUMNS, then the alphabet.
        keys = {key for entry in value for key in entry}
        columns = [key for key in DETAIL_COLUMNS if key in keys] + sorted(keys - set(DETAIL_COLUMNS))
        head = format_html_join("", "<th>{}</th>", ((DETAIL_COLUMNS.get(column, column.replace("_", " ")),) for column in columns))
        body = format_html_join("", "<tr>{}</tr>", (
            (format_html_join("", "<td>{}</td>", ((_detail_value(entry.get(column, "")),) for column in columns)),)
            for entry in value))
        return format_html("<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>", head, body)
    if isinstance(value, list):
        return ", ".join(str(_detail_value(entry)) for entry in value)
    if isinstance(value, dict):
        return "; ".join(f"{key}: {item}" for key, item in value.items())
    return value


@admin.register(ExceptionCase)
class ExceptionCaseAdmin(BulkDecisionAdmin):
    """Buyers decide proposals here: one by one on the case page, or in bulk from the list."""

    list_display = ["id", "kind", "status", "supplier", "purchase_order", "summary", "opened_at", "decided_by"]
    list_filter = ["status", "kind", "supplier", ("opened_at", admin.DateFieldListFilter)]
    search_fields = ["summary", "purchase_order__number", "supplier__code"]
    list_select_related = ["supplier", "purchase_order", "decided_by"]
    readonly_fields = ["kind", "status", "supplier", "purchase_order", "shipment", "receipt", "forecast", "invoice", "summary",
                       "side_by_side",
                       "opened_at", "decided_at", "decided_by", "decision_comment"]
    fields = readonly_fields
    actions = ["approve_selected", "decline_selected"]
    change_form_template = "admin/collaboration/exceptioncase/change_form.html"

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("Details"))
    def side_by_side(self, case: ExceptionCase):
        details = case.details or {}
        ordered, proposed = details.get("ordered", {}), details.get("proposed", {})
        if not ordered:
            return format_html_join("", "<div><strong>{}</strong>: {}</div>", (
                (key.replace("_", " ").capitalize(), _detail_value(value)) for key, value in details.items()
            )) or "—"

        def schedule(values):
            return "; ".join(_delivery(e["quantity"], e["date"]) for e in values.get("schedule", [])) or "—"

        outside = {b["field"] for b in details.get("outside_tolerance", [])}
        rows = [
            (gettext("Quantity"), ordered.get("quantity"), proposed.get("quantity"), "quantity" in outside),
            (gettext("Unit price"), ordered.get("unit_price"), proposed.get("unit_price"), "unit_price" in outside),
            (gettext("Deliveries"), schedule(ordered), schedule(proposed), "date" in outside),
        ]
        if proposed.get("reason") or proposed.get("reason_text"):
            rows.append((gettext("Reason"), "", f"{proposed.get('reason', '')} {proposed.get('reason_text', '')}".strip(), True))
        body = format_html_join(
            "", "<tr><th>{}</th><td>{}</td><td{}>{}</td></tr>",
            ((label, a, mark_safe(' style="font-weight:bold;color:#b3261e"') if flag else "", b) for label, a, b, flag in rows),
        )
        breaches = format_html_join(
            "", "<li>{}: {} ({} {})</li>",
            ((b["field"], b["difference"], gettext("allowed"), b["allowed"]) for b in details.get("outside_tolerance", []))
        )
        return format_html(
            '<table><thead><tr><th></th><th>{}</th><th>{}</th></tr></thead><tbody>{}</tbody></table><ul>{}</ul>',
            gettext("Ordered"), gettext("Proposed"), body, breaches,
        )

    def get_urls(self):
        return [
            path("<int:case_id>/decide/", self.admin_site.admin_view(self.decide_view), name="collaboration_exceptioncase_decide"),
        ] + super().get_urls()

    def decide_view(self, request, case_id: int):
        if not self.has_change_permission(request):
            raise PermissionDenied
        if request.method != "POST":
            return redirect("admin:collaboration_exceptioncase_change", case_id)
        approve = "approve" in request.POST
        actor = Actor.for_user(request.user, channel=Channel.ADMIN)
        comment = request.POST.get("comment", "")
        try:
            if "resolve" in request.POST:
                services.exception_case_resolve(case_id=case_id, comment=comment, actor=actor)
                done = gettext("Case #%(case)s resolved.")
            else:
                services.exception_case_decide(case_id=case_id, approve=approve, comment=comment, actor=actor)
                done = gettext("Case #%(case)s approved.") if approve else gettext("Case #%(case)s declined.")
        except DomainError as error:
            self.message_user(request, error.message, messages.ERROR)
        else:
            self.message_user(request, done % {"case": case_id}, messages.SUCCESS)
        return redirect("admin:collaboration_exceptioncase_change", case_id)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "decision_form": DecisionForm()}
        return super().change_view(request, object_id, form_url, extra_context)

    def _decide_many(self, request, queryset, *, approve: bool, comment: str) -> None:
        actor = Actor.for_user(request.user, channel=Channel.ADMIN)
        self._each(request, queryset.filter(status=ExceptionCase.Status.OPEN).values_list("pk", flat=True),
                   lambda pk: services.exception_case_decide(case_id=pk, approve=approve, comment=comment, actor=actor),
                   done=lambda count: (ngettext("%(count)s case approved.", "%(count)s cases approved.", count) if approve else
                                       ngettext("%(count)s case declined.", "%(count)s cases declined.", count)) % {"count": count})

    @admin.action(description=_("Approve selected proposals"), permissions=["change"])
    def approve_selected(self, request, queryset):
        self._decide_many(request, queryset, approve=True, comment="")

    @admin.action(description=_("Decline selected proposals (asks for a comment)"), permissions=["change"])
    def decline_selected(self, request, queryset):
        return self._with_comment(
            request, queryset, lambda comment: self._decide_many(request, queryset, approve=False, comment=comment),
            template="admin/collaboration/exceptioncase/decline.html", title=gettext("Decline proposals"), listed_as="cases")


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


class ItemRuleForm(forms.ModelForm):
    required_documents = forms.MultipleChoiceField(
        choices=QualityDocument.Type.choices, widget=forms.CheckboxSelectMultiple, required=False,
        label=_("Required documents"),
        help_text=_("An ASN with this item can be submitted only when the supplier has each of these, valid on the "
                    "despatch date and not rejected."),
    )

    class Meta:
        model = ItemRule
        fields = ["item", "lot_controlled", "serial_controlled", "required_documents"]


@admin.register(ItemRule)
class ItemRuleAdmin(admin.ModelAdmin):
    form = ItemRuleForm
    list_display = ["item", "lot_controlled", "serial_controlled", "documents_required"]
    search_fields = ["item"]

    @admin.display(description=_("Required documents"))
    def documents_required(self, rule: ItemRule) -> str:
        labels = dict(QualityDocument.Type.choices)
        return ", ".join(str(labels.get(value, value)) for value in rule.required_documents) or "—"


class ValidityFilter(admin.SimpleListFilter):
    title = _("validity")
    parameter_name = "validity"

    def lookups(self, request, model_admin):
        days = settings.QUALITY_EXPIRY_REMINDER_DAYS
        return [("expiring", ngettext("Expiring within %(days)s day", "Expiring within %(days)s days", days) % {"days": days}),
                ("expired", _("Expired"))]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "expiring":
            return queryset.filter(expires_on__gte=today, expires_on__lte=today + timedelta(days=settings.QUALITY_EXPIRY_REMINDER_DAYS))
        if self.value() == "expired":
            return queryset.filter(expires_on__lt=today)
        return queryset


@admin.register(QualityDocument)
class QualityDocumentAdmin(BulkDecisionAdmin):
    """Buyers review suppliers' documents: approve, or reject with a comment the supplier is mailed."""

    list_display = ["document_type", "supplier_code", "item", "lot", "issued_on", "expires_on", "review_status", "download"]
    list_filter = ["review_status", ValidityFilter, "document_type", "supplier"]
    search_fields = ["item", "lot", "title", "original_name", "supplier__code", "order_line__purchase_order__number",
                     "shipment__number"]
    list_select_related = ["supplier"]
    readonly_fields = ["supplier", "document_type", "title", "item", "lot", "order_line", "shipment", "issued_on",
                       "expires_on", "download", "content_type", "size", "sha256", "uploaded_by", "uploaded_at",
                       "review_status", "review_comment", "reviewed_by", "reviewed_at", "expiry_reminder_sent_on"]
    fields = readonly_fields
    actions = ["approve_selected", "reject_selected"]
    change_form_template = "admin/collaboration/qualitydocument/change_form.html"

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("Supplier"), ordering="supplier__code")
    def supplier_code(self, document: QualityDocument) -> str:
        return document.supplier.code

    @admin.display(description=_("File"))
    def download(self, document: QualityDocument):
        # Through the access-checked portal view, never a storage URL.
        return format_html('<a href="{}">{}</a>', reverse("collaboration:quality-document-download", args=[document.pk]),
                           document.original_name)

    def get_urls(self):
        return [
            path("<int:document_id>/review/", self.admin_site.admin_view(self.review_view),
                 name="collaboration_qualitydocument_review"),
        ] + super().get_urls()

    def review_view(self, request, document_id: int):
        if not self.has_change_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            approve = "approve" in request.POST
            try:
                services.quality_document_review(document_id=document_id, approve=approve,
                                                 comment=request.POST.get("comment", ""),
                                                 actor=Actor.for_user(request.user, channel=Channel.ADMIN))
            except DomainError as error:
                self.message_user(request, error.message, messages.ERROR)
            else:
                done = gettext("Document #%(document)s approved.") if approve else gettext("Document #%(document)s rejected.")
                self.message_user(request, done % {"document": document_id}, messages.SUCCESS)
        return redirect("admin:collaboration_qualitydocument_change", document_id)

    def _review_many(self, request, queryset, *, approve: bool, comment: str) -> None:
        actor = Actor.for_user(request.user, channel=Channel.ADMIN)
        self._each(request, queryset.values_list("pk", flat=True),
                   lambda pk: services.quality_document_review(document_id=pk, approve=approve, comment=comment, actor=actor),
                   done=lambda count: (ngettext("%(count)s document approved.", "%(count)s documents approved.", count) if approve
                                       else ngettext("%(count)s document rejected.", "%(count)s documents rejected.", count))
                   % {"count": count})

    @admin.action(description=_("Approve selected documents"), permissions=["change"])
    def approve_selected(self, request, queryset):
        self._review_many(request, queryset, approve=True, comment="")

    @admin.action(description=_("Reject selected documents (asks for a comment)"), permissions=["change"])
    def reject_selected(self, request, queryset):
        return self._with_comment(
            request, queryset, lambda comment: self._review_many(request, queryset, approve=False, comment=comment),
            template="admin/collaboration/qualitydocument/reject.html", title=gettext("Reject quality documents"),
            listed_as="documents")


class IncidentOpenForm(forms.Form):
    """What a buyer knows of a non-conformance; the incident document and the service judge it."""

    required_names = ("supplier", "item", "quantity_on_hold", "uom", "description")  # labelled required; checked by the document

    supplier = forms.ModelChoiceField(queryset=Supplier.objects.filter(is_active=True), label=_("Supplier"))
    reference = forms.CharField(required=False, max_length=35, label=_("Reference"),
                                help_text=_("Leave empty for the next NC-<year>-<serial>."))
    purchase_order = forms.CharField(required=False, max_length=35, label=_("Purchase order"),
                                     help_text=_("Optional: the order the goods came on."))
    item = forms.CharField(required=False, max_length=35, label=_("Item"))
    lot = forms.CharField(required=False, max_length=35, label=_("Lot"))
    quantity_on_hold = forms.CharField(required=False, max_length=30, label=_("Quantity on hold"))
    uom = forms.CharField(required=False, max_length=10, label=_("Unit"), initial="PCE")
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 5, "cols": 60}), label=_("Description"),
                                  help_text=_("What is wrong with the goods. The supplier reads this."))

    def document_data(self, *, reference: str) -> dict:
        data = {name: value for name, value in self.cleaned_data.items() if name != "supplier"}
        return {**data, "supplier": self.cleaned_data["supplier"].code, "reference": reference}

    def add_service_errors(self, error: DomainError) -> None:
        for field, texts in (error.details or {"__all__": [error.message]}).items():
            for text in texts if isinstance(texts, list) else [str(texts)]:
                self.add_error(field if field in self.fields else None, text)


class NeedsReviewFilter(admin.SimpleListFilter):
    title = _("review")
    parameter_name = "review"

    def lookups(self, request, model_admin):
        return [("answered", _("Answer waiting for review")), ("overdue", _("Supplier step overdue"))]

    def queryset(self, request, queryset):
        steps = IncidentStep.objects.filter(incident=OuterRef("pk"))
        if self.value() == "answered":
            return queryset.filter(Exists(steps.filter(status=IncidentStep.Status.ANSWERED)))
        if self.value() == "overdue":
            waiting = steps.filter(status__in=selectors.INCIDENT_STEP_OPEN, due_on__lt=timezone.localdate())
            return queryset.filter(Exists(waiting), status=QualityIncident.Status.OPEN)
        return queryset


class IncidentStepInline(ReadOnlyInline):
    model = IncidentStep
    fields = ["kind", "status", "due_on", "response", "responded_by", "responded_at", "files", "buyer_comment"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("responded_by").prefetch_related("attachments")

    @admin.display(description=_("Attachments"))
    def files(self, step: IncidentStep):
        return format_html_join(mark_safe("<br>"), '<a href="{}">{}</a>', (
            (reverse("collaboration:incident-attachment-download", args=[a.pk]), a.original_name) for a in step.attachments.all()
        )) or "—"


@admin.register(QualityIncident)
class QualityIncidentAdmin(admin.ModelAdmin):
    """Buyers open incidents here (the ERP through its API), review the supplier's steps and decide the hold."""

    list_display = ["reference", "supplier", "item", "lot", "quantity_on_hold", "uom", "status", "hold_status",
                    "purchase_order", "opened_channel", "opened_at"]
    list_filter = [NeedsReviewFilter, "status", "hold_status", "opened_channel", "supplier"]
    search_fields = ["reference", "item", "lot", "purchase_order__number", "supplier__code"]
    list_select_related = ["supplier", "purchase_order"]
    readonly_fields = ["reference", "status", "supplier", "purchase_order", "item", "lot", "quantity_on_hold", "uom",
                       "description", "hold_status", "hold_decided_by", "hold_decided_at", "hold_comment", "opened_by",
                       "opened_channel", "opened_at"]
    fields = readonly_fields
    inlines = [IncidentStepInline]
    change_form_template = "admin/collaboration/qualityincident/change_form.html"

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_urls(self):
        return [
            path("<int:incident_id>/act/", self.admin_site.admin_view(self.act_view), name="collaboration_qualityincident_act"),
        ] + super().get_urls()

    def add_view(self, request, form_url="", extra_context=None):
        """Open an incident through the service (not a ModelForm save): steps, due dates, e-mail, ERP event."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = IncidentOpenForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            reference = form.cleaned_data["reference"].strip() or services.quality_incident_reference_next()
            try:
                result = services.quality_incident_open(
                    document=parse_quality_incident(form.document_data(reference=reference)),
                    actor=Actor.for_user(request.user, channel=Channel.ADMIN),
                )
            except InvalidDocument as error:
                form.add_service_errors(error)
            except DomainError as error:
                if error.code == "document_content_conflict":
                    form.add_error("reference", gettext("Incident %(reference)s already exists; leave the reference empty for a new "
                                                    "number.") % {"reference": reference})
                else:
                    form.add_service_errors(error)
            except IntegrityError:
                form.add_error("reference", gettext("Incident %(reference)s was just opened by someone else; submit again.")
                               % {"reference": reference})
            else:
                if result.outcome == "unchanged":
                    self.message_user(request, gettext("Incident %(reference)s already exists with this content.")
                                      % {"reference": reference}, messages.WARNING)
                else:
                    self.message_user(request, gettext("Incident %(reference)s opened; the supplier's quality users are "
                                                       "e-mailed.") % {"reference": reference}, messages.SUCCESS)
                return redirect("admin:collaboration_qualityincident_change", result.incident.pk)
        return TemplateResponse(request, "admin/collaboration/qualityincident/open.html", {
            **self.admin_site.each_context(request), "title": gettext("Open a quality incident"), "form": form,
            "opts": self.model._meta, "has_view_permission": self.has_view_permission(request),
        })

    def change_view(self, request, object_id, form_url="", extra_context=None):
        incident = self.get_object(request, object_id)
        steps = list(incident.steps.order_by("position")) if incident else []
        extra_context = {**(extra_context or {}), "answered_steps": [s for s in steps if s.status == IncidentStep.Status.ANSWERED],
                         "can_act": incident is not None and self.has_change_permission(request, incident)}
        return super().change_view(request, object_id, form_url, extra_context)

    def act_view(self, request, incident_id: int):
        """The buyer's buttons on the incident page: accept or return a step, release or scrap, close."""
        incident = get_object_or_404(QualityIncident, pk=incident_id)
        if request.method != "POST":
            return redirect("admin:collaboration_qualityincident_change", incident_id)
        if not self.has_change_permission(request, incident):
            raise PermissionDenied
        actor = Actor.for_user(request.user, channel=Channel.ADMIN)
        post = request.POST
        try:
            if "accept" in post or "return" in post:
                accept = "accept" in post
                kind = post.get("accept") or post.get("return", "")
                step = services.incident_step_review(reference=incident.reference, kind=kind, accept=accept,
                                                     comment=post.get(f"comment-{kind}", ""), actor=actor)
                done = (gettext("%(step)s accepted.") if accept else gettext("%(step)s returned to the supplier.")) % {
                    "step": step.get_kind_display()}
            elif "release" in post or "scrap" in post:
                decision = QualityIncident.Hold.RELEASED if "release" in post else QualityIncident.Hold.SCRAPPED
                services.incident_hold_decide(reference=incident.reference, decision=decision,
                                              comment=post.get("hold_comment", ""), actor=actor)
                done = (gettext("Goods released; the ERP is told.") if decision == QualityIncident.Hold.RELEASED
                        else gettext("Goods scrapped; the ERP is told."))
            elif "close" in post:
                services.incident_close(reference=incident.reference, comment=post.get("close_comment", ""), actor=actor)
                done = gettext("Incident closed.")
            else:
                self.message_user(request, gettext("Choose an action."), messages.ERROR)
                return redirect("admin:collaboration_qualityincident_change", incident_id)
        except DomainError as error:
            self.message_user(request, error.message, messages.ERROR)
        else:
            incident.refresh_from_db(fields=["status"])
            if incident.status == QualityIncident.Status.CLOSED and "close" not in post:
                done += " " + gettext("Every step is accepted and the hold decided: the incident is closed.")
            self.message_user(request, done, messages.SUCCESS)
        return redirect("admin:collaboration_qualityincident_change", incident_id)
