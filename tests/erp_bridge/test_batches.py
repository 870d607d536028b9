"""Fallback batch mode: switching when the ERP is down or batch-only, numbered batch files with each
event once and in order, switching back online without loss or duplicates, and ERP batch imports."""
import json
import os
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from collaboration.errors import DomainError
from collaboration.models import AuditEvent, InvoiceStatus, PurchaseOrder, Receipt
from erp_bridge import batches, outbox, relay, tasks
from erp_bridge.connectors import connector_for
from erp_bridge.models import DeliveryAttempt, DeliveryBatch, DestinationState, OutboxMessage
from tests.factories import create_purchase_order, po_document
from tests.support.erp_receiver import Scripted


@pytest.fixture(autouse=True)
def _batch_settings(settings, tmp_path):
    settings.ERP_BATCH_DIR = tmp_path / "batches"
    settings.ERP_BATCH_ONLY = []
    settings.ERP_BATCH_AFTER_SECONDS = 3600
    batches.forget_cached_states()  # the database of the previous test is gone
    yield
    batches.forget_cached_states()


def publish(aggregate="PO-1", **payload) -> OutboxMessage:
    with transaction.atomic():
        return outbox.publish(type="acknowledgement.decided", aggregate=aggregate, payload=payload or {"n": 1})


def batch_dir(settings, destination="erp"):
    return settings.ERP_BATCH_DIR / destination


def read_batch(settings, number: int, destination="erp") -> list[dict]:
    path = batch_dir(settings, destination) / f"{destination}-{number:06d}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


def state(destination="erp") -> DestinationState:
    return DestinationState.objects.get(destination=destination)


def deliver_everything_due() -> None:
    while ids := relay.due_message_ids():
        for message_id in ids:
            relay.deliver(message_id, run=20)


# --- Down since, and the automatic switch ---------------------------------------------------------

def test_relay_notes_down_since_at_the_first_failure_once_and_clears_it_on_success(db, http_erp):
    http_erp.fail_next(Scripted(503), Scripted(503))
    first, second = publish("PO-1"), publish("PO-2")
    assert relay.deliver(first.id).status == "retry"
    down_since = state().down_since
    assert down_since is not None
    with CaptureQueriesContext(connection) as queries:
        assert relay.deliver(second.id).status == "retry"
    # Known to be down already: no write to the state row.
    assert not any("destinationstate" in query["sql"].lower() for query in queries.captured_queries)
    assert state().down_since == down_since
    OutboxMessage.objects.update(next_attempt_at=timezone.now())
    assert relay.deliver(first.id).status == "delivered"
    assert state().down_since is None


def test_a_healthy_relay_does_not_query_the_state_while_its_view_is_fresh(db, http_erp):
    first, second = publish("PO-1"), publish("PO-2")
    relay.deliver(first.id)
    with CaptureQueriesContext(connection) as queries:
        assert relay.deliver(second.id).status == "delivered"
    assert not any("destinationstate" in query["sql"].lower() for query in queries.captured_queries)


def test_a_refusal_is_no_sign_of_being_down(db, http_erp):
    http_erp.fail_next(Scripted(422, body="unknown purchase order"))
    assert relay.deliver(publish().id).status == "dead"
    assert not DestinationState.objects.filter(down_since__isnull=False).exists()


def test_destination_down_longer_than_the_limit_switches_to_batch_files(db, http_erp, settings):
    settings.ERP_BATCH_AFTER_SECONDS = 600
    http_erp.fail_next(Scripted(503, body="maintenance"))
    failed = publish("PO-1")
    assert relay.deliver(failed.id).status == "retry"
    now = timezone.now()
    assert batches.destinations_switch_automatically(now=now + timedelta(seconds=300)) == []
    assert state().mode == "online"
    assert batches.destinations_switch_automatically(now=now + timedelta(seconds=700)) == ["erp"]
    switched = state()
    assert switched.mode == "batch" and switched.switched_by.startswith("automatic after 70")
    # In batch mode the relay sends nothing and counts no attempt, even for a message that is due.
    requests = http_erp.requests
    later = publish("PO-2")
    OutboxMessage.objects.filter(id=failed.id).update(next_attempt_at=timezone.now())
    assert relay.deliver(later.id).status == "batched"
    assert relay.deliver(failed.id).status == "batched"
    assert relay.due_message_ids() == []
    assert http_erp.requests == requests
    assert OutboxMessage.objects.get(id=later.id).attempt_count == 0
    # The batch writer takes both, the one that failed online included.
    assert tasks.write_batches() == 1
    assert {event["id"] for event in read_batch(settings, 1)} == {str(failed.id), str(later.id)}


def test_no_automatic_switch_when_disabled_or_when_a_delivery_came_through_since(db, settings):
    DestinationState.objects.create(destination="erp", down_since=timezone.now() - timedelta(hours=3))
    settings.ERP_BATCH_AFTER_SECONDS = 0
    assert batches.destinations_switch_automatically() == []
    settings.ERP_BATCH_AFTER_SECONDS = 60
    # Another worker, with a stale view of the state, delivered after the failure: the ERP is up.
    message = publish()
    DeliveryAttempt.objects.create(message=message, attempted_at=timezone.now(), outcome="delivered", latency_ms=3)
    assert batches.destinations_switch_automatically() == []
    assert state().mode == "online" and state().down_since is None


def test_batch_only_destination_is_never_sent_online(db, http_erp, settings):
    settings.ERP_BATCH_ONLY = ["erp"]
    messages = [publish("PO-1"), publish("PO-1"), publish("PO-2")]
    assert [relay.deliver(m.id).status for m in messages] == ["batched", "skipped", "batched"]
    assert http_erp.requests == 0
    assert list(OutboxMessage.objects.values_list("attempt_count", flat=True)) == [0, 0, 0]
    assert tasks.write_batches() == 1
    assert state().mode == "batch" and "ERP_BATCH_ONLY" in state().switched_by
    assert [event["id"] for event in read_batch(settings, 1)] == [str(m.id) for m in messages]
    with pytest.raises(DomainError, match="batch-only"):
        batches.destination_switch_to_online(destination="erp", by="test")
    with pytest.raises(CommandError, match="batch-only"):
        call_command("outbox", "online", "--destination", "erp")


# --- Batch files -------------------------------------------------------------------------------------

def test_batch_files_are_numbered_gap_free_with_each_event_once_and_in_order(db, settings):
    batches.destination_switch_to_batch(destination="erp", by="test")
    published = [publish(aggregate) for aggregate in ["PO-1", "PO-2", "PO-1", "PO-3", "PO-2", "PO-1"]]
    first = batches.batch_write(destination="erp")
    assert (first.number, first.file_name, first.event_count) == (1, "erp-000001.jsonl", 6)
    assert batches.batch_write(destination="erp") is None  # nothing new: no empty file
    published += [publish(aggregate) for aggregate in ["PO-2", "PO-4", "PO-1"]]
    assert batches.batch_write(destination="erp").number == 2
    assert sorted(p.name for p in batch_dir(settings).iterdir()) == ["erp-000001.jsonl", "erp-000002.jsonl"]
    assert list(DeliveryBatch.objects.order_by("number").values_list("number", "event_count")) == [(1, 6), (2, 3)]

    events = read_batch(settings, 1) + read_batch(settings, 2)
    assert sorted(event["id"] for event in events) == sorted(str(m.id) for m in published)  # each once
    sequences: dict[str, list[int]] = {}
    for event in events:
        sequences.setdefault(event["aggregate"], []).append(event["sequence"])
    assert sequences == {"PO-1": [1, 2, 3, 4], "PO-2": [1, 2, 3], "PO-3": [1], "PO-4": [1]}
    # The same envelope the HTTP connector sends, its id the idempotency key.
    assert events[0] == OutboxMessage.objects.get(id=events[0]["id"]).envelope()
    assert not OutboxMessage.objects.exclude(status="delivered").exists()
    attempt = DeliveryAttempt.objects.get(message_id=published[-1].id)
    assert attempt.outcome == "delivered" and "erp-000002.jsonl" in attempt.error


def test_a_dead_letter_or_a_message_in_flight_holds_back_its_purchase_order(db, settings):
    batches.destination_switch_to_batch(destination="erp", by="test")
    dead, after_dead = publish("PO-1"), publish("PO-1")
    held, after_held = publish("PO-2"), publish("PO-2")
    free = [publish("PO-3"), publish("PO-3")]
    OutboxMessage.objects.filter(id=dead.id).update(status="dead")
    OutboxMessage.objects.filter(id=held.id).update(lease_until=timezone.now() + timedelta(seconds=60))
    batches.batch_write(destination="erp")
    assert [event["id"] for event in read_batch(settings, 1)] == [str(m.id) for m in free]
    # Dead letters stay for a buyer's replay; once replayed (and the lease over) they go in the next file.
    relay.retry_now(OutboxMessage.objects.filter(id=dead.id))
    OutboxMessage.objects.filter(id=held.id).update(lease_until=timezone.now() - timedelta(seconds=1))
    batches.batch_write(destination="erp")
    events = read_batch(settings, 2)
    assert {event["id"] for event in events} == {str(m.id) for m in (dead, after_dead, held, after_held)}
    positions = {event["id"]: index for index, event in enumerate(events)}
    assert positions[str(dead.id)] < positions[str(after_dead.id)]
    assert positions[str(held.id)] < positions[str(after_held.id)]


def test_a_batch_file_appears_whole_or_not_at_all(db, settings, monkeypatch):
    batches.destination_switch_to_batch(destination="erp", by="test")
    for n in range(3):
        publish("PO-1", n=n)

    def failing_replace(source, target):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError):
        batches.batch_write(destination="erp")
    # No file, no temporary file left, nothing marked delivered, no number used.
    assert list(batch_dir(settings).iterdir()) == []
    assert not DeliveryBatch.objects.exists()
    assert not OutboxMessage.objects.filter(status="delivered").exists()
    monkeypatch.undo()
    assert batches.batch_write(destination="erp").number == 1
    assert [p.name for p in batch_dir(settings).iterdir()] == ["erp-000001.jsonl"]
    assert [event["payload"]["n"] for event in read_batch(settings, 1)] == [0, 1, 2]
    assert oct(os.stat(batch_dir(settings) / "erp-000001.jsonl").st_mode & 0o777) == "0o640"


def test_a_run_that_dies_after_the_rename_is_written_again_under_the_same_number(db, settings, monkeypatch):
    batches.destination_switch_to_batch(destination="erp", by="test")
    first = publish("PO-1")
    write = batches._write_atomically

    def write_then_die(path, data):
        write(path, data)
        raise SystemExit("killed before the commit")

    monkeypatch.setattr(batches, "_write_atomically", write_then_die)
    with pytest.raises(SystemExit):
        batches.batch_write(destination="erp")
    assert [event["id"] for event in read_batch(settings, 1)] == [str(first.id)]
    assert OutboxMessage.objects.get(id=first.id).status == "pending"
    monkeypatch.undo()
    second = publish("PO-1")
    assert batches.batch_write(destination="erp").number == 1
    # Rewritten with the same event (the ERP dedupes by id) and the new one; nothing lost.
    assert [event["id"] for event in read_batch(settings, 1)] == [str(first.id), str(second.id)]


def test_online_destinations_get_no_batch_files(db, settings):
    publish()
    assert batches.batch_write(destination="erp") is None
    assert tasks.write_batches() == 0
    assert not settings.ERP_BATCH_DIR.exists()


# --- Switching back online ---------------------------------------------------------------------------

def test_switching_back_online_delivers_the_rest_with_no_duplicates_and_no_loss(db, http_erp, settings, capsys):
    online_before = publish("PO-1")
    assert relay.deliver(online_before.id).status == "delivered"
    call_command("outbox", "batch", "--destination", "erp")
    assert "erp: batch files" in capsys.readouterr().out
    in_file = [publish("PO-1"), publish("PO-2"), publish("PO-1")]
    assert {relay.deliver(m.id).status for m in in_file} == {"batched", "skipped"}
    call_command("outbox", "write-batches")
    assert "erp-000001.jsonl, 3 event(s)" in capsys.readouterr().out
    call_command("outbox", "status")
    assert "batch files since" in capsys.readouterr().out
    after_file = [publish("PO-2"), publish("PO-1"), publish("PO-3")]
    call_command("outbox", "online", "--destination", "erp")
    out = capsys.readouterr().out
    assert "erp: online" in out and "up to number 1" in out and "erp-000001.jsonl" in out
    assert state().mode == "online" and state().switched_by.startswith("command line")

    # The ERP imports the batch file first (here: its lines posted like the connector does), then the relay goes on.
    connector = connector_for("erp")
    for event in read_batch(settings, 1):
        assert connector.send(event).delivered
    deliver_everything_due()
    everything = [online_before, *in_file, *after_file]
    assert set(http_erp.applied) == {str(m.id) for m in everything}
    assert http_erp.duplicates == 0 and http_erp.order_violations == 0
    assert not OutboxMessage.objects.exclude(status="delivered").exists()
    # Sent online: exactly the events not in the file.
    online = DeliveryAttempt.objects.filter(status_code=200).values_list("message_id", flat=True)
    assert sorted(map(str, online)) == sorted(str(m.id) for m in (online_before, *after_file))


def test_switching_back_online_lets_a_still_broken_erp_wait_the_full_time_again(db, settings):
    DestinationState.objects.create(destination="erp", mode="batch", down_since=timezone.now() - timedelta(hours=2))
    settings.ERP_BATCH_AFTER_SECONDS = 60
    assert batches.destination_switch_to_online(destination="erp", by="test")
    assert batches.destinations_switch_automatically() == []
    assert state().mode == "online" and state().down_since is None
    assert not batches.destination_switch_to_online(destination="erp", by="test")


# --- Importing ERP batch files -----------------------------------------------------------------------

def receipt(reference="GR-1", **overrides):
    return {"reference": reference, "purchase_order": "PO-7001", "received_on": "2026-12-01",
            "lines": [{"line": 10, "quantity": "150"}], **overrides}


def invoice_status(**overrides):
    return {"supplier": "NORDWERK", "invoice_number": "INV-1", "version": 1, "purchase_order": "PO-7001",
            "status": "received", **overrides}


def write_lines(path, lines):
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines))
    return path


def import_files(*paths, capsys):
    error = None
    try:
        call_command("import_erp_batch", *map(str, paths), "--no-progress")
    except CommandError as exc:
        error = exc
    out, err = capsys.readouterr()
    return out, err, error


def test_import_applies_orders_receipts_and_invoice_statuses_in_file_order(tmp_path, nordwerk, capsys):
    path = write_lines(tmp_path / "erp-in-000001.jsonl", [
        {"type": "purchase_order", "document": po_document("PO-7001")},
        {"type": "receipt", "document": receipt()},  # needs the order of the line before
        {"type": "invoice_status", "document": invoice_status()},
        {"type": "purchase_order", "document": po_document("PO-7002")},
        {"type": "purchase_order", "document": po_document("PO-7001", revision=2, line_count=2)},
        {"type": "invoice_status", "document": invoice_status(version=2, status="approved")},
    ])
    out, _, error = import_files(path, capsys=capsys)
    assert error is None
    assert "created 4, updated 2, unchanged 0, failed 0" in out
    assert PurchaseOrder.objects.get(number="PO-7001").revision == 2
    assert Receipt.objects.get().reference == "GR-1"
    assert InvoiceStatus.objects.get().status == "approved"
    audit = AuditEvent.objects.get(action="receipt.recorded")
    assert audit.actor_label == "erp-batch:erp-in-000001.jsonl" and audit.channel == "erp"


def test_reimporting_a_file_is_a_no_op(tmp_path, nordwerk, capsys):
    path = write_lines(tmp_path / "in.jsonl", [
        {"type": "purchase_order", "document": po_document("PO-7001")},
        {"type": "receipt", "document": receipt()},
        {"type": "invoice_status", "document": invoice_status()},
    ])
    import_files(path, capsys=capsys)
    events = AuditEvent.objects.count()
    out, _, error = import_files(path, capsys=capsys)
    assert error is None and "created 0, updated 0, unchanged 3, failed 0" in out
    assert AuditEvent.objects.count() == events


def test_bad_lines_are_named_and_fail_alone(tmp_path, nordwerk, capsys):
    bad_order = po_document("PO-7003")
    bad_order["lines"][0]["quantity"] = "0"
    path = write_lines(tmp_path / "in.jsonl", [
        {"type": "purchase_order", "document": po_document("PO-7001")},
        "{broken",
        {"type": "shipment", "document": {}},
        {"type": "purchase_order", "document": bad_order},
        ["not", "an", "object"],
        {"type": "receipt", "document": receipt(purchase_order="PO-404")},
        "",
        {"type": "invoice_status", "document": invoice_status()},
    ])
    out, err, error = import_files(path, capsys=capsys)
    assert "created 2, updated 0, unchanged 0, failed 5" in out
    assert error is not None and error.returncode == 1
    failures = [line.removeprefix("failed ") for line in err.splitlines() if line.startswith("failed ")]
    assert [failure.split(": ")[:2] for failure in failures] == [
        [f"{path}:2", "invalid_json"],
        [f"{path}:3", "unknown_type"],
        [f"{path}:4", "invalid_document"],
        [f"{path}:5", "invalid_line"],
        [f"{path}:6", "unknown_purchase_order"],
    ]
    assert "quantity" in failures[2]
    assert list(PurchaseOrder.objects.values_list("number", flat=True)) == ["PO-7001"]
    assert InvoiceStatus.objects.count() == 1


def test_paths_that_are_not_regular_files_are_refused_before_anything_is_imported(tmp_path, nordwerk, capsys):
    good = write_lines(tmp_path / "in.jsonl", [{"type": "purchase_order", "document": po_document("PO-7001")}])
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for bad in (tmp_path, fifo, tmp_path / "missing.jsonl"):
        with pytest.raises(CommandError, match="not a regular file|Cannot read"):
            call_command("import_erp_batch", str(good), str(bad), "--no-progress")
    assert not PurchaseOrder.objects.exists()


def test_a_document_repeated_in_a_file_is_stored_once(tmp_path, nordwerk, capsys):
    create_purchase_order("PO-7001", supplier=nordwerk)
    path = write_lines(tmp_path / "in.jsonl", [{"type": "receipt", "document": receipt()}] * 2)
    out, _, error = import_files(path, capsys=capsys)
    assert error is None and "created 1, updated 0, unchanged 1, failed 0" in out
