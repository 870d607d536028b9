"""Buyers see outbox messages with their attempts and can retry them now."""
import pytest
from django.db import transaction
from django.urls import reverse

from erp_bridge import outbox
from erp_bridge.models import OutboxMessage


@pytest.fixture
def buyer(django_user_model):
    return django_user_model.objects.create_superuser("buyer@plant.example", "buyer@plant.example", "x-buyer-password")


@pytest.fixture
def eager_celery():
    from portal.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def test_retry_now_redelivers_a_dead_letter(client, buyer, eager_celery, settings):
    with transaction.atomic():
        message = outbox.publish(type="acknowledgement.decided", aggregate="PO-1", payload={})
    OutboxMessage.objects.filter(id=message.id).update(status="dead", attempt_count=12)
    client.force_login(buyer)
    response = client.post(
        reverse("admin:erp_bridge_outboxmessage_changelist"),
        {"action": "retry_now", "_selected_action": [str(message.id)]},
        follow=True,
    )
    assert "1 message queued" in response.content.decode()
    message.refresh_from_db()
    # Queued at once (an eager Celery runs the task inline): delivered through the file connector.
    assert message.status == "delivered" and message.attempt_count == 1
    assert str(message.id) in (settings.ERP_FILE_DIR / "erp-events.jsonl").read_text()
    detail = client.get(reverse("admin:erp_bridge_outboxmessage_change", args=[message.id]))
    assert detail.status_code == 200
