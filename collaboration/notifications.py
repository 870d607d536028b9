"""E-mails to a supplier's users about their purchase orders: new, changed, decided, due soon; about
quality incidents and quality documents.

Services call `notify_after_commit`; the mail goes out from a Celery task once the transaction
has committed, so a mail server problem never undoes or delays a business change. Each recipient
reads it in the language they chose on *Settings* (the portal's default for those who did not):
one message per language, rendered under that language.
"""
from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.functional import lazy

from collaboration.models import IncidentStep, Membership, PurchaseOrder, QualityIncident

logger = logging.getLogger(__name__)
EVENTS = {"new", "changed", "decided", "reminder"}
RECIPIENT_ROLES = (Membership.Role.ADMIN, Membership.Role.SALES)


def _by_language(memberships) -> dict[int, dict[str, list[str]]]:
    """Addresses of the active users of these memberships: per supplier, per language."""
    found: dict[int, dict[str, list[str]]] = {}
    rows = (memberships.filter(is_active=True, user__is_active=True).exclude(user__email="")
            .values_list("supplier_id", "user__email", "user__account_settings__language").order_by("user__email"))
    for supplier_id, email, language in rows:
        addresses = found.setdefault(supplier_id, {}).setdefault(language or settings.LANGUAGE_CODE, [])
        if email not in addresses:
            addresses.append(email)
    return found


def _messages(template: str, values: dict, recipients: dict[str, list[str]]) -> list[tuple]:
    """One message per language: `emails/<template>_subject.txt` and `emails/<template>.txt`."""
    messages = []
    for language, to in recipients.items():
        with translation.override(language):
            subject = render_to_string(f"emails/{template}_subject.txt", values).strip()
            body = render_to_string(f"emails/{template}.txt", values)
        messages.append((subject, body, settings.DEFAULT_FROM_EMAIL, to))
    return messages


def _send(messages: list[tuple]) -> int:
    return send_mass_mail(messages, fail_silently=False) if messages else 0


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
    recipients = _by_language(Membership.objects.filter(supplier__in={po.supplier_id for po in orders}, role__in=RECIPIENT_ROLES))
    messages = []
    for po in orders:
        messages += _messages(event, {**context, "po": po, "url": purchase_order_url(po)}, recipients.get(po.supplier_id, {}))
    return _send(messages)


# Quality incidents: opened, a step returned, the hold decided; to the supplier's quality and admin users.
INCIDENT_EVENTS = {"incident_opened", "incident_returned", "incident_hold"}


def notify_incident_after_commit(event: str, incident_id: int, **context) -> None:
    if event not in INCIDENT_EVENTS:
        raise ValueError(f"unknown notification {event!r}")
    from collaboration.tasks import send_incident_emails

    transaction.on_commit(lambda: send_incident_emails.delay(event, incident_id, context), robust=True)


def incident_url(reference: str) -> str:
    return settings.PORTAL_BASE_URL.rstrip("/") + reverse("collaboration:incident-detail", args=[reference])


def send_incident_emails(event: str, incident_id: int, context: dict) -> int:
    incident = QualityIncident.objects.select_related("supplier", "purchase_order").filter(pk=incident_id).first()
    if incident is None:
        return 0
    to = _quality_recipients(incident.supplier_id)
    if not to:
        return 0
    from collaboration.documents import decimal_text

    values = {**context, "incident": incident, "steps": list(incident.steps.order_by("position")),
              "quantity": decimal_text(incident.quantity_on_hold), "url": incident_url(incident.reference)}
    # The step travels as its code and is named in each recipient's language (older queued tasks
    # carried the English label: kept as it was). The hold decision is a code the template reads.
    if context.get("step") in IncidentStep.Kind.values:
        values["step"] = IncidentStep.Kind(context["step"]).label
    return _send(_messages(event, values, to))


# Quality documents: the buyer's review, and documents about to expire, go to quality and admin users.
QUALITY_RECIPIENT_ROLES = (Membership.Role.ADMIN, Membership.Role.QUALITY)


def quality_review_notify_after_commit(document_id: int) -> None:
    from collaboration.tasks import send_quality_review_email

    transaction.on_commit(lambda: send_quality_review_email.delay(document_id), robust=True)


def quality_expiry_notify_after_commit(supplier_id: int, document_ids: list[int]) -> None:
    from collaboration.tasks import send_quality_expiry_email

    transaction.on_commit(lambda: send_quality_expiry_email.delay(supplier_id, document_ids), robust=True)


def _quality_recipients(supplier_id: int) -> dict[str, list[str]]:
    return _by_language(Membership.objects.filter(supplier_id=supplier_id, role__in=QUALITY_RECIPIENT_ROLES)).get(supplier_id, {})


def quality_documents_url(**query: str) -> str:
    from urllib.parse import urlencode

    url = settings.PORTAL_BASE_URL.rstrip("/") + reverse("collaboration:quality-document-list")
    return f"{url}?{urlencode(query)}" if query else url


def send_quality_review_email(document_id: int) -> int:
    from collaboration.models import QualityDocument

    document = QualityDocument.objects.select_related("supplier").filter(pk=document_id).first()
    to = _quality_recipients(document.supplier_id) if document else []
    if not to:
        return 0
    from collaboration.services.quality_documents import type_label

    values = {"document": document, "kind": lazy(type_label, str)(document.document_type), "url": quality_documents_url()}
    return _send(_messages("quality_review", values, to))


def send_quality_expiry_email(supplier_id: int, document_ids: list[int]) -> int:
    """One e-mail to the supplier listing its documents that expire soon."""
    from collaboration.models import QualityDocument

    documents = list(QualityDocument.objects.filter(pk__in=document_ids, supplier_id=supplier_id).order_by("expires_on", "pk"))
    to = _quality_recipients(supplier_id)
    if not documents or not to:
        return 0
    values = {"documents": documents, "url": quality_documents_url(validity="expiring")}
    return _send(_messages("quality_expiry", values, to))
