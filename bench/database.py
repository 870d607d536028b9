"""Benchmark database: a PostgreSQL database of its own, created afresh and migrated for every run."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/portal_bench"


def bench_environment() -> dict[str, str]:
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    return {
        **os.environ,
        "DATABASE_URL": url,
        "ALLOWED_HOSTS": "testserver,localhost,127.0.0.1",
        "PORTAL_VAR_DIR": str(ROOT / "var" / "bench"),
        "LOG_LEVEL": "WARNING",
        "ACCESS_LOG_LEVEL": "WARNING",
    }


def prepare_database() -> dict[str, str]:
    """Drop, create and migrate the benchmark database; returns the environment to use."""
    env = bench_environment()
    url = urlparse(env["DATABASE_URL"])
    import psycopg

    name = url.path.lstrip("/")
    admin_url = url._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    return env


def setup_django(env: dict[str, str]) -> None:
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
