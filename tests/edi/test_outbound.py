"""Outbound ORDERS / ORDCHG: queued with the order from the ERP, control references per partner,
written atomically to the mailbox, and read back equal to the order."""
from __future__ import annotations

import os

import pytest
from django.core.management import call_command

from collaboration.documents import parse_purchase_order
from collaboration.models import PurchaseOrder
from edi import codec
from edi.models import Interchange
from edi.orders import read_order
from edi.outbound import outbound_path, write_pending
from tests.factories import create_purchase_order, po_document


def outbound():
    return list(Interchange.objects.filter(direction="out").order_by("id"))


def test_a_new_order_for_an_edi_partner_is_queued_as_orders_and_reads_back_equal(partner, nordwerk):
    po = create_purchase_order("PO-1", supplier=nordwerk, line_count=3)

    [queued] = outbound()
    assert (queued.status, queued.message_types, queued.control_ref) == ("pending", ["ORDERS"], "00000001")
    [parsed] = codec.parse_file(bytes(queued.raw))
    assert parsed.errors == [] and (parsed.recipient_id, parsed.recipient_qualifier) == ("4012345000009", "14")
    [message] = parsed.messages
    assert (message.type, message.version, message.release) == ("ORDERS", "D", "96A")
    assert read_order(message) == po.revisions.get().document == parse_purchase_order(po_document("PO-1", line_count=3)).canonical


def test_orders_for_suppliers_without_edi_or_without_orders_enabled_are_not_queued(partner, nordwerk, alpenguss):
    create_purchase_order("PO-ALP", supplier=alpenguss)
    partner.message_types = ["ORDRSP", "DESADV", "CONTRL"]
    partner.save()
    create_purchase_order("PO-1", supplier=nordwerk)
    assert outbound() == []


def test_a_new_revision_is_queued_as_ordchg_with_the_changed_lines_only(partner, nordwerk):
    create_purchase_order("PO-1", supplier=nordwerk, line_count=3)
    document = po_document("PO-1", line_count=3, revision=2)
    document["lines"][0]["quantity"] = "500"  # line 10 changed
    del document["lines"][2]  # line 30 cancelled
    document["lines"].append({**document["lines"][1], "line": 40, "item": "BRK-9000"})  # line 40 added
    create_purchase_order("PO-1", supplier=nordwerk, **{k: v for k, v in document.items() if k not in ("number", "supplier")})

    orders, change = outbound()
    assert (orders.control_ref, change.control_ref, change.message_types) == ("00000001", "00000002", ["ORDCHG"])
    [message] = codec.parse_file(bytes(change.raw))[0].messages
    segments = [(s.tag, s.elements) for s in message.body]
    assert segments[0] == ("BGM", ("230", "PO-1", "4"))
    assert ("RFF", (("ON", "PO-1", "", "2"),)) in segments
    assert [s.elements[:2] for s in message.body if s.tag == "LIN"] == [("10", "3"), ("30", "2"), ("40", "1")]
    assert ("QTY", (("21", "500", "PCE"),)) in segments


def test_pending_interchanges_are_written_atomically_and_marked_sent(partner, nordwerk, capsys):
    create_purchase_order("PO-1", supplier=nordwerk)
    create_purchase_order("PO-2", supplier=nordwerk)

    call_command("edi_export")

    first, second = outbound()
    assert first.status == second.status == "sent"
    assert outbound_path(first).read_bytes() == bytes(first.raw)
    assert sorted(os.listdir(partner.outbound_dir)) == ["00000001-ORDERS-PO-1.edi", "00000002-ORDERS-PO-2.edi"]
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == 2 and '"control_ref": "00000001"' in printed[0]
    assert write_pending() == []  # nothing twice


def test_a_write_that_fails_leaves_the_interchange_pending_and_the_other_partners_files_go_out(
        partner, alpenguss_partner, nordwerk, alpenguss, monkeypatch):
    create_purchase_order("PO-1", supplier=nordwerk)
    create_purchase_order("PO-ALP", supplier=alpenguss)
    real_replace = os.replace

    def nordwerk_disk_full(src, dst):
        if str(dst).startswith(partner.outbound_dir):
            raise OSError(28, "No space left on device")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", nordwerk_disk_full)
    assert [i.partner for i in write_pending()] == [alpenguss_partner]
    monkeypatch.undo()
    nordwerk_orders = outbound()[0]
    assert nordwerk_orders.status == "pending"
    assert [name for name in os.listdir(partner.outbound_dir) if not name.startswith(".")] == []
    write_pending()
    nordwerk_orders.refresh_from_db()
    assert nordwerk_orders.status == "sent" and outbound_path(nordwerk_orders).read_bytes() == bytes(nordwerk_orders.raw)


def test_control_references_stay_unique_when_an_old_partner_record_is_saved(partner, nordwerk):
    stale = type(partner).objects.get(pk=partner.pk)
    create_purchase_order("PO-1", supplier=nordwerk)
    stale.charset = "UNOY"
    stale.save()  # must not put last_control_ref back to 0
    create_purchase_order("PO-2", supplier=nordwerk)
    assert [i.control_ref for i in outbound()] == ["00000001", "00000002"]


def test_unoa_partner_gets_upper_case_free_text_and_an_unwritable_order_number_is_held_back(partner, nordwerk):
    partner.charset = "UNOA"
    partner.save()
    create_purchase_order("PO-1", supplier=nordwerk, lines=[{**po_document()["lines"][0], "description": "Halter für Bremssattel"}])
    create_purchase_order("PO-ÄÖ", supplier=nordwerk)

    good, held = outbound()
    [message] = codec.parse_file(bytes(good.raw))[0].messages
    assert [s.component(3, 4) for s in message.body if s.tag == "IMD"] == ["HALTER FUR BREMSSATTEL"]
    assert held.status == "rejected" and "UNOA" in held.errors[0]["text"]
    assert write_pending() == [good]
    assert PurchaseOrder.objects.filter(number="PO-ÄÖ").exists()  # the order itself is stored
