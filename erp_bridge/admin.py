"""Delivery admin: outbox messages with every attempt and a "retry now" action, destinations with their
mode (online or batch files) and the switch between them, the delivery status page, and ERP tokens."""
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy as _, ngettext

from collaboration.admin import ReadOnlyAdmin, ReadOnlyInline
from collaboration.errors import DomainError
from erp_bridge import batches
from erp_bridge.models import DeliveryAttempt, DestinationState, Drift, ErpApiToken, OutboxMessage
from erp_bridge.tasks import replay
from portal.metrics import CHART_MINUTES, delivery_figures, duration_text

# The admin index carries a link to the delivery status page (templates/admin/erp_bridge/index.html).
admin.site.index_template = "admin/erp_bridge/index.html"


class DeliveryAttemptInline(ReadOnlyInline):
    model = DeliveryAttempt
    fields = ["attempted_at", "outcome", "status_code", "latency_ms", "error"]


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ["occurred_at", "type", "aggregate", "sequence", "destination", "status", "attempt_count", "next_attempt_at", "delivered_at"]
    list_filter = ["status", "type", "destination"]
    search_fields = ["aggregate", "id"]
    readonly_fields = [f.name for f in OutboxMessage._meta.fields]
    inlines = [DeliveryAttemptInline]
    actions = ["retry_now"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description=_("Retry / replay now (pending and dead letters)"))
    def retry_now(self, request, queryset):
        ids = replay(queryset)
        text = ngettext("%(count)s message queued for delivery now.",
                        "%(count)s messages queued for delivery now.", len(ids)) % {"count": len(ids)}
        self.message_user(request, text, messages.SUCCESS)


@dataclass(frozen=True)
class Bar:
    x: int
    y: int
    width: int
    height: int
    count: int
    minute: datetime


CHART_HEIGHT = 100
BAR_SLOT = 10


def chart_bars(per_minute: list[int], *, now) -> list[Bar]:
    """SVG bars (integer coordinates, so no locale ever formats them) for deliveries per minute."""
    peak = max(per_minute) or 1
    current_minute = now.replace(second=0, microsecond=0)
    bars = []
    for index, count in enumerate(per_minute):
        height = round(count / peak * CHART_HEIGHT) if count else 0
        bars.append(Bar(x=index * BAR_SLOT, y=CHART_HEIGHT - height, width=BAR_SLOT - 2, height=height, count=count,
                        minute=current_minute - timedelta(minutes=len(per_minute) - 1 - index)))
    return bars


@admin.register(DestinationState)
class DestinationStateAdmin(admin.ModelAdmin):
    list_display = ["destination", "mode", "down_since", "switched_at", "switched_by"]
    readonly_fields = ["destination", "mode", "down_since", "switched_at", "switched_by"]
    actions = ["switch_to_online", "switch_to_batch"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def changelist_view(self, request, extra_context=None):
        batches.destination_states()  # a row for every known destination, to act on
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        return [
            path("status/", self.admin_site.admin_view(self.status_view), name="erp_bridge_delivery_status"),
        ] + super().get_urls()

    def status_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        now = timezone.now()
        rows = [
            {"figures": figures, "lag": duration_text(figures.lag_seconds), "bars": chart_bars(figures.per_minute, now=now),
             "peak": max(figures.per_minute)}
            for figures in delivery_figures(now=now)
        ]
        return TemplateResponse(request, "admin/erp_bridge/delivery_status.html", {
            **self.admin_site.each_context(request), "title": gettext("Delivery status"), "opts": self.model._meta,
            "rows": rows,
            "chart_minutes": CHART_MINUTES, "chart_width": CHART_MINUTES * BAR_SLOT, "chart_height": CHART_HEIGHT,
            "batch_seconds": settings.ERP_BATCH_SECONDS,
        })

    @admin.action(description=_("Switch to online (the relay sends each event)"), permissions=["change"])
    def switch_to_online(self, request, queryset):
        states = list(queryset.order_by("destination"))
        if "apply" not in request.POST:
            return TemplateResponse(request, "admin/erp_bridge/destinationstate/switch_online.html", {
                **self.admin_site.each_context(request), "title": gettext("Switch to online delivery"),
                "opts": self.model._meta,
                "notes": [(state, batches.switch_back_note(state.destination)) for state in states],
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            })
        by = f"admin:{request.user.get_username()}"
        for state in states:
            try:
                changed = batches.destination_switch_to_online(destination=state.destination, by=by)
            except DomainError as error:
                self.message_user(request, error.message, messages.ERROR)
                continue
            if changed:
                self.message_user(
                    request,
                    gettext("Online again: the relay sends the pending events of %(destination)s now. %(note)s") % {
                        "destination": state.destination, "note": batches.switch_back_note(state.destination)},
                    messages.SUCCESS,
                )
            else:
                self.message_user(request, gettext("Online already: %(destination)s.")
                                  % {"destination": state.destination}, messages.INFO)

    @admin.action(description=_("Switch to batch files"), permissions=["change"])
    def switch_to_batch(self, request, queryset):
        by = f"admin:{request.user.get_username()}"
        for state in queryset.order_by("destination"):
            if batches.destination_switch_to_batch(destination=state.destination, by=by):
                self.message_user(
                    request,
                    gettext("Batch files for %(destination)s from now on, written every %(seconds)s s to %(folder)s.")
                    % {"destination": state.destination, "seconds": f"{settings.ERP_BATCH_SECONDS:g}",
                       "folder": batches.batch_path(state.destination, 1).parent},
                    messages.SUCCESS,
                )
            else:
                self.message_user(request, gettext("Batch files for %(destination)s already.")
                                  % {"destination": state.destination}, messages.INFO)


@admin.register(ErpApiToken)
class ErpApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["name", "prefix", "key_hash", "created_at", "last_used_at", "revoked_at"]

    def has_add_permission(self, request) -> bool:
        # Tokens are created with `manage.py create_erp_token`, which shows the secret once.
        return False


@admin.register(Drift)
class DriftAdmin(ReadOnlyAdmin):
    """What reconciliation found different between the portal and the ERP; fixed at the source,
    resolved by the next run (`manage.py reconcile`)."""

    list_display = ["purchase_order", "line", "field", "portal_value", "erp_value", "status", "source", "found_at",
                    "last_seen_at", "resolved_at"]
    list_filter = ["status", "field", "source"]
    search_fields = ["purchase_order"]
