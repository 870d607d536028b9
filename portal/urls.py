from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from csp.decorators import csp_update
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from collaboration import api as collaboration_api
from erp_bridge import api as erp_api
from portal import account_views, health, metrics, two_factor_views, views

# The buyers' admin carries the product's name, in the buyer's language.
admin.site.site_header = _("Supplier portal: buyers' administration")
admin.site.site_title = _("Supplier portal")
admin.site.index_title = _("Purchasing, quality and integration")

api_v1 = [
    path("purchase-orders/", collaboration_api.PurchaseOrderListApi.as_view(), name="purchase-order-list"),
    path("purchase-orders/<str:number>/", collaboration_api.PurchaseOrderDetailApi.as_view(), name="purchase-order-detail"),
    path(
        "purchase-orders/<str:number>/accept/",
        collaboration_api.PurchaseOrderAcceptApi.as_view(),
        name="purchase-order-accept",
    ),
    path(
        "purchase-orders/<str:number>/acknowledgements/",
        collaboration_api.AcknowledgementCreateApi.as_view(),
        name="acknowledgement-create",
    ),
    path("shipments/", collaboration_api.ShipmentListApi.as_view(), name="shipment-list"),
    path("shipments/<str:number>", collaboration_api.ShipmentApi.as_view(), name="shipment"),
    path("shipments/<str:number>/cancel", collaboration_api.ShipmentCancelApi.as_view(), name="shipment-cancel"),
    path("quality-documents", collaboration_api.QualityDocumentListApi.as_view(), name="quality-document-list"),
    path("quality-documents/<int:pk>", collaboration_api.QualityDocumentApi.as_view(), name="quality-document"),
    path("quality-documents/<int:pk>/file", collaboration_api.QualityDocumentFileApi.as_view(), name="quality-document-file"),
    path("quality-incidents", collaboration_api.QualityIncidentListApi.as_view(), name="quality-incident-list"),
    path("quality-incidents/<str:reference>", collaboration_api.QualityIncidentApi.as_view(), name="quality-incident"),
    path(
        "quality-incidents/<str:reference>/steps/<str:kind>",
        collaboration_api.QualityIncidentStepAnswerApi.as_view(),
        name="quality-incident-step-answer",
    ),
    path("invoices", collaboration_api.InvoiceListApi.as_view(), name="invoice-list"),
    path("invoice-previews", collaboration_api.InvoicePreviewApi.as_view(), name="invoice-preview"),
    path("invoices/<str:number>", collaboration_api.InvoiceApi.as_view(), name="invoice"),
    path("inventory", collaboration_api.InventoryPositionListApi.as_view(), name="inventory-list"),
    path("forecasts", collaboration_api.ForecastListApi.as_view(), name="forecast-list"),
    path("forecasts/<int:pk>", collaboration_api.ForecastApi.as_view(), name="forecast"),
    path("forecasts/<int:pk>/commitments", collaboration_api.ForecastCommitmentApi.as_view(), name="forecast-commitments"),
    path("erp/purchase-orders/<str:number>", erp_api.ErpPurchaseOrderApi.as_view(), name="erp-purchase-order"),
    path("erp/quality-incidents/<str:reference>", erp_api.ErpQualityIncidentApi.as_view(), name="erp-quality-incident"),
    path("erp/receipts/<str:reference>", erp_api.ErpReceiptApi.as_view(), name="erp-receipt"),
    path(
        "erp/suppliers/<str:supplier>/invoices/<str:invoice_number>/status",
        erp_api.ErpInvoiceStatusApi.as_view(),
        name="erp-invoice-status",
    ),
    path(
        "erp/suppliers/<str:supplier>/inventory/<str:site>/<str:item>",
        erp_api.ErpInventoryPositionApi.as_view(),
        name="erp-inventory-position",
    ),
    path(
        "erp/suppliers/<str:supplier>/forecasts/<str:ship_to>/<str:item>",
        erp_api.ErpForecastApi.as_view(),
        name="erp-forecast",
    ),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("account/settings/", account_views.account_settings, name="account-settings"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/two-factor/", two_factor_views.overview, name="two-factor"),
    path("accounts/two-factor/verify/", two_factor_views.verify, name="two-factor-verify"),
    path("accounts/two-factor/setup/", two_factor_views.setup, name="two-factor-setup"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/v1/", include((api_v1, "api"), namespace="api-v1")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file: the policy allows no inline script.
    path("api/docs/", csp_update({"style-src": ["'unsafe-inline'"]})(SpectacularSwaggerSplitView.as_view(url_name="api-schema")),
         name="api-docs"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("control-tower/", views.control_tower_page, name="control-tower"),
    path("control-tower/purchase-orders/<str:number>/", views.purchase_order_timeline, name="purchase-order-timeline"),
    path("control-tower/<slug:key>/", views.control_tower_list, name="control-tower-list"),
    path("metrics", metrics.metrics, name="metrics"),
    path("", include("collaboration.urls")),
]
