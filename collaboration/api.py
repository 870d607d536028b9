"""Supplier REST API v1: the same selectors and services as the portal, as JSON."""
from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from collaboration import selectors, services
from collaboration.actors import Actor
from collaboration.models import (
    Acknowledgement,
    AcknowledgementLine,
    Channel,
    PurchaseOrder,
    PurchaseOrderLine,
    SupplierApiToken,
)
from collaboration.services import LineResponse, ScheduleInput
from portal.idempotency import HEADER as IDEMPOTENCY_HEADER
from portal.idempotency import idempotent

IDEMPOTENCY_KEY = OpenApiParameter(
    IDEMPOTENCY_HEADER, str, OpenApiParameter.HEADER, required=False,
    description="Any unique string; the same key with the same body returns the first answer again.",
)


def api_actor(request: Request) -> Actor:
    if isinstance(request.auth, SupplierApiToken):
        return Actor.for_token(request.auth)
    return Actor.for_user(request.user, channel=Channel.API)


class PurchaseOrderCursor(CursorPagination):
    """Stable pages however many orders arrive meanwhile: newest order date first."""

    ordering = ("-order_date", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class PurchaseOrderLineOutput(serializers.Serializer):
    line = serializers.IntegerField(source="line_number")
    item = serializers.CharField()
    description = serializers.CharField()
    quantity = serializers.DecimalField(max_digits=18, decimal_places=4)
    uom = serializers.CharField()
    unit_price = serializers.DecimalField(max_digits=18, decimal_places=6)
    requested_date = serializers.DateField()
    cancelled = serializers.BooleanField(source="is_cancelled")
    changed_in_revision = serializers.IntegerField()
    response_status = serializers.ChoiceField(choices=PurchaseOrderLine.ResponseStatus.choices)
    confirmed_quantity = serializers.DecimalField(max_digits=18, decimal_places=4, allow_null=True)
    confirmed_price = serializers.DecimalField(max_digits=18, decimal_places=6, allow_null=True)
    confirmed_date = serializers.DateField(allow_null=True)


class PurchaseOrderSummaryOutput(serializers.Serializer):
    number = serializers.CharField()
    revision = serializers.IntegerField()
    supplier = serializers.CharField(source="supplier.code")
    status = serializers.ChoiceField(choices=PurchaseOrder.Status.choices)
    currency = serializers.CharField()
    order_date = serializers.DateField()
    ship_to = serializers.CharField()
    acknowledgement_due = serializers.DateField(allow_null=True)


class PurchaseOrderOutput(PurchaseOrderSummaryOutput):
    lines = PurchaseOrderLineOutput(many=True)


class ScheduleLineSerializer(serializers.Serializer):
    quantity = serializers.DecimalField(max_digits=18, decimal_places=4)
    date = serializers.DateField()


class LineResponseInput(serializers.Serializer):
    line = serializers.IntegerField(min_value=1)
    action = serializers.ChoiceField(choices=AcknowledgementLine.Action.choices)
    quantity = serializers.DecimalField(max_digits=18, decimal_places=4, required=False, allow_null=True)
    unit_price = serializers.DecimalField(max_digits=18, decimal_places=6, required=False, allow_null=True)
    promised_date = serializers.DateField(required=False, allow_null=True)
    schedule = ScheduleLineSerializer(many=True, required=False)
    reason_code = serializers.CharField(required=False, allow_blank=True, default="")
    reason_text = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)


class AcknowledgementInput(serializers.Serializer):
    revision = serializers.IntegerField(min_value=1, help_text="The order revision answered; a superseded one is refused (409).")
    lines = LineResponseInput(many=True, allow_empty=False)

    def to_responses(self) -> list[LineResponse]:
        return [
            LineResponse(
                line=item["line"], action=item["action"], quantity=item.get("quantity"),
                unit_price=item.get("unit_price"), promised_date=item.get("promised_date"),
                schedule=tuple(ScheduleInput(e["quantity"], e["date"]) for e in item.get("schedule", [])),
                reason_code=item.get("reason_code", ""), reason_text=item.get("reason_text", ""),
            )
            for item in self.validated_data["lines"]
        ]


class AcknowledgementLineOutput(serializers.Serializer):
    line = serializers.IntegerField(source="order_line.line_number")
    action = serializers.CharField()
    decision = serializers.CharField()
    quantity = serializers.DecimalField(max_digits=18, decimal_places=4)
    unit_price = serializers.DecimalField(max_digits=18, decimal_places=6)
    schedule = ScheduleLineSerializer(many=True)
    reason_code = serializers.CharField(source="reason.code", default="")
    decision_comment = serializers.CharField()


class AcknowledgementOutput(serializers.Serializer):
    id = serializers.IntegerField()
    purchase_order = serializers.CharField(source="purchase_order.number")
    revision = serializers.IntegerField()
    status = serializers.CharField()
    channel = serializers.CharField()
    submitted_at = serializers.DateTimeField()
    lines = AcknowledgementLineOutput(many=True)


class PurchaseOrderListApi(ListAPIView):
    """The supplier's purchase orders; filter with `status` and `q` (PO number or item)."""

    serializer_class = PurchaseOrderSummaryOutput
    pagination_class = PurchaseOrderCursor

    def get_queryset(self):
        return selectors.purchase_orders_for_actor(
            actor=api_actor(self.request),
            status=self.request.query_params.get("status") or None,
            query=self.request.query_params.get("q") or None,
        )


class PurchaseOrderDetailApi(APIView):
    @extend_schema(responses=PurchaseOrderOutput)
    def get(self, request: Request, number: str) -> Response:
        po = selectors.purchase_order_detail(actor=api_actor(request), number=number)
        return Response(PurchaseOrderOutput(po).data)


class AcknowledgementCreateApi(APIView):
    """Answer lines of the current revision: accept, change (quantity, price, date or a split) or reject."""

    @extend_schema(request=AcknowledgementInput, responses={201: AcknowledgementOutput}, parameters=[IDEMPOTENCY_KEY])
    @idempotent
    def post(self, request: Request, number: str) -> Response:
        data = AcknowledgementInput(data=request.data)
        data.is_valid(raise_exception=True)
        ack = services.acknowledgement_submit(
            number=number, revision=data.validated_data["revision"], responses=data.to_responses(), actor=api_actor(request)
        )
        return Response(AcknowledgementOutput(_reloaded(ack)).data, status=status.HTTP_201_CREATED)


class PurchaseOrderAcceptApi(APIView):
    """Accept every open line of the current revision as ordered."""

    @extend_schema(request=None, responses={201: AcknowledgementOutput}, parameters=[IDEMPOTENCY_KEY])
    @idempotent
    def post(self, request: Request, number: str) -> Response:
        ack = services.acknowledgement_accept_remaining(number=number, actor=api_actor(request))
        return Response(AcknowledgementOutput(_reloaded(ack)).data, status=status.HTTP_201_CREATED)


def _reloaded(ack: Acknowledgement) -> Acknowledgement:
    return (
        Acknowledgement.objects.select_related("purchase_order")
        .prefetch_related("lines__schedule", "lines__order_line", "lines__reason")
        .get(pk=ack.pk)
    )
