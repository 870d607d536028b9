"""What a review found a partner (or a broken file) could do, each now refused: folders pointing into
another mailbox, forged senders run again, poison values, long names, repeated message references,
a DESADV original sent twice, SSCC texts that tell about other suppliers."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from collaboration.gs1 import sscc_compose
from collaboration.models import Acknowledgement, Shipment
from edi import codec, mailbox
from edi.inbound import ReprocessRefused, interchange_reprocess, receive_file
from edi.mailbox import poll_mailboxes, poll_partner
from edi.models import Interchange
from tests.edi.conftest import interchange, ordrsp
from tests.edi.test_inbound_desadv_contrl import confirmed, desadv  # noqa: F401 - fixture
from tests.factories import create_purchase_order


@pytest.fixture
def po(partner, nordwerk):
    return create_purchase_order("PO-1", supplier=nordwerk, line_count=2)


def test_a_processing_folder_pointing_into_another_mailbox_stops_the_poll(po, partner, alpenguss_partner, settings):
    settings.EDI_PROCESSING_STALE_SECONDS = 0
    (Path(partner.inbound_dir) / "a.edi").write_bytes(interchange(ordrsp("PO-1", "29")))
    poll_partner(partner)
    [done] = os.listdir(Path(partner.inbound_dir) / "processed")
    os.symlink(Path(partner.inbound_dir) / "processed", Path(alpenguss_partner.inbound_dir) / "processing")

    assert poll_partner(alpenguss_partner) == []
    assert os.listdir(Path(partner.inbound_dir) / "processed") == [done]


def test_a_forged_file_is_never_run_again_even_once_its_claimed_sender_is_active(po, partner, alpenguss_partner):
    partner.is_active = False
    partner.save()
    (Path(alpenguss_partner.inbound_dir) / "forged.edi").write_bytes(interchange(ordrsp("PO-1", "29")))
    [forged] = poll_mailboxes()
    partner.is_active = True
    partner.save()

    assert forged.status == "rejected" and "not the owner of the mailbox" in forged.errors[0].text
    with pytest.raises(ReprocessRefused, match="another partner's mailbox"):
        interchange_reprocess(interchange_id=forged.interchange_id)
    assert not Acknowledgement.objects.exists()


def test_reprocess_refuses_a_partner_that_was_deactivated(partner, nordwerk):
    [early] = receive_file(interchange(ordrsp("PO-1", "29")), file_name="a.edi")
    partner.is_active = False
    partner.save()
    create_purchase_order("PO-1", supplier=nordwerk)

    again = interchange_reprocess(interchange_id=early.interchange_id)

    assert again.status == "rejected" and again.errors[0].code == "23"
    assert not Acknowledgement.objects.exists()


@pytest.mark.parametrize(("segments", "code"), [
    ([("LIN", ["10", "3"]), ("QTY", [("21", "99999999999999999999", "PCE")])], "39"),
    ([("LIN", ["10", "3"]), ("PRI", [("AAA", "123456789012345678.5")])], "39"),
    ([("LIN", ["10", "7"]), ("FTX", ["ACD", "", "OTHER", "x" * 600])], "39"),
])
def test_values_too_large_to_store_are_rejected(po, segments, code):
    [result] = receive_file(interchange(ordrsp("PO-1", "4", *[[s] for s in segments])), file_name="a.edi")
    assert result.status == "rejected" and [e.code for e in result.messages[0].errors] == [code]
    assert not Acknowledgement.objects.exists()


@pytest.mark.parametrize("where", [b"RFF+ON:PO-1", b"4012345000009:14+PORTAL"])
def test_a_nul_byte_anywhere_is_an_invalid_character(po, where):
    data = interchange(ordrsp("PO-1", "29"))
    [result] = receive_file(data.replace(where, where[:5] + b"\x00" + where[5:]), file_name="a.edi")

    assert result.status == "rejected"
    assert "21" in [e.code for e in result.errors] + [e.code for m in result.messages for e in m.errors]
    assert "\x00" not in Interchange.objects.get(direction="in").sender


def test_an_unknown_sender_with_characters_unoc_cannot_carry_is_still_answered(po):
    [result] = receive_file(interchange(ordrsp("PO-1", "29"), sender=("SENDER€", "ZZZ"), syntax_id="UNOY"), file_name="a.edi")
    assert result.status == "rejected" and result.errors[0].code == "23" and result.contrl


def test_a_file_that_fails_unexpectedly_goes_to_failed_and_the_other_mailboxes_are_polled(po, partner, alpenguss_partner, monkeypatch):
    (Path(alpenguss_partner.inbound_dir) / "bad.edi").write_bytes(b"UNB")
    (Path(partner.inbound_dir) / "good.edi").write_bytes(interchange(ordrsp("PO-1", "29")))
    real = mailbox.receive_file

    def breaks_on_bad(data, **kwargs):
        if data == b"UNB":
            raise RuntimeError("unexpected")
        return real(data, **kwargs)

    monkeypatch.setattr(mailbox, "receive_file", breaks_on_bad)
    [good] = poll_mailboxes()

    assert good.status == "accepted"
    failed = os.listdir(Path(alpenguss_partner.inbound_dir) / "failed")
    assert len(failed) == 2 and "RuntimeError" in (Path(alpenguss_partner.inbound_dir) / "failed" / sorted(failed)[1]).read_text()


def test_a_very_long_file_name_is_claimed_and_processed(po, partner):
    (Path(partner.inbound_dir) / ("a" * 240 + ".edi")).write_bytes(interchange(ordrsp("PO-1", "29")))
    [result] = poll_mailboxes()
    assert result.status == "accepted" and len(os.listdir(Path(partner.inbound_dir) / "processed")) == 1


def test_messages_sharing_a_reference_are_all_refused(po, nordwerk):
    create_purchase_order("PO-2", supplier=nordwerk)
    data = interchange(ordrsp("PO-1", "29"), ordrsp("PO-2", "29")).replace(b"UNH+2+", b"UNH+1+").replace(b"UNT+5+2'", b"UNT+5+1'")

    [result] = receive_file(data, file_name="a.edi")

    assert [(m.status, m.errors[0].code) for m in result.messages] == [("rejected", "26"), ("rejected", "26")]
    assert not Acknowledgement.objects.exists()


def test_reprocessing_a_grouped_interchange_keeps_each_message_in_its_group(po, nordwerk):
    text = ("UNA:+.? 'UNB+UNOC:3+4012345000009:14+PORTAL:ZZZ+261120:0930+GRP'"
            "UNG+ORDRSP+4012345000009:14+PORTAL:ZZZ+261120:0930+G1+UN+D:96A'"
            "UNH+1+ORDRSP:D:96A:UN'BGM+231+R1+29'RFF+ON:PO-1'UNT+4+1'"
            "UNH+2+ORDRSP:D:96A:UN'BGM+231+R2+29'RFF+ON:PO-2'UNT+4+2'UNE+2+G1'UNZ+1+GRP'")
    [first] = receive_file(text.encode(), file_name="g.edi")
    create_purchase_order("PO-2", supplier=nordwerk)

    again = interchange_reprocess(interchange_id=first.interchange_id)

    assert (first.status, again.status) == ("partially_accepted", "accepted")
    answer = Interchange.objects.get(pk=first.interchange_id).answer
    tags = [s.tag for s in codec.parse_file(bytes(answer.raw))[0].messages[0].body]
    assert tags == ["UCI", "UCF", "UCM", "UCM"]


def test_another_suppliers_sscc_reads_like_any_sscc_under_its_prefix(confirmed, alpenguss, partner):  # noqa: F811
    alpenguss.gs1_company_prefix = "7612345"
    alpenguss.save()
    used = sscc_compose(extension=0, prefix="7612345", serial=1)
    unused = sscc_compose(extension=0, prefix="7612345", serial=2)
    shipment = Shipment.objects.create(supplier=alpenguss, number="ALP-1", ship_to="PLANT-1", despatch_date="2026-11-20",
                                       expected_arrival="2026-11-21", status="submitted")
    shipment.packages.create(position=0, reference="P1", sscc=used, kind="pallet")

    texts = []
    for ref, sscc in (("IC1", used), ("IC2", unused)):
        levels = [[("CPS", ["1"]), ("PAC", ["1", "", "PX"]), ("GIN", ["BJ", sscc]),
                   ("LIN", ["1"]), ("QTY", [("12", "400", "PCE")]), ("RFF", [("ON", "PO-1", "10")])]]
        [result] = receive_file(interchange(desadv(levels=levels), ref=ref), file_name=f"{ref}.edi")
        texts.append(result.messages[0].errors[0].text.replace(sscc, "X"))
    assert texts[0] == texts[1] and "Company Prefix" in texts[0]


def test_a_despatch_advice_original_twice_is_refused_and_a_replacement_needs_an_original(confirmed):  # noqa: F811
    [replacement_first] = receive_file(interchange(desadv(function="5"), ref="IC1"), file_name="1.edi")
    [original] = receive_file(interchange(desadv(), ref="IC2"), file_name="2.edi")
    [again] = receive_file(interchange(desadv(), ref="IC3"), file_name="3.edi")

    assert "no despatch advice ASN-1 to replace" in replacement_first.messages[0].errors[0].text
    assert original.status == "accepted"
    assert "already sent; send a replacement" in again.messages[0].errors[0].text
    assert Shipment.objects.get().revision == 1


def test_the_contrl_is_written_in_the_partners_syntax_version(po, partner):
    [result] = receive_file(interchange(ordrsp("PO-1", "29")).replace(b"UNOC:3", b"UNOC:4"), file_name="a.edi")
    [answer] = codec.parse_file(bytes(Interchange.objects.get(pk=result.interchange_id).answer.raw))
    assert answer.syntax_version == "3" and answer.messages[0].version == "2"


def test_a_group_envelope_error_is_answered_on_its_ucf(po):
    text = ("UNA:+.? 'UNB+UNOC:3+4012345000009:14+PORTAL:ZZZ+261120:0930+GRP'"
            "UNG+ORDRSP+4012345000009:14+PORTAL:ZZZ+261120:0930+G1+UN+D:96A'"
            "UNH+1+ORDRSP:D:96A:UN'BGM+231+R1+29'RFF+ON:PO-1'UNT+4+1'UNE+2+G1'UNZ+1+GRP'")  # UNE counts 2 of 1
    [result] = receive_file(text.encode(), file_name="g.edi")

    assert result.status == "rejected" and not Acknowledgement.objects.exists()
    answer = Interchange.objects.get(pk=result.interchange_id).answer
    body = codec.parse_file(bytes(answer.raw))[0].messages[0].body
    assert [(s.tag, s.elements[2 if s.tag == "UCM" else 3:]) for s in body] == [
        ("UCI", ("4",)), ("UCF", ("4", "29", "UNE")), ("UCM", ("4",))]
