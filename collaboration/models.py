"""Domain models. State changes go through `collaboration.services`; these hold pure-data invariants."""
from decimal import Decimal

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from collaboration import uploads


class Supplier(models.Model):
    code = models.CharField(verbose_name=_("code"), max_length=35, unique=True, help_text=_("The supplier's code in the ERP."))
    name = models.CharField(verbose_name=_("name"), max_length=200)
    is_active = models.BooleanField(verbose_name=_("is active"), default=True)
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)
    gs1_company_prefix = models.CharField(
        verbose_name=_("GS1 company prefix"), max_length=12, blank=True,
        validators=[RegexValidator(r"^\d{6,12}$", _("A GS1 Company Prefix has 6 to 12 digits."))],
        help_text=_("The supplier's own GS1 Company Prefix for SSCCs; empty: the portal's GS1_COMPANY_PREFIX is used."),
    )

    class Meta:
        verbose_name = _("supplier")
        verbose_name_plural = _("suppliers")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"


class Membership(models.Model):
    class Role(models.TextChoices):
        ADMIN = "admin", _("Admin")
        SALES = "sales", _("Sales")
        LOGISTICS = "logistics", _("Logistics")
        QUALITY = "quality", _("Quality")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="memberships",
    )
    supplier = models.ForeignKey(Supplier, verbose_name=_("supplier"), on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(verbose_name=_("role"), max_length=20, choices=Role.choices)
    # A supplier admin deactivates a membership instead of deleting it: its audit trail stays readable.
    is_active = models.BooleanField(verbose_name=_("is active"), default=True)
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [models.UniqueConstraint(fields=["user", "supplier"], name="membership_unique_user_supplier")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.supplier.code} ({self.role})"


class PurchaseOrder(models.Model):
    class Status(models.TextChoices):
        AWAITING_ACKNOWLEDGEMENT = "awaiting_acknowledgement", _("Awaiting acknowledgement")
        CHANGED = "changed", _("Changed — please re-acknowledge")
        AWAITING_BUYER = "awaiting_buyer", _("Proposal with the buyer")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")

    OPEN_STATUSES = (Status.AWAITING_ACKNOWLEDGEMENT, Status.CHANGED)

    number = models.CharField(verbose_name=_("number"), max_length=35, unique=True)
    supplier = models.ForeignKey(Supplier, verbose_name=_("supplier"), on_delete=models.PROTECT, related_name="purchase_orders")
    revision = models.PositiveIntegerField(verbose_name=_("revision"))
    currency = models.CharField(verbose_name=_("currency"), max_length=3)
    order_date = models.DateField(verbose_name=_("order date"))
    ship_to = models.CharField(verbose_name=_("ship to"), max_length=35)
    buyer = models.CharField(
        verbose_name=_("buyer"), max_length=35, blank=True, help_text=_("The buyer (or purchasing group) responsible in the ERP."),
    )
    status = models.CharField(
        verbose_name=_("status"), max_length=30, choices=Status.choices, default=Status.AWAITING_ACKNOWLEDGEMENT,
    )
    content_hash = models.CharField(
        verbose_name=_("content hash"), max_length=64, help_text=_("SHA-256 of the canonical document of this revision."),
    )
    acknowledgement_due = models.DateField(
        verbose_name=_("acknowledgement due"), null=True, blank=True, help_text=_("When the supplier's answer is due."),
    )
    reminder_sent_at = models.DateTimeField(verbose_name=_("reminder sent at"), null=True, blank=True)
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(verbose_name=_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("purchase order")
        verbose_name_plural = _("purchase orders")
        ordering = ["-order_date", "-id"]
        indexes = [
            models.Index(fields=["supplier", "-order_date", "-id"], name="po_supplier_date_idx"),
            models.Index(fields=["supplier", "status", "-order_date", "-id"], name="po_supplier_status_date_idx"),
            # The control tower's orders waiting for someone: few of all, read on every refresh.
            models.Index(fields=["status", "acknowledgement_due", "supplier", "buyer"], name="po_waiting_idx",
                         condition=Q(status__in=["awaiting_acknowledgement", "changed", "awaiting_buyer"])),
            models.Index(fields=["buyer", "supplier"], name="po_buyer_supplier_idx"),
        ]
        constraints = [models.CheckConstraint(condition=Q(revision__gte=1), name="po_revision_positive")]

    def __str__(self) -> str:
        return self.number

    @property
    def is_open_for_acknowledgement(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def is_overdue(self) -> bool:
        from django.utils import timezone

        return bool(
            self.acknowledgement_due and self.is_open_for_acknowledgement and self.acknowledgement_due < timezone.localdate()
        )


class PurchaseOrderLine(models.Model):
    purchase_order = models.ForeignKey(
        PurchaseOrder, verbose_name=_("purchase order"), on_delete=models.CASCADE, related_name="lines",
    )
    line_number = models.PositiveIntegerField(verbose_name=_("line number"))
    item = models.CharField(verbose_name=_("item"), max_length=35)
    description = models.CharField(verbose_name=_("description"), max_length=300, blank=True)
    quantity = models.DecimalField(verbose_name=_("quantity"), max_digits=18, decimal_places=4)
    uom = models.CharField(verbose_name=_("UoM"), max_length=10)
    unit_price = models.DecimalField(verbose_name=_("unit price"), max_digits=18, decimal_places=6)
    requested_date = models.DateField(verbose_name=_("requested date"))
    class ResponseStatus(models.TextChoices):
        OPEN = "open", _("Needs a response")
        PROPOSED = "proposed", _("Proposal with the buyer")
        CONFIRMED = "confirmed", _("Confirmed")
        REJECTED = "rejected", _("Rejected")

    is_cancelled = models.BooleanField(
        verbose_name=_("is cancelled"), default=False, help_text=_("Removed by a later revision of the order."),
    )
    response_status = models.CharField(
        verbose_name=_("response status"), max_length=10, choices=ResponseStatus.choices, default=ResponseStatus.OPEN,
    )
    confirmed_quantity = models.DecimalField(
        verbose_name=_("confirmed quantity"), max_digits=18, decimal_places=4, null=True, blank=True,
    )
    confirmed_price = models.DecimalField(
        verbose_name=_("confirmed price"), max_digits=18, decimal_places=6, null=True, blank=True,
    )
    confirmed_date = models.DateField(
        verbose_name=_("confirmed date"), null=True, blank=True, help_text=_("The (last) committed date."),
    )
    confirmed_revision = models.PositiveIntegerField(verbose_name=_("confirmed revision"), null=True, blank=True)
    received_quantity = models.DecimalField(
        verbose_name=_("received quantity"), max_digits=18, decimal_places=4, default=Decimal(0),
        help_text=_("What the ERP booked in all (its receipts, returns negative)."),
    )
    changed_in_revision = models.PositiveIntegerField(
        verbose_name=_("changed in revision"),
        help_text=_("The revision that last added or changed this line; an acknowledgement of an older revision no longer covers it."),
    )

    class Meta:
        verbose_name = _("purchase order line")
        verbose_name_plural = _("purchase order lines")
        ordering = ["purchase_order", "line_number"]
        constraints = [
            models.UniqueConstraint(fields=["purchase_order", "line_number"], name="po_line_unique_number"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="po_line_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="po_line_price_not_negative"),
        ]
        indexes = [models.Index(fields=["item"], name="po_line_item_idx")]

    def __str__(self) -> str:
        return f"{self.purchase_order.number}/{self.line_number}"

    @property
    def amount(self) -> Decimal:
        return self.quantity * self.unit_price


class PurchaseOrderRevision(models.Model):
    """Every revision the ERP sent, with the document as received and the per-line differences."""

    purchase_order = models.ForeignKey(
        PurchaseOrder, verbose_name=_("purchase order"), on_delete=models.CASCADE, related_name="revisions",
    )
    revision = models.PositiveIntegerField(verbose_name=_("revision"))
    document = models.JSONField(verbose_name=_("document"))
    content_hash = models.CharField(verbose_name=_("content hash"), max_length=64)
    changes = models.JSONField(
        verbose_name=_("changes"), default=list, help_text=_("Per-line differences from the previous revision."),
    )
    received_at = models.DateTimeField(verbose_name=_("received at"), auto_now_add=True)

    class Meta:
        verbose_name = _("purchase order revision")
        verbose_name_plural = _("purchase order revisions")
        ordering = ["purchase_order", "-revision"]
        constraints = [
            models.UniqueConstraint(fields=["purchase_order", "revision"], name="po_revision_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.purchase_order.number} rev {self.revision}"


class Channel(models.TextChoices):
    PORTAL = "portal", _("Portal")
    API = "api", _("API")
    EDI = "edi", _("EDI")
    ERP = "erp", _("ERP")
    ADMIN = "admin", _("Admin")
    SYSTEM = "system", _("System")


class RejectionReason(models.Model):
    """The maintained list of reasons a supplier may give for rejecting a line."""

    code = models.SlugField(verbose_name=_("code"), max_length=30, unique=True)
    label = models.CharField(verbose_name=_("label"), max_length=100)
    needs_text = models.BooleanField(
        verbose_name=_("needs text"), default=False, help_text=_("The supplier must explain (e.g. 'other')."),
    )
    is_active = models.BooleanField(verbose_name=_("is active"), default=True)

    class Meta:
        verbose_name = _("rejection reason")
        verbose_name_plural = _("rejection reasons")
        ordering = ["label"]

    def __str__(self) -> str:
        return self.label


class TolerancePolicy(models.Model):
    """How far a supplier's proposal may differ from the order and still be accepted without a buyer.

    The most specific policy wins: supplier and item, then item, then supplier, then the default
    (neither set). Percentages are of the ordered value; days are calendar days.
    """

    supplier = models.ForeignKey(
        Supplier, verbose_name=_("supplier"), null=True, blank=True, on_delete=models.CASCADE, related_name="tolerance_policies",
    )
    item = models.CharField(verbose_name=_("item"), max_length=35, blank=True, help_text=_("Empty: every item."))
    quantity_under_pct = models.DecimalField(verbose_name=_("quantity below by %"), max_digits=6, decimal_places=2, default=0)
    quantity_over_pct = models.DecimalField(verbose_name=_("quantity above by %"), max_digits=6, decimal_places=2, default=0)
    days_earlier = models.PositiveIntegerField(verbose_name=_("days earlier"), default=0)
    days_later = models.PositiveIntegerField(verbose_name=_("days later"), default=0)
    price_under_pct = models.DecimalField(verbose_name=_("price below by %"), max_digits=6, decimal_places=2, default=0)
    price_over_pct = models.DecimalField(verbose_name=_("price above by %"), max_digits=6, decimal_places=2, default=0)
    price_abs = models.DecimalField(
        verbose_name=_("price difference (absolute)"), max_digits=18, decimal_places=6, null=True, blank=True,
        help_text=_("If set, a price within this amount of the ordered price is inside tolerance as well."),
    )

    class Meta:
        verbose_name = _("tolerance policy")
        verbose_name_plural = _("tolerance policies")
        constraints = [
            models.UniqueConstraint(fields=["supplier", "item"], condition=Q(supplier__isnull=False), name="tolerance_unique_supplier_scope"),
            models.UniqueConstraint(fields=["item"], condition=Q(supplier__isnull=True), name="tolerance_unique_general_scope"),
            models.CheckConstraint(
                condition=Q(quantity_under_pct__gte=0, quantity_over_pct__gte=0, price_under_pct__gte=0, price_over_pct__gte=0),
                name="tolerance_percentages_not_negative",
            ),
        ]

    def __str__(self) -> str:
        scope = " / ".join(filter(None, [self.supplier.code if self.supplier else "", self.item])) or "default"
        return f"Tolerance ({scope})"


class Acknowledgement(models.Model):
    """A supplier's answer to one revision of a PO: a draft while edited, then submitted once."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted — proposals with the buyer")
        DECIDED = "decided", _("Decided")

    purchase_order = models.ForeignKey(
        PurchaseOrder, verbose_name=_("purchase order"), on_delete=models.CASCADE, related_name="acknowledgements",
    )
    revision = models.PositiveIntegerField(
        verbose_name=_("revision"), help_text=_("The order revision this acknowledgement answers."),
    )
    status = models.CharField(verbose_name=_("status"), max_length=20, choices=Status.choices, default=Status.DRAFT)
    channel = models.CharField(verbose_name=_("channel"), max_length=10, choices=Channel.choices)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("submitted by"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_label = models.CharField(verbose_name=_("actor label"), max_length=200, blank=True)
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)
    submitted_at = models.DateTimeField(verbose_name=_("submitted at"), null=True, blank=True)
    due_on = models.DateField(
        verbose_name=_("due on"), null=True, blank=True,
        help_text=_("When the answer was due, as it stood at submission (for on-time rates)."),
    )

    class Meta:
        verbose_name = _("acknowledgement")
        verbose_name_plural = _("acknowledgements")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["purchase_order"], condition=Q(status="draft"), name="ack_one_draft_per_order"
            ),
        ]
        indexes = [models.Index(fields=["submitted_at"], name="ack_submitted_idx")]

    def __str__(self) -> str:
        return f"{self.purchase_order.number} rev {self.revision} ({self.get_status_display()})"


class AcknowledgementLine(models.Model):
    """The supplier's response to one order line, and what became of it."""

    class Action(models.TextChoices):
        ACCEPT = "accept", _("Accept")
        CHANGE = "change", _("Propose a change")
        REJECT = "reject", _("Reject")

    class Decision(models.TextChoices):
        DRAFT = "draft", _("Draft")
        AUTO_ACCEPTED = "auto_accepted", _("Accepted")
        PENDING = "pending", _("Waiting for the buyer")
        APPROVED = "approved", _("Approved by the buyer")
        DECLINED = "declined", _("Declined by the buyer")
        SUPERSEDED = "superseded", _("Superseded by a change order")

    acknowledgement = models.ForeignKey(
        Acknowledgement, verbose_name=_("acknowledgement"), on_delete=models.CASCADE, related_name="lines",
    )
    order_line = models.ForeignKey(
        PurchaseOrderLine, verbose_name=_("order line"), on_delete=models.PROTECT, related_name="responses",
    )
    action = models.CharField(verbose_name=_("action"), max_length=10, choices=Action.choices)
    quantity = models.DecimalField(
        verbose_name=_("quantity"), max_digits=18, decimal_places=4, help_text=_("Total quantity proposed."),
    )
    unit_price = models.DecimalField(verbose_name=_("unit price"), max_digits=18, decimal_places=6)
    promised_date = models.DateField(verbose_name=_("promised date"), help_text=_("The (last) date promised."))
    reason = models.ForeignKey(
        RejectionReason, verbose_name=_("reason"), null=True, blank=True, on_delete=models.PROTECT, related_name="+",
    )
    reason_text = models.CharField(verbose_name=_("reason text"), max_length=500, blank=True)
    decision = models.CharField(verbose_name=_("decision"), max_length=15, choices=Decision.choices, default=Decision.DRAFT)
    decided_at = models.DateTimeField(verbose_name=_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("decided by"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    decision_comment = models.TextField(verbose_name=_("decision comment"), blank=True)

    class Meta:
        verbose_name = _("acknowledgement line")
        verbose_name_plural = _("acknowledgement lines")
        ordering = ["acknowledgement", "order_line__line_number"]
        constraints = [
            models.UniqueConstraint(fields=["acknowledgement", "order_line"], name="ack_line_unique_order_line"),
            models.CheckConstraint(condition=Q(quantity__gte=0), name="ack_line_quantity_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.order_line} {self.get_action_display()} ({self.get_decision_display()})"

    @property
    def is_split(self) -> bool:
        return len(self.schedule.all()) > 1


class ScheduleLine(models.Model):
    """One delivery of a line response: a split has several; every response has at least one."""

    response = models.ForeignKey(
        AcknowledgementLine, verbose_name=_("response"), on_delete=models.CASCADE, related_name="schedule",
    )
    quantity = models.DecimalField(verbose_name=_("quantity"), max_digits=18, decimal_places=4)
    date = models.DateField(verbose_name=_("date"))

    class Meta:
        verbose_name = _("schedule line")
        verbose_name_plural = _("schedule lines")
        ordering = ["response", "date", "id"]
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="schedule_quantity_positive")]


class ExceptionCase(models.Model):
    """Something a buyer must look at and decide: a proposal outside tolerance, a rejected line, ..."""

    class Kind(models.TextChoices):
        PROPOSAL_OUTSIDE_TOLERANCE = "proposal_outside_tolerance", _("Proposal outside tolerance")
        LINE_REJECTED = "line_rejected", _("Line rejected by the supplier")
        DELIVERY_FAILED = "delivery_failed", _("Delivery to the ERP failed")
        RECEIPT_SHORT = "receipt_short", _("Received less than the ASN announced")
        RECEIPT_OVER = "receipt_over", _("Received more than the ASN announced")
        RECEIPT_UNEXPECTED = "receipt_unexpected", _("Received goods no ASN announced")
        RECEIPT_WRONG_LOT = "receipt_wrong_lot", _("Received another lot than the ASN announced")
        RECEIPT_LATE = "receipt_late", _("Received after the committed date")
        FORECAST_SHORTFALL = "forecast_shortfall", _("Commitment below the firm forecast")
        INVOICE_DIFFERENCE = "invoice_difference", _("Invoice outside price or quantity tolerance")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        APPROVED = "approved", _("Approved")
        DECLINED = "declined", _("Declined")
        CLOSED = "closed", _("Closed (superseded)")
        RESOLVED = "resolved", _("Resolved")

    kind = models.CharField(verbose_name=_("kind"), max_length=40, choices=Kind.choices)
    status = models.CharField(verbose_name=_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    supplier = models.ForeignKey(
        Supplier, verbose_name=_("supplier"), null=True, blank=True, on_delete=models.PROTECT, related_name="exception_cases",
    )
    purchase_order = models.ForeignKey(
        PurchaseOrder, verbose_name=_("purchase order"), null=True, blank=True, on_delete=models.CASCADE,
        related_name="exception_cases",
    )
    response = models.OneToOneField(
        AcknowledgementLine, verbose_name=_("response"), null=True, blank=True, on_delete=models.CASCADE,
        related_name="exception_case",
    )
    shipment = models.ForeignKey(
        "Shipment", verbose_name=_("shipment"), null=True, blank=True, on_delete=models.SET_NULL, related_name="exception_cases",
    )
    shipment_line = models.ForeignKey(
        "ShipmentLine", verbose_name=_("shipment line"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
    )
    receipt = models.ForeignKey(
        "Receipt", verbose_name=_("receipt"), null=True, blank=True, on_delete=models.SET_NULL, related_name="exception_cases",
    )
    forecast = models.ForeignKey(
        "Forecast", verbose_name=_("forecast"), null=True, blank=True, on_delete=models.SET_NULL, related_name="exception_cases",
    )
    invoice = models.ForeignKey(
        "Invoice", verbose_name=_("invoice"), null=True, blank=True, on_delete=models.SET_NULL, related_name="exception_cases",
    )
    summary = models.CharField(verbose_name=_("summary"), max_length=300)
    details = models.JSONField(
        verbose_name=_("details"), default=dict,
        help_text=_("What the case is about: the order and the proposal, or the ASN and the receipt."),
    )
    opened_at = models.DateTimeField(verbose_name=_("opened at"), auto_now_add=True)
    decided_at = models.DateTimeField(verbose_name=_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("decided by"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    decision_comment = models.TextField(verbose_name=_("decision comment"), blank=True)

    class Meta:
        verbose_name = _("exception case")
        verbose_name_plural = _("exception cases")
        ordering = ["-opened_at", "-id"]
        indexes = [
            models.Index(fields=["status", "kind"], name="exception_status_kind_idx"),
            models.Index(fields=["opened_at"], name="exception_opened_idx"),
            models.Index(fields=["decided_at"], name="exception_decided_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_kind_display()}: {self.summary}"


class Receipt(models.Model):
    """Goods received against a purchase order, as the ERP booked them (one ERP receipt document)."""

    reference = models.CharField(
        verbose_name=_("reference"), max_length=60, unique=True, help_text=_("The ERP's receipt document number."),
    )
    purchase_order = models.ForeignKey(
        PurchaseOrder, verbose_name=_("purchase order"), on_delete=models.PROTECT, related_name="receipts",
    )
    received_on = models.DateField(verbose_name=_("received on"))
    content_hash = models.CharField(
        verbose_name=_("content hash"), max_length=64,
        help_text=_("Of the canonical document: a repeat with other content is refused."),
    )
    document = models.JSONField(verbose_name=_("document"))
    recorded_at = models.DateTimeField(verbose_name=_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("receipt")
        verbose_name_plural = _("receipts")
        ordering = ["purchase_order", "received_on", "id"]
        indexes = [models.Index(fields=["purchase_order", "received_on"], name="receipt_order_date_idx")]

    def __str__(self) -> str:
        return self.reference


class ReceiptLine(models.Model):
    receipt = models.ForeignKey(Receipt, verbose_name=_("receipt"), on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(
        PurchaseOrderLine, verbose_name=_("order line"), on_delete=models.PROTECT, related_name="receipt_lines",
    )
    quantity = models.DecimalField(
        verbose_name=_("quantity"), max_digits=18, decimal_places=4, help_text=_("Negative for a return or reversal."),
    )
    sscc = models.CharField(verbose_name=_("SSCC"), max_length=18, blank=True)
    lot = models.CharField(verbose_name=_("lot"), max_length=35, blank=True)
    item = models.CharField(
        verbose_name=_("item"), max_length=35, blank=True, help_text=_("The item the ERP booked, when it says so."),
    )

    class Meta:
        verbose_name = _("receipt line")
        verbose_name_plural = _("receipt lines")
        ordering = ["receipt", "order_line", "id"]
        constraints = [models.CheckConstraint(condition=~Q(quantity=0), name="receipt_line_quantity_not_zero")]

    def __str__(self) -> str:
        return f"{self.receipt.reference}: line {self.order_line.line_number}, {self.quantity.normalize()}"


class ReceiptMatch(models.Model):
    """How much of a receipt line counts against which ASN line; none when no ASN announced it."""

    receipt_line = models.ForeignKey(
        ReceiptLine, verbose_name=_("receipt line"), on_delete=models.CASCADE, related_name="matches",
    )
    # PROTECT: a received ASN line can be neither corrected away nor cancelled.
    shipment_line = models.ForeignKey(
        "ShipmentLine", verbose_name=_("shipment line"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="receipt_matches",
    )
    quantity = models.DecimalField(verbose_name=_("quantity"), max_digits=18, decimal_places=4)

    class Meta:
        verbose_name = _("receipt match")
        verbose_name_plural = _("receipt matches")

    def __str__(self) -> str:
        return f"{self.receipt_line_id} -> {self.shipment_line_id}: {self.quantity.normalize()}"


class InvoiceStatus(models.Model):
    """The ERP's latest word on a supplier invoice: received, approved, blocked (with reason) or paid."""

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        APPROVED = "approved", _("Approved")
        BLOCKED = "blocked", _("Blocked")
        PAID = "paid", _("Paid")

    supplier = models.ForeignKey(Supplier, verbose_name=_("supplier"), on_delete=models.PROTECT, related_name="invoice_statuses")
    invoice_number = models.CharField(verbose_name=_("invoice number"), max_length=35)
    version = models.PositiveIntegerField(
        verbose_name=_("version"), help_text=_("The ERP's version of this status; older versions are refused."),
    )
    purchase_order = models.ForeignKey(
        PurchaseOrder, verbose_name=_("purchase order"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="invoice_statuses",
    )
    status = models.CharField(verbose_name=_("status"), max_length=10, choices=Status.choices)
    reason = models.CharField(verbose_name=_("reason"), max_length=300, blank=True)
    paid_on = models.DateField(verbose_name=_("paid on"), null=True, blank=True)
    payment_reference = models.CharField(verbose_name=_("payment reference"), max_length=60, blank=True)
    content_hash = models.CharField(verbose_name=_("content hash"), max_length=64)
    updated_at = models.DateTimeField(verbose_name=_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("invoice status")
        verbose_name_plural = _("invoice statuses")
        ordering = ["supplier", "invoice_number"]
        constraints = [
            models.UniqueConstraint(fields=["supplier", "invoice_number"], name="invoice_status_unique_number"),
        ]

    def __str__(self) -> str:
        return f"{self.invoice_number}: {self.status}"


class Forecast(models.Model):
    """The planning system's demand on one supplier for one item at one ship-to. Each version the
    planning system publishes is kept (the waterfall compares them); `version` is the current one."""

    supplier = models.ForeignKey(Supplier, verbose_name=_("supplier"), on_delete=models.PROTECT, related_name="forecasts")
    item = models.CharField(verbose_name=_("item"), max_length=35)
    ship_to = models.CharField(verbose_name=_("ship to"), max_length=35)
    description = models.CharField(verbose_name=_("description"), max_length=300, blank=True)
    uom = models.CharField(verbose_name=_("UoM"), max_length=10)
    version = models.PositiveIntegerField(verbose_name=_("version"), help_text=_("The current version; older versions are refused."))
    updated_at = models.DateTimeField(verbose_name=_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("forecast")
        verbose_name_plural = _("forecasts")
        ordering = ["supplier", "item", "ship_to"]
        constraints = [
            models.UniqueConstraint(fields=["supplier", "item", "ship_to"], name="forecast_unique_item_site"),
        ]

    def __str__(self) -> str:
        return f"{self.supplier.code} {self.item} @ {self.ship_to} v{self.version}"


class ForecastVersion(models.Model):
    forecast = models.ForeignKey(Forecast, verbose_name=_("forecast"), on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField(verbose_name=_("version"))
    published_on = models.DateField(verbose_name=_("published on"), null=True, blank=True)
    content_hash = models.CharField(verbose_name=_("content hash"), max_length=64)
    received_at = models.DateTimeField(verbose_name=_("received at"), auto_now_add=True)

    class Meta:
        verbose_name = _("forecast version")
        verbose_name_plural = _("forecast versions")
        ordering = ["forecast", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["forecast", "version"], name="forecast_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.forecast_id} v{self.version}"


class ForecastBucket(models.Model):
    """One period of a forecast version with its quantity and zone, and the supplier's commitment to it."""

    class Period(models.TextChoices):
        WEEK = "week", _("Week")
        MONTH = "month", _("Month")

    class Zone(models.TextChoices):
        FIRM = "firm", _("Firm")
        PLANNED = "planned", _("Planned")

    version = models.ForeignKey(ForecastVersion, verbose_name=_("version"), on_delete=models.CASCADE, related_name="buckets")
    start = models.DateField(verbose_name=_("start"))
    end = models.DateField(verbose_name=_("end"), help_text=_("The last day of the period."))
    period = models.CharField(verbose_name=_("period"), max_length=5, choices=Period.choices)
    zone = models.CharField(verbose_name=_("zone"), max_length=7, choices=Zone.choices)
    quantity = models.DecimalField(verbose_name=_("quantity"), max_digits=18, decimal_places=4)
    committed_quantity = models.DecimalField(
        verbose_name=_("committed quantity"), max_digits=18, decimal_places=4, null=True, blank=True,
    )
    commit_reason = models.CharField(verbose_name=_("commit reason"), max_length=300, blank=True)
    committed_at = models.DateTimeField(verbose_name=_("committed at"), null=True, blank=True)
    committed_by = models.CharField(
        verbose_name=_("committed by"), max_length=150, blank=True, help_text=_("Who committed: a user or an API token."),
    )

    class Meta:
        verbose_name = _("forecast bucket")
        verbose_name_plural = _("forecast buckets")
        ordering = ["version", "start"]
        constraints = [
            models.UniqueConstraint(fields=["version", "start"], name="forecast_bucket_unique_start"),
        ]

    def __str__(self) -> str:
        return f"{self.start}..{self.end}: {self.quantity.normalize()}"

    @property
    def shortfall(self):
        """How much less than the forecast is committed (0 when fully committed or not yet answered)."""
        if self.committed_quantity is None:
            return 0
        return max(self.quantity - self.committed_quantity, 0)


class InventoryPosition(models.Model):
    """The ERP's latest stock of one supplier's item at one site: on hand, in transit, and consignment /
    vendor-managed stock, with the minimum and maximum levels agreed for it."""

    supplier = models.ForeignKey(
        Supplier, verbose_name=_("supplier"), on_delete=models.PROTECT, related_name="inventory_positions",
    )
    item = models.CharField(verbose_name=_("item"), max_length=35)
    site = models.CharField(verbose_name=_("site"), max_length=35, help_text=_("The buyer's plant or warehouse (a ship-to)."))
    uom = models.CharField(verbose_name=_("UoM"), max_length=10)
    on_hand = models.DecimalField(verbose_name=_("on hand"), max_digits=18, decimal_places=4)
    in_transit = models.DecimalField(verbose_name=_("in transit"), max_digits=18, decimal_places=4, default=0)
    consignment = models.DecimalField(verbose_name=_("consignment"), max_digits=18, decimal_places=4, default=0,
                                      help_text=_("Consignment or vendor-managed stock at the site, still the supplier's."))
    min_level = models.DecimalField(verbose_name=_("min level"), max_digits=18, decimal_places=4, default=0)
    max_level = models.DecimalField(verbose_name=_("max level"), max_digits=18, decimal_places=4, null=True, blank=True)
    as_of = models.DateTimeField(verbose_name=_("as of"), help_text=_("When the ERP counted it; an older count is refused."))
    content_hash = models.CharField(verbose_name=_("content hash"), max_length=64)
    updated_at = models.DateTimeField(verbose_name=_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("inventory position")
        verbose_name_plural = _("inventory positions")
        ordering = ["supplier", "item", "site"]
        constraints = [
            models.UniqueConstraint(fields=["supplier", "item", "site"], name="inventory_unique_item_site"),
        ]

    def __str__(self) -> str:
        return f"{self.supplier.code} {self.item} @ {self.site}: {self.on_hand.normalize()} {self.uom}"

    @property
    def at_site(self):
        """What the site holds: on hand plus consignment stock."""
        return self.on_hand + self.consignment

    @property
    def below_minimum(self) -> bool:
        return self.at_site < self.min_level

    @property
    def above_maximum(self) -> bool:
        return self.max_level is not None and self.at_site > self.max_level


class Invoice(models.Model):
    """A supplier's invoice against its order lines, submitted through the portal, the API or EDIFACT
    INVOIC; the ERP's word on it arrives as an InvoiceStatus with the same supplier and number."""

    supplier = models.ForeignKey(Supplier, verbose_name=_("supplier"), on_delete=models.PROTECT, related_name="invoices")
    number = models.CharField(verbose_name=_("number"), max_length=35)
    invoice_date = models.DateField(verbose_name=_("invoice date"))
    currency = models.CharField(verbose_name=_("currency"), max_length=3)
    tax_rate = models.DecimalField(
        verbose_name=_("tax rate"), max_digits=5, decimal_places=2, default=0, help_text=_("VAT in percent of the net amount."),
    )
    shipment = models.ForeignKey(
        "Shipment", verbose_name=_("shipment"), null=True, blank=True, on_delete=models.PROTECT, related_name="invoices",
    )
    net_amount = models.DecimalField(verbose_name=_("net amount"), max_digits=18, decimal_places=2)
    tax_amount = models.DecimalField(verbose_name=_("tax amount"), max_digits=18, decimal_places=2)
    channel = models.CharField(verbose_name=_("channel"), max_length=10, choices=Channel.choices)
    submitted_by = models.CharField(
        verbose_name=_("submitted by"), max_length=150, help_text=_("A user, an API token or an EDI partner."),
    )
    submitted_at = models.DateTimeField(verbose_name=_("submitted at"), auto_now_add=True)
    content_hash = models.CharField(verbose_name=_("content hash"), max_length=64)

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["supplier", "number"], name="invoice_unique_number_per_supplier"),
        ]

    def __str__(self) -> str:
        return f"{self.supplier.code} {self.number}"

    @property
    def gross_amount(self) -> Decimal:
        return self.net_amount + self.tax_amount


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, verbose_name=_("invoice"), on_delete=models.CASCADE, related_name="lines")
    line_number = models.PositiveIntegerField(verbose_name=_("line number"))
    order_line = models.ForeignKey(
        PurchaseOrderLine, verbose_name=_("order line"), on_delete=models.PROTECT, related_name="invoice_lines",
    )
    quantity = models.DecimalField(verbose_name=_("quantity"), max_digits=18, decimal_places=4)
    unit_price = models.DecimalField(verbose_name=_("unit price"), max_digits=18, decimal_places=6)
    amount = models.DecimalField(verbose_name=_("amount"), max_digits=18, decimal_places=2)
    reason = models.CharField(
        verbose_name=_("reason"), max_length=300, blank=True, help_text=_("Why the line differs from the order or the receipt."),
    )
    differences = models.JSONField(
        verbose_name=_("differences"), default=list, help_text=_("What lay outside tolerance when it was submitted."),
    )

    class Meta:
        verbose_name = _("invoice line")
        verbose_name_plural = _("invoice lines")
        ordering = ["invoice", "line_number"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "line_number"], name="invoice_line_unique_number"),
        ]

    def __str__(self) -> str:
        return f"{self.invoice_id}/{self.line_number}"


class ItemRule(models.Model):
    """What shipping an item requires: lot numbers, serial numbers."""

    item = models.CharField(verbose_name=_("item"), max_length=35, unique=True)
    lot_controlled = models.BooleanField(
        verbose_name=_("lot controlled"), default=False, help_text=_("Every shipment line of this item names its lot."),
    )
    serial_controlled = models.BooleanField(
        verbose_name=_("serial controlled"), default=False,
        help_text=_("Every unit shipped is listed by serial number (quantity = number of serials)."),
    )
    required_documents = models.JSONField(
        verbose_name=_("required documents"), default=list, blank=True,
        help_text=_("Quality document types an ASN of this item needs (valid on the despatch date, not rejected), "
                    "e.g. [\"certificate_of_conformity\"]."),
    )

    class Meta:
        verbose_name = _("item rule")
        verbose_name_plural = _("item rules")

    def __str__(self) -> str:
        return self.item


class Shipment(models.Model):
    """An advance shipping notice (ASN): what a supplier despatches to one ship-to, in which packages."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        CANCELLED = "cancelled", _("Cancelled")

    class ReceiptStatus(models.TextChoices):
        NOT_RECEIVED = "not_received", _("Not received")
        PARTIAL = "partial", _("Partly received")
        RECEIVED = "received", _("Received as announced")
        DIFFERENCES = "differences", _("Received with differences")

    supplier = models.ForeignKey(Supplier, verbose_name=_("supplier"), on_delete=models.PROTECT, related_name="shipments")
    number = models.CharField(
        verbose_name=_("number"), max_length=35, help_text=_("The supplier's shipment (delivery note) number."),
    )
    revision = models.PositiveIntegerField(
        verbose_name=_("revision"), default=0, help_text=_("How many times it was submitted (corrections count)."),
    )
    status = models.CharField(verbose_name=_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    ship_to = models.CharField(verbose_name=_("ship to"), max_length=35)
    despatch_date = models.DateField(verbose_name=_("despatch date"))
    expected_arrival = models.DateField(verbose_name=_("expected arrival"))
    carrier = models.CharField(verbose_name=_("carrier"), max_length=100, blank=True)
    tracking_number = models.CharField(verbose_name=_("tracking number"), max_length=100, blank=True)
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(verbose_name=_("updated at"), auto_now=True)
    submitted_at = models.DateTimeField(verbose_name=_("submitted at"), null=True, blank=True)
    receipt_status = models.CharField(
        verbose_name=_("receipt status"), max_length=12, choices=ReceiptStatus.choices, default=ReceiptStatus.NOT_RECEIVED,
    )

    class Meta:
        verbose_name = _("shipment")
        verbose_name_plural = _("shipments")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["supplier", "number"], name="shipment_unique_number"),
            models.CheckConstraint(condition=Q(expected_arrival__gte=F("despatch_date")), name="shipment_arrival_after_despatch"),
        ]
        indexes = [
            # Shipment notices not (fully) received yet: what the control tower counts.
            models.Index(fields=["receipt_status", "expected_arrival", "supplier"], name="shipment_unreceived_idx",
                         condition=Q(status="submitted", receipt_status__in=["not_received", "partial"])),
        ]

    def __str__(self) -> str:
        return f"{self.supplier.code} {self.number}"


class ShipmentLine(models.Model):
    shipment = models.ForeignKey(Shipment, verbose_name=_("shipment"), on_delete=models.CASCADE, related_name="lines")
    line_number = models.PositiveIntegerField(verbose_name=_("line number"))
    order_line = models.ForeignKey(
        PurchaseOrderLine, verbose_name=_("order line"), on_delete=models.PROTECT, related_name="shipment_lines",
    )
    quantity = models.DecimalField(verbose_name=_("quantity"), max_digits=18, decimal_places=4)
    lot = models.CharField(verbose_name=_("lot"), max_length=35, blank=True)
    serial_numbers = models.JSONField(verbose_name=_("serial numbers"), default=list, blank=True)
    received_quantity = models.DecimalField(
        verbose_name=_("received quantity"), max_digits=18, decimal_places=4, default=Decimal(0),
        help_text=_("Of the receipts matched to this line."),
    )

    class Meta:
        verbose_name = _("shipment line")
        verbose_name_plural = _("shipment lines")
        ordering = ["shipment", "line_number"]
        constraints = [
            models.UniqueConstraint(fields=["shipment", "line_number"], name="shipment_line_unique_number"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="shipment_line_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.shipment.number}/{self.line_number}"


class Package(models.Model):
    """A logistic unit with its SSCC; cartons may sit on a pallet (parent)."""

    class Kind(models.TextChoices):
        PALLET = "pallet", _("Pallet")
        CARTON = "carton", _("Carton")
        CRATE = "crate", _("Crate")
        OTHER = "other", _("Other")

    shipment = models.ForeignKey(Shipment, verbose_name=_("shipment"), on_delete=models.CASCADE, related_name="packages")
    position = models.PositiveIntegerField(
        verbose_name=_("position"), help_text=_("Order in the shipment, for labels and the packing list."),
    )
    reference = models.CharField(
        verbose_name=_("reference"), max_length=35, help_text=_("The supplier's name for it within the shipment, e.g. P1."),
    )
    sscc = models.CharField(verbose_name=_("SSCC"), max_length=18, unique=True)
    kind = models.CharField(verbose_name=_("kind"), max_length=10, choices=Kind.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.CASCADE, related_name="children",
    )

    class Meta:
        verbose_name = _("package")
        verbose_name_plural = _("packages")
        ordering = ["shipment", "position"]
        constraints = [models.UniqueConstraint(fields=["shipment", "reference"], name="package_unique_reference")]

    def __str__(self) -> str:
        return self.sscc


class PackageContent(models.Model):
    package = models.ForeignKey(Package, verbose_name=_("package"), on_delete=models.CASCADE, related_name="contents")
    shipment_line = models.ForeignKey(
        ShipmentLine, verbose_name=_("shipment line"), on_delete=models.CASCADE, related_name="packed",
    )
    quantity = models.DecimalField(verbose_name=_("quantity"), max_digits=18, decimal_places=4)

    class Meta:
        verbose_name = _("package content")
        verbose_name_plural = _("package contents")
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="package_content_quantity_positive")]


class SsccCounter(models.Model):
    """The last serial reference handed out under a GS1 Company Prefix and extension digit (locked
    while allocating, so serials are gap-free and never repeat)."""

    company_prefix = models.CharField(verbose_name=_("company prefix"), max_length=12)
    extension_digit = models.PositiveSmallIntegerField(verbose_name=_("extension digit"), default=0)
    last_serial = models.PositiveBigIntegerField(verbose_name=_("last serial"), default=0)

    class Meta:
        verbose_name = _("SSCC counter")
        verbose_name_plural = _("SSCC counters")
        constraints = [
            models.UniqueConstraint(fields=["company_prefix", "extension_digit"], name="sscc_counter_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.extension_digit}/{self.company_prefix}: {self.last_serial}"


class StoredFile(models.Model):
    """A checked upload in the private storage (see `collaboration.uploads`); the name is generated,
    the uploader's file name is kept for display only."""

    file = models.FileField(verbose_name=_("file"), storage=uploads.private_storage, max_length=200)
    original_name = models.CharField(verbose_name=_("original name"), max_length=200)
    content_type = models.CharField(verbose_name=_("content type"), max_length=50)
    size = models.PositiveIntegerField(verbose_name=_("size"))
    sha256 = models.CharField(verbose_name=_("SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(verbose_name=_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("stored file")
        verbose_name_plural = _("stored files")
        abstract = True


class QualityDocument(StoredFile):
    """A certificate or report from a supplier, for an item (and lot), an order line or a shipment."""

    class Type(models.TextChoices):
        CERTIFICATE_OF_CONFORMITY = "certificate_of_conformity", _("Certificate of conformity")
        MATERIAL_CERTIFICATE = "material_certificate", _("Material certificate (EN 10204)")
        PPAP = "ppap", _("PPAP submission")
        TEST_REPORT = "test_report", _("Test report")
        SAFETY_DATA_SHEET = "safety_data_sheet", _("Safety data sheet")
        OTHER = "other", _("Other")

    class Review(models.TextChoices):
        PENDING = "pending", _("Waiting for review")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    supplier = models.ForeignKey(Supplier, verbose_name=_("supplier"), on_delete=models.PROTECT, related_name="quality_documents")
    document_type = models.CharField(verbose_name=_("document type"), max_length=40, choices=Type.choices)
    title = models.CharField(verbose_name=_("title"), max_length=200, blank=True)
    item = models.CharField(verbose_name=_("item"), max_length=35, blank=True)
    lot = models.CharField(verbose_name=_("lot"), max_length=35, blank=True, help_text=_("Empty: every lot of the item."))
    order_line = models.ForeignKey(
        PurchaseOrderLine, verbose_name=_("order line"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="quality_documents",
    )
    shipment = models.ForeignKey(
        "Shipment", verbose_name=_("shipment"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="quality_documents",
    )
    issued_on = models.DateField(verbose_name=_("issued on"))
    expires_on = models.DateField(verbose_name=_("expires on"), null=True, blank=True)
    review_status = models.CharField(
        verbose_name=_("review status"), max_length=10, choices=Review.choices, default=Review.PENDING,
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("reviewed by"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(verbose_name=_("reviewed at"), null=True, blank=True)
    review_comment = models.TextField(verbose_name=_("review comment"), blank=True)
    expiry_reminder_sent_on = models.DateField(
        verbose_name=_("expiry reminder sent on"), null=True, blank=True,
        help_text=_("When the supplier was last reminded of the expiry."),
    )

    class Meta:
        verbose_name = _("quality document")
        verbose_name_plural = _("quality documents")
        ordering = ["-uploaded_at", "-id"]
        indexes = [models.Index(fields=["supplier", "item", "document_type"], name="quality_doc_item_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(expires_on__isnull=True) | Q(expires_on__gte=F("issued_on")),
                                   name="quality_document_expires_after_issue"),
        ]

    def __str__(self) -> str:
        return f"{self.get_document_type_display()} {self.item} {self.lot}".strip()


class QualityIncident(models.Model):
    """A non-conformance: goods on hold at the buyer's plant until the supplier has answered and the
    buyer releases or scraps them."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    class Hold(models.TextChoices):
        ON_HOLD = "on_hold", _("On hold")
        RELEASED = "released", _("Released")
        SCRAPPED = "scrapped", _("Scrapped")

    reference = models.CharField(
        verbose_name=_("reference"), max_length=35, unique=True, help_text=_("The buyer's (or the ERP's) incident number."),
    )
    supplier = models.ForeignKey(Supplier, verbose_name=_("supplier"), on_delete=models.PROTECT, related_name="quality_incidents")
    purchase_order = models.ForeignKey(
        PurchaseOrder, verbose_name=_("purchase order"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="quality_incidents",
    )
    item = models.CharField(verbose_name=_("item"), max_length=35)
    lot = models.CharField(verbose_name=_("lot"), max_length=35, blank=True)
    quantity_on_hold = models.DecimalField(verbose_name=_("quantity on hold"), max_digits=18, decimal_places=4)
    uom = models.CharField(verbose_name=_("UoM"), max_length=10, blank=True)
    description = models.TextField(verbose_name=_("description"))
    status = models.CharField(verbose_name=_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    hold_status = models.CharField(verbose_name=_("hold status"), max_length=10, choices=Hold.choices, default=Hold.ON_HOLD)
    hold_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("hold decided by"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    hold_decided_at = models.DateTimeField(verbose_name=_("hold decided at"), null=True, blank=True)
    hold_comment = models.TextField(verbose_name=_("hold comment"), blank=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("opened by"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
    )
    opened_channel = models.CharField(verbose_name=_("opened channel"), max_length=10)
    opened_at = models.DateTimeField(verbose_name=_("opened at"), auto_now_add=True)
    content_hash = models.CharField(
        verbose_name=_("content hash"), max_length=64, blank=True, help_text=_("Of the ERP's document, for idempotent repeats."),
    )

    class Meta:
        verbose_name = _("quality incident")
        verbose_name_plural = _("quality incidents")
        ordering = ["-opened_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(quantity_on_hold__gte=0), name="incident_quantity_not_negative")]

    def __str__(self) -> str:
        return f"{self.reference} {self.item}"


class IncidentStep(models.Model):
    """One part of the supplier's answer (8D-style), in this order, each with its due date."""

    class Kind(models.TextChoices):
        CONTAINMENT = "containment", _("Containment")
        ROOT_CAUSE = "root_cause", _("Root cause")
        CORRECTIVE_ACTION = "corrective_action", _("Corrective action")
        VERIFICATION = "verification", _("Verification")

    class Status(models.TextChoices):
        WAITING = "waiting", _("Waiting for the supplier")
        ANSWERED = "answered", _("Answered")
        ACCEPTED = "accepted", _("Accepted by the buyer")
        RETURNED = "returned", _("Returned to the supplier")

    incident = models.ForeignKey(QualityIncident, verbose_name=_("incident"), on_delete=models.CASCADE, related_name="steps")
    kind = models.CharField(verbose_name=_("kind"), max_length=20, choices=Kind.choices)
    position = models.PositiveSmallIntegerField(verbose_name=_("position"))
    due_on = models.DateField(verbose_name=_("due on"))
    status = models.CharField(verbose_name=_("status"), max_length=10, choices=Status.choices, default=Status.WAITING)
    response = models.TextField(verbose_name=_("response"), blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("responded by"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    responded_at = models.DateTimeField(verbose_name=_("responded at"), null=True, blank=True)
    buyer_comment = models.TextField(verbose_name=_("buyer comment"), blank=True)

    class Meta:
        verbose_name = _("incident step")
        verbose_name_plural = _("incident steps")
        ordering = ["incident", "position"]
        constraints = [models.UniqueConstraint(fields=["incident", "kind"], name="incident_step_unique_kind")]

    def __str__(self) -> str:
        return f"{self.incident.reference}: {self.get_kind_display()}"


class IncidentAttachment(StoredFile):
    step = models.ForeignKey(IncidentStep, verbose_name=_("step"), on_delete=models.CASCADE, related_name="attachments")

    class Meta:
        verbose_name = _("incident attachment")
        verbose_name_plural = _("incident attachments")

    def __str__(self) -> str:
        return self.original_name


class AuditEvent(models.Model):
    """Who changed what, when, through which channel, with the values before and after."""

    occurred_at = models.DateTimeField(verbose_name=_("occurred at"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("actor"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
    )
    actor_label = models.CharField(
        verbose_name=_("actor label"), max_length=200, help_text=_("The user, token or system that acted, kept if the user goes."),
    )
    channel = models.CharField(verbose_name=_("channel"), max_length=10, choices=Channel.choices)
    action = models.CharField(verbose_name=_("action"), max_length=60)
    supplier = models.ForeignKey(
        Supplier, verbose_name=_("supplier"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
    )
    object_type = models.CharField(verbose_name=_("object type"), max_length=60)
    object_id = models.CharField(verbose_name=_("object ID"), max_length=60)
    purchase_order = models.CharField(
        verbose_name=_("purchase order"), max_length=35, blank=True, db_index=True,
        help_text=_("The PO number it concerns, for its timeline."),
    )
    correlation_id = models.CharField(verbose_name=_("correlation ID"), max_length=64, blank=True, db_index=True,
                                      help_text=_("Of the request, interchange or task that did it (see the logs)."))
    before = models.JSONField(verbose_name=_("before"), null=True, blank=True)
    after = models.JSONField(verbose_name=_("after"), null=True, blank=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object_idx")]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.action} {self.object_type} {self.object_id}"


class SupplierApiToken(models.Model):
    """A supplier system's key to the REST API: scoped, revocable, optionally expiring; only its SHA-256 is kept."""

    class Scope(models.TextChoices):
        READ = "read", _("Read purchase orders")
        ACKNOWLEDGE = "acknowledge", _("Submit acknowledgements")
        SHIP = "ship", _("Create shipment notices")
        QUALITY = "quality", _("Upload quality documents, answer quality incidents")
        PLAN = "plan", _("Read forecasts, commit capacity")
        INVOICE = "invoice", _("Submit invoices")

    supplier = models.ForeignKey(Supplier, verbose_name=_("supplier"), on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(verbose_name=_("name"), max_length=100)
    prefix = models.CharField(verbose_name=_("prefix"), max_length=12)
    key_hash = models.CharField(verbose_name=_("key hash"), max_length=64, unique=True)
    scopes = models.JSONField(verbose_name=_("scopes"), default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, on_delete=models.SET_NULL, related_name="+",
    )
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(verbose_name=_("expires at"), null=True, blank=True)
    last_used_at = models.DateTimeField(verbose_name=_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(verbose_name=_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("supplier API token")
        verbose_name_plural = _("supplier API tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.supplier.code}: {self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        from django.utils import timezone

        return self.revoked_at is None and (self.expires_at is None or self.expires_at > timezone.now())
