"""The ERP's API into the portal (bearer ERP token): purchase orders, receipts, invoice statuses,
quality incidents, inventory positions and the planning system's forecasts.

Each is a PUT of one canonical document, stored once: a repeat is a no-op whether or not it
carries the same Idempotency-Key."""
from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import authentication, exceptions, permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from collaboration import services
from collaboration.api import IDEMPOTENCY_KEY
from collaboration.actors import Actor
from collaboration.documents import (
    ForecastDocument,
    InventoryPositionDocument,
    InvoiceStatusDocument,
    PurchaseOrderDocument,
    QualityIncidentDocument,
    ReceiptDocument,
    parse_forecast,
    parse_inventory_position,
    parse_invoice_status,
    parse_purchase_order,
    parse_quality_incident,
    parse_receipt,
)
from collaboration.models import Channel
from erp_bridge.models import ErpApiToken
from erp_bridge.tokens import TOKEN_KIND, erp_token_authenticate
from portal.api_tokens import bearer
from portal.idempotency import idempotent


class ErpTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request):
        raw = bearer(authentication.get_authorization_header(request).decode(errors="replace"), kind=TOKEN_KIND)
        if raw is None:
            return None
        token = erp_token_authenticate(raw)
        if token is None:
            raise exceptions.AuthenticationFailed("Unknown or revoked ERP token.")
        return (None, token)

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class ErpTokenScheme(OpenApiAuthenticationExtension):
    target_class = ErpTokenAuthentication
    name = "erpToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "An ERP API token (manage.py create_erp_token)."}


class IsErp(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, ErpApiToken)


class UpsertOutput(serializers.Serializer):
    number = serializers.CharField()
    revision = serializers.IntegerField()
    outcome = serializers.ChoiceField(choices=["created", "updated", "unchanged"])


def erp_actor(request: Request) -> Actor:
    return Actor.system(f"erp-token:{request.auth.name}", channel=Channel.ERP)


class ErpApiView(APIView):
    authentication_classes = [ErpTokenAuthentication]
    permission_classes = [IsErp]
    throttle_classes: list = []  # the ERP pushes in bulk; supplier rate limits do not apply


class ErpPurchaseOrderApi(ErpApiView):

    @extend_schema(
        request=PurchaseOrderDocument,
        responses={
            200: UpsertOutput,
            201: UpsertOutput,
            400: OpenApiResponse(description="Malformed document; `errors` by field."),
            409: OpenApiResponse(description="Older revision, or the same revision with other content."),
            422: OpenApiResponse(description="Unknown supplier, or a revision that moves the order to another supplier."),
        },
        operation_id="erp_purchase_order_upsert",
        parameters=[IDEMPOTENCY_KEY],
    )
    @idempotent
    def put(self, request: Request, number: str) -> Response:
        document = parse_purchase_order(request.data, number=number)
        result = services.purchase_order_upsert(document=document, actor=erp_actor(request))
        po = result.purchase_order
        return Response(
            {"number": po.number, "revision": po.revision, "outcome": result.outcome},
            status=201 if result.outcome == "created" else 200,
        )


class RecordOutput(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=["created", "updated", "unchanged"])


def _recorded(result, **fields) -> Response:
    """A recorded ERP document (any service result with an `outcome`): 201 when created, else 200."""
    return Response({**fields, "outcome": result.outcome}, status=201 if result.outcome == "created" else 200)


class ErpReceiptApi(ErpApiView):
    @extend_schema(
        request=ReceiptDocument,
        responses={
            200: RecordOutput,
            201: RecordOutput,
            400: OpenApiResponse(description="Malformed document, or lines the order does not have; `errors` by field."),
            409: OpenApiResponse(description="This receipt reference is recorded with other content."),
            422: OpenApiResponse(description="Unknown purchase order."),
        },
        operation_id="erp_receipt_record",
        parameters=[IDEMPOTENCY_KEY],
    )
    @idempotent
    def put(self, request: Request, reference: str) -> Response:
        document = parse_receipt(request.data, reference=reference)
        result = services.receipt_record(document=document, actor=erp_actor(request))
        return _recorded(result, reference=document.reference, purchase_order=document.purchase_order)


class ErpInvoiceStatusApi(ErpApiView):
    @extend_schema(
        request=InvoiceStatusDocument,
        responses={
            200: RecordOutput,
            201: RecordOutput,
            400: OpenApiResponse(description="Malformed document; `errors` by field."),
            409: OpenApiResponse(description="An older version, or the same version with other content."),
            422: OpenApiResponse(description="Unknown supplier or purchase order, or an order of another supplier."),
        },
        operation_id="erp_invoice_status_record",
        parameters=[IDEMPOTENCY_KEY],
    )
    @idempotent
    def put(self, request: Request, supplier: str, invoice_number: str) -> Response:
        document = parse_invoice_status(request.data, supplier=supplier, invoice_number=invoice_number)
        result = services.invoice_status_record(document=document, actor=erp_actor(request))
        return _recorded(result, supplier=supplier, invoice_number=invoice_number, version=document.version)


class ErpQualityIncidentApi(ErpApiView):
    @extend_schema(
        request=QualityIncidentDocument,
        responses={
            200: RecordOutput,
            201: RecordOutput,
            400: OpenApiResponse(description="Malformed document (e.g. a negative quantity); `errors` by field."),
            409: OpenApiResponse(description="This incident reference is open with other content."),
            422: OpenApiResponse(description="Unknown supplier or purchase order, or an order of another supplier."),
        },
        operation_id="erp_quality_incident_open",
        parameters=[IDEMPOTENCY_KEY],
    )
    @idempotent
    def put(self, request: Request, reference: str) -> Response:
        """Open a non-conformance with goods on hold; the supplier is told and answers in the portal or API."""
        document = parse_quality_incident(request.data, reference=reference)
        result = services.quality_incident_open(document=document, actor=erp_actor(request))
        return _recorded(result, reference=result.incident.reference, supplier=document.supplier)


class ErpForecastApi(ErpApiView):
    @extend_schema(
        request=ForecastDocument,
        responses={
            200: RecordOutput,
            201: RecordOutput,
            400: OpenApiResponse(description="Malformed document: buckets that overlap or go backwards, a negative "
                                             "quantity, a planned bucket before a firm one; `errors` by field."),
            409: OpenApiResponse(description="An older version, or the same version with other content."),
            422: OpenApiResponse(description="Unknown supplier."),
        },
        operation_id="erp_forecast_record",
        parameters=[IDEMPOTENCY_KEY],
    )
    @idempotent
    def put(self, request: Request, supplier: str, ship_to: str, item: str) -> Response:
        """One version of the planning system's forecast for an item at a ship-to (weekly or monthly
        buckets, firm zone first); the supplier sees it with the change against the previous version."""
        document = parse_forecast(request.data, supplier=supplier, ship_to=ship_to, item=item)
        result = services.forecast_record(document=document, actor=erp_actor(request))
        return _recorded(result, supplier=supplier, ship_to=ship_to, item=item, version=document.version)


class ErpInventoryPositionApi(ErpApiView):
    @extend_schema(
        request=InventoryPositionDocument,
        responses={
            200: RecordOutput,
            201: RecordOutput,
            400: OpenApiResponse(description="Malformed document (a negative quantity, a maximum below the minimum, "
                                             "a time without a zone); `errors` by field."),
            409: OpenApiResponse(description="An older count, or the same count time with other figures."),
            422: OpenApiResponse(description="Unknown supplier."),
        },
        operation_id="erp_inventory_position_record",
        parameters=[IDEMPOTENCY_KEY],
    )
    @idempotent
    def put(self, request: Request, supplier: str, site: str, item: str) -> Response:
        """The latest count of a supplier's item at a site: on hand, in transit, consignment / vendor-managed
        stock, with its minimum and maximum levels."""
        document = parse_inventory_position(request.data, supplier=supplier, site=site, item=item)
        result = services.inventory_position_record(document=document, actor=erp_actor(request))
        return _recorded(result, supplier=supplier, site=site, item=item)
