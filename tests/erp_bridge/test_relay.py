"""The relay against a real loopback HTTP receiver: signature, idempotency key, order, retry, dead letter."""
import json
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from erp_bridge import outbox, relay, signing
from portal import correlation
from erp_bridge.models import DeliveryAttempt, OutboxMessage
from tests.support.erp_receiver import Scripted


def publish(aggregate="PO-1", **payload) -> OutboxMessage:
    with transaction.atomic():
        return outbox.publish(type="acknowledgement.decided", aggregate=aggregate, payload=payload or {"n": 1})


def test_publish_outside_a_transaction_is_refused(transactional_db):
    with pytest.raises(RuntimeError):
        outbox.publish(type="x", aggregate="PO-1", payload={})


def test_sequences_are_gap_free_per_aggregate_and_survive_rollback(db):
    assert [publish("PO-1").sequence, publish("PO-1").sequence, publish("PO-2").sequence] == [1, 2, 1]
    with pytest.raises(ZeroDivisionError):
        with transaction.atomic():
            outbox.publish(type="x", aggregate="PO-1", payload={})
            1 / 0
    assert publish("PO-1").sequence == 3


def test_delivery_is_signed_with_event_id_as_idempotency_key(db, http_erp):
    message = publish(n=7)
    assert relay.deliver(message.id).status == "delivered"
    assert http_erp.bad_signatures == 0
    event = http_erp.applied[str(message.id)]
    assert event["payload"] == {"n": 7} and event["sequence"] == 1 and event["type"] == "acknowledgement.decided"
    message.refresh_from_db()
    assert message.status == "delivered" and message.delivered_at is not None
    attempt = message.attempts.get()
    assert attempt.outcome == "delivered" and attempt.status_code == 200


def test_wrong_secret_is_rejected_by_receiver_as_permanent(db, http_erp, settings):
    settings.ERP_WEBHOOK_SECRET = "not-the-receivers-secret"
    message = publish()
    assert relay.deliver(message.id).status == "dead"
    assert http_erp.bad_signatures == 1 and not http_erp.applied


def test_server_error_is_retried_with_backoff_and_each_attempt_kept(db, http_erp, settings):
    settings.ERP_RETRY_BASE_SECONDS = 10
    http_erp.fail_next(Scripted(503, body="maintenance"))
    message = publish()
    outcome = relay.deliver(message.id)
    assert outcome.status == "retry"
    assert 5 <= outcome.retry_in <= 10
    message.refresh_from_db()
    assert message.status == "pending" and message.next_attempt_at > timezone.now() + timedelta(seconds=4)
    assert message.last_error == "maintenance"
    # Not due yet: a second worker does not send it early.
    assert relay.deliver(message.id).status == "skipped"
    OutboxMessage.objects.filter(id=message.id).update(next_attempt_at=timezone.now())
    assert relay.deliver(message.id).status == "delivered"
    assert list(message.attempts.values_list("outcome", "status_code")) == [("retry", 503), ("delivered", 200)]


def test_retry_after_is_honoured(db, http_erp, settings):
    settings.ERP_RETRY_BASE_SECONDS = 1
    http_erp.fail_next(Scripted(429, headers={"Retry-After": "120"}))
    outcome = relay.deliver(publish().id)
    assert outcome.status == "retry" and outcome.retry_in >= 120


def test_connection_refused_is_retried(db, settings):
    settings.ERP_WEBHOOK_URL = "http://127.0.0.1:9/events"  # discard port: nothing listens
    message = publish()
    assert relay.deliver(message.id).status == "retry"
    assert "ConnectionError" in message.attempts.get().error


def test_permanent_client_error_goes_to_dead_letter(db, http_erp):
    http_erp.fail_next(Scripted(422, body="unknown purchase order"))
    message = publish()
    assert relay.deliver(message.id).status == "dead"
    message.refresh_from_db()
    assert message.status == "dead" and message.attempts.get().outcome == "failed"


def test_exhausted_attempts_go_to_dead_letter(db, http_erp, settings):
    settings.ERP_MAX_ATTEMPTS = 2
    http_erp.fail_next(Scripted(500), Scripted(500))
    message = publish()
    assert relay.deliver(message.id).status == "retry"
    OutboxMessage.objects.filter(id=message.id).update(next_attempt_at=timezone.now())
    assert relay.deliver(message.id).status == "dead"


def test_later_message_never_overtakes_an_undelivered_earlier_one(db, http_erp):
    first, second = publish("PO-1"), publish("PO-1")
    other = publish("PO-2")
    assert relay.deliver(second.id).status == "skipped"
    assert set(relay.due_message_ids()) == {first.id, other.id}
    outcome = relay.deliver(first.id)
    assert outcome.status == "delivered" and outcome.next_message_id == second.id
    assert relay.deliver(second.id).status == "delivered"
    assert http_erp.order_violations == 0


def test_dead_letter_blocks_its_purchase_order_until_retried(db, http_erp):
    http_erp.fail_next(Scripted(400, body="bad"))
    first, second = publish("PO-1"), publish("PO-1")
    relay.deliver(first.id)
    assert relay.deliver(second.id).status == "skipped"
    assert relay.retry_now(OutboxMessage.objects.filter(id=first.id)) == [first.id]
    assert relay.deliver(first.id).status == "delivered"
    assert relay.deliver(second.id).status == "delivered"
    assert [http_erp.applied[k]["sequence"] for k in http_erp.order] == [1, 2]


def test_active_lease_keeps_a_second_worker_off_and_an_expired_one_gives_it_back(db, http_erp):
    message = publish()
    OutboxMessage.objects.filter(id=message.id).update(lease_until=timezone.now() + timedelta(seconds=60))
    assert relay.deliver(message.id).status == "skipped"
    OutboxMessage.objects.filter(id=message.id).update(lease_until=timezone.now() - timedelta(seconds=1))
    assert relay.deliver(message.id).status == "delivered"


def test_file_connector_appends_one_json_line_per_event(db, settings):
    first, second = publish("PO-1", n=1), publish("PO-1", n=2)
    relay.deliver(first.id)
    relay.deliver(second.id)
    lines = (settings.ERP_FILE_DIR / "erp-events.jsonl").read_text().splitlines()
    assert [json.loads(line)["id"] for line in lines] == [str(first.id), str(second.id)]
    assert DeliveryAttempt.objects.filter(outcome="delivered").count() == 2


def test_signature_verification_rules():
    body = b'{"a":1}'
    header = signing.sign(body, secret="s", timestamp=1_000_000)
    signing.verify(header, body, secret="s", now=1_000_100)
    for bad_header, now in [
        (header, 1_000_400),  # outside tolerance
        (header.replace("v1=", "v1=0"), 1_000_000),
        ("t=abc,v1=00", 1_000_000),
        ("", 1_000_000),
    ]:
        with pytest.raises(signing.SignatureError):
            signing.verify(bad_header, body, secret="s", now=now)
    with pytest.raises(signing.SignatureError):
        signing.verify(header, b'{"a":2}', secret="s", now=1_000_000)


def test_dead_letter_opens_a_buyer_case_which_closes_when_replay_delivers(db, http_erp, nordwerk):
    from collaboration.models import ExceptionCase
    from tests.factories import create_purchase_order

    create_purchase_order("PO-1", supplier=nordwerk)
    http_erp.fail_next(Scripted(422, body="unknown item BRK-2201"))
    message = publish("PO-1")
    relay.deliver(message.id)
    case = ExceptionCase.objects.get(kind="delivery_failed")
    assert case.status == "open" and case.supplier == nordwerk and case.purchase_order.number == "PO-1"
    assert case.details["message"] == str(message.id) and "unknown item" in case.details["error"]
    relay.retry_now(OutboxMessage.objects.filter(id=message.id))
    assert relay.deliver(message.id).status == "delivered"
    case.refresh_from_db()
    assert case.status == "closed"
    assert len(http_erp.applied) == 1
    assert list(message.attempts.values_list("outcome", flat=True)) == ["failed", "delivered"]


def test_outbox_replay_command(db, http_erp, capsys):
    from django.core.management import CommandError, call_command

    from portal.celery import app

    http_erp.fail_next(Scripted(400), Scripted(400))
    first, second = publish("PO-1"), publish("PO-2")
    relay.deliver(first.id)
    relay.deliver(second.id)
    assert OutboxMessage.objects.filter(status="dead").count() == 2
    with pytest.raises(CommandError, match="Say which"):
        call_command("outbox", "replay")
    app.conf.task_always_eager = True
    try:
        call_command("outbox", "replay", "--aggregate", "PO-2")
    finally:
        app.conf.task_always_eager = False
    assert "replayed 1 dead letter(s)" in capsys.readouterr().out
    assert list(OutboxMessage.objects.order_by("aggregate").values_list("status", flat=True)) == ["dead", "delivered"]
    call_command("outbox", "status")
    assert "dead" in capsys.readouterr().out


def test_a_run_delivers_consecutive_messages_in_order_and_stops_at_the_first_failure(db, http_erp):
    messages = [publish("PO-1", n=n) for n in range(5)]
    # The receiver is told to answer 200, 200 (without applying), then 503.
    http_erp.fail_next(Scripted(200), Scripted(200), Scripted(503, body="busy"))
    outcome = relay.deliver(messages[0].id, run=5)
    assert outcome.status == "retry" and outcome.delivered == 2 and outcome.message_id == messages[2].id
    statuses = {m.id: m for m in OutboxMessage.objects.all()}
    assert [statuses[m.id].status for m in messages] == ["delivered", "delivered", "pending", "pending", "pending"]
    # The two messages behind the failure were claimed but never tried: no attempt counted, no lease kept.
    assert [statuses[m.id].attempt_count for m in messages] == [1, 1, 1, 0, 0]
    assert all(statuses[m.id].lease_until is None for m in messages)
    assert [a.outcome for a in DeliveryAttempt.objects.order_by("attempted_at", "id")] == ["delivered", "delivered", "retry"]
    OutboxMessage.objects.filter(id=messages[2].id).update(next_attempt_at=timezone.now())
    outcome = relay.deliver(messages[2].id, run=5)
    assert outcome.status == "delivered" and outcome.delivered == 3 and outcome.next_message_id is None
    assert [http_erp.applied[k]["sequence"] for k in http_erp.order] == [3, 4, 5]


def test_a_run_stops_before_a_message_another_worker_holds_or_that_is_not_due(db, http_erp):
    messages = [publish("PO-1", n=n) for n in range(4)]
    OutboxMessage.objects.filter(id=messages[2].id).update(lease_until=timezone.now() + timedelta(seconds=60))
    outcome = relay.deliver(messages[0].id, run=10)
    assert outcome.delivered == 2 and outcome.next_message_id == messages[2].id
    assert OutboxMessage.objects.get(id=messages[3].id).status == "pending"
    assert http_erp.order_violations == 0


def test_a_run_is_never_started_from_a_message_that_is_not_the_head(db, http_erp):
    first, second = publish("PO-1"), publish("PO-1")
    assert relay.deliver(second.id, run=10).status == "skipped"
    assert relay.deliver(first.id, run=10).delivered == 2


def test_the_relay_sends_the_events_id_to_the_erp(db, http_erp, erp_receiver):
    with correlation.bound("edi-interchange-9"), transaction.atomic():
        message = outbox.publish(type="acknowledgement.decided", aggregate="PO-9", payload={})
    assert correlation.current() == ""  # the block's id is gone after it
    relay.deliver(message.id)
    assert erp_receiver.correlation_ids[str(message.id)] == "edi-interchange-9"
