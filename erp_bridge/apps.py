from django.apps import AppConfig


class ErpBridgeConfig(AppConfig):
    name = "erp_bridge"
    verbose_name = "ERP bridge"
