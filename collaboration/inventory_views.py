"""The inventory page: the buyer's stock of the supplier's items per site, days of cover against the
forecast, positions below their minimum highlighted (and filterable). Suppliers see their own;
buyers see every supplier's."""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from collaboration import inventory
from collaboration.actors import Actor
from collaboration.models import Channel
from collaboration.views import list_page

PAGE_SIZE = 50


@login_required
@require_GET
def inventory_list(request: HttpRequest) -> HttpResponse:
    query, below = request.GET.get("q", ""), request.GET.get("below") == "1"
    positions = inventory.positions_for_actor(actor=Actor.for_user(request.user, channel=Channel.PORTAL), query=query,
                                              below_minimum=below)
    today = timezone.localdate()
    return list_page(request, "collaboration/inventory_list.html", positions,
                     lambda page: inventory.position_rows(page, today=today),
                     filters={"q": query, "below": "1" if below else ""}, size=PAGE_SIZE)
