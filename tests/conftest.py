"""Shared fixtures. Services (PostgreSQL, Redis, Chromium) skip when absent, and fail under REQUIRE_SERVICES=1."""
from __future__ import annotations

import os

import pytest
from django.conf import settings

from tests.factories import MembershipFactory, SupplierFactory, UserFactory
from tests.support.erp_receiver import ErpReceiver

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def service_missing(reason: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (REQUIRE_SERVICES=1)", pytrace=False)
    pytest.skip(reason)


def pytest_sessionstart(session) -> None:
    engine = settings.DATABASES["default"]["ENGINE"]
    if REQUIRE_SERVICES and "postgresql" not in engine:
        raise pytest.UsageError("REQUIRE_SERVICES=1 needs DATABASE_URL pointing at PostgreSQL")


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttle counters live in the cache; ids repeat between tests, so counts must not carry over."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _isolated_files(settings, tmp_path):
    settings.ERP_FILE_DIR = tmp_path / "erp"
    settings.ERP_WEBHOOK_URL = ""
    settings.PLANNING_WEBHOOK_URL = ""
    settings.TRYTON_URL = ""
    settings.PRIVATE_FILES_ROOT = tmp_path / "private"
    settings.STORAGES = {**settings.STORAGES, "private": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path / "private"), "base_url": None}}}


@pytest.fixture
def postgres(django_db_setup):
    from django.db import connection

    if connection.vendor != "postgresql":
        service_missing("needs PostgreSQL (set DATABASE_URL)")
    return connection


@pytest.fixture
def redis_broker() -> str:
    url = settings.CELERY_BROKER_URL
    if not url.startswith("redis://"):
        service_missing("needs Redis as the Celery broker (set CELERY_BROKER_URL=redis://...)")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        service_missing(f"Redis at {url} does not answer: {error}")
    return url


@pytest.fixture
def erp_receiver():
    receiver = ErpReceiver(secret="test-webhook-secret").start()
    yield receiver
    receiver.stop()


@pytest.fixture
def nordwerk(db):
    return SupplierFactory(code="NORDWERK", name="Nordwerk Metallteile GmbH")


@pytest.fixture
def alpenguss(db):
    return SupplierFactory(code="ALPENGUSS", name="Alpenguss AG")


@pytest.fixture
def nordwerk_sales(nordwerk):
    return MembershipFactory(user=UserFactory(username="sales@nordwerk.example"), supplier=nordwerk).user


@pytest.fixture
def alpenguss_sales(alpenguss):
    return MembershipFactory(user=UserFactory(username="sales@alpenguss.example"), supplier=alpenguss).user


@pytest.fixture
def erp_client(db):
    """An API client holding a fresh ERP token (`client.token`)."""
    from rest_framework.test import APIClient

    from erp_bridge.tokens import erp_token_create

    token, raw = erp_token_create(name="test-erp")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    client.token = token
    return client


@pytest.fixture
def mails(db, mailoutbox, settings):
    """E-mails go out from Celery tasks after the commit: run the tasks in-process. (The database
    comes first: setting it up gives Django a new outbox list, which `mailoutbox` must be.)"""
    from portal.celery import app

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.PORTAL_BASE_URL = "https://portal.example.com"
    app.conf.task_always_eager = True
    yield mailoutbox
    app.conf.task_always_eager = False


@pytest.fixture
def api_client_for(db):
    """`api_client_for(supplier, scopes=[...])`: an API client holding a new token of that supplier."""
    from rest_framework.test import APIClient

    from collaboration import services
    from collaboration.actors import Actor

    made = []

    def make(supplier, *, scopes=("read",)):
        made.append(supplier)
        admin = MembershipFactory(user=UserFactory(username=f"token-admin-{len(made)}@{supplier.code.lower()}.example"),
                                  supplier=supplier, role="admin").user
        _, raw = services.api_token_create(supplier=supplier, name="system link", scopes=list(scopes), expires_at=None,
                                           actor=Actor.for_user(admin, channel="portal"))
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        return client

    return make
