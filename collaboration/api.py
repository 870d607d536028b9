"""Supplier REST API v1: the same selectors and services as the portal, as JSON."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from collaboration import selectors, services
from collaboration.actors import Actor
from collaboration.models import Channel, PurchaseOrder


def api_actor(request: Request) -> Actor:
    return Actor.for_user(request.user, channel=Channel.API)


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


class PurchaseOrderSummaryOutput(serializers.Serializer):
    number = serializers.CharField()
    revision = serializers.IntegerField()
    supplier = serializers.CharField(source="supplier.code")
    status = serializers.ChoiceField(choices=PurchaseOrder.Status.choices)
    currency = serializers.CharField()
    order_date = serializers.DateField()
    ship_to = serializers.CharField()


class PurchaseOrderOutput(PurchaseOrderSummaryOutput):
    lines = PurchaseOrderLineOutput(many=True)


class AcknowledgementOutput(serializers.Serializer):
    id = serializers.IntegerField()
    purchase_order = serializers.CharField(source="purchase_order.number")
    revision = serializers.IntegerField()
    status = serializers.CharField()
    channel = serializers.CharField()
    submitted_at = serializers.DateTimeField()


class PurchaseOrderListApi(ListAPIView):
    serializer_class = PurchaseOrderSummaryOutput

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


class PurchaseOrderAcceptApi(APIView):
    @extend_schema(request=None, responses={201: AcknowledgementOutput})
    def post(self, request: Request, number: str) -> Response:
        acknowledgement = services.purchase_order_accept(number=number, actor=api_actor(request))
        return Response(AcknowledgementOutput(acknowledgement).data, status=status.HTTP_201_CREATED)
