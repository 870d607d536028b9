"""Quality documents (certificates of conformity, material certificates, PPAP, ...): upload by the
supplier, review by the buyer, the documents an ASN needs before it may be submitted, and reminders
before they expire. Every channel (portal, API, admin) calls these functions.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _, pgettext

from collaboration import notifications
from collaboration.actors import Actor
from collaboration.audit import audit_event, audit_record
from collaboration.errors import AlreadyDecided, InvalidDocument, NotFound, PermissionDenied, in_sentence
from collaboration.models import AuditEvent, ItemRule, PurchaseOrderLine, QualityDocument, Shipment, Supplier
from collaboration.uploads import private_storage, store_upload

Type = QualityDocument.Type
Review = QualityDocument.Review
MAX_LENGTHS = {"title": 200, "item": 35, "lot": 35}


@dataclass(frozen=True)
class RequiredDocument:
    """A document a shipment line lacks: what to upload, for which item and lot, valid on which day."""

    document_type: str
    item: str
    lot: str
    valid_on: date

    @property
    def sentence(self) -> str:
        values = {"document": _article(type_label(self.document_type)), "item": self.item, "lot": self.lot,
                  "date": self.valid_on.isoformat()}
        if self.lot:
            return _("Upload %(document)s for %(item)s lot %(lot)s (valid on %(date)s) before submitting.") % values
        return _("Upload %(document)s for %(item)s (valid on %(date)s) before submitting.") % values


class MissingDocuments(InvalidDocument):
    """An ASN refused because lines lack the quality documents their items require; `missing` says
    what to upload (for links to the upload page)."""

    def __init__(self, message: str, *, details: dict, missing: list[RequiredDocument]) -> None:
        super().__init__(message, details=details)
        self.missing = missing


def type_label(document_type: str) -> str:
    """The type's name inside a sentence: 'certificate of conformity', but 'PPAP submission' (in
    English; languages that capitalise nouns keep the label as it is)."""
    if document_type not in Type.values:  # an ItemRule edited by hand may name anything
        return document_type.replace("_", " ")
    label = str(Type(document_type).label)
    return in_sentence(label[0]) + label[1:] if label[1:2].islower() else label


def _article(text: str) -> str:
    """The document type with its indefinite article ('a test report', 'an ...')."""
    if text[0].lower() in "aeiou":
        return pgettext("quality document type with its indefinite article", "an %(type)s") % {"type": text}
    return pgettext("quality document type with its indefinite article", "a %(type)s") % {"type": text}


def quality_document_upload(
    *,
    supplier_id: int,
    actor: Actor,
    upload,
    document_type: str,
    issued_on: date | None,
    expires_on: date | None = None,
    title: str = "",
    item: str = "",
    lot: str = "",
    purchase_order: str = "",
    order_line: int | None = None,
    shipment: str = "",
) -> QualityDocument:
    """Check the fields, then the file, then store both; nothing is kept when anything is wrong.

    The order line (purchase order number + line number) and the shipment must be the supplier's;
    an unknown one and another supplier's are reported alike. An order line names the item when
    `item` is left empty.
    """
    if not actor.can_manage_quality(supplier_id):
        raise PermissionDenied(_("You may not upload quality documents for this supplier."))
    supplier = Supplier.objects.filter(pk=supplier_id).first()
    if supplier is None:
        raise PermissionDenied(_("You may not upload quality documents for this supplier."))
    title, item, lot, purchase_order, shipment = (value.strip() for value in (title, item, lot, purchase_order, shipment))
    errors: dict[str, list[str]] = defaultdict(list)
    if document_type not in Type.values:
        errors["document_type"].append(_("Choose a document type: %(types)s.") % {"types": ", ".join(Type.values)})
    if issued_on is None:
        errors["issued_on"].append(_("Give the date the document was issued."))
    elif expires_on is not None and expires_on < issued_on:
        errors["expires_on"].append(_("The expiry date cannot be before the issue date."))
    for field, value in {"title": title, "item": item, "lot": lot}.items():
        if len(value) > MAX_LENGTHS[field]:
            errors[field].append(_("At most %(count)s characters.") % {"count": MAX_LENGTHS[field]})
    line = None
    if purchase_order or order_line is not None:
        if not purchase_order or order_line is None:
            errors["order_line"].append(_("Give both the purchase order number and the line number, or neither."))
        else:
            line = (PurchaseOrderLine.objects.select_related("purchase_order")
                    .filter(purchase_order__supplier_id=supplier_id, purchase_order__number=purchase_order,
                            line_number=order_line).first())
            if line is None:
                errors["order_line"].append(_("No order line %(order)s/%(line)s of yours.")
                                            % {"order": purchase_order, "line": order_line})
            elif item and item != line.item:
                errors["item"].append(_("Line %(line)s of %(order)s is for %(ordered)s, not %(item)s.")
                                      % {"line": order_line, "order": purchase_order, "ordered": line.item, "item": item})
            else:
                item = line.item
    if item and "item" not in errors and line is None and not PurchaseOrderLine.objects.filter(
            purchase_order__supplier_id=supplier_id, item=item).exists():
        errors["item"].append(_("%(item)s is not an item you supply: none of your purchase orders names it.") % {"item": item})
    if lot and not item:
        errors["lot"].append(_("Name the item the lot is of."))
    shipped = None
    if shipment:
        shipped = Shipment.objects.filter(supplier_id=supplier_id, number=shipment).first()
        if shipped is None:
            errors["shipment"].append(_("No shipment %(number)s of yours.") % {"number": shipment})
    if errors:
        raise InvalidDocument(_("The document cannot be uploaded."), details=dict(errors))

    stored = store_upload(upload, folder=f"quality/{supplier_id}")
    try:
        with transaction.atomic():
            document = QualityDocument.objects.create(
                supplier=supplier, document_type=document_type, title=title, item=item, lot=lot, order_line=line,
                shipment=shipped, issued_on=issued_on, expires_on=expires_on, file=stored.name,
                original_name=stored.original_name, content_type=stored.content_type, size=stored.size,
                sha256=stored.sha256, uploaded_by=actor.user,
            )
            audit_record(actor=actor, action="quality_document.uploaded", obj=document, supplier=supplier,
                         purchase_order=line.purchase_order.number if line else "",
                         after={"document_type": document_type, "item": item, "lot": lot,
                                "issued_on": issued_on.isoformat(), "expires_on": expires_on.isoformat() if expires_on else None,
                                "order_line": f"{purchase_order}/{order_line}" if line else "", "shipment": shipment,
                                "file": stored.original_name, "sha256": stored.sha256})
    except BaseException:
        # The row is not there: neither may the file be.
        private_storage().delete(stored.name)
        raise
    return document


def quality_document_review(*, document_id: int, approve: bool, comment: str, actor: Actor) -> QualityDocument:
    """A buyer approves or rejects a document (a rejection says why); the supplier's quality and
    admin users are told by e-mail. A decided document may be decided again the other way."""
    if not actor.is_staff:
        raise PermissionDenied(_("Only the buyer's staff review quality documents."))
    comment = comment.strip()
    if not approve and not comment:
        raise InvalidDocument(_("Say why the document is rejected."), details={"comment": [_("Required when rejecting.")]})
    decision = Review.APPROVED if approve else Review.REJECTED
    with transaction.atomic():
        document = QualityDocument.objects.select_for_update().select_related("supplier").filter(pk=document_id).first()
        if document is None:
            raise NotFound(_("Quality document %(document)s not found.") % {"document": document_id})
        if document.review_status == decision:
            raise AlreadyDecided(_("Quality document %(document)s is already %(status)s.")
                                 % {"document": document_id, "status": in_sentence(document.get_review_status_display())})
        before = {"review_status": document.review_status, "comment": document.review_comment}
        document.review_status = decision
        document.review_comment = comment
        document.reviewed_by = actor.user
        document.reviewed_at = timezone.now()
        document.save(update_fields=["review_status", "review_comment", "reviewed_by", "reviewed_at"])
        audit_record(actor=actor, action=f"quality_document.{decision}", obj=document, supplier=document.supplier,
                     before=before, after={"review_status": decision, "comment": comment})
        notifications.quality_review_notify_after_commit(document.pk)
    return document


def missing_required_documents(
    *, supplier_id: int, valid_on: date, lines: Iterable[tuple[int, str, str]]
) -> dict[int, list[RequiredDocument]]:
    """What the lines (position, item, lot) of a shipment despatched on `valid_on` lack: for every
    type their item's ItemRule requires, a document of the supplier for the item, not rejected,
    valid on that day, for every lot or for the line's lot. Two queries, however many lines."""
    lines = list(lines)
    rules = {rule.item: rule.required_documents for rule in
             ItemRule.objects.filter(item__in={item for _, item, _ in lines}).exclude(required_documents=[])}
    if not rules:
        return {}
    available = set(
        QualityDocument.objects.filter(supplier_id=supplier_id, item__in=rules, issued_on__lte=valid_on)
        .filter(Q(expires_on__isnull=True) | Q(expires_on__gte=valid_on))
        .exclude(review_status=Review.REJECTED)
        .values_list("item", "document_type", "lot")
    )
    missing: dict[int, list[RequiredDocument]] = {}
    for position, item, lot in lines:
        lacking = [
            RequiredDocument(document_type, item, lot, valid_on)
            for document_type in rules.get(item, [])
            if (item, document_type, "") not in available and not (lot and (item, document_type, lot) in available)
        ]
        if lacking:
            missing[position] = lacking
    return missing


def quality_document_expiry_reminders(*, today: date) -> int:
    """Tell each supplier once, in one e-mail, which of its documents expire within
    QUALITY_EXPIRY_REMINDER_DAYS; a document renewed meanwhile (a later one of the same type, item
    and lot that is valid beyond that) is left out. Returns the number of documents reminded of."""
    horizon = today + timedelta(days=settings.QUALITY_EXPIRY_REMINDER_DAYS)
    renewed = QualityDocument.objects.filter(
        supplier=OuterRef("supplier"), document_type=OuterRef("document_type"), item=OuterRef("item"), lot=OuterRef("lot"),
    ).exclude(review_status=Review.REJECTED).filter(Q(expires_on__isnull=True) | Q(expires_on__gt=horizon))
    actor = Actor.system("quality-expiry-reminder")
    with transaction.atomic():
        due = list(
            QualityDocument.objects.select_for_update(skip_locked=True, of=("self",)).select_related("supplier")
            .filter(expires_on__gte=today, expires_on__lte=horizon, expiry_reminder_sent_on__isnull=True)
            .exclude(review_status=Review.REJECTED)
            .exclude(Exists(renewed))
        )
        if not due:
            return 0
        QualityDocument.objects.filter(pk__in=[document.pk for document in due]).update(expiry_reminder_sent_on=today)
        by_supplier: dict[int, list[int]] = defaultdict(list)
        for document in due:
            by_supplier[document.supplier_id].append(document.pk)
        AuditEvent.objects.bulk_create(
            audit_event(actor=actor, action="quality_document.expiry_reminded", obj=document, supplier=document.supplier,
                        after={"expires_on": document.expires_on.isoformat()})
            for document in due
        )
        for supplier_id, document_ids in by_supplier.items():
            notifications.quality_expiry_notify_after_commit(supplier_id, document_ids)
    return len(due)
