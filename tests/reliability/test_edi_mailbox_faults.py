"""The EDI mailbox under a crash, on real components: PostgreSQL, Redis and a Celery worker with beat
polling a partner's mailbox. A pool process is killed while it works through a file of many
interchanges; the file is finished later and every interchange is applied exactly once."""
from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

import pytest

from collaboration.models import Acknowledgement, RejectionReason
from edi.models import Interchange
from tests.edi.conftest import interchange, ordrsp, partner  # noqa: F401 - the fixture
from tests.factories import create_purchase_order
from tests.reliability.test_delivery_faults import pool_processes
from tests.support.celery_worker import celery_worker, wait_until

pytestmark = pytest.mark.services
INTERCHANGES = int(os.environ.get("FAULT_EDI_INTERCHANGES", "120"))


def test_a_worker_killed_mid_file_loses_and_doubles_nothing(transactional_db, postgres, redis_broker, partner, nordwerk, tmp_path):
    RejectionReason.objects.get_or_create(code="capacity", defaults={"label": "No capacity"})
    for n in range(INTERCHANGES):
        create_purchase_order(f"PO-{n}", supplier=nordwerk)
    data = b"\r\n".join(interchange(ordrsp(f"PO-{n}", "29"), ref=f"K{n:05d}") for n in range(INTERCHANGES))
    inbox = Path(partner.inbound_dir)
    env = {"EDI_POLL_SECONDS": "1", "EDI_PROCESSING_STALE_SECONDS": "3", "ERP_FILE_DIR": str(tmp_path / "erp")}

    kills = 0
    with celery_worker(tmp_path=tmp_path, env=env, concurrency=1, beat=True) as worker:
        (inbox / ".many.edi.tmp").write_bytes(data)
        os.rename(inbox / ".many.edi.tmp", inbox / "many.edi")
        # Kill the pool process once part of the file is recorded, then let the worker go on.
        assert wait_until(lambda: Interchange.objects.filter(direction="in").count() >= INTERCHANGES // 10, timeout=60), worker.log()[-3000:]
        if Interchange.objects.filter(direction="in").count() < INTERCHANGES:
            for pid in pool_processes()[:1]:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                    kills += 1
        assert wait_until(lambda: len(list((inbox / "processed").glob("*many.edi"))) == 1, timeout=120), worker.log()[-3000:]
        time.sleep(1)  # the answers are written right after the file is moved
        log = worker.log()

    assert kills == 1, "the file was done before the kill: raise FAULT_EDI_INTERCHANGES"
    assert "was left in processing; taking it up again" in log  # finished by the recovery path

    recorded = Interchange.objects.filter(direction="in")
    assert recorded.count() == INTERCHANGES and set(recorded.values_list("status", flat=True)) == {"accepted"}
    assert Acknowledgement.objects.count() == INTERCHANGES
    assert list((inbox / "processing").iterdir()) == []
    answers = Interchange.objects.filter(direction="out", message_types=["CONTRL"])
    assert answers.count() == INTERCHANGES and not answers.exclude(status="sent").exists()
    print(f"{INTERCHANGES} interchanges in one file, {kills} pool process killed mid-file: each applied once")
