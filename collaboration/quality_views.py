"""Supplier portal pages for quality documents: the list (filters, expiring ones marked), the upload
form and the access-checked download. Rules live in the quality document service.
"""
from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _, gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from collaboration import selectors, services
from collaboration.actors import Actor
from collaboration.errors import DomainError, NotFound
from collaboration.forms import QualityDocumentForm
from collaboration.models import Channel, QualityDocument, Supplier
from collaboration.uploads import attachment_response

PAGE_SIZE = 25
VALIDITY = {"expiring": gettext_lazy("Expiring soon"), "expired": gettext_lazy("Expired")}


def _actor(request: HttpRequest) -> Actor:
    return Actor.for_user(request.user, channel=Channel.PORTAL)


def _quality_suppliers(actor: Actor) -> list[Supplier]:
    return list(Supplier.objects.filter(pk__in=[pk for pk in actor.supplier_ids if actor.can_manage_quality(pk)]))


@login_required
@require_GET
def quality_document_list(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    today = timezone.localdate()
    soon = today + timedelta(days=settings.QUALITY_EXPIRY_REMINDER_DAYS)
    filters = {
        "document_type": request.GET.get("type", "") if request.GET.get("type") in QualityDocument.Type.values else "",
        "review_status": request.GET.get("status", "") if request.GET.get("status") in QualityDocument.Review.values else "",
        "item": request.GET.get("item", "").strip()[:35],
    }
    validity = request.GET.get("validity", "") if request.GET.get("validity") in VALIDITY else ""
    documents = selectors.quality_documents_for_actor(
        actor=actor, **filters,
        expires_between=(today, soon) if validity == "expiring" else None,
        expired_before=today if validity == "expired" else None,
    )
    page = Paginator(documents, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "collaboration/quality_document_list.html", {
        "page": page, "filters": filters, "validity": validity, "query": query.urlencode(),
        "types": QualityDocument.Type.choices, "statuses": QualityDocument.Review.choices, "validities": VALIDITY.items(),
        "today": today, "soon": soon, "can_upload": bool(_quality_suppliers(actor)),
        "several_suppliers": actor.is_staff or len(actor.supplier_ids) > 1,
    })


@login_required
@require_http_methods(["GET", "POST"])
def quality_document_upload(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    suppliers = _quality_suppliers(actor)
    if not suppliers:
        return render(request, "collaboration/quality_document_upload.html", {"refused": True}, status=403)
    initial = {name: request.GET.get(name, "") for name in ("document_type", "item", "lot", "shipment")}
    form = QualityDocumentForm(request.POST or None, request.FILES or None, initial=initial, suppliers=suppliers,
                               max_bytes=settings.UPLOAD_MAX_BYTES)
    if request.method == "POST":
        if form.is_valid():
            try:
                document = services.quality_document_upload(actor=actor, **form.service_arguments())
            except DomainError as error:
                form.add_service_errors(error)
            else:
                messages.success(request, _("%(type)s %(name)s uploaded; the buyer will review it.") % {
                    "type": document.get_document_type_display(), "name": document.original_name})
                return redirect("collaboration:quality-document-list")
    return render(request, "collaboration/quality_document_upload.html", {
        "form": form, "items": selectors.items_supplied(actor=actor),
    }, status=400 if form.errors else 200)


@login_required
@require_GET
def quality_document_download(request: HttpRequest, pk: int) -> HttpResponse:
    """The file, as an attachment, to the supplier's users and to the buyer's staff only."""
    try:
        document = selectors.quality_document_get(actor=_actor(request), document_id=pk)
    except NotFound:
        raise Http404("Quality document not found.") from None
    return attachment_response(name=document.file.name, original_name=document.original_name,
                               content_type=document.content_type)
