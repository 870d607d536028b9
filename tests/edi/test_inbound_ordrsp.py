"""Inbound interchanges with ORDRSP: the acknowledgement service's rules, CONTRL answers, envelope
checks, duplicates, unknown senders and other suppliers' orders — and nothing changed by a rejection."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from collaboration.models import Acknowledgement, ExceptionCase, PurchaseOrderLine
from edi import codec
from edi.inbound import receive_file
from edi.models import Interchange
from edi.outbound import write_pending
from erp_bridge.models import OutboxMessage
from tests.edi.conftest import day, interchange, ordrsp
from tests.factories import create_purchase_order


REQUESTED = date.today() + timedelta(days=30)


@pytest.fixture
def po(partner, nordwerk):
    """PO-1: lines 10 (400 on REQUESTED) and 20 (400 a day later), 3.85 each, for the EDI partner."""
    return create_purchase_order("PO-1", supplier=nordwerk, line_count=2, requested=REQUESTED)


def receive(data: bytes, name: str = "in.edi"):
    [result] = receive_file(data, file_name=name)
    write_pending()
    return result


def contrl_segments(result) -> list[str]:
    """The CONTRL answer as 'TAG+elements' strings, without the envelope."""
    answer = Interchange.objects.get(pk=result.interchange_id).answer
    [parsed] = codec.parse_file(bytes(answer.raw))
    assert parsed.errors == []
    return ["+".join([s.tag, *(":".join(e) if isinstance(e, tuple) else e for e in s.elements)]) for s in parsed.messages[0].body]


def responses(po):
    return {line.line_number: line.response_status for line in po.lines.all()}


def test_header_acceptance_accepts_every_open_line_and_answers_with_contrl(po, partner):
    result = receive(interchange(ordrsp("PO-1", "29")))

    assert result.status == "accepted" and result.messages[0].status == "accepted"
    assert responses(po) == {10: "confirmed", 20: "confirmed"}
    ack = Acknowledgement.objects.get(purchase_order=po)
    assert (ack.channel, ack.actor_label) == ("edi", "edi:NORDWERK")
    assert OutboxMessage.objects.filter(type="acknowledgement.decided", aggregate="PO-1").count() == 1
    assert contrl_segments(result) == ["UCI+IC0001+4012345000009:14+PORTAL:ZZZ+7", "UCM+1+ORDRSP:D:96A:UN+7"]
    written = Interchange.objects.get(pk=result.interchange_id).answer
    assert written.status == "sent" and result.contrl == str(partner.outbound_dir + "/" + written.file_name)
    assert open(result.contrl, "rb").read() == bytes(written.raw)


def test_line_responses_take_the_same_tolerance_rules_as_the_portal(po):
    earlier = (REQUESTED + timedelta(days=1) - timedelta(days=2)).strftime("%Y%m%d")  # line 20: inside the 3-day tolerance
    result = receive(interchange(ordrsp(
        "PO-1", "4",
        [("LIN", ["10", "3"]), ("QTY", [("21", "350", "PCE")])],  # less quantity: outside tolerance, for the buyer
        [("LIN", ["20", "3"]), ("DTM", [("2", earlier, "102")])],
    )))

    assert result.status == "accepted"
    assert result.messages[0].summary["decisions"] == {"10": "pending", "20": "auto_accepted"}
    case = ExceptionCase.objects.get()
    assert case.kind == "proposal_outside_tolerance" and case.purchase_order == po
    assert responses(po) == {10: "proposed", 20: "confirmed"}


def test_split_and_rejection_with_reason(po):
    result = receive(interchange(ordrsp(
        "PO-1", "4",
        [("LIN", ["10", "3"]), ("SCC", ["1"]), ("QTY", [("21", "100", "PCE")]), ("DTM", [("2", day(20), "102")]),
         ("QTY", [("21", "300", "PCE")]), ("DTM", [("2", day(40), "102")])],
        [("LIN", ["20", "7"]), ("FTX", ["ACD", "", "CAPACITY", "Line fully booked until March"])],
    )))

    assert result.status == "accepted", result.as_json()
    ack = Acknowledgement.objects.get(purchase_order=po)
    split, rejection = ack.lines.order_by("order_line__line_number")
    assert [(e.quantity, e.date) for e in split.schedule.order_by("date")] == [
        (100, date.today() + timedelta(days=20)), (300, date.today() + timedelta(days=40))]
    assert (rejection.action, rejection.reason.code, rejection.reason_text) == ("reject", "capacity", "Line fully booked until March")


@pytest.mark.parametrize(("segments", "code", "tag", "text"), [
    ([("LIN", ["10", "3"]), ("DTM", [("2", "20261345", "102")])], "12", "DTM", "not a valid date"),
    ([("LIN", ["10", "3"]), ("QTY", [("21", "35O", "PCE")])], "37", "QTY", "not a number"),
    ([("LIN", ["10", "3"]), ("QTY", [("21", ".5", "PCE")])], "38", "QTY", "digit before"),
    ([("LIN", ["10", "3"]), ("QTY", [("21", "-5", "PCE")])], "12", "LIN", "greater than zero"),
    ([("LIN", ["99", "5"])], "12", "LIN", "does not exist"),
    ([("LIN", ["10", "9"])], "14", "LIN", "not supported"),
    ([("LIN", ["10", "7"]), ("FTX", ["ACD", "", "WEATHER"])], "12", "LIN", "Unknown reason"),
])
def test_invalid_content_rejects_the_message_at_its_segment_and_changes_nothing(po, segments, code, tag, text):
    result = receive(interchange(ordrsp("PO-1", "4", segments)))

    assert result.status == "rejected"
    [error] = result.messages[0].errors
    assert (error.code, error.tag) == (code, tag) and text in error.text
    assert responses(po) == {10: "open", 20: "open"} and not Acknowledgement.objects.exists()
    assert not OutboxMessage.objects.filter(aggregate="PO-1").exists()
    # UCS carries the segment's position counted from UNH = 1 (UNH, BGM, DTM, RFF, LIN, ...).
    assert contrl_segments(result)[1:] == ["UCM+1+ORDRSP:D:96A:UN+4", f"UCS+{error.position - 1}+{code}"]


def test_one_bad_message_of_two_is_partially_accepted(po, nordwerk):
    create_purchase_order("PO-2", supplier=nordwerk)
    result = receive(interchange(ordrsp("PO-1", "29"), ordrsp("PO-2", "4", [("LIN", ["10", "3"]), ("DTM", [("2", "2026-12-01", "102")])])))

    assert result.status == "partially_accepted"
    assert [m.status for m in result.messages] == ["accepted", "rejected"]
    assert contrl_segments(result)[1:] == ["UCM+1+ORDRSP:D:96A:UN+7", "UCM+2+ORDRSP:D:96A:UN+4", "UCS+6+12"]


def test_another_suppliers_order_is_rejected_like_an_unknown_one(po, alpenguss):
    create_purchase_order("PO-ALP", supplier=alpenguss)
    foreign = receive(interchange(ordrsp("PO-ALP", "29")), "a.edi")
    unknown = receive(interchange(ordrsp("PO-NONE", "29"), ref="IC0002"), "b.edi")

    assert foreign.messages[0].errors[0].text == "Purchase order PO-ALP not found."
    assert unknown.messages[0].errors[0].text == "Purchase order PO-NONE not found."
    assert foreign.messages[0].errors[0].code == unknown.messages[0].errors[0].code == "12"
    assert not Acknowledgement.objects.exists()


@pytest.mark.parametrize("revision", ["1", "0"])
def test_a_superseded_or_impossible_revision_is_refused(po, nordwerk, revision):
    create_purchase_order("PO-1", supplier=nordwerk, line_count=2, revision=2, currency="CHF")
    result = receive(interchange(ordrsp("PO-1", "29", revision=revision)))

    assert result.status == "rejected" and "superseded by revision 2" in result.messages[0].errors[0].text
    assert not Acknowledgement.objects.exists()


def test_a_duplicate_interchange_has_no_second_effect_and_is_reported(po):
    data = interchange(ordrsp("PO-1", "29"))
    first = receive(data, "first.edi")
    again = receive(data, "again.edi")

    assert (first.status, again.status) == ("accepted", "duplicate")
    assert again.errors[0].code == "26" and "already received" in again.errors[0].text
    assert Acknowledgement.objects.count() == 1
    assert OutboxMessage.objects.filter(type="acknowledgement.decided").count() == 1
    assert contrl_segments(again)[0] == "UCI+IC0001+4012345000009:14+PORTAL:ZZZ+4+26+UNB"
    assert Interchange.objects.filter(direction="in", status="duplicate").count() == 1


def test_an_unknown_sender_is_rejected_and_answered_apart_from_every_partner(po, settings):
    result = receive(interchange(ordrsp("PO-1", "29"), sender=("9999999999999", "14")))

    assert result.status == "rejected" and result.errors[0].code == "23"
    assert not Acknowledgement.objects.exists()
    assert "/unknown-senders/out/" in result.contrl
    record = Interchange.objects.get(pk=result.interchange_id)
    assert record.partner is None and record.sender == "9999999999999:14"


def test_an_interchange_for_another_recipient_is_rejected(po):
    result = receive(interchange(ordrsp("PO-1", "29"), recipient=("SOMEONE", "ZZZ")))
    assert result.status == "rejected" and [e.code for e in result.errors] == ["7"]
    assert not Acknowledgement.objects.exists()


def test_message_types_not_enabled_or_versions_not_supported_are_refused(po, partner):
    partner.message_types = ["DESADV", "CONTRL"]
    partner.save()
    not_enabled = receive(interchange(ordrsp("PO-1", "29")), "a.edi")
    partner.message_types = ["ORDRSP"]
    partner.save()
    old_version = receive(interchange(ordrsp("PO-1", "29"), ref="IC0002", version=("D", "93A", "UN")), "b.edi")
    invoice = receive(interchange(("INVOIC", [("BGM", ["380", "INV-1", "9"])]), ref="IC0003"), "c.edi")

    assert [e.code for e in not_enabled.messages[0].errors] == ["17"]
    assert [e.code for e in old_version.messages[0].errors] == ["14"] and "D:96A" in old_version.messages[0].errors[0].text
    assert [e.code for e in invoice.messages[0].errors] == ["17"]
    assert not Acknowledgement.objects.exists()


def test_a_test_interchange_is_checked_through_the_services_then_rolled_back(po):
    good = receive(interchange(ordrsp("PO-1", "29"), test=True), "a.edi")
    bad = receive(interchange(ordrsp("PO-1", "4", [("LIN", ["77", "5"])]), ref="IC0002", test=True), "b.edi")

    assert good.status == "accepted" and good.messages[0].summary["effects"] == "rolled back"
    assert bad.status == "rejected" and "does not exist" in bad.messages[0].errors[0].text
    assert responses(po) == {10: "open", 20: "open"} and not Acknowledgement.objects.exists()
    assert not OutboxMessage.objects.filter(aggregate="PO-1").exists()


# --------------------------------------------------------------------------- envelope and syntax


def tamper(data: bytes, old: bytes, new: bytes) -> bytes:
    assert old in data
    return data.replace(old, new)


@pytest.mark.parametrize(("change", "level", "code"), [
    ((b"UNT+5+1'", b"UNT+6+1'"), "message", "29"),
    ((b"UNZ+1+IC0001'", b"UNZ+2+IC0001'"), "interchange", "29"),
    ((b"UNZ+1+IC0001'", b"UNZ+1+IC0009'"), "interchange", "28"),
])
def test_wrong_counts_and_references_reject_and_change_nothing(po, change, level, code):
    result = receive(tamper(interchange(ordrsp("PO-1", "29")), *change))

    assert result.status == "rejected"
    errors = result.errors if level == "interchange" else result.messages[0].errors
    assert code in [e.code for e in errors]
    assert not Acknowledgement.objects.exists()


@pytest.mark.parametrize("data", [
    b"",
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)),
    b"UNA:+.? 'UNB+UNOC:3+4012345000009:14+PORTAL:ZZZ+261120:0930+IC0001'UNH+1+ORDRSP:D:96A:UN'BGM+231+RSP-1+29'RFF+ON:PO",
    b"UNA:+.? 'UNB+UNOC:3+4012345000009:14+PORTAL:ZZZ+261120:0930+IC0001'UNH+1+ORDRSP:D:96A:UN'BGM+231+RSP-1+29?'",
])
def test_truncated_files_garbage_and_a_release_character_at_the_end_are_rejected(po, data):
    results = receive_file(data, file_name="bad.edi")

    assert all(result.status == "rejected" for result in results)
    assert not Acknowledgement.objects.exists() and not OutboxMessage.objects.exists()


def test_charset_violations_reject_the_message(po):
    data = interchange(ordrsp("PO-1", "4", [("LIN", ["10", "7"]), ("FTX", ["ACD", "", "OTHER", "AUSFALL WERK"])]), syntax_id="UNOA")
    result = receive(data.replace(b"WERK", b"W\xc9RK"))  # an accented letter is outside UNOA

    assert result.status == "rejected" and [e.code for e in result.messages[0].errors] == ["21"]
    assert PurchaseOrderLine.objects.filter(response_status="open").count() == 2


def test_unoc_accented_reason_text_is_decoded_by_the_declared_charset(po):
    result = receive(interchange(ordrsp("PO-1", "4", [("LIN", ["10", "7"]), ("FTX", ["ACD", "", "OTHER", "Gießerei außer Betrieb"])])))

    assert result.status == "accepted"
    assert Acknowledgement.objects.get().lines.get().reason_text == "Gießerei außer Betrieb"


def test_each_interchange_has_a_correlation_id_its_audit_rows_and_events_carry(po):
    from collaboration.models import AuditEvent

    result = receive(interchange(ordrsp("PO-1", "29")))
    record = Interchange.objects.get(pk=result.interchange_id)
    assert len(record.correlation_id) == 32
    assert AuditEvent.objects.get(action="acknowledgement.submitted").correlation_id == record.correlation_id
    assert {m.correlation_id for m in OutboxMessage.objects.filter(aggregate="PO-1")} == {record.correlation_id}
    other = receive(interchange(ordrsp("PO-1", "29"), ref="IC0002"))
    assert Interchange.objects.get(pk=other.interchange_id).correlation_id not in ("", record.correlation_id)
