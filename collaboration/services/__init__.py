"""Business writes. Every channel (portal, API, EDI, ERP import, admin) calls these and nothing else.

Each service validates, writes, audits and publishes its outbox events in one transaction.
"""
from collaboration.services.acknowledgements import (
    LineResponse,
    ScheduleInput,
    acknowledgement_accept_remaining,
    acknowledgement_draft_discard,
    acknowledgement_draft_save,
    acknowledgement_draft_submit,
    acknowledgement_submit,
)
from collaboration.services.api_tokens import api_token_authenticate, api_token_create, api_token_revoke
from collaboration.services.decisions import exception_case_decide, exception_case_resolve
from collaboration.services.deliveries import delivery_failure_close_cases, delivery_failure_open_case
from collaboration.services.erp_documents import RecordResult, invoice_status_record, receipt_record
from collaboration.services.inventory import inventory_position_record
from collaboration.services.invoices import DuplicateInvoice, invoice_match, invoice_submit
from collaboration.services.forecasts import (
    CommitmentInput,
    ForecastResult,
    forecast_commit,
    forecast_record,
    forecasts_record,
)
from collaboration.services.quality_documents import (
    quality_document_expiry_reminders,
    quality_document_review,
    quality_document_upload,
)
from collaboration.services.quality_incidents import (
    incident_close,
    incident_hold_decide,
    incident_step_answer,
    incident_step_review,
    quality_incident_open,
    quality_incident_reference_next,
)
from collaboration.services.shipments import shipment_cancel, shipment_save_draft, shipment_submit
from collaboration.services.sscc import sscc_allocate
from collaboration.services.purchase_orders import UpsertResult, purchase_order_upsert, purchase_orders_upsert

__all__ = [
    "CommitmentInput",
    "ForecastResult",
    "forecast_commit",
    "forecast_record",
    "forecasts_record",
    "inventory_position_record",
    "invoice_match",
    "invoice_submit",
    "DuplicateInvoice",
    "LineResponse",
    "RecordResult",
    "ScheduleInput",
    "UpsertResult",
    "acknowledgement_accept_remaining",
    "acknowledgement_draft_discard",
    "acknowledgement_draft_save",
    "acknowledgement_draft_submit",
    "acknowledgement_submit",
    "api_token_authenticate",
    "api_token_create",
    "api_token_revoke",
    "delivery_failure_close_cases",
    "delivery_failure_open_case",
    "exception_case_decide",
    "exception_case_resolve",
    "incident_close",
    "incident_hold_decide",
    "incident_step_answer",
    "incident_step_review",
    "invoice_status_record",
    "purchase_order_upsert",
    "purchase_orders_upsert",
    "quality_incident_open",
    "quality_incident_reference_next",
    "quality_document_expiry_reminders",
    "quality_document_review",
    "quality_document_upload",
    "receipt_record",
    "shipment_cancel",
    "shipment_save_draft",
    "shipment_submit",
    "sscc_allocate",
]
