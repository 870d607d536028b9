"""Housekeeping tasks of the API infrastructure."""
from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from portal.models import IdempotencyRecord


@shared_task(ignore_result=True)
def purge_idempotency_records() -> int:
    """Forget Idempotency-Keys older than IDEMPOTENCY_KEY_HOURS (clients retry within minutes, not days)."""
    cutoff = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_KEY_HOURS)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted


@shared_task(ignore_result=True, acks_late=False)
def noop() -> None:
    """Does nothing: its rate through the broker is the yardstick for the relay's throughput
    (bench/relay_throughput.py compares the two in the same run)."""
