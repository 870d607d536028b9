"""EDIFACT partners and the interchanges exchanged with them (raw bytes kept unchanged)."""
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from collaboration.models import Supplier

MESSAGE_TYPES = ["ORDERS", "ORDCHG", "ORDRSP", "DESADV", "INVOIC", "CONTRL"]


class TradingPartner(models.Model):
    """A supplier that exchanges UN/EDIFACT files instead of (or beside) using the portal."""

    class Charset(models.TextChoices):
        UNOA = "UNOA", _("UNOA (upper case, digits, few signs)")
        UNOB = "UNOB", _("UNOB (ISO 646, lower case too)")
        UNOC = "UNOC", _("UNOC (ISO 8859-1)")
        UNOY = "UNOY", _("UNOY (ISO 10646 / UTF-8)")

    class Directory(models.TextChoices):
        # Directory names are the same in every language.
        D96A = "D96A", "D.96A"
        D01B = "D01B", "D.01B"

    supplier = models.OneToOneField(
        Supplier, verbose_name=_("supplier"), on_delete=models.PROTECT, related_name="trading_partner",
    )
    edi_id = models.CharField(
        verbose_name=_("interchange id"), max_length=35, help_text=_("The partner's UNB identification (0004/0010)."),
    )
    qualifier = models.CharField(
        verbose_name=_("qualifier"), max_length=4, blank=True,
        validators=[RegexValidator(r"^[0-9A-Z]{0,4}$", _("Up to 4 letters or digits, e.g. 14 or ZZZ."))],
        help_text=_("Code qualifier of the id (0007), e.g. 14 for a GLN."),
    )
    syntax_version = models.PositiveSmallIntegerField(verbose_name=_("syntax version"), default=3, help_text=_("UNB 0002: 3 or 4."))
    charset = models.CharField(verbose_name=_("character set"), max_length=4, choices=Charset.choices, default=Charset.UNOC)
    directory = models.CharField(verbose_name=_("directory"), max_length=4, choices=Directory.choices, default=Directory.D96A)
    message_types = models.JSONField(
        verbose_name=_("message types"), default=list, help_text=format_lazy(_("Enabled message types, of {types}."), types=", ".join(MESSAGE_TYPES)),
    )
    inbound_dir = models.CharField(
        verbose_name=_("inbound folder"), max_length=500, blank=True,
        help_text=_("The mailbox folder the partner's files arrive in."),
    )
    outbound_dir = models.CharField(
        verbose_name=_("outbound folder"), max_length=500, blank=True,
        help_text=_("The mailbox folder our files for the partner go to."),
    )
    is_active = models.BooleanField(verbose_name=_("is active"), default=True)
    last_control_ref = models.PositiveBigIntegerField(
        verbose_name=_("last control reference"), default=0, help_text=_("Our last outbound interchange control reference."),
    )
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("trading partner")
        verbose_name_plural = _("trading partners")
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
        INBOUND = "in", _("Inbound")
        OUTBOUND = "out", _("Outbound")

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        ACCEPTED = "accepted", _("Accepted")
        PARTIALLY_ACCEPTED = "partially_accepted", _("Partially accepted")
        REJECTED = "rejected", _("Rejected")
        DUPLICATE = "duplicate", _("Duplicate")
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged by the partner (CONTRL)")
        REFUSED = "refused", _("Rejected by the partner (CONTRL)")

    partner = models.ForeignKey(TradingPartner, verbose_name=_("partner"), null=True, blank=True, on_delete=models.PROTECT,
                                related_name="interchanges")
    direction = models.CharField(verbose_name=_("direction"), max_length=3, choices=Direction.choices)
    control_ref = models.CharField(verbose_name=_("control reference"), max_length=14, help_text=_("UNB 0020."))
    sender = models.CharField(verbose_name=_("sender"), max_length=40, blank=True)
    recipient = models.CharField(verbose_name=_("recipient"), max_length=40, blank=True)
    status = models.CharField(verbose_name=_("status"), max_length=20, choices=Status.choices)
    raw = models.BinaryField(verbose_name=_("raw"), help_text=_("The interchange's bytes, unchanged."))
    file_name = models.CharField(verbose_name=_("file name"), max_length=255, blank=True)
    message_types = models.JSONField(verbose_name=_("message types"), default=list)
    errors = models.JSONField(
        verbose_name=_("errors"), default=list, help_text=_("Syntax and content errors, each with code, segment and text."),
    )
    answer = models.ForeignKey("self", verbose_name=_("answer"), null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+",
                               help_text=_("The CONTRL sent for it (inbound) or received for it (outbound)."))
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)
    correlation_id = models.CharField(verbose_name=_("correlation ID"), max_length=64, blank=True, db_index=True,
                                      help_text=_("Inbound: the id its processing logged and audited under; outbound: of what caused it."))

    class Meta:
        verbose_name = _("interchange")
        verbose_name_plural = _("interchanges")
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

    interchange = models.ForeignKey(Interchange, verbose_name=_("interchange"), on_delete=models.CASCADE,
                                    related_name="results")
    position = models.PositiveIntegerField(verbose_name=_("position"), help_text=_("0 for the first message of the interchange."))
    ref = models.CharField(verbose_name=_("reference"), max_length=14, help_text=_("UNH 0062."))
    type = models.CharField(verbose_name=_("type"), max_length=6)
    identifier = models.JSONField(verbose_name=_("identifier"), default=list, help_text=_("Type, version, release, agency."))
    group_ref = models.CharField(
        verbose_name=_("group reference"), max_length=14, blank=True, help_text=_("UNG 0048 of its functional group, if any."),
    )
    status = models.CharField(verbose_name=_("status"), max_length=10)
    errors = models.JSONField(verbose_name=_("errors"), default=list)
    result = models.JSONField(verbose_name=_("result"), default=dict)

    class Meta:
        verbose_name = _("interchange message")
        verbose_name_plural = _("interchange messages")
        ordering = ["interchange", "position"]
        constraints = [models.UniqueConstraint(fields=["interchange", "position"], name="interchange_message_once")]

    def __str__(self) -> str:
        return f"{self.type} {self.ref} ({self.status})"
