"""The mailbox transport (each file once, processed / failed with the reason, crash-safe), the
edi_import command-line contract, and a file's way from the mailbox to the ERP."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from collaboration.models import Acknowledgement, Shipment
from edi import tasks
from edi.inbound import receive_file
from edi.mailbox import poll_mailboxes
from edi.models import Interchange
from erp_bridge import relay
from erp_bridge.models import OutboxMessage
from tests.edi.conftest import interchange, ordrsp
from tests.factories import create_purchase_order

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def orders(partner, nordwerk):
    for number in ("PO-7001", "PO-7002", "PO-7003", "PO-7004"):
        create_purchase_order(number, supplier=nordwerk, line_count=2)


def drop(partner, name: str, data: bytes | None = None) -> Path:
    path = Path(partner.inbound_dir) / name
    path.write_bytes(data if data is not None else (FIXTURES / name).read_bytes())
    return path


def folder(partner, name: str) -> list[str]:
    directory = Path(partner.inbound_dir) / name
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


def test_each_file_is_processed_once_and_moved_to_processed_or_failed_with_the_reason(orders, partner):
    drop(partner, "ordrsp_accept_all.edi")
    drop(partner, "ordrsp_wrong_unt_count.edi")
    drop(partner, ".upload-in-progress.edi", b"UNB")
    drop(partner, "still-uploading.edi.part", b"UNB")

    results = poll_mailboxes()

    assert sorted(r.status for r in results) == ["accepted", "rejected"]
    [done] = folder(partner, "processed")
    assert done.endswith("-ordrsp_accept_all.edi")
    failed = folder(partner, "failed")
    assert len(failed) == 2 and failed[1] == failed[0] + ".reason.txt"
    reason = json.loads((Path(partner.inbound_dir) / "failed" / failed[1]).read_text())
    assert reason["messages"][0]["errors"][0]["code"] == "29"
    assert sorted(os.listdir(partner.inbound_dir)) == [".upload-in-progress.edi", "failed", "processed", "processing",
                                                       "still-uploading.edi.part"]
    assert poll_mailboxes() == []  # nothing twice
    assert Acknowledgement.objects.count() == 1


def test_a_file_left_in_processing_by_a_crash_is_finished_without_doubling(orders, partner, settings):
    settings.EDI_PROCESSING_STALE_SECONDS = 0
    data = (FIXTURES / "two_ordrsp_interchanges.edi").read_bytes()
    claimed = Path(partner.inbound_dir) / "processing" / "20261120T093000-abcd1234-two.edi"
    claimed.parent.mkdir()
    claimed.write_bytes(data)
    # The worker died after committing the first interchange of the file, before the second.
    first_only = data[: data.index(b"UNA", 10)]
    receive_file(first_only, file_name=claimed.name, mailbox_partner=partner)

    results = poll_mailboxes()

    assert [(r.control_ref, r.status) for r in results] == [("NW0001", "accepted"), ("NW0004", "accepted")]
    assert Acknowledgement.objects.count() == 2
    assert OutboxMessage.objects.filter(type="acknowledgement.decided").count() == 2
    assert Interchange.objects.filter(direction="in").count() == 2
    assert folder(partner, "processed") == [claimed.name] and folder(partner, "processing") == []


def test_a_file_in_one_partners_mailbox_from_another_sender_is_rejected(orders, partner, alpenguss_partner):
    drop(alpenguss_partner, "ordrsp_accept_all.edi")  # sent as NORDWERK, found in ALPENGUSS's mailbox

    [result] = poll_mailboxes()

    assert result.status == "rejected" and result.errors[0].code == "23"
    assert not Acknowledgement.objects.exists()


def test_symbolic_links_are_never_followed(orders, partner, tmp_path):
    secret = tmp_path / "secret.edi"
    secret.write_bytes((FIXTURES / "ordrsp_accept_all.edi").read_bytes())
    os.symlink(secret, Path(partner.inbound_dir) / "link.edi")

    assert poll_mailboxes() == []
    assert folder(partner, "failed") == ["link.edi", "link.edi.reason.txt"]
    assert secret.exists() and not Acknowledgement.objects.exists()


def test_edi_import_prints_one_json_line_per_interchange(orders, partner, capsys):
    files = [str(FIXTURES / name) for name in ("two_ordrsp_interchanges.edi", "ordrsp_unoc_reject_reason.edi",
                                               "ordrsp_wrong_unt_count.edi", "desadv_bad_sscc_check_digit.edi")]
    call_command("edi_import", *files)
    call_command("edi_import", files[0])  # again: duplicates

    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(Path(line["file"]).name, line["control_ref"], line["status"]) for line in lines] == [
        ("two_ordrsp_interchanges.edi", "NW0001", "accepted"),
        ("two_ordrsp_interchanges.edi", "NW0004", "accepted"),
        ("ordrsp_unoc_reject_reason.edi", "NW0002", "accepted"),
        ("ordrsp_wrong_unt_count.edi", "NW0003", "rejected"),
        ("desadv_bad_sscc_check_digit.edi", "NW0011", "rejected"),
        ("two_ordrsp_interchanges.edi", "NW0001", "duplicate"),
        ("two_ordrsp_interchanges.edi", "NW0004", "duplicate"),
    ]
    assert lines[0]["sender"] == "4012345000009:14"
    assert lines[0]["messages"] == [{"type": "ORDRSP", "ref": "1", "status": "accepted", "errors": [],
                                     "result": lines[0]["messages"][0]["result"]}]
    assert lines[3]["messages"][0]["errors"] == [{"code": "29", "segment": 5, "tag": "UNT", "text": lines[3]["messages"][0]["errors"][0]["text"]}]
    [bad_sscc] = lines[4]["messages"][0]["errors"]
    assert (bad_sscc["code"], bad_sscc["tag"], bad_sscc["segment"]) == ("12", "GIN", 18) and "check digit" in bad_sscc["text"]
    for line in lines:
        assert Path(line["contrl"]).parent == Path(partner.outbound_dir) and Path(line["contrl"]).is_file()
    reason = Acknowledgement.objects.get(purchase_order__number="PO-7002").lines.get(order_line__line_number=20).reason_text
    assert reason == "Werkzeug für Bügel defekt: Ersatz erst 2027"


def test_edi_import_exit_status_is_two_only_for_unreadable_files(orders, partner, tmp_path, capsys):
    with pytest.raises(CommandError) as failure:
        call_command("edi_import", str(tmp_path / "missing.edi"), str(FIXTURES / "ordrsp_wrong_unt_count.edi"))

    assert failure.value.returncode == 2
    [line] = capsys.readouterr().out.splitlines()
    assert json.loads(line)["status"] == "rejected"  # the readable file was still processed


def test_desadv_fixture_with_pallet_and_cartons_via_the_mailbox_task(orders, partner):
    receive_file(interchange(ordrsp("PO-7001", "29"), ref="ACK"), file_name="ack.edi")
    drop(partner, "desadv_pallet_two_cartons.edi")

    assert tasks.poll_mailboxes() == 1

    shipment = Shipment.objects.get(number="DN-7001")
    assert shipment.packages.count() == 3 and shipment.lines.get(lot="L2026-47").quantity == 400
    contrl = [name for name in os.listdir(partner.outbound_dir) if "CONTRL-for-NW0010" in name]
    assert len(contrl) == 1


def test_a_partner_contrl_fixture_acknowledges_our_orders(orders, partner, capsys):
    call_command("edi_export")
    capsys.readouterr()
    call_command("edi_import", str(FIXTURES / "contrl_acknowledges_00000001.edi"))
    assert Interchange.objects.get(direction="out", control_ref="00000001").status == "acknowledged"
    assert json.loads(capsys.readouterr().out)["contrl"] is None


def test_end_to_end_from_the_mailbox_to_a_decided_acknowledgement_at_the_erp(orders, partner, settings, erp_receiver):
    settings.ERP_WEBHOOK_URL = erp_receiver.url
    settings.ERP_WEBHOOK_SECRET = erp_receiver.secret
    shutil.copy(FIXTURES / "ordrsp_accept_all.edi", Path(partner.inbound_dir) / "NW0001.edi")

    tasks.poll_mailboxes()
    for message in OutboxMessage.objects.filter(destination="erp").order_by("occurred_at"):
        assert relay.deliver(message.id).status == "delivered"

    [event] = [erp_receiver.applied[key] for key in erp_receiver.order]
    assert (event["type"], event["aggregate"]) == ("acknowledgement.decided", "PO-7001")
    assert {line["line"]: line["decision"] for line in event["payload"]["lines"]} == {10: "accepted", 20: "accepted"}
    assert erp_receiver.bad_signatures == 0
    assert Interchange.objects.get(direction="in").status == "accepted"


def test_an_interchange_cut_off_between_two_messages_goes_on_after_the_last_one_done(orders, partner, settings, monkeypatch):
    from edi import inbound

    settings.EDI_PROCESSING_STALE_SECONDS = 0
    data = interchange(ordrsp("PO-7001", "29"), ordrsp("PO-7002", "29"), ordrsp("PO-7003", "29"), ref="MULTI")
    claimed = Path(partner.inbound_dir) / "processing" / "20261120T093000-abcd1234-multi.edi"
    claimed.parent.mkdir()
    claimed.write_bytes(data)
    real_apply, calls = inbound._apply, []

    def dies_on_the_second(message, **kwargs):
        calls.append(message.ref)
        if len(calls) == 2:
            raise KeyboardInterrupt  # the worker is killed here
        return real_apply(message, **kwargs)

    monkeypatch.setattr(inbound, "_apply", dies_on_the_second)
    with pytest.raises(KeyboardInterrupt):
        receive_file(data, file_name=claimed.name, mailbox_partner=partner)
    monkeypatch.setattr(inbound, "_apply", real_apply)
    record = Interchange.objects.get(direction="in")
    assert record.status == "received" and record.results.count() == 1  # the first message is done and recorded

    [result] = poll_mailboxes()

    assert result.status == "accepted" and [m.status for m in result.messages] == ["accepted"] * 3
    assert sorted(Acknowledgement.objects.values_list("purchase_order__number", flat=True)) == ["PO-7001", "PO-7002", "PO-7003"]
    assert Interchange.objects.filter(direction="in").count() == 1 and record.results.count() == 3
    assert folder(partner, "processed") == [claimed.name]
