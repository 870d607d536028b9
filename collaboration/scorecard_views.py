"""Supplier scorecards: buyers see every supplier's, a supplier's users their own; CSV export."""
from __future__ import annotations

from datetime import date, timedelta

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _, gettext_lazy
from django.views.decorators.http import require_GET

from collaboration import scorecards as scoring
from collaboration.actors import Actor
from collaboration.errors import NotFound
from collaboration.models import Channel

PRESETS = [("30", gettext_lazy("Last 30 days")), ("90", gettext_lazy("Last 90 days")),
           ("365", gettext_lazy("Last 12 months"))]
DEFAULT_DAYS = "90"
LONGEST_DAYS = 3 * 366


def period(request: HttpRequest, *, today: date) -> tuple[date, date, str, str]:
    """(start, end, preset, error) from `?days=` or `?start=&end=`; the default is the last 90 days."""
    start, end = request.GET.get("start", ""), request.GET.get("end", "")
    if start or end:
        try:
            first, last = date.fromisoformat(start), date.fromisoformat(end)
        except ValueError:
            return _preset(DEFAULT_DAYS, today) + ("", _("Give the period as two dates, YYYY-MM-DD."))
        if last < first:
            return _preset(DEFAULT_DAYS, today) + ("", _("The period ends before it starts."))
        if (last - first).days > LONGEST_DAYS:
            return _preset(DEFAULT_DAYS, today) + ("", _("Choose a period of at most three years."))
        return first, last, "", ""
    days = request.GET.get("days", DEFAULT_DAYS)
    days = days if days in dict(PRESETS) else DEFAULT_DAYS
    return _preset(days, today) + (days, "")


def _preset(days: str, today: date) -> tuple[date, date]:
    return today - timedelta(days=int(days) - 1), today


@login_required
@require_GET
def scorecards(request: HttpRequest) -> HttpResponse:
    actor = Actor.for_user(request.user, channel=Channel.PORTAL)
    code = request.GET.get("supplier", "").strip()[:35]
    try:
        suppliers = scoring.suppliers_for_actor(actor=actor, code=code)
    except NotFound:
        raise Http404(f"Supplier {code} not found.") from None
    start, end, preset, error = period(request, today=timezone.localdate())
    cards = scoring.scorecards(start=start, end=end, suppliers=suppliers)
    if request.GET.get("format") == "csv":
        response = HttpResponse(scoring.scorecards_csv(cards), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="scorecards-{start:%Y%m%d}-{end:%Y%m%d}.csv"'
        return response
    query = request.GET.copy()
    query.pop("format", None)
    return render(request, "collaboration/scorecards.html", {
        "cards": cards, "start": start, "end": end, "preset": preset, "presets": PRESETS, "error": error,
        "code": code, "all_suppliers": scoring.suppliers_for_actor(actor=actor) if actor.is_staff and code else suppliers,
        "csv_query": query.urlencode(),
    })
