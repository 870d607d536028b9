"""Trading partners: who may send us EDIFACT, under which identity, syntax and mailbox folders."""
from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from collaboration.errors import InvalidDocument, UnknownSupplier
from collaboration.models import Supplier
from edi.models import MESSAGE_TYPES, TradingPartner
from portal.file_names import path_segment


def default_mailbox(supplier_code: str) -> Path:
    """EDI_MAILBOX_ROOT/<supplier code>: a code such as "../x" would leave the root, so it is refused."""
    try:
        return Path(settings.EDI_MAILBOX_ROOT) / path_segment(supplier_code, what="The supplier code")
    except ValueError as error:
        raise InvalidDocument(f"{error}; give the partner's mailbox folder explicitly.",
                              details={"mailbox": [str(error)]}) from None


def mailbox_dirs(supplier_code: str, mailbox: str | None) -> tuple[Path, Path]:
    """The inbound and outbound folders: DIR/in and DIR/out, by default under EDI_MAILBOX_ROOT."""
    root = Path(mailbox) if mailbox else default_mailbox(supplier_code)
    if not root.is_absolute():
        raise InvalidDocument("Give the mailbox as an absolute path.", details={"mailbox": ["Not an absolute path."]})
    return root / "in", root / "out"


def trading_partner_add(*, supplier_code: str, edi_id: str, qualifier: str = "", mailbox: str | None = None,
                        charset: str = "UNOC", directory: str = "D96A", syntax_version: int = 3,
                        message_types: list[str] | None = None) -> tuple[TradingPartner, bool]:
    """Create or update the supplier's partner record and its mailbox folders; returns (partner, created)."""
    supplier = Supplier.objects.filter(code=supplier_code).first()
    if supplier is None:
        raise UnknownSupplier.for_code(supplier_code)
    types = message_types or MESSAGE_TYPES
    unknown = sorted(set(types) - set(MESSAGE_TYPES))
    if unknown:
        raise InvalidDocument(f"Unknown message types: {', '.join(unknown)}.", details={"message_types": unknown})
    inbound, outbound = mailbox_dirs(supplier.code, mailbox)
    with transaction.atomic():
        partner = TradingPartner.objects.filter(supplier=supplier).first() or TradingPartner(supplier=supplier)
        created = partner.pk is None
        partner.edi_id, partner.qualifier = edi_id.strip(), qualifier.strip().upper()
        partner.charset, partner.directory, partner.syntax_version = charset, directory, syntax_version
        partner.message_types, partner.inbound_dir, partner.outbound_dir = list(types), str(inbound), str(outbound)
        try:
            partner.full_clean(exclude=["supplier"])
        except ValidationError as error:
            raise InvalidDocument("The trading partner is not valid.", details=error.message_dict) from None
        partner.save()
    inbound.mkdir(parents=True, exist_ok=True)
    outbound.mkdir(parents=True, exist_ok=True)
    return partner, created
