import os

from django.apps import AppConfig
from django.conf import settings
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("Portal")

    def ready(self) -> None:
        # The file-system broker (embedded default) needs its folders before the first message.
        for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
            folder = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get(key)
            if folder:
                os.makedirs(folder, exist_ok=True)
        # A user's own language is kept in the session at login: the receiver must listen from the
        # start, not only once the middleware that reads it has been loaded by a first request.
        from portal import languages  # noqa: F401
