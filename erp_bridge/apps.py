from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ErpBridgeConfig(AppConfig):
    name = "erp_bridge"
    verbose_name = _("ERP bridge")
