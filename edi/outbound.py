"""Outbound interchanges: queued in the transaction that caused them, then written to the partner's mailbox.

An ORDERS / ORDCHG is queued with the order revision it carries (the `purchase_orders_published`
signal arrives inside that transaction); a CONTRL with the inbound interchange it answers. The
row (status "pending", bytes already built, control reference taken from the partner's locked
counter) is the truth; `write_pending` puts it in the mailbox under a temporary name and renames
it, so a partner never picks up half a file. A crash after the rename but before the commit
rewrites the same bytes under the same name on the next run.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

from django.conf import settings
from django.db import transaction

from collaboration.models import PurchaseOrder
from edi.codec import UnencodableCharacter, build_interchange, party
from edi.models import Interchange, TradingPartner
from edi.orders import DIRECTORIES, order_message_body
from edi.partners import default_mailbox
from portal import correlation
from portal.file_names import sanitized

logger = logging.getLogger(__name__)
UNKNOWN_SENDERS = "unknown-senders"


def own_party() -> tuple[str, ...]:
    return party(settings.EDI_OWN_ID, settings.EDI_OWN_QUALIFIER)


def partner_party(partner: TradingPartner) -> tuple[str, ...]:
    return party(partner.edi_id, partner.qualifier)


def next_control_ref(partner: TradingPartner) -> str:
    """The partner's next interchange control reference: a locked counter, so never twice."""
    return reserve_control_refs(partner, 1)[0]


def reserve_control_refs(partner: TradingPartner, count: int) -> list[str]:
    """`count` consecutive control references of the partner, taken under its row lock."""
    counter = TradingPartner.objects.select_for_update().only("last_control_ref").get(pk=partner.pk)
    first = counter.last_control_ref + 1
    TradingPartner.objects.filter(pk=partner.pk).update(last_control_ref=counter.last_control_ref + count)
    partner.last_control_ref = counter.last_control_ref + count
    return [f"{number:08d}" for number in range(first, first + count)]


def file_name_for(control_ref: str, message_type: str, tag: str = "") -> str:
    name = "-".join(part for part in (control_ref, message_type, tag) if part)
    return sanitized(name) + ".edi"


def mailbox_out(partner: TradingPartner | None) -> Path:
    if partner is None:
        return Path(settings.EDI_MAILBOX_ROOT) / UNKNOWN_SENDERS / "out"
    return Path(partner.outbound_dir) if partner.outbound_dir else default_mailbox(partner.supplier.code) / "out"


def outbound_path(interchange: Interchange) -> Path:
    return mailbox_out(interchange.partner) / interchange.file_name


def build(*, partner: TradingPartner | None, recipient: tuple[str, ...], control_ref: str, syntax_id: str,
          syntax_version: str, messages: list[tuple[str, tuple[str, str, str], list]], tag: str = "") -> Interchange:
    """One outbound interchange, built and not yet stored (raises UnencodableCharacter)."""
    raw = build_interchange(
        sender=own_party(), recipient=recipient, control_ref=control_ref, syntax_id=syntax_id,
        syntax_version=syntax_version, una=True, line_breaks=True,
        messages=[(kind, *identifier, str(index), body) for index, (kind, identifier, body) in enumerate(messages, 1)],
    )
    return _outbound_row(partner=partner, recipient=recipient, control_ref=control_ref, kinds=[kind for kind, _, _ in messages],
                         tag=tag, status=Interchange.Status.PENDING, raw=raw)


def _outbound_row(*, partner: TradingPartner | None, recipient: tuple[str, ...], control_ref: str, kinds: list[str],
                  tag: str, **fields) -> Interchange:
    return Interchange(
        partner=partner, direction=Interchange.Direction.OUTBOUND, control_ref=control_ref, sender=":".join(own_party()),
        recipient=":".join(recipient)[:40], file_name=file_name_for(control_ref, kinds[0], tag),
        message_types=sorted(set(kinds)), correlation_id=correlation.current(), **fields,
    )


def queue(**values) -> Interchange:
    """Build one interchange and store it as pending; written to the mailbox once committed."""
    interchange = build(**values)
    interchange.save()
    transaction.on_commit(_nudge_writer, robust=True)
    return interchange


def _nudge_writer() -> None:
    from edi.tasks import write_outbound

    write_outbound.delay()


def queue_purchase_orders(sender, *, published: list[tuple[PurchaseOrder, dict, list | None]], **kwargs) -> None:
    """Receiver of `purchase_orders_published`: ORDERS for new orders, ORDCHG for revisions, to EDI
    partners; one control reference block per partner and one insert for the whole batch."""
    partners = {p.supplier_id: p for p in TradingPartner.objects.filter(
        supplier_id__in={po.supplier_id for po, _, _ in published}, is_active=True)}
    wanted: dict[TradingPartner, list[tuple[PurchaseOrder, str, list]]] = {}
    for po, document, changes in published:
        partner = partners.get(po.supplier_id)
        if partner is not None:
            kind, body = order_message_body(document, changes=changes, syntax_id=partner.charset)
            if kind in partner.message_types:
                wanted.setdefault(partner, []).append((po, kind, body))
    rows = []
    for partner, messages in wanted.items():
        for control_ref, (po, kind, body) in zip(reserve_control_refs(partner, len(messages)), messages):
            try:
                rows.append(build(partner=partner, recipient=partner_party(partner), control_ref=control_ref,
                                  syntax_id=partner.charset, syntax_version=str(partner.syntax_version),
                                  messages=[(kind, DIRECTORIES[partner.directory], body)], tag=po.number))
            except UnencodableCharacter as error:
                # The order cannot be written in the partner's character set: kept visible for the
                # buyer, never half-sent.
                rows.append(_outbound_row(
                    partner=partner, recipient=partner_party(partner), control_ref=control_ref, kinds=[kind], tag=po.number,
                    status=Interchange.Status.REJECTED, raw=b"",
                    errors=[{"code": "21", "segment": 0, "tag": "", "text": f"{po.number}: {error}"}],
                ))
    if rows:
        Interchange.objects.bulk_create(rows)
        transaction.on_commit(_nudge_writer, robust=True)


def write_atomically(path: Path, data: bytes) -> None:
    """Write under a hidden temporary name in the same folder, flush to disk, then rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def write_pending(*, limit: int = 1000) -> list[Interchange]:
    """Write pending outbound interchanges, oldest first; each is marked sent in the transaction
    that wrote it. Safe to run in several workers at once (rows are claimed with SKIP LOCKED)."""
    written = []
    pending = Interchange.objects.filter(direction=Interchange.Direction.OUTBOUND, status=Interchange.Status.PENDING)
    for pk in pending.order_by("id").values_list("pk", flat=True)[:limit]:
        with transaction.atomic():
            interchange = (Interchange.objects.select_for_update(skip_locked=True, of=("self",)).select_related("partner__supplier")
                           .filter(pk=pk, status=Interchange.Status.PENDING).first())
            if interchange is None:
                continue
            try:
                write_atomically(outbound_path(interchange), bytes(interchange.raw))
            except OSError:
                # This partner's folder cannot be written (full, gone, no access): the file stays
                # pending for the next run and the other partners' files still go out.
                logger.exception("EDI interchange %s cannot be written to %s", interchange.control_ref, outbound_path(interchange))
                continue
            interchange.status = Interchange.Status.SENT
            interchange.save(update_fields=["status"])
        written.append(interchange)
    return written
