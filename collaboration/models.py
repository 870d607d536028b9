"""Domain models. State changes go through `collaboration.services`; these hold pure-data invariants."""
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q


class Supplier(models.Model):
    code = models.CharField(max_length=35, unique=True, help_text="The supplier's code in the ERP.")
    name = models.CharField(max_length=200)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"


class Membership(models.Model):
    class Role(models.TextChoices):
        ADMIN = "admin", "Admin"
        SALES = "sales", "Sales"
        LOGISTICS = "logistics", "Logistics"
        QUALITY = "quality", "Quality"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "supplier"], name="membership_unique_user_supplier")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.supplier.code} ({self.role})"


class PurchaseOrder(models.Model):
    class Status(models.TextChoices):
        AWAITING_ACKNOWLEDGEMENT = "awaiting_acknowledgement", "Awaiting acknowledgement"
        CHANGED = "changed", "Changed — please re-acknowledge"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"

    OPEN_STATUSES = (Status.AWAITING_ACKNOWLEDGEMENT, Status.CHANGED)

    number = models.CharField(max_length=35, unique=True)
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="purchase_orders")
    revision = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    order_date = models.DateField()
    ship_to = models.CharField(max_length=35)
    status = models.CharField(max_length=30, choices=Status.choices, default=Status.AWAITING_ACKNOWLEDGEMENT)
    content_hash = models.CharField(max_length=64, help_text="SHA-256 of the canonical document of this revision.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-order_date", "-id"]
        indexes = [
            models.Index(fields=["supplier", "-order_date", "-id"], name="po_supplier_date_idx"),
            models.Index(fields=["supplier", "status", "-order_date", "-id"], name="po_supplier_status_date_idx"),
        ]
        constraints = [models.CheckConstraint(condition=Q(revision__gte=1), name="po_revision_positive")]

    def __str__(self) -> str:
        return self.number

    @property
    def is_open_for_acknowledgement(self) -> bool:
        return self.status in self.OPEN_STATUSES


class PurchaseOrderLine(models.Model):
    purchase_order = models.ForeignKey(PurchaseOrder, on_delete=models.CASCADE, related_name="lines")
    line_number = models.PositiveIntegerField()
    item = models.CharField(max_length=35)
    description = models.CharField(max_length=300, blank=True)
    quantity = models.DecimalField(max_digits=18, decimal_places=4)
    uom = models.CharField(max_length=10)
    unit_price = models.DecimalField(max_digits=18, decimal_places=6)
    requested_date = models.DateField()
    is_cancelled = models.BooleanField(default=False, help_text="Removed by a later revision of the order.")
    changed_in_revision = models.PositiveIntegerField(
        help_text="The revision that last added or changed this line; an acknowledgement of an older revision no longer covers it."
    )

    class Meta:
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

    purchase_order = models.ForeignKey(PurchaseOrder, on_delete=models.CASCADE, related_name="revisions")
    revision = models.PositiveIntegerField()
    document = models.JSONField()
    content_hash = models.CharField(max_length=64)
    changes = models.JSONField(default=list, help_text="Per-line differences from the previous revision.")
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["purchase_order", "-revision"]
        constraints = [
            models.UniqueConstraint(fields=["purchase_order", "revision"], name="po_revision_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.purchase_order.number} rev {self.revision}"


class Channel(models.TextChoices):
    PORTAL = "portal", "Portal"
    API = "api", "API"
    EDI = "edi", "EDI"
    ERP = "erp", "ERP"
    ADMIN = "admin", "Admin"
    SYSTEM = "system", "System"


class Acknowledgement(models.Model):
    class Status(models.TextChoices):
        DECIDED = "decided", "Decided"

    purchase_order = models.ForeignKey(PurchaseOrder, on_delete=models.CASCADE, related_name="acknowledgements")
    revision = models.PositiveIntegerField(help_text="The order revision this acknowledgement answers.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DECIDED)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-submitted_at", "-id"]

    def __str__(self) -> str:
        return f"{self.purchase_order.number} rev {self.revision} ({self.get_status_display()})"


class AcknowledgementLine(models.Model):
    class Action(models.TextChoices):
        ACCEPT = "accept", "Accept"

    acknowledgement = models.ForeignKey(Acknowledgement, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(PurchaseOrderLine, on_delete=models.PROTECT, related_name="responses")
    action = models.CharField(max_length=10, choices=Action.choices)
    quantity = models.DecimalField(max_digits=18, decimal_places=4)
    unit_price = models.DecimalField(max_digits=18, decimal_places=6)
    promised_date = models.DateField()

    class Meta:
        ordering = ["acknowledgement", "order_line__line_number"]
        constraints = [
            models.UniqueConstraint(fields=["acknowledgement", "order_line"], name="ack_line_unique_order_line"),
        ]


class AuditEvent(models.Model):
    """Who changed what, when, through which channel, with the values before and after."""

    occurred_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor_label = models.CharField(max_length=200, help_text="The user, token or system that acted, kept if the user goes.")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    action = models.CharField(max_length=60)
    supplier = models.ForeignKey(Supplier, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=60)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object_idx")]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.action} {self.object_type} {self.object_id}"
