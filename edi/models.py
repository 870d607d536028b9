"""EDIFACT partners and the interchanges exchanged with them (raw bytes kept unchanged)."""
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q

from collaboration.models import Supplier

MESSAGE_TYPES = ["ORDERS", "ORDCHG", "ORDRSP", "DESADV", "INVOIC", "CONTRL"]


class TradingPartner(models.Model):
    """A supplier that exchanges UN/EDIFACT files instead of (or beside) using the portal."""

    class Charset(models.TextChoices):
        UNOA = "UNOA", "UNOA (upper case, digits, few signs)"
        UNOB = "UNOB", "UNOB (ISO 646, lower case too)"
        UNOC = "UNOC", "UNOC (ISO 8859-1)"
        UNOY = "UNOY", "UNOY (ISO 10646 / UTF-8)"

    class Directory(models.TextChoices):
        D96A = "D96A", "D.96A"
        D01B = "D01B", "D.01B"

    supplier = models.OneToOneField(Supplier, on_delete=models.PROTECT, related_name="trading_partner")
    edi_id = models.CharField("interchange id", max_length=35, help_text="The partner's UNB identification (0004/0010).")
    qualifier = models.CharField(
        max_length=4, blank=True, validators=[RegexValidator(r"^[0-9A-Z]{0,4}$", "Up to 4 letters or digits, e.g. 14 or ZZZ.")],
        help_text="Code qualifier of the id (0007), e.g. 14 for a GLN.",
    )
    syntax_version = models.PositiveSmallIntegerField(default=3, help_text="UNB 0002: 3 or 4.")
    charset = models.CharField(max_length=4, choices=Charset.choices, default=Charset.UNOC)
    directory = models.CharField(max_length=4, choices=Directory.choices, default=Directory.D96A)
    message_types = models.JSONField(default=list, help_text=f"Enabled message types, of {', '.join(MESSAGE_TYPES)}.")
    inbound_dir = models.CharField(max_length=500, blank=True, help_text="The mailbox folder the partner's files arrive in.")
    outbound_dir = models.CharField(max_length=500, blank=True, help_text="The mailbox folder our files for the partner go to.")
    is_active = models.BooleanField(default=True)
    last_control_ref = models.PositiveBigIntegerField(default=0, help_text="Our last outbound interchange control reference.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["supplier__code"]
        constraints = [
            models.UniqueConstraint(fields=["edi_id", "qualifier"], name="trading_partner_unique_identity"),
            models.CheckConstraint(condition=Q(syntax_version__in=[1, 2, 3, 4]), name="trading_partner_syntax_version"),
        ]

    def __str__(self) -> str:
        return f"{self.supplier.code} ({self.qualifier + ':' if self.qualifier else ''}{self.edi_id})"

    def save(self, *args, **kwargs) -> None:
        # The control reference counter is written only by edi.outbound.next_control_ref (under a row
        # lock); saving a partner read earlier must never put an old value back.
        if self.pk is not None and kwargs.get("update_fields") is None and not kwargs.get("force_insert"):
            kwargs["update_fields"] = [f.name for f in self._meta.concrete_fields
                                       if not f.primary_key and f.name != "last_control_ref"]
        super().save(*args, **kwargs)


class Interchange(models.Model):
    """One interchange (UNB…UNZ) in or out, exactly as it was on the wire."""

    class Direction(models.TextChoices):
        INBOUND = "in", "Inbound"
        OUTBOUND = "out", "Outbound"

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        ACCEPTED = "accepted", "Accepted"
        PARTIALLY_ACCEPTED = "partially_accepted", "Partially accepted"
        REJECTED = "rejected", "Rejected"
        DUPLICATE = "duplicate", "Duplicate"
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        ACKNOWLEDGED = "acknowledged", "Acknowledged by the partner (CONTRL)"
        REFUSED = "refused", "Rejected by the partner (CONTRL)"

    partner = models.ForeignKey(TradingPartner, null=True, blank=True, on_delete=models.PROTECT, related_name="interchanges")
    direction = models.CharField(max_length=3, choices=Direction.choices)
    control_ref = models.CharField(max_length=14, help_text="UNB 0020.")
    sender = models.CharField(max_length=40, blank=True)
    recipient = models.CharField(max_length=40, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices)
    raw = models.BinaryField(help_text="The interchange's bytes, unchanged.")
    file_name = models.CharField(max_length=255, blank=True)
    message_types = models.JSONField(default=list)
    errors = models.JSONField(default=list, help_text="Syntax and content errors, each with code, segment and text.")
    answer = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                               help_text="The CONTRL sent for it (inbound) or received for it (outbound).")
    created_at = models.DateTimeField(auto_now_add=True)
    correlation_id = models.CharField(max_length=64, blank=True, db_index=True,
                                      help_text="Inbound: the id its processing logged and audited under; outbound: of what caused it.")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # Never twice: an inbound reference of a partner is processed once; a repeat is recorded
            # as a duplicate (partner null for unknown senders, who are rejected).
            models.UniqueConstraint(fields=["partner", "direction", "control_ref"],
                                    condition=~Q(status="duplicate") & Q(partner__isnull=False),
                                    name="interchange_unique_reference"),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.control_ref} ({self.status})"


class InterchangeMessage(models.Model):
    """What became of one message of an inbound interchange; stored in the transaction of its effects,
    so an interchange taken up again after a crash goes on after the last message done."""

    interchange = models.ForeignKey(Interchange, on_delete=models.CASCADE, related_name="results")
    position = models.PositiveIntegerField(help_text="0 for the first message of the interchange.")
    ref = models.CharField(max_length=14, help_text="UNH 0062.")
    type = models.CharField(max_length=6)
    identifier = models.JSONField(default=list, help_text="Type, version, release, agency.")
    group_ref = models.CharField(max_length=14, blank=True, help_text="UNG 0048 of its functional group, if any.")
    status = models.CharField(max_length=10)
    errors = models.JSONField(default=list)
    result = models.JSONField(default=dict)

    class Meta:
        ordering = ["interchange", "position"]
        constraints = [models.UniqueConstraint(fields=["interchange", "position"], name="interchange_message_once")]

    def __str__(self) -> str:
        return f"{self.type} {self.ref} ({self.status})"
