"""Supplier REST API v1: the same selectors and services as the portal, as JSON."""
from __future__ import annotations

from typing import Literal

from django.db.models import Prefetch
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from pydantic import Field
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.views import APIView

from collaboration import forecasts as forecast_reads
from collaboration import inventory as inventory_reads
from collaboration import invoices as invoice_reads
from collaboration import selectors, services
from collaboration.actors import Actor
from collaboration.documents import INCIDENT_STEPS, InvoiceDocument, ShipmentDocument, parse_invoice, parse_shipment
from collaboration.errors import InvalidDocument, NotFound
from collaboration.models import (
    Acknowledgement,
    AcknowledgementLine,
    Channel,
    ForecastBucket,
    IncidentStep,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Package,
    PurchaseOrder,
    PurchaseOrderLine,
    QualityDocument,
    Shipment,
    QualityIncident,
    Supplier,
    SupplierApiToken,
)
from collaboration.services import LineResponse, ScheduleInput
from collaboration.uploads import attachment_response
from portal.idempotency import HEADER as IDEMPOTENCY_HEADER
from portal.idempotency import idempotent, multipart_fingerprint, request_fingerprint

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


class QualityDocumentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    supplier = serializers.CharField(source="supplier.code")
    document_type = serializers.ChoiceField(choices=QualityDocument.Type.choices)
    title = serializers.CharField()
    item = serializers.CharField()
    lot = serializers.CharField(help_text="Empty: every lot of the item.")
    purchase_order = serializers.CharField(source="order_line.purchase_order.number", allow_null=True, default=None)
    order_line = serializers.IntegerField(source="order_line.line_number", allow_null=True, default=None)
    shipment = serializers.CharField(source="shipment.number", allow_null=True, default=None)
    issued_on = serializers.DateField()
    expires_on = serializers.DateField(allow_null=True)
    review_status = serializers.ChoiceField(choices=QualityDocument.Review.choices)
    review_comment = serializers.CharField()
    reviewed_at = serializers.DateTimeField(allow_null=True)
    original_name = serializers.CharField()
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    sha256 = serializers.CharField()
    uploaded_at = serializers.DateTimeField()
    file = serializers.SerializerMethodField(help_text="Where to download the file.")

    def get_file(self, document: QualityDocument) -> str:
        return reverse("api-v1:quality-document-file", args=[document.pk])


class QualityDocumentInput(serializers.Serializer):
    file = serializers.FileField(help_text="A PDF, PNG or JPEG file (checked from its content), within the size limit.")
    document_type = serializers.ChoiceField(choices=QualityDocument.Type.choices)
    issued_on = serializers.DateField()
    expires_on = serializers.DateField(required=False, allow_null=True, default=None)
    title = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    item = serializers.CharField(required=False, allow_blank=True, default="", max_length=35,
                                 help_text="An item on your orders; taken from the order line when left out.")
    lot = serializers.CharField(required=False, allow_blank=True, default="", max_length=35)
    purchase_order = serializers.CharField(required=False, allow_blank=True, default="", max_length=35)
    order_line = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1,
                                          help_text="With purchase_order: the order line the document is for.")
    shipment = serializers.CharField(required=False, allow_blank=True, default="", max_length=35,
                                     help_text="The number of one of your shipments.")
    supplier = serializers.CharField(required=False, allow_blank=True, default="",
                                     help_text="The supplier's code; needed only by users of several suppliers.")


class QualityDocumentCursor(CursorPagination):
    ordering = ("-uploaded_at", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


def _quality_supplier_id(actor: Actor, code: str) -> int:
    if code:
        supplier = Supplier.objects.filter(code=code, pk__in=actor.supplier_ids).first()
        if supplier is None:
            raise InvalidDocument("The document cannot be uploaded.", details={"supplier": [f"No supplier {code} of yours."]})
        return supplier.pk
    if len(actor.supplier_ids) != 1:
        raise InvalidDocument("The document cannot be uploaded.",
                              details={"supplier": ["Name the supplier by its code: you work for several (or none)."]})
    return actor.supplier_ids[0]


class QualityDocumentListApi(ListAPIView):
    """The supplier's quality documents (newest first), and uploads of new ones (multipart/form-data)."""

    serializer_class = QualityDocumentOutput
    pagination_class = QualityDocumentCursor
    parser_classes = [MultiPartParser, FormParser]
    token_read_scopes = (SupplierApiToken.Scope.READ, SupplierApiToken.Scope.QUALITY)

    def get_queryset(self):
        params = self.request.query_params
        return selectors.quality_documents_for_actor(
            actor=api_actor(self.request), document_type=params.get("document_type", ""), item=params.get("item", ""),
            lot=params.get("lot", ""), review_status=params.get("review_status", ""),
        )

    @extend_schema(parameters=[
        OpenApiParameter("document_type", str, enum=QualityDocument.Type.values),
        OpenApiParameter("item", str, description="Part of the item number."),
        OpenApiParameter("lot", str),
        OpenApiParameter("review_status", str, enum=QualityDocument.Review.values),
    ])
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(request={"multipart/form-data": QualityDocumentInput}, responses={201: QualityDocumentOutput},
                   parameters=[IDEMPOTENCY_KEY])
    @idempotent(fingerprint=multipart_fingerprint)
    def post(self, request: Request) -> Response:
        data = QualityDocumentInput(data=request.data)
        if not data.is_valid():
            raise InvalidDocument("The document cannot be uploaded.", details=data.errors)
        fields = dict(data.validated_data)
        actor = api_actor(request)
        document = services.quality_document_upload(
            supplier_id=_quality_supplier_id(actor, fields.pop("supplier")), actor=actor, upload=fields.pop("file"), **fields)
        return Response(QualityDocumentOutput(selectors.quality_document_get(actor=actor, document_id=document.pk)).data,
                        status=status.HTTP_201_CREATED)


class QualityDocumentApi(APIView):
    token_read_scopes = (SupplierApiToken.Scope.READ, SupplierApiToken.Scope.QUALITY)

    @extend_schema(responses=QualityDocumentOutput)
    def get(self, request: Request, pk: int) -> Response:
        return Response(QualityDocumentOutput(selectors.quality_document_get(actor=api_actor(request), document_id=pk)).data)


class FileNegotiation(BaseContentNegotiation):
    """A download is what the file is, whatever the client accepts; errors still come as JSON problems."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class QualityDocumentFileApi(APIView):
    """The document's file, as an attachment."""

    token_read_scopes = (SupplierApiToken.Scope.READ, SupplierApiToken.Scope.QUALITY)
    content_negotiation_class = FileNegotiation

    @extend_schema(responses={(200, content_type): OpenApiTypes.BINARY
                              for content_type in ("application/pdf", "image/png", "image/jpeg")})
    def get(self, request: Request, pk: int):
        document = selectors.quality_document_get(actor=api_actor(request), document_id=pk)
        return attachment_response(name=document.file.name, original_name=document.original_name,
                                   content_type=document.content_type)


class IncidentAttachmentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="original_name")
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    uploaded_at = serializers.DateTimeField()


class IncidentStepOutput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=IncidentStep.Kind.choices)
    position = serializers.IntegerField()
    due_on = serializers.DateField()
    overdue = serializers.BooleanField(help_text="Waiting for the supplier past its due date.")
    status = serializers.ChoiceField(choices=IncidentStep.Status.choices)
    response = serializers.CharField()
    responded_at = serializers.DateTimeField(allow_null=True)
    buyer_comment = serializers.CharField(help_text="Why the buyer returned (or a note on accepting) the answer.")
    attachments = IncidentAttachmentOutput(many=True)


class QualityIncidentSummaryOutput(serializers.Serializer):
    reference = serializers.CharField()
    supplier = serializers.CharField(source="supplier.code")
    purchase_order = serializers.CharField(source="purchase_order.number", default="")
    item = serializers.CharField()
    lot = serializers.CharField()
    quantity_on_hold = serializers.DecimalField(max_digits=18, decimal_places=4, coerce_to_string=True)
    uom = serializers.CharField()
    status = serializers.ChoiceField(choices=QualityIncident.Status.choices)
    hold_status = serializers.ChoiceField(choices=QualityIncident.Hold.choices)
    opened_at = serializers.DateTimeField()


class QualityIncidentListOutput(QualityIncidentSummaryOutput):
    next_due_on = serializers.DateField(allow_null=True, help_text="When the next step is due from you.")
    overdue_steps = serializers.IntegerField()


class QualityIncidentOutput(QualityIncidentSummaryOutput):
    description = serializers.CharField()
    hold_decided_at = serializers.DateTimeField(allow_null=True)
    hold_comment = serializers.CharField()
    steps = IncidentStepOutput(many=True)


class IncidentStepAnswerJsonInput(serializers.Serializer):
    response = serializers.CharField(allow_blank=True, trim_whitespace=False, help_text="Your answer to this step.")


@extend_schema_field(OpenApiTypes.BINARY)
class UploadField(serializers.FileField):
    """A file sent in a multipart body (shown as binary in the schema, so clients and fuzzers send files)."""


class IncidentStepAnswerInput(IncidentStepAnswerJsonInput):
    attachments = serializers.ListField(
        child=UploadField(allow_empty_file=True), required=False, default=list,
        help_text="PDF, PNG or JPEG files (judged by their content), each within the upload size limit.",
    )


class QualityIncidentCursor(CursorPagination):
    ordering = ("-opened_at", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class QualityIncidentListApi(ListAPIView):
    """Your quality incidents, newest first; `status=open` for those still open."""

    serializer_class = QualityIncidentListOutput
    pagination_class = QualityIncidentCursor
    token_read_scopes = (SupplierApiToken.Scope.READ, SupplierApiToken.Scope.QUALITY)

    @extend_schema(parameters=[OpenApiParameter("status", str, enum=QualityIncident.Status.values, required=False)])
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        status_filter = self.request.query_params.get("status", "")
        return selectors.quality_incidents_for_actor(
            actor=api_actor(self.request), status=status_filter if status_filter in QualityIncident.Status.values else "",
        )


class QualityIncidentApi(APIView):
    token_read_scopes = (SupplierApiToken.Scope.READ, SupplierApiToken.Scope.QUALITY)

    @extend_schema(responses=QualityIncidentOutput)
    def get(self, request: Request, reference: str) -> Response:
        return Response(QualityIncidentOutput(selectors.quality_incident_detail(actor=api_actor(request), reference=reference)).data)


def _answer_fingerprint(request: Request) -> str:
    multipart = (request.content_type or "").startswith("multipart/")
    return multipart_fingerprint(request) if multipart else request_fingerprint(request)


class QualityIncidentStepAnswerApi(APIView):
    """Answer one step (in order: containment, root_cause, corrective_action, verification), as JSON
    or as multipart with files; a step the buyer returned is answered again. Needs a quality or admin
    user, or a token with the 'quality' scope."""

    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(
        request={"multipart/form-data": IncidentStepAnswerInput, "application/json": IncidentStepAnswerJsonInput},
        responses={200: QualityIncidentOutput},
        parameters=[IDEMPOTENCY_KEY, OpenApiParameter("kind", str, OpenApiParameter.PATH, enum=INCIDENT_STEPS)],
    )
    @idempotent(fingerprint=_answer_fingerprint)
    def post(self, request: Request, reference: str, kind: str) -> Response:
        data = IncidentStepAnswerInput(data=request.data)
        if not data.is_valid():
            raise InvalidDocument("The answer is not valid.", details=data.errors)
        actor = api_actor(request)
        services.incident_step_answer(reference=reference, kind=kind, response=data.validated_data["response"],
                                      attachments=data.validated_data["attachments"], actor=actor)
        return Response(QualityIncidentOutput(selectors.quality_incident_detail(actor=actor, reference=reference)).data)


class ForecastSummaryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    supplier = serializers.CharField(source="supplier.code")
    item = serializers.CharField()
    ship_to = serializers.CharField()
    description = serializers.CharField()
    uom = serializers.CharField()
    version = serializers.IntegerField(help_text="The current version: commitments name it.")
    updated_at = serializers.DateTimeField()


class ForecastBucketOutput(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    period = serializers.ChoiceField(choices=ForecastBucket.Period.choices)
    zone = serializers.ChoiceField(choices=ForecastBucket.Zone.choices)
    quantity = serializers.DecimalField(max_digits=18, decimal_places=4, coerce_to_string=True)
    previous_quantity = serializers.DecimalField(max_digits=18, decimal_places=4, coerce_to_string=True, allow_null=True,
                                                 help_text="The same period in the previous version; null if it had none.")
    committed_quantity = serializers.DecimalField(max_digits=18, decimal_places=4, coerce_to_string=True, allow_null=True)
    commit_reason = serializers.CharField()


class ForecastOutput(ForecastSummaryOutput):
    published_on = serializers.DateField(allow_null=True)
    buckets = ForecastBucketOutput(many=True)


def forecast_body(forecast) -> dict:
    detail = forecast_reads.forecast_detail(forecast)
    buckets = [{"start": v.bucket.start, "end": v.bucket.end, "period": v.bucket.period, "zone": v.bucket.zone,
                "quantity": v.bucket.quantity, "previous_quantity": v.previous,
                "committed_quantity": v.bucket.committed_quantity, "commit_reason": v.bucket.commit_reason}
               for v in detail.buckets]
    forecast.published_on, forecast.buckets = detail.version.published_on, buckets
    return ForecastOutput(forecast).data


class ForecastCursor(CursorPagination):
    ordering = ("item", "ship_to", "id")
    page_size = 100


class ForecastListApi(ListAPIView):
    """The current forecasts of the token's supplier (or the user's suppliers), by item."""

    serializer_class = ForecastSummaryOutput
    pagination_class = ForecastCursor
    token_read_scopes = (SupplierApiToken.Scope.READ, SupplierApiToken.Scope.PLAN)

    def get_queryset(self):
        return forecast_reads.forecasts_for_actor(actor=api_actor(self.request), query=self.request.query_params.get("q", ""))


class ForecastApi(APIView):
    token_read_scopes = (SupplierApiToken.Scope.READ, SupplierApiToken.Scope.PLAN)

    @extend_schema(responses=ForecastOutput)
    def get(self, request: Request, pk: int) -> Response:
        """One forecast's current version, each period with the previous version's quantity and the commitment."""
        return Response(forecast_body(forecast_reads.forecast_get(actor=api_actor(request), pk=pk)))


class CommitmentEntryInput(serializers.Serializer):
    start = serializers.DateField(help_text="The period's first day, as in the forecast.")
    quantity = serializers.DecimalField(max_digits=18, decimal_places=4, min_value=0)
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=300,
                                   help_text="Required when the quantity is below the forecast.")


class CommitmentInput(serializers.Serializer):
    version = serializers.IntegerField(min_value=1, help_text="The version committed to; an older one is refused (409).")
    commitments = CommitmentEntryInput(many=True, allow_empty=False)


class ForecastCommitmentApi(APIView):
    @extend_schema(request=CommitmentInput, responses=ForecastOutput, parameters=[IDEMPOTENCY_KEY])
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        """Commit capacity to periods of the current version (needs the 'plan' scope): the forecast
        quantity, or less with a reason. Below the firm zone, the buyer is told at once."""
        actor = api_actor(request)
        forecast = forecast_reads.forecast_get(actor=actor, pk=pk)
        body = CommitmentInput(data=request.data)
        if not body.is_valid():
            raise InvalidDocument("The commitment is not valid.", details=body.errors)
        data = body.validated_data
        services.forecast_commit(
            supplier_id=forecast.supplier_id, item=forecast.item, ship_to=forecast.ship_to, version=data["version"], actor=actor,
            commitments=[services.CommitmentInput(e["start"], e["quantity"], e["reason"]) for e in data["commitments"]])
        forecast.refresh_from_db()
        return Response(forecast_body(forecast))


class InventoryPositionOutput(serializers.Serializer):
    supplier = serializers.CharField(source="position.supplier.code")
    item = serializers.CharField(source="position.item")
    site = serializers.CharField(source="position.site")
    uom = serializers.CharField(source="position.uom")
    on_hand = serializers.DecimalField(source="position.on_hand", max_digits=18, decimal_places=4, coerce_to_string=True)
    in_transit = serializers.DecimalField(source="position.in_transit", max_digits=18, decimal_places=4, coerce_to_string=True)
    consignment = serializers.DecimalField(source="position.consignment", max_digits=18, decimal_places=4, coerce_to_string=True)
    min_level = serializers.DecimalField(source="position.min_level", max_digits=18, decimal_places=4, coerce_to_string=True)
    max_level = serializers.DecimalField(source="position.max_level", max_digits=18, decimal_places=4, coerce_to_string=True,
                                         allow_null=True)
    below_minimum = serializers.BooleanField(source="position.below_minimum")
    days_of_cover = serializers.DecimalField(source="cover.days", max_digits=8, decimal_places=1, coerce_to_string=True,
                                             allow_null=True, help_text="Null without a forecast.")
    cover_beyond_horizon = serializers.BooleanField(source="cover.beyond_horizon",
                                                    help_text="The stock outlasts the whole forecast.")
    as_of = serializers.DateTimeField(source="position.as_of")


class InventoryCursor(CursorPagination):
    ordering = ("item", "site", "id")
    page_size = 100


class InventoryPositionListApi(ListAPIView):
    """The supplier's items in the buyer's stock, with days of cover against the current forecast;
    `?below_minimum=1` for those under their minimum."""

    serializer_class = InventoryPositionOutput
    pagination_class = InventoryCursor
    token_read_scopes = (SupplierApiToken.Scope.READ, SupplierApiToken.Scope.PLAN)

    def get_queryset(self):
        return inventory_reads.positions_for_actor(actor=api_actor(self.request),
                                                   below_minimum=self.request.query_params.get("below_minimum") == "1")

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        return inventory_reads.position_rows(list(page), today=timezone.localdate()) if page is not None else None


def _invoice_supplier(actor: Actor, document) -> int:
    """The supplier an invoice is for: the token's; for a user of several suppliers, the one whose
    orders it names."""
    if len(actor.supplier_ids) == 1:
        return actor.supplier_ids[0]
    named = set(PurchaseOrder.objects.filter(number__in={line.purchase_order for line in document.lines},
                                             supplier_id__in=actor.supplier_ids).values_list("supplier_id", flat=True))
    if len(named) != 1:
        raise InvalidDocument("Name the orders of one of your suppliers.",
                              details={"lines": ["The orders must belong to exactly one of your suppliers."]})
    return named.pop()


class InvoiceDifferenceOutput(serializers.Serializer):
    field = serializers.ChoiceField(choices=["quantity", "unit_price"])
    ordered = serializers.CharField(help_text="The agreed price, or the quantity received and not yet invoiced.")
    proposed = serializers.CharField()
    difference = serializers.CharField()
    allowed = serializers.CharField()


class InvoiceLineMatchOutput(serializers.Serializer):
    purchase_order = serializers.CharField()
    line = serializers.IntegerField()
    quantity = serializers.DecimalField(max_digits=18, decimal_places=4, coerce_to_string=True)
    unit_price = serializers.DecimalField(max_digits=18, decimal_places=6, coerce_to_string=True)
    amount = serializers.DecimalField(max_digits=18, decimal_places=2, coerce_to_string=True)
    ordered_price = serializers.DecimalField(max_digits=18, decimal_places=6, coerce_to_string=True, allow_null=True)
    received = serializers.DecimalField(max_digits=18, decimal_places=4, coerce_to_string=True)
    invoiced_before = serializers.DecimalField(max_digits=18, decimal_places=4, coerce_to_string=True)
    differences = InvoiceDifferenceOutput(many=True)
    needs_reason = serializers.BooleanField()
    problems = serializers.ListField(child=serializers.CharField())


class InvoicePreviewOutput(serializers.Serializer):
    currency = serializers.CharField()
    net_amount = serializers.DecimalField(max_digits=18, decimal_places=2, coerce_to_string=True)
    tax_amount = serializers.DecimalField(max_digits=18, decimal_places=2, coerce_to_string=True)
    gross_amount = serializers.DecimalField(max_digits=18, decimal_places=2, coerce_to_string=True)
    lines = InvoiceLineMatchOutput(many=True)
    errors = serializers.DictField(help_text="What would stop the submission, by field and line position; empty if none.")

    def to_representation(self, preview):
        return {**super().to_representation(preview), "errors": preview.errors()}


class InvoiceStatusOutput(serializers.Serializer):
    status = serializers.ChoiceField(choices=InvoiceStatus.Status.choices)
    reason = serializers.CharField()
    paid_on = serializers.DateField(allow_null=True)
    payment_reference = serializers.CharField()
    updated_at = serializers.DateTimeField()


class InvoiceLineOutput(serializers.Serializer):
    line = serializers.IntegerField(source="line_number")
    purchase_order = serializers.CharField(source="order_line.purchase_order.number")
    order_line = serializers.IntegerField(source="order_line.line_number")
    item = serializers.CharField(source="order_line.item")
    quantity = serializers.DecimalField(max_digits=18, decimal_places=4, coerce_to_string=True)
    unit_price = serializers.DecimalField(max_digits=18, decimal_places=6, coerce_to_string=True)
    amount = serializers.DecimalField(max_digits=18, decimal_places=2, coerce_to_string=True)
    reason = serializers.CharField()
    differences = InvoiceDifferenceOutput(many=True)


class InvoiceOutput(serializers.Serializer):
    number = serializers.CharField(source="invoice.number")
    supplier = serializers.CharField(source="invoice.supplier.code")
    invoice_date = serializers.DateField(source="invoice.invoice_date")
    currency = serializers.CharField(source="invoice.currency")
    shipment = serializers.CharField(source="invoice.shipment.number", default="")
    net_amount = serializers.DecimalField(source="invoice.net_amount", max_digits=18, decimal_places=2, coerce_to_string=True)
    tax_amount = serializers.DecimalField(source="invoice.tax_amount", max_digits=18, decimal_places=2, coerce_to_string=True)
    gross_amount = serializers.DecimalField(source="invoice.gross_amount", max_digits=18, decimal_places=2, coerce_to_string=True)
    purchase_orders = serializers.ListField(source="orders", child=serializers.CharField())
    status = InvoiceStatusOutput(allow_null=True, help_text="The ERP's latest status; null until it answers.")
    submitted_at = serializers.DateTimeField(source="invoice.submitted_at")
    lines = InvoiceLineOutput(source="invoice.lines.all", many=True)


def _with_lines(invoices):
    return invoices.prefetch_related(Prefetch("lines", InvoiceLine.objects.select_related("order_line__purchase_order")))


class InvoiceCursor(CursorPagination):
    ordering = ("-submitted_at", "-id")
    page_size = 50


class InvoiceListApi(ListAPIView):
    """The supplier's invoices, newest first, each with the ERP's status."""

    serializer_class = InvoiceOutput
    pagination_class = InvoiceCursor
    token_read_scopes = (SupplierApiToken.Scope.READ, SupplierApiToken.Scope.INVOICE)

    def get_queryset(self):
        return _with_lines(invoice_reads.invoices_for_actor(actor=api_actor(self.request)))

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        return invoice_reads.invoice_rows(list(page)) if page is not None else None


class InvoicePreviewApi(APIView):
    @extend_schema(request=InvoiceDocument, responses=InvoicePreviewOutput)
    def post(self, request: Request) -> Response:
        """The match preview of an invoice, stored nowhere: each line against the agreed price and the
        received quantity less earlier invoices, the totals, and what would stop the submission."""
        actor = api_actor(request)
        document = parse_invoice(request.data)
        preview = services.invoice_match(supplier_id=_invoice_supplier(actor, document), document=document)
        return Response(InvoicePreviewOutput(preview).data)


class InvoiceApi(APIView):
    token_read_scopes = (SupplierApiToken.Scope.READ, SupplierApiToken.Scope.INVOICE)

    @extend_schema(responses=InvoiceOutput)
    def get(self, request: Request, number: str) -> Response:
        invoice = _with_lines(invoice_reads.invoices_for_actor(actor=api_actor(request))).filter(number=number).first()
        if invoice is None:
            raise NotFound(f"Invoice {number} not found.")
        return Response(InvoiceOutput(invoice_reads.invoice_rows([invoice])[0]).data)

    @extend_schema(request=InvoiceDocument, responses={201: InvoiceOutput}, parameters=[IDEMPOTENCY_KEY])
    @idempotent
    def put(self, request: Request, number: str) -> Response:
        """Submit an invoice (needs the 'invoice' scope): refused whole if a line is not yours, in another
        currency, or differs from the order or the receipt without a reason; a number is used once."""
        actor = api_actor(request)
        document = parse_invoice(request.data, number=number)
        invoice = services.invoice_submit(supplier_id=_invoice_supplier(actor, document), document=document, actor=actor)
        invoice = _with_lines(Invoice.objects.select_related("supplier", "shipment")).get(pk=invoice.pk)
        return Response(InvoiceOutput(invoice_reads.invoice_rows([invoice])[0]).data, status=status.HTTP_201_CREATED)
