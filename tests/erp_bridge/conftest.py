"""Fixtures of the ERP bridge tests."""
import pytest


@pytest.fixture
def http_erp(settings, erp_receiver):
    settings.ERP_WEBHOOK_URL = erp_receiver.url
    settings.ERP_WEBHOOK_SECRET = erp_receiver.secret
    settings.ERP_READ_TIMEOUT = 2
    return erp_receiver
