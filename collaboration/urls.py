from django.urls import path, register_converter

from collaboration import (
    forecast_views,
    incident_views,
    inventory_views,
    invoice_views,
    quality_views,
    scorecard_views,
    shipment_views,
    user_views,
    views,
)


class SpreadsheetFormat:
    regex = "csv|xlsx"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(SpreadsheetFormat, "sheet")

app_name = "collaboration"

urlpatterns = [
    path("", views.home, name="home"),
    path("purchase-orders/", views.purchase_order_list, name="purchase-order-list"),
    path("purchase-orders/open-lines.<sheet:fmt>", views.open_lines_download, name="open-lines-download"),
    path("purchase-orders/responses/upload/", views.responses_upload, name="responses-upload"),
    path("purchase-orders/<str:number>/", views.purchase_order_detail, name="purchase-order-detail"),
    path("purchase-orders/<str:number>/submit/", views.acknowledgement_submit, name="acknowledgement-submit"),
    path("purchase-orders/<str:number>/lines/<int:line_number>/", views.line_row, name="line-row"),
    path("purchase-orders/<str:number>/lines/<int:line_number>/respond/", views.line_response_edit, name="line-respond"),
    path("purchase-orders/<str:number>/lines/<int:line_number>/discard/", views.line_response_discard, name="line-discard"),
    path("shipments/", shipment_views.shipment_list, name="shipment-list"),
    path("shipments/new/", shipment_views.shipment_new, name="shipment-new"),
    path("shipments/upload/", shipment_views.shipment_upload, name="shipment-upload"),
    path("shipments/template.<sheet:fmt>", shipment_views.shipment_template, name="shipment-template"),
    path("shipments/<str:number>/", shipment_views.shipment_detail, name="shipment-detail"),
    path("shipments/<str:number>/edit/", shipment_views.shipment_edit, name="shipment-edit"),
    path("shipments/<str:number>/cancel/", shipment_views.shipment_cancel, name="shipment-cancel"),
    path("shipments/<str:number>/labels.pdf", shipment_views.shipment_labels, name="shipment-labels"),
    path("shipments/<str:number>/packing-list.pdf", shipment_views.shipment_packing_list, name="shipment-packing-list"),
    path("quality/documents/", quality_views.quality_document_list, name="quality-document-list"),
    path("quality/documents/upload/", quality_views.quality_document_upload, name="quality-document-upload"),
    path("quality/documents/<int:pk>/download/", quality_views.quality_document_download, name="quality-document-download"),
    path("quality/incidents/", incident_views.incident_list, name="incident-list"),
    path("quality/incidents/attachments/<int:pk>/download/", incident_views.incident_attachment_download,
         name="incident-attachment-download"),
    path("quality/incidents/<str:reference>/", incident_views.incident_detail, name="incident-detail"),
    path("quality/incidents/<str:reference>/steps/<str:kind>/answer/", incident_views.incident_step_answer,
         name="incident-step-answer"),
    path("forecasts/", forecast_views.forecast_list, name="forecast-list"),
    path("forecasts/forecasts.<sheet:fmt>", forecast_views.forecast_download, name="forecast-download"),
    path("forecasts/<int:pk>/", forecast_views.forecast_detail, name="forecast-detail"),
    path("inventory/", inventory_views.inventory_list, name="inventory-list"),
    path("invoices/", invoice_views.invoice_list, name="invoice-list"),
    path("invoices/new/", invoice_views.invoice_new, name="invoice-new"),
    path("invoices/<int:pk>/", invoice_views.invoice_detail, name="invoice-detail"),
    path("scorecards/", scorecard_views.scorecards, name="scorecards"),
    path("account/users/", user_views.supplier_user_list, name="supplier-user-list"),
    path("account/users/<int:membership_id>/role/", user_views.supplier_user_role, name="supplier-user-role"),
    path("account/users/<int:membership_id>/access/", user_views.supplier_user_access, name="supplier-user-access"),
    path("account/api-tokens/", views.api_tokens, name="api-tokens"),
    path("account/api-tokens/<int:token_id>/revoke/", views.api_token_revoke, name="api-token-revoke"),
]
