"""Buyers' pages across the apps: the control tower, the lists behind its counts, and a purchase
order's traceability timeline. Staff only; they read and never change anything."""
from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from collaboration.models import ExceptionCase, PurchaseOrder, Supplier
from portal import control_tower, traceability

LIST_PAGE_SIZE = 50


def _filters(request: HttpRequest) -> control_tower.Filters:
    code = request.GET.get("supplier", "").strip()[:35]
    supplier = Supplier.objects.filter(code=code).first() if code else None
    return control_tower.Filters(supplier=supplier, buyer=request.GET.get("buyer", "").strip()[:35])


@staff_member_required
@require_GET
def control_tower_page(request: HttpRequest) -> HttpResponse:
    filters = _filters(request)
    now = timezone.now()
    context = {
        "filters": filters,
        "figures": control_tower.figures(filters, now=now),
        "now": now,
        "refresh_seconds": settings.CONTROL_TOWER_REFRESH_SECONDS,
    }
    template = "portal/control_tower.html"
    if request.htmx:
        return render(request, template + "#figures", context)
    context.update({
        "suppliers": Supplier.objects.filter(is_active=True).only("code", "name"),
        "buyers": control_tower.buyers(),
        "charts": control_tower.trend_charts(filters, now=now),
    })
    return render(request, template, context)


@staff_member_required
@require_GET
def control_tower_list(request: HttpRequest, key: str) -> HttpResponse:
    drilldown = control_tower.DRILLDOWNS.get(key)
    if drilldown is None:
        raise Http404("No such list.")
    filters = _filters(request)
    kind, age = request.GET.get("kind", ""), request.GET.get("age", "")
    queryset = control_tower.drilldown_queryset(drilldown, filters, kind=kind, age=age)
    page = Paginator(queryset, LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    title = str(drilldown.title)
    if kind in ExceptionCase.Kind.values:
        title = _("%(list)s: %(kind)s") % {"list": title, "kind": ExceptionCase.Kind(kind).label}
    age_label = next((label for key, label, *_bounds in control_tower.AGE_BUCKETS if key == age), "")
    if age_label:
        title = _("%(list)s, open %(age)s") % {"list": title, "age": age_label}
    extra = urlencode([(name, value) for name, value in (("kind", kind), ("age", age)) if value])
    return render(request, "portal/control_tower_list.html", {
        "title": title, "filters": filters, "page": page, "rows": control_tower.drilldown_rows(drilldown, page.object_list),
        "query": "&".join(part for part in (filters.query, extra) if part),
    })


@staff_member_required
@require_GET
def purchase_order_timeline(request: HttpRequest, number: str) -> HttpResponse:
    po = PurchaseOrder.objects.select_related("supplier").filter(number=number).first()
    if po is None:
        raise Http404(f"Purchase order {number} not found.")
    return render(request, "portal/timeline.html", {"po": po, "entries": traceability.timeline(po)})
