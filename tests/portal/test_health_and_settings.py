"""/healthz, /readyz and the production settings check."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def readiness():
    from portal import health

    health._migrated = False  # every test sees the migration check run
    yield
    health._migrated = False


def test_readyz_ok_when_database_migrations_and_broker_are_ready(client, db, readiness):
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "migrations": "ok", "broker": "ok"}}


def test_readyz_503_when_broker_is_unreachable(client, db, settings, readiness):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:9/0"  # nothing listens on the discard port
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["broker"].startswith("error")
    assert response.json()["checks"]["database"] == "ok"


def test_readyz_503_while_a_migration_is_not_applied(client, db, readiness):
    from django.db.migrations.recorder import MigrationRecorder

    # As if the code were deployed before `migrate` ran: the newest edi migration is not recorded.
    latest = MigrationRecorder.Migration.objects.filter(app="edi").order_by("-name").first()
    latest.delete()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["migrations"] == "error: 1 migration(s) not applied"


def test_liveness_answers_while_the_database_is_down_and_readiness_does_not(client, db, monkeypatch, readiness):
    from django.db import OperationalError, connection

    def broken(*args, **kwargs):
        raise OperationalError("database is down")

    with monkeypatch.context() as patch:
        patch.setattr(connection, "cursor", broken)
        ready = client.get("/readyz")
        alive = client.get("/healthz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["database"].startswith("error")
    assert alive.status_code == 200 and alive.json() == {"status": "ok"}


def production_like_environment() -> dict[str, str]:
    # The test run's own switches (the browser tests' async override) are no part of production.
    return {k: v for k, v in os.environ.items() if k not in ("DJANGO_ALLOW_ASYNC_UNSAFE", "SECRET_KEY", "DEBUG")}


def test_check_deploy_is_clean_with_production_variables(tmp_path):
    env = {
        **production_like_environment(),
        "DEBUG": "0",
        "HTTPS": "1",
        "SECRET_KEY": "p" * 20 + "-production-secret-with-plenty-of-entropy-9f8e7d6c5b4a",
        "ALLOWED_HOSTS": "portal.example.com",
        "DATABASE_URL": os.environ.get("DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite3'}"),
        "PORTAL_VAR_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_flags_the_local_default_secret(tmp_path):
    env = production_like_environment()
    env.update({"DEBUG": "0", "HTTPS": "1", "ALLOWED_HOSTS": "portal.example.com", "PORTAL_VAR_DIR": str(tmp_path)})
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stdout + result.stderr
