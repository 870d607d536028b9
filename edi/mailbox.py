"""The mailbox transport: each partner's inbound folder is polled; every file is processed once.

A file is first claimed by renaming it into `<inbound>/processing/` under a unique name (a
rename is atomic, so two pollers never take the same file), then processed, then moved to
`<inbound>/processed/` or, when any interchange in it was rejected or a duplicate, to
`<inbound>/failed/` beside a `.reason.txt` that says why. A file left in `processing/` by a
crash is taken up again once it is older than EDI_PROCESSING_STALE_SECONDS; interchanges
already recorded from it are then reported, not redone, so nothing is lost or applied twice.
Hidden files and names ending in .tmp or .part (uploads in progress) are left alone; symbolic
links are never followed.
"""
from __future__ import annotations

import json
import logging
import os
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

from django.conf import settings

from edi.inbound import InterchangeResult, receive_file
from edi.models import Interchange, TradingPartner

logger = logging.getLogger(__name__)
PROCESSING, PROCESSED, FAILED = "processing", "processed", "failed"
IN_PROGRESS_SUFFIXES = (".tmp", ".part")
MAX_NAME = 120  # of the original name kept in the claimed one (file systems allow 255 bytes)
SUCCESS = {Interchange.Status.ACCEPTED, Interchange.Status.PARTIALLY_ACCEPTED}


def poll_mailboxes() -> list[InterchangeResult]:
    results: list[InterchangeResult] = []
    for partner in TradingPartner.objects.filter(is_active=True).exclude(inbound_dir="").select_related("supplier"):
        try:
            results += poll_partner(partner)
        except Exception:  # noqa: BLE001 - one partner's mailbox never stops the others'
            logger.exception("EDI mailbox of %s cannot be polled", partner)
    return results


def poll_partner(partner: TradingPartner) -> list[InterchangeResult]:
    inbox = Path(partner.inbound_dir)
    if not inbox.is_dir():
        return []
    for name in (PROCESSING, PROCESSED, FAILED):
        folder = inbox / name
        if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
            # Files are moved in and out of these folders: one pointing elsewhere (another partner's
            # mailbox) would hand files across partners.
            logger.error("EDI mailbox %s: %s is not a plain folder; the mailbox is not polled", inbox, folder)
            return []
        folder.mkdir(exist_ok=True)
    processing = inbox / PROCESSING
    results: list[InterchangeResult] = []
    stale_before = time.time() - settings.EDI_PROCESSING_STALE_SECONDS
    for left in sorted(processing.iterdir()):
        if left.is_file() and not left.is_symlink() and left.stat().st_mtime <= stale_before:
            logger.warning("EDI file %s was left in processing; taking it up again", left)
            results += _process(left, partner=partner, resume=True)
    for entry in sorted(inbox.iterdir(), key=lambda path: path.name):
        if entry.name.startswith(".") or entry.name.endswith(IN_PROGRESS_SUFFIXES):
            continue
        if entry.is_symlink():
            _move(entry, inbox / FAILED, reason="Symbolic links are not taken from the mailbox.")
            continue
        if not entry.is_file():
            continue
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
        claimed = processing / f"{stamp}-{uuid.uuid4().hex[:8]}-{entry.name[-MAX_NAME:]}"
        try:
            os.rename(entry, claimed)
        except FileNotFoundError:
            continue  # another poller took it
        os.utime(claimed)
        results += _process(claimed, partner=partner, resume=False)
    return results


def _process(path: Path, *, partner: TradingPartner, resume: bool) -> list[InterchangeResult]:
    inbox = path.parent.parent
    try:
        data = path.read_bytes()
    except OSError as error:
        _move(path, inbox / FAILED, reason=f"The file cannot be read: {error}")
        return []
    try:
        results = receive_file(data, file_name=path.name, resume=resume, mailbox_partner=partner)
    except Exception as error:  # noqa: BLE001 - a file that cannot be processed must not block the mailbox
        logger.exception("EDI file %s could not be processed", path)
        _move(path, inbox / FAILED, reason=f"The file could not be processed ({type(error).__name__}); see the portal's log.")
        return []
    if results and all(result.status in SUCCESS for result in results):
        _move(path, inbox / PROCESSED)
    else:
        lines = [json.dumps(result.as_json(), ensure_ascii=False) for result in results] or ["No interchange in the file."]
        _move(path, inbox / FAILED, reason="\n".join(lines))
    return results


def _move(path: Path, folder: Path, *, reason: str | None = None) -> Path:
    target = folder / path.name
    if reason is not None:
        (folder / f"{path.name}.reason.txt").write_text(reason + "\n", encoding="utf-8")
    os.rename(path, target)
    return target
