"""Celery tasks of the collaboration domain: thin, by ids."""
from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from collaboration import notifications
from collaboration.models import PurchaseOrder


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True, autoretry_for=(OSError,),
             retry_backoff=30, max_retries=5)
def send_purchase_order_emails(event: str, purchase_order_ids: list[int], context: dict) -> int:
    return notifications.send_purchase_order_emails(event, purchase_order_ids, context)


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True, autoretry_for=(OSError,),
             retry_backoff=30, max_retries=5)
def send_incident_emails(event: str, incident_id: int, context: dict) -> int:
    return notifications.send_incident_emails(event, incident_id, context)


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def send_acknowledgement_reminders() -> int:
    """Remind suppliers once, the day before an answer is due (or on the day, if it came in late)."""
    tomorrow = timezone.localdate() + timedelta(days=1)
    with transaction.atomic():
        due = list(
            PurchaseOrder.objects.select_for_update(skip_locked=True)
            .filter(status__in=PurchaseOrder.OPEN_STATUSES, acknowledgement_due__lte=tomorrow,
                    acknowledgement_due__gte=timezone.localdate(), reminder_sent_at__isnull=True)
            .values_list("pk", flat=True)
        )
        PurchaseOrder.objects.filter(pk__in=due).update(reminder_sent_at=timezone.now())
        notifications.notify_after_commit("reminder", due)
    return len(due)


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True, autoretry_for=(OSError,),
             retry_backoff=30, max_retries=5)
def send_quality_review_email(document_id: int) -> int:
    return notifications.send_quality_review_email(document_id)


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True, autoretry_for=(OSError,),
             retry_backoff=30, max_retries=5)
def send_quality_expiry_email(supplier_id: int, document_ids: list[int]) -> int:
    return notifications.send_quality_expiry_email(supplier_id, document_ids)


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def send_quality_expiry_reminders() -> int:
    """Daily: one e-mail per supplier about its quality documents that expire soon (each once)."""
    from collaboration.services.quality_documents import quality_document_expiry_reminders

    return quality_document_expiry_reminders(today=timezone.localdate())
