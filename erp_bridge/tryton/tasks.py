"""Celery tasks of the Tryton connector (registered through CELERY_IMPORTS)."""
from __future__ import annotations

from celery import shared_task

from erp_bridge.tryton import sync


@shared_task(acks_late=True, ignore_result=True)
def pull_from_tryton() -> str:
    """Purchases first, then receipts (a receipt needs its order). Does nothing without TRYTON_URL."""
    if not sync.is_configured():
        return "not configured"
    return f"purchases: {sync.pull_purchases()}; receipts: {sync.pull_receipts()}"


@shared_task(acks_late=True, ignore_result=True)
def reconcile_with_tryton() -> str:
    """Compare portal and Tryton and list drift in the admin. Does nothing without TRYTON_URL."""
    if not sync.is_configured():
        return "not configured"
    from erp_bridge.reconcile import reconcile

    return str(reconcile())
