"""Fallback batch mode: a destination that is batch-only (ERP_BATCH_ONLY) or has been down longer than
ERP_BATCH_AFTER_SECONDS gets its events in numbered JSON lines files instead of one request each.

- The relay asks `in_batch_mode` before claiming (cached for STATE_CACHE_SECONDS) and leaves such
  messages alone; it reports failures and successes here, which keeps `down_since`.
- `batches_write_due` (a beat task) switches destinations to batch mode and writes their files:
  `<ERP_BATCH_DIR>/<destination>/<destination>-000001.jsonl`, numbers gap-free, each event in
  exactly one file, per purchase order in sequence order, marked delivered in the transaction
  that records the file.
- Dead letters are not batched: they stay dead (and block their purchase order, as online)
  until a buyer replays them; a replayed message then goes into the next file.
- Crash window: the file is renamed into place just before the transaction commits. A process
  that dies in between leaves a file the database does not know; the next run writes the same
  number again with those events (and maybe more). Every line carries the event id, the ERP's
  idempotency key, so an ERP that imported the first version dedupes the second.
- Switching back online (admin action, `outbox online`) hands the remaining pending messages to
  the relay; batched ones are already delivered, so nothing is sent twice or skipped. The ERP
  should have imported the batch files up to the last number first, or it sees later events of an
  order before earlier ones.
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import groupby
from operator import attrgetter
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import F, Max, Min
from django.utils import timezone
from django.utils.translation import gettext

from collaboration import services
from collaboration.errors import DomainError
from erp_bridge.models import DeliveryAttempt, DeliveryBatch, DestinationState, OutboxMessage
from portal.db import locked_row
from portal.file_names import path_segment

logger = logging.getLogger(__name__)

# The destinations `connectors.connector_for` knows.
DESTINATIONS = ("erp", "planning")
# How long a worker trusts its last look at a destination's mode: a switch takes effect within this.
STATE_CACHE_SECONDS = 2.0
MAX_EVENTS_PER_FILE = 5000
BATCH = DestinationState.Mode.BATCH
ONLINE = DestinationState.Mode.ONLINE


def batch_only() -> set[str]:
    return set(settings.ERP_BATCH_ONLY)


def known_destinations() -> list[str]:
    return sorted(set(DESTINATIONS) | batch_only())


# --- What the relay asks and reports (per process, cached briefly) ---------------------------

@dataclass
class _Known:
    mode: str
    down: bool
    expires: float


_known: dict[str, _Known] = {}


def _state(destination: str) -> _Known:
    known = _known.get(destination)
    if known is None or known.expires < time.monotonic():
        mode, down_since = (
            DestinationState.objects.filter(destination=destination).values_list("mode", "down_since").first()
            or (ONLINE, None)
        )
        known = _known[destination] = _Known(mode, down_since is not None, time.monotonic() + STATE_CACHE_SECONDS)
    return known


def forget_cached_states() -> None:
    """Make this process look again at once (after a switch; tests)."""
    _known.clear()


def in_batch_mode(destination: str) -> bool:
    return destination in batch_only() or _state(destination).mode == BATCH


def batch_destinations() -> set[str]:
    """Destinations the relay leaves alone now (one query; for the sweeper)."""
    return batch_only() | set(DestinationState.objects.filter(mode=BATCH).values_list("destination", flat=True))


def delivery_failed(destination: str, *, at: datetime) -> None:
    """The destination could not take a message (not a refusal): note since when, once."""
    known = _state(destination)
    if known.down:
        return
    if not DestinationState.objects.filter(destination=destination, down_since__isnull=True).update(down_since=at):
        # No row yet (or another worker noted it first, then this insert does nothing).
        DestinationState.objects.bulk_create([DestinationState(destination=destination, down_since=at)],
                                              ignore_conflicts=True)
    known.down = True


def delivery_succeeded(destination: str) -> None:
    known = _state(destination)
    if known.down:
        DestinationState.objects.filter(destination=destination, down_since__isnull=False).update(down_since=None)
        known.down = False


# --- Switching ---------------------------------------------------------------------------------

def _locked_state(destination: str) -> DestinationState:
    """The destination's state row, created if missing, locked until the transaction ends: batch
    writers and switches of one destination queue up here."""
    if destination not in known_destinations():
        raise DomainError(f"Unknown destination {destination!r}; known: {', '.join(known_destinations())}.")
    return locked_row(DestinationState, destination=destination)


def destination_states() -> list[DestinationState]:
    """Every known destination's state, creating the rows not there yet (for the admin list)."""
    DestinationState.objects.bulk_create([DestinationState(destination=d) for d in known_destinations()],
                                         ignore_conflicts=True)
    return list(DestinationState.objects.order_by("destination"))


def destination_switch_to_batch(*, destination: str, by: str) -> bool:
    """Deliver the destination's events in batch files from now on; False if it was already."""
    with transaction.atomic():
        state = _locked_state(destination)
        if state.mode == BATCH:
            return False
        state.mode, state.switched_at, state.switched_by = BATCH, timezone.now(), by[:200]
        state.save(update_fields=["mode", "switched_at", "switched_by"])
    forget_cached_states()
    logger.warning("%s switched to batch files by %s", destination, by)
    return True


def destination_switch_to_online(*, destination: str, by: str) -> bool:
    """Hand the destination's pending events to the relay again; False if it was online already.
    `down_since` starts afresh, so a destination still down switches back only after the full time."""
    if destination in batch_only():
        raise DomainError(f"{destination} is configured batch-only (ERP_BATCH_ONLY); remove it there first.")
    with transaction.atomic():
        state = _locked_state(destination)
        if state.mode == ONLINE:
            return False
        state.mode, state.switched_at, state.switched_by, state.down_since = ONLINE, timezone.now(), by[:200], None
        state.save(update_fields=["mode", "switched_at", "switched_by", "down_since"])
    forget_cached_states()
    logger.warning("%s switched to online delivery by %s", destination, by)
    return True


def destinations_switch_automatically(*, now: datetime | None = None) -> list[str]:
    """Switch to batch files what is configured batch-only or down longer than ERP_BATCH_AFTER_SECONDS."""
    now = now or timezone.now()
    switched = []
    for destination in sorted(batch_only()):
        with transaction.atomic():
            state = _locked_state(destination)
            if state.mode != BATCH:
                state.mode, state.switched_at, state.switched_by = BATCH, now, "configured batch-only (ERP_BATCH_ONLY)"
                state.save(update_fields=["mode", "switched_at", "switched_by"])
                switched.append(destination)
    after = settings.ERP_BATCH_AFTER_SECONDS
    if after > 0:
        down_too_long = DestinationState.objects.filter(mode=ONLINE, down_since__lte=now - timedelta(seconds=after))
        for state in down_too_long:
            current = DestinationState.objects.filter(pk=state.pk, mode=ONLINE, down_since=state.down_since)
            if _delivered_since(state.destination, state.down_since):
                # A worker with a stale view of the state delivered after the failure: it is up.
                current.update(down_since=None)
                continue
            seconds = int((now - state.down_since).total_seconds())
            if current.update(mode=BATCH, switched_at=now, switched_by=f"automatic after {seconds} s down"):
                logger.warning("%s down for %s s: switched to batch files", state.destination, seconds)
                switched.append(state.destination)
    if switched:
        forget_cached_states()
    return switched


def _delivered_since(destination: str, moment: datetime) -> bool:
    return DeliveryAttempt.objects.filter(
        message__destination=destination, outcome=DeliveryAttempt.Outcome.DELIVERED, attempted_at__gt=moment
    ).exists()


# --- Writing batch files -------------------------------------------------------------------------

def batch_file_name(destination: str, number: int) -> str:
    return f"{destination}-{number:06d}.jsonl"


def batch_path(destination: str, number: int) -> Path:
    path_segment(destination, what="The destination")
    return Path(settings.ERP_BATCH_DIR) / destination / batch_file_name(destination, number)


def batches_write_due() -> list[DeliveryBatch]:
    """The beat task's work: switch what must switch, then write every batch-mode destination's files."""
    destinations_switch_automatically()
    written = []
    for destination in sorted(batch_destinations()):
        while (batch := batch_write(destination=destination)) is not None:
            written.append(batch)
            if batch.event_count < MAX_EVENTS_PER_FILE:
                break
    return written


def batch_write(*, destination: str) -> DeliveryBatch | None:
    """Write the destination's next batch file with every event deliverable now, in one transaction;
    None if it is not in batch mode or nothing is due (no empty files)."""
    with transaction.atomic():
        state = _locked_state(destination)
        if state.mode != BATCH and destination not in batch_only():
            return None
        messages = _deliverable(destination)
        if not messages:
            return None
        number = (DeliveryBatch.objects.filter(destination=destination).aggregate(last=Max("number"))["last"] or 0) + 1
        path = batch_path(destination, number)
        batch = DeliveryBatch.objects.create(
            destination=destination, number=number, file_name=path.name, event_count=len(messages)
        )
        now = timezone.now()
        DeliveryAttempt.objects.bulk_create([
            DeliveryAttempt(message=message, attempted_at=now, outcome=DeliveryAttempt.Outcome.DELIVERED, latency_ms=0,
                            error=f"in batch file {path.name}")
            for message in messages
        ])
        OutboxMessage.objects.filter(id__in=[message.id for message in messages]).update(
            status=OutboxMessage.Status.DELIVERED, delivered_at=now, lease_until=None, last_error="",
            attempt_count=F("attempt_count") + 1,
        )
        services.delivery_failure_close_cases(messages=messages)
        if path.exists():
            logger.warning("rewriting %s, left by a run that did not commit", path)
        # Last step before the commit: a file for events not marked delivered may be left behind
        # (rewritten by the next run), never events marked delivered without a file.
        _write_atomically(path, b"".join(_line(message) for message in messages))
    logger.info("%s: %s events", path, len(messages))
    return batch


def _deliverable(destination: str) -> list[OutboxMessage]:
    """Pending messages that may go now (due or waiting for a retry), locked: per aggregate the run
    that starts at the first undelivered message, without gaps. A dead letter, or a message a relay
    worker holds, ends its aggregate's run. Chronological across aggregates, in sequence order within each."""
    now = timezone.now()
    candidates = list(
        OutboxMessage.objects.select_for_update(skip_locked=True)
        .filter(destination=destination, status=OutboxMessage.Status.PENDING)
        .filter(OutboxMessage.lease_free(now))
        .order_by("aggregate", "sequence")[:MAX_EVENTS_PER_FILE]
    )
    if not candidates:
        return []
    first_undelivered = dict(
        OutboxMessage.objects.filter(destination=destination, aggregate__in={m.aggregate for m in candidates})
        .exclude(status=OutboxMessage.Status.DELIVERED)
        .values("aggregate").annotate(first=Min("sequence")).values_list("aggregate", "first")
    )
    runs: dict[str, list[OutboxMessage]] = defaultdict(list)
    for aggregate, messages in groupby(candidates, key=attrgetter("aggregate")):
        expected = first_undelivered[aggregate]
        for message in messages:
            if message.sequence != expected:
                break
            runs[aggregate].append(message)
            expected += 1
    chosen = sorted((m for run in runs.values() for m in run), key=attrgetter("occurred_at", "aggregate", "sequence"))
    # occurred_at decides the order across aggregates; within one, its messages fill its places in sequence order.
    queues = {aggregate: iter(run) for aggregate, run in runs.items()}
    return [next(queues[message.aggregate]) for message in chosen]


def _line(message: OutboxMessage) -> bytes:
    # The envelope as the HTTP connector sends it; its id is the idempotency key.
    return (json.dumps(message.envelope(), separators=(",", ":")) + "\n").encode()


def _write_atomically(path: Path, data: bytes) -> None:
    """Readers see the whole file or none: write a hidden temporary file beside it, fsync, rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o640)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself survives a power cut
    finally:
        os.close(directory)


def last_batch(destination: str) -> DeliveryBatch | None:
    return DeliveryBatch.objects.filter(destination=destination).order_by("-number").first()


def switch_back_note(destination: str) -> str:
    """What an operator must know when switching back online."""
    batch = last_batch(destination)
    if batch is None:
        return gettext("No batch files were written for %(destination)s.") % {"destination": destination}
    directory = Path(settings.ERP_BATCH_DIR) / destination
    return gettext(
        "The ERP should import the batch files of %(destination)s up to number %(number)s (%(file)s in %(directory)s) "
        "before it receives events online, or it sees later events of an order before earlier ones. Events carry "
        "their id: importing a file twice changes nothing."
    ) % {"destination": destination, "number": batch.number, "file": batch.file_name, "directory": directory}
