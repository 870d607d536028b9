"""Supplier REST API v1: the same selectors and services as the portal, as JSON."""
from __future__ import annotations

from typing import Literal

from drf_spectacular.utils import OpenApiParameter, extend_schema
from pydantic import Field
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from collaboration import selectors, services
from collaboration.actors import Actor
from collaboration.documents import ShipmentDocument, parse_shipment
from collaboration.errors import InvalidDocument
from collaboration.models import (
    Acknowledgement,
    AcknowledgementLine,
    Channel,
    Package,
    PurchaseOrder,
    PurchaseOrderLine,
    Shipment,
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


class ShipmentLineOutput(serializers.Serializer):
    line = serializers.IntegerField(source="line_number")
    purchase_order = serializers.CharField(source="order_line.purchase_order.number")
    order_line = serializers.IntegerField(source="order_line.line_number")
    item = serializers.CharField(source="order_line.item")
    quantity = serializers.DecimalField(max_digits=18, decimal_places=4, coerce_to_string=True)
    uom = serializers.CharField(source="order_line.uom")
    lot = serializers.CharField()
    serial_numbers = serializers.ListField(child=serializers.CharField())


class PackageContentOutput(serializers.Serializer):
    line = serializers.IntegerField(source="shipment_line.line_number")
    quantity = serializers.DecimalField(max_digits=18, decimal_places=4, coerce_to_string=True)


class PackageOutput(serializers.Serializer):
    reference = serializers.CharField()
    sscc = serializers.CharField()
    kind = serializers.CharField()
    parent = serializers.SerializerMethodField()
    contents = PackageContentOutput(many=True)

    def get_parent(self, package: Package) -> str:
        return package.parent.reference if package.parent_id else ""


class ShipmentSummaryOutput(serializers.Serializer):
    number = serializers.CharField()
    revision = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Shipment.Status.choices)
    ship_to = serializers.CharField()
    despatch_date = serializers.DateField()
    expected_arrival = serializers.DateField()
    carrier = serializers.CharField()
    tracking_number = serializers.CharField()
    submitted_at = serializers.DateTimeField(allow_null=True)


class ShipmentOutput(ShipmentSummaryOutput):
    lines = ShipmentLineOutput(many=True)
    packages = PackageOutput(many=True)


class ShipmentInput(ShipmentDocument):
    """The shipment document, plus what to do with it."""

    status: Literal["draft", "submitted"] = Field(
        default="draft", description="draft: save (replace the draft); submitted: submit, or correct a submitted one."
    )


class ShipmentCursor(CursorPagination):
    ordering = ("-created_at", "-id")
    page_size = 50


class ShipmentListApi(ListAPIView):
    serializer_class = ShipmentSummaryOutput
    pagination_class = ShipmentCursor

    def get_queryset(self):
        return selectors.shipments_for_actor(actor=api_actor(self.request))


class ShipmentApi(APIView):
    """One advance shipping notice: read it, or save / submit / correct it by its number."""

    @extend_schema(responses=ShipmentOutput)
    def get(self, request: Request, number: str) -> Response:
        return Response(ShipmentOutput(selectors.shipment_detail(actor=api_actor(request), number=number)).data)

    @extend_schema(request=ShipmentInput, responses={200: ShipmentOutput, 201: ShipmentOutput}, parameters=[IDEMPOTENCY_KEY])
    @idempotent
    def put(self, request: Request, number: str) -> Response:
        data = request.data
        submit = isinstance(data, dict) and data.get("status") == "submitted"
        if isinstance(data, dict):
            if data.get("status", "draft") not in ("draft", "submitted"):
                raise InvalidDocument("status is draft or submitted.", details={"status": ["Use draft or submitted."]})
            data = {key: value for key, value in data.items() if key != "status"}
        document = parse_shipment(data, number=number)
        actor = api_actor(request)
        save = services.shipment_submit if submit else services.shipment_save_draft
        created = not selectors.shipments_for_actor(actor=actor).filter(number=number).exists()
        shipment = save(document=document, actor=actor)
        body = ShipmentOutput(selectors.shipment_detail(actor=actor, number=shipment.number)).data
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class ShipmentCancelApi(APIView):
    @extend_schema(request=None, responses=ShipmentSummaryOutput, parameters=[IDEMPOTENCY_KEY])
    @idempotent
    def post(self, request: Request, number: str) -> Response:
        actor = api_actor(request)
        shipment = selectors.shipment_detail(actor=actor, number=number)
        shipment = services.shipment_cancel(number=number, supplier_id=shipment.supplier_id, actor=actor)
        return Response(ShipmentSummaryOutput(shipment).data)
