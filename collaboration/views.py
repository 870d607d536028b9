"""Supplier portal pages. Thin: read the request, call a selector or a service, render.

With htmx a view answers with the named fragment it changes; without it, the whole page,
so every URL works without JavaScript.
"""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from collaboration import selectors, services
from collaboration.actors import Actor
from collaboration.errors import DomainError, NotFound
from collaboration.models import Channel, PurchaseOrder

PAGE_SIZE = 25


def _actor(request: HttpRequest) -> Actor:
    return Actor.for_user(request.user, channel=Channel.PORTAL)


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return redirect("collaboration:purchase-order-list")


@login_required
@require_GET
def purchase_order_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    if status not in PurchaseOrder.Status.values:
        status = ""
    query = request.GET.get("q", "").strip()[:100]
    orders = selectors.purchase_orders_for_actor(actor=_actor(request), status=status, query=query)
    page = Paginator(orders, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "status": status,
        "query": query,
        "statuses": PurchaseOrder.Status.choices,
    }
    template = "collaboration/purchase_order_list.html"
    if request.htmx and not request.htmx.boosted:
        template += "#results"
    return render(request, template, context)


def _detail_context(request: HttpRequest, number: str) -> dict:
    try:
        po = selectors.purchase_order_detail(actor=_actor(request), number=number)
    except NotFound:
        raise Http404(f"Purchase order {number} not found.") from None
    return {"po": po, "lines": po.lines.all(), "revisions": po.revisions.all(), "acknowledgements": po.acknowledgements.all()}


@login_required
@require_GET
def purchase_order_detail(request: HttpRequest, number: str) -> HttpResponse:
    return render(request, "collaboration/purchase_order_detail.html", _detail_context(request, number))


@login_required
@require_POST
def purchase_order_accept(request: HttpRequest, number: str) -> HttpResponse:
    try:
        services.purchase_order_accept(number=number, actor=_actor(request))
    except NotFound:
        raise Http404(f"Purchase order {number} not found.") from None
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Purchase order {number} accepted.")
    if request.htmx:
        return render(request, "collaboration/purchase_order_detail.html#acknowledgement", _detail_context(request, number))
    return redirect("collaboration:purchase-order-detail", number=number)
