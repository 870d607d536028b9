"""Inventory positions from the ERP: the latest count of a supplier's item at a site.

A count carries its time (`as_of`): the same count again is a no-op, the same time with other
figures is refused, an older count is refused (counts can arrive out of order), a newer one
replaces it.
"""
from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from collaboration.actors import Actor
from collaboration.audit import audit_record
from collaboration.documents import InventoryPositionDocument
from collaboration.errors import DocumentContentConflict, StaleRevision, UnknownSupplier
from collaboration.models import InventoryPosition, Supplier
from collaboration.services.erp_documents import RecordResult

FIGURES = ("on_hand", "in_transit", "consignment", "min_level", "max_level")


def inventory_position_record(*, document: InventoryPositionDocument, actor: Actor) -> RecordResult:
    with transaction.atomic():
        supplier = Supplier.objects.filter(code=document.supplier).first()
        if supplier is None:
            raise UnknownSupplier.for_code(document.supplier)
        stored = (InventoryPosition.objects.select_for_update()
                  .filter(supplier=supplier, item=document.item, site=document.site).first())
        if stored is not None:
            if document.as_of < stored.as_of:
                raise StaleRevision(
                    _("The stock of %(item)s at %(site)s was counted at %(stored)s; this count of %(as_of)s is older.")
                    % {"item": document.item, "site": document.site, "stored": stored.as_of.isoformat(),
                       "as_of": document.as_of.isoformat()})
            if document.as_of == stored.as_of:
                if stored.content_hash != document.content_hash:
                    raise DocumentContentConflict(
                        _("The count of %(as_of)s of %(item)s at %(site)s came before with other figures.")
                        % {"as_of": document.as_of.isoformat(), "item": document.item, "site": document.site})
                return RecordResult(stored, "unchanged")
        before = _figures(stored) if stored else None
        position = stored or InventoryPosition(supplier=supplier, item=document.item, site=document.site)
        position.uom, position.as_of, position.content_hash = document.uom, document.as_of, document.content_hash
        for name in FIGURES:
            setattr(position, name, getattr(document, name))
        position.save()
        audit_record(actor=actor, action="inventory.counted", obj=position, supplier=supplier, before=before,
                     after=_figures(position))
        return RecordResult(position, "updated" if stored else "created")


def _figures(position: InventoryPosition) -> dict:
    return {"as_of": position.as_of.isoformat(),
            **{name: str(getattr(position, name).normalize()) if getattr(position, name) is not None else None
               for name in FIGURES}}
