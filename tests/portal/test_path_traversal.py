"""No file-based transport writes or reads outside its folder, whatever names the data carries:
EDIFACT control references and file names from partners, supplier codes, delivery destinations."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from collaboration.errors import InvalidDocument
from edi.mailbox import poll_mailboxes
from edi.models import TradingPartner
from edi.outbound import file_name_for, write_pending
from edi.partners import trading_partner_add
from erp_bridge.batches import batch_path
from erp_bridge.connectors import FileConnector
from portal.file_names import path_segment, sanitized
from tests.edi.conftest import interchange, ordrsp
from tests.factories import SupplierFactory, create_purchase_order

HOSTILE = ["../../etc/passwd", "..", "../", "a/../../b", "..\\..\\win.ini", "/abs/path", "x\x00y", "nl\nname",
           ".hidden", "~root", "C:\\boot.ini", "ok/../../../x", "%2e%2e%2f", "\u2024\u2024/x"]


def every_file(root: Path) -> set[Path]:
    return {path for path in root.rglob("*") if path.is_file()}


@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_name_is_refused_as_a_folder_and_flattened_as_a_file(name):
    with pytest.raises(ValueError):
        path_segment(name, what="The name")
    flat = sanitized(name)
    assert "/" not in flat and "\\" not in flat and ".." not in flat and not flat.startswith(".") and flat
    assert Path("/base", flat).resolve().parent == Path("/base")


@pytest.mark.parametrize("control_ref", ["../../../escape", "..", "a/b", "..\\x"])
def test_edifact_file_names_from_a_partners_reference_stay_in_the_mailbox(control_ref):
    name = file_name_for(control_ref, "CONTRL", tag=control_ref)
    assert Path("/mailbox/out", name).resolve().parent == Path("/mailbox/out")


def test_an_interchange_with_a_traversing_reference_is_answered_inside_the_partners_mailbox(nordwerk, tmp_path, settings):
    settings.EDI_MAILBOX_ROOT = tmp_path / "edi"
    partner, _ = trading_partner_add(supplier_code="NORDWERK", edi_id="4012345000009", qualifier="14",
                                     mailbox=str(tmp_path / "edi" / "NORDWERK"))
    create_purchase_order("PO-7001", supplier=nordwerk)
    inbox = Path(partner.inbound_dir)
    (inbox / "x..%2f..%2fescape.edi").write_bytes(interchange(ordrsp("PO-7001", "29"), ref="../../../../x"))
    # A file a partner names with dots and separators of another system
    (inbox / "a..\\..\\answer.edi").write_bytes(interchange(ordrsp("PO-7001", "29"), ref="../x/../y"))
    poll_mailboxes()
    write_pending()
    written = every_file(tmp_path)
    assert written and all(str(path).startswith(str(tmp_path / "edi" / "NORDWERK")) for path in written), written
    assert len(list((inbox / "processed").iterdir())) + len(list((inbox / "failed").iterdir())) >= 2
    # A CONTRL for each, in the partner's out folder (beside the ORDERS the order itself produced).
    assert sum("CONTRL" in path.name for path in Path(partner.outbound_dir).iterdir()) == 2


def test_a_supplier_code_that_would_leave_the_mailbox_root_needs_an_explicit_mailbox(db, tmp_path, settings):
    settings.EDI_MAILBOX_ROOT = tmp_path / "edi"
    SupplierFactory(code="../../outside", name="Odd code")
    with pytest.raises(InvalidDocument, match="cannot name a file or folder"):
        trading_partner_add(supplier_code="../../outside", edi_id="X1", qualifier="ZZZ")
    assert not TradingPartner.objects.exists() and not (tmp_path / "outside").exists()
    partner, _ = trading_partner_add(supplier_code="../../outside", edi_id="X1", qualifier="ZZZ",
                                     mailbox=str(tmp_path / "edi" / "odd"))
    assert Path(partner.inbound_dir) == tmp_path / "edi" / "odd" / "in"


@pytest.mark.parametrize("destination", ["../erp", "erp/../../x", "..", "/tmp/x", ""])
def test_delivery_files_refuse_a_destination_that_is_not_a_plain_name(destination, tmp_path, settings):
    settings.ERP_BATCH_DIR = tmp_path / "batches"
    with pytest.raises(ValueError):
        batch_path(destination, 1)
    with pytest.raises(ValueError):
        FileConnector(directory=tmp_path / "erp", destination=destination)
    assert not os.listdir(tmp_path)
