"""The admin's delivery status page (per destination: mode, depth, lag, rate, dead letters, batch files,
a chart) and the switch between online delivery and batch files."""
from datetime import timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from erp_bridge import batches, outbox, relay
from erp_bridge.models import DeliveryAttempt, DestinationState, OutboxMessage

STATUS_URL = "/admin/erp_bridge/destinationstate/status/"


@pytest.fixture(autouse=True)
def _batch_settings(settings, tmp_path):
    settings.ERP_BATCH_DIR = tmp_path / "batches"
    settings.ERP_BATCH_ONLY = []
    batches.forget_cached_states()
    yield
    batches.forget_cached_states()


@pytest.fixture
def buyer(django_user_model):
    return django_user_model.objects.create_superuser("buyer@plant.example", "buyer@plant.example", "x-buyer-password")


def publish(aggregate="PO-1") -> OutboxMessage:
    with transaction.atomic():
        return outbox.publish(type="acknowledgement.decided", aggregate=aggregate, payload={})


def make_history() -> None:
    """erp: one event delivered online, then batch mode with one batch file, a dead letter, an old pending event."""
    relay.deliver(publish("PO-1").id)  # the file connector: delivered
    batches.destination_switch_to_batch(destination="erp", by="admin:buyer@plant.example")
    publish("PO-2")
    batches.batch_write(destination="erp")
    dead, waiting = publish("PO-3"), publish("PO-4")
    OutboxMessage.objects.filter(id=dead.id).update(status="dead")
    OutboxMessage.objects.filter(id=waiting.id).update(occurred_at=timezone.now() - timedelta(hours=2, minutes=5))
    # Both deliveries in one clock minute, whenever the test runs.
    DeliveryAttempt.objects.update(attempted_at=timezone.now() - timedelta(seconds=5))


def test_status_page_shows_each_destinations_figures_and_a_chart(client, buyer):
    make_history()
    client.force_login(buyer)
    response = client.get(STATUS_URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert reverse("admin:erp_bridge_delivery_status") == STATUS_URL
    assert "Batch files since" in page and "admin:buyer@plant.example" in page
    assert "2 h 5 min" in page  # sync lag
    assert "erp-000001.jsonl (1 in all" in page
    dead_link = f"{reverse('admin:erp_bridge_outboxmessage_changelist')}?status__exact=dead&amp;destination__exact=erp"
    assert f'<a href="{dead_link}">1</a>' in page
    row = response.context["rows"][0]["figures"]
    assert (row.destination, row.mode, row.pending, row.dead) == ("erp", "batch", 1, 1)
    assert (row.deliveries_last_minute, row.deliveries_last_hour, max(row.per_minute), sum(row.per_minute)) == (2, 2, 2, 2)
    # A server-side SVG bar chart: one bar for the one minute with deliveries, no script, nothing fetched.
    chart = page[page.index('<svg class="delivery-chart"'):]
    chart = chart[:chart.index("</svg>")]
    assert page.count('<svg class="delivery-chart"') == 1 and chart.count("<rect") == 1 and "<title>" in chart
    assert "<script src=\"http" not in page


def test_status_page_needs_a_handful_of_queries_whatever_the_volume(client, buyer, django_assert_max_num_queries):
    make_history()
    for n in range(30):
        relay.deliver(publish(f"PO-X{n}").id)
    DestinationState.objects.create(destination="planning")
    client.force_login(buyer)
    with django_assert_max_num_queries(7):  # session, user, and the figures' four aggregate queries
        assert client.get(STATUS_URL).status_code == 200


def test_status_page_is_linked_from_the_outbox_list_and_the_admin_index(client, buyer):
    client.force_login(buyer)
    for url in (reverse("admin:erp_bridge_outboxmessage_changelist"), reverse("admin:index")):
        assert f'href="{STATUS_URL}"' in client.get(url).content.decode(), url


def test_status_page_is_for_staff_only(client, nordwerk_sales):
    client.force_login(nordwerk_sales)
    response = client.get(STATUS_URL)
    assert response.status_code == 302 and "login" in response["Location"]


def test_buyer_switches_to_batch_files_and_back_online_after_confirming_the_import(client, buyer, settings):
    client.force_login(buyer)
    changelist = reverse("admin:erp_bridge_destinationstate_changelist")
    assert client.get(changelist).status_code == 200  # lists (and so creates) a row per destination
    erp = DestinationState.objects.get(destination="erp")
    response = client.post(changelist, {"action": "switch_to_batch", "_selected_action": [erp.pk]}, follow=True)
    assert "Batch files for erp from now on" in response.content.decode()
    erp.refresh_from_db()
    assert erp.mode == "batch" and erp.switched_by == "admin:buyer@plant.example"
    publish()
    batches.batch_write(destination="erp")

    confirm = client.post(changelist, {"action": "switch_to_online", "_selected_action": [erp.pk]})
    assert "up to number 1 (erp-000001.jsonl" in confirm.content.decode()
    erp.refresh_from_db()
    assert erp.mode == "batch"  # not yet: the buyer confirms first
    done = client.post(changelist, {"action": "switch_to_online", "_selected_action": [erp.pk], "apply": "1"}, follow=True)
    assert "Online again: the relay sends the pending events of erp" in done.content.decode()
    erp.refresh_from_db()
    assert erp.mode == "online"


def test_batch_only_destination_cannot_be_switched_online_from_the_admin(client, buyer, settings):
    settings.ERP_BATCH_ONLY = ["erp"]
    client.force_login(buyer)
    changelist = reverse("admin:erp_bridge_destinationstate_changelist")
    client.get(changelist)
    erp = DestinationState.objects.get(destination="erp")
    response = client.post(changelist, {"action": "switch_to_online", "_selected_action": [erp.pk], "apply": "1"},
                           follow=True)
    assert "configured batch-only" in response.content.decode()
