"""Supplier portal pages for quality incidents: the list (open first, overdue steps flagged), one
incident with its steps and the answer form for the step that is due, attachment downloads.
The rules (order of steps, who answers, which files) live in the quality incident service.
"""
from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from collaboration import selectors, services, uploads
from collaboration.actors import Actor
from collaboration.documents import decimal_text
from collaboration.errors import DomainError, NotFound
from collaboration.forms import IncidentAnswerForm
from collaboration.models import Channel, IncidentStep, QualityIncident
from collaboration.services.quality_incidents import next_answerable_step

PAGE_SIZE = 25


def _actor(request: HttpRequest) -> Actor:
    return Actor.for_user(request.user, channel=Channel.PORTAL)


@login_required
@require_GET
def incident_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    if status not in QualityIncident.Status.values:
        status = ""
    incidents = selectors.quality_incidents_for_actor(actor=_actor(request), status=status)
    page = Paginator(incidents, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "collaboration/incident_list.html", {
        "page": page, "status": status, "statuses": QualityIncident.Status.choices, "query": urlencode({"status": status}),
    })


def _render_detail(request: HttpRequest, reference: str, *, form: IncidentAnswerForm | None = None,
                   status: int = 200) -> HttpResponse:
    actor = _actor(request)
    try:
        incident = selectors.quality_incident_detail(actor=actor, reference=reference)
    except NotFound:
        raise Http404(f"Quality incident {reference} not found.") from None
    steps = list(incident.steps.all())
    can_answer = incident.status == QualityIncident.Status.OPEN and actor.can_manage_quality(incident.supplier_id)
    return render(request, "collaboration/incident_detail.html", {
        "incident": incident,
        "quantity": decimal_text(incident.quantity_on_hold),
        "steps": steps,
        "next_step": next_answerable_step(steps) if can_answer else None,
        "can_answer": can_answer,
        "form": form or IncidentAnswerForm(),
    }, status=status)


@login_required
@require_GET
def incident_detail(request: HttpRequest, reference: str) -> HttpResponse:
    return _render_detail(request, reference)


@login_required
@require_POST
def incident_step_answer(request: HttpRequest, reference: str, kind: str) -> HttpResponse:
    form = IncidentAnswerForm(request.POST, request.FILES)
    status = 400
    if form.is_valid():
        try:
            step = services.incident_step_answer(
                reference=reference, kind=kind, response=form.cleaned_data["response"],
                attachments=form.cleaned_data["attachments"], actor=_actor(request),
            )
        except NotFound:
            raise Http404(f"Quality incident {reference} not found.") from None
        except DomainError as error:
            form.add_service_errors(error)
            status = error.status if 400 <= error.status < 500 else 400
        else:
            messages.success(request, _step_sent(step))
            return redirect("collaboration:incident-detail", reference=reference)
    return _render_detail(request, reference, form=form, status=status)


def _step_sent(step: IncidentStep) -> str:
    """The confirmation for an answered step, one whole sentence per kind of step."""
    Kind = IncidentStep.Kind
    sentences = {
        Kind.CONTAINMENT: _("Your containment is sent; the buyer reviews it."),
        Kind.ROOT_CAUSE: _("Your root cause is sent; the buyer reviews it."),
        Kind.CORRECTIVE_ACTION: _("Your corrective action is sent; the buyer reviews it."),
        Kind.VERIFICATION: _("Your verification is sent; the buyer reviews it."),
    }
    if step.kind in sentences:
        return sentences[step.kind]
    return _("Your %(step)s is sent; the buyer reviews it.") % {"step": step.get_kind_display().lower()}


@login_required
@require_GET
def incident_attachment_download(request: HttpRequest, pk: int) -> FileResponse:
    try:
        attachment = selectors.incident_attachment_get(actor=_actor(request), attachment_id=pk)
        return uploads.attachment_response(name=attachment.file.name, original_name=attachment.original_name,
                                           content_type=attachment.content_type)
    except (NotFound, FileNotFoundError):
        raise Http404("Attachment not found.") from None
