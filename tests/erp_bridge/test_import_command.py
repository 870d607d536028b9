"""manage.py import_purchase_orders: the same service as the API, a summary line, non-zero on failures."""
import json

import pytest
from django.core.management import CommandError, call_command

from collaboration.models import PurchaseOrder
from tests.factories import po_document


def run(tmp_path, documents, capsys):
    path = tmp_path / "orders.json"
    path.write_text(json.dumps(documents) if not isinstance(documents, str) else documents)
    error = None
    try:
        call_command("import_purchase_orders", str(path), "--no-progress")
    except CommandError as exc:
        error = exc
    out, err = capsys.readouterr()
    return out, err, error


def test_summary_counts_created_updated_unchanged(tmp_path, capsys, nordwerk):
    out, _, error = run(tmp_path, [po_document("PO-1"), po_document("PO-2")], capsys)
    assert error is None
    assert "created 2, updated 0, unchanged 0, failed 0" in out
    out, _, error = run(tmp_path, [po_document("PO-1"), po_document("PO-2", revision=2, line_count=2)], capsys)
    assert error is None
    assert "created 0, updated 1, unchanged 1, failed 0" in out


def test_failures_are_named_with_reason_and_exit_non_zero(tmp_path, capsys, nordwerk):
    bad_line = po_document("PO-3")
    bad_line["lines"][0]["quantity"] = "0"
    documents = [po_document("PO-1"), po_document("PO-2", supplier="NOBODY"), bad_line, "not an order"]
    out, err, error = run(tmp_path, documents, capsys)
    assert "created 1, updated 0, unchanged 0, failed 3" in out
    assert error is not None and error.returncode == 1
    assert "PO-2" in err and "NOBODY" in err
    assert "PO-3" in err and "quantity" in err
    assert "#4" in err
    # The good order is in, the bad ones left nothing behind.
    assert list(PurchaseOrder.objects.values_list("number", flat=True)) == ["PO-1"]


def test_stale_revision_in_file_fails_that_order_only(tmp_path, capsys, nordwerk):
    run(tmp_path, [po_document("PO-1", revision=2)], capsys)
    out, err, error = run(tmp_path, [po_document("PO-1", revision=1), po_document("PO-2")], capsys)
    assert "created 1, updated 0, unchanged 0, failed 1" in out
    assert "older" in err
    assert PurchaseOrder.objects.get(number="PO-1").revision == 2


@pytest.mark.parametrize("content", ["{broken", json.dumps({"number": "PO-1"})])
def test_file_that_is_not_a_json_list_is_refused(tmp_path, capsys, content, db):
    _, _, error = run(tmp_path, content, capsys)
    assert error is not None
    assert PurchaseOrder.objects.count() == 0


def test_missing_file_is_a_clear_error(tmp_path, db):
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_purchase_orders", str(tmp_path / "missing.json"))


def test_file_with_several_revisions_of_one_order_applies_them_in_order(tmp_path, capsys, nordwerk):
    documents = [po_document("PO-1"), po_document("PO-2"), po_document("PO-1", revision=2, line_count=3)]
    out, _, error = run(tmp_path, documents, capsys)
    assert error is None
    assert "created 2, updated 1, unchanged 0, failed 0" in out
    assert PurchaseOrder.objects.get(number="PO-1").lines.count() == 3


def test_large_file_imports_in_batches(tmp_path, capsys, nordwerk):
    documents = [po_document(f"PO-{n:04d}", line_count=2) for n in range(600)]
    out, _, error = run(tmp_path, documents, capsys)
    assert error is None and "created 600," in out
    assert PurchaseOrder.objects.count() == 600
    assert sum(po.lines.count() for po in PurchaseOrder.objects.all()) == 1200
