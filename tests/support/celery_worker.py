"""Start a real Celery worker process against the test database and the Redis broker."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def test_database_url() -> str:
    db = connection.settings_dict
    credentials = quote(db["USER"] or "")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"])
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or "5432"
    return f"postgres://{credentials}@{host}:{port}/{db['NAME']}"


class WorkerProcess:
    def __init__(self, process: subprocess.Popen, log_path: Path) -> None:
        self.process = process
        self.log_path = log_path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextmanager
def celery_worker(*, tmp_path: Path, env: dict[str, str] | None = None, concurrency: int = 1, beat: bool = False, ready_timeout: float = 60):
    from portal.celery import app

    app.control.purge()  # stale nudges of earlier runs would only be skipped, but cost time
    name = f"test-{uuid.uuid4().hex[:8]}@%h"
    command = [
        sys.executable, "-m", "celery", "-A", "portal", "worker", "-n", name, "--pool=prefork",
        f"--concurrency={concurrency}", "--without-gossip", "--without-mingle", "-l", "INFO",
    ]
    if beat:
        command += ["-B", "-s", str(tmp_path / "celerybeat-schedule")]
    log_path = tmp_path / f"worker-{uuid.uuid4().hex[:6]}.log"
    worker_env = {
        **os.environ,
        "DATABASE_URL": test_database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "PORTAL_VAR_DIR": str(tmp_path / "var"),
        "DATABASE_CONN_MAX_AGE": "0",
        **(env or {}),
    }
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=worker_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    worker = WorkerProcess(process, log_path)
    try:
        deadline = time.monotonic() + ready_timeout
        while " ready." not in worker.log():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Celery worker did not start:\n{worker.log()[-3000:]}")
            time.sleep(0.2)
        yield worker
    finally:
        stop_process_group(process)


def stop_process_group(process: subprocess.Popen, *, grace: float = 30) -> None:
    """SIGTERM the main process (a warm shutdown lets running tasks finish), then SIGKILL its whole
    group (it was started with start_new_session=True) if it is not gone after `grace` seconds."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_until(predicate, *, timeout: float = 60, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
