"""E-mails to a supplier's users about their purchase orders: new, changed, decided, due soon.

Services call `notify_after_commit`; the mail goes out from a Celery task once the transaction
has committed, so a mail server problem never undoes or delays a business change.
"""
from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse

from collaboration.models import Membership, PurchaseOrder

logger = logging.getLogger(__name__)
EVENTS = {"new", "changed", "decided", "reminder"}
RECIPIENT_ROLES = (Membership.Role.ADMIN, Membership.Role.SALES)


def notify_after_commit(event: str, purchase_order_ids: list[int], **context) -> None:
    if event not in EVENTS:
        raise ValueError(f"unknown notification {event!r}")
    if not purchase_order_ids:
        return
    from collaboration.tasks import send_purchase_order_emails

    transaction.on_commit(
        lambda: send_purchase_order_emails.delay(event, purchase_order_ids, context), robust=True
    )


def purchase_order_url(po: PurchaseOrder) -> str:
    return settings.PORTAL_BASE_URL.rstrip("/") + reverse("collaboration:purchase-order-detail", args=[po.number])


def send_purchase_order_emails(event: str, purchase_order_ids: list[int], context: dict) -> int:
    """Render and send one e-mail per PO and recipient; returns how many were sent."""
    orders = PurchaseOrder.objects.filter(pk__in=purchase_order_ids).select_related("supplier")
    recipients: dict[int, list[str]] = {}
    for supplier_id, email in Membership.objects.filter(
        supplier__in={po.supplier_id for po in orders}, role__in=RECIPIENT_ROLES, user__is_active=True
    ).exclude(user__email="").values_list("supplier_id", "user__email"):
        recipients.setdefault(supplier_id, []).append(email)
    messages = []
    for po in orders:
        to = recipients.get(po.supplier_id)
        if not to:
            continue
        values = {**context, "po": po, "url": purchase_order_url(po)}
        subject = render_to_string(f"emails/{event}_subject.txt", values).strip()
        body = render_to_string(f"emails/{event}.txt", values)
        messages.append((subject, body, settings.DEFAULT_FROM_EMAIL, to))
    return send_mass_mail(messages, fail_silently=False) if messages else 0
