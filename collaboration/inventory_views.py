"""The inventory page: the buyer's stock of the supplier's items per site, days of cover against the
forecast, positions below their minimum highlighted (and filterable). Suppliers see their own;
buyers see every supplier's."""
from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from collaboration import inventory
from collaboration.actors import Actor
from collaboration.models import Channel

PAGE_SIZE = 50


@login_required
@require_GET
def inventory_list(request: HttpRequest) -> HttpResponse:
    query, below = request.GET.get("q", ""), request.GET.get("below") == "1"
    positions = inventory.positions_for_actor(actor=Actor.for_user(request.user, channel=Channel.PORTAL), query=query,
                                              below_minimum=below)
    page = Paginator(positions, PAGE_SIZE).get_page(request.GET.get("page"))
    filters = {key: value for key, value in (("q", query), ("below", "1" if below else "")) if value}
    return render(request, "collaboration/inventory_list.html", {
        "page": page, "rows": inventory.position_rows(list(page.object_list), today=timezone.localdate()),
        "q": query, "below": below, "query": urlencode(filters), "several_suppliers": request.user.is_staff,
    })
