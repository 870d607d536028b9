"""A loopback ERP webhook receiver for tests and benchmarks: a real HTTP server on 127.0.0.1.

It verifies the portal's signature, applies each event once by its Idempotency-Key (as a real
ERP must), counts duplicates and per-aggregate order violations, and can be scripted to fail.
"""
from __future__ import annotations

import json
import threading
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from erp_bridge import signing


@dataclass
class Scripted:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""


class ErpReceiver:
    def __init__(self, *, secret: str) -> None:
        self.secret = secret
        self.lock = threading.Lock()
        self.applied: dict[str, dict] = {}  # idempotency key -> event
        self.correlation_ids: dict[str, str] = {}  # idempotency key -> X-Correlation-ID it came with
        self.order: list[str] = []  # ids in the order they were applied
        self.requests = 0
        self.duplicates = 0
        self.bad_signatures = 0
        self.order_violations = 0
        self.last_sequence: dict[str, int] = defaultdict(int)
        self.script: deque[Scripted] = deque()
        self.refusals: dict[str, Scripted] = {}  # aggregate -> answer, until withdrawn
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/events"

    def start(self) -> ErpReceiver:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def fail_next(self, *responses: Scripted) -> None:
        with self.lock:
            self.script.extend(responses)

    def refuse(self, aggregate: str, answer: Scripted) -> None:
        """Answer every event of `aggregate` so (e.g. 422: data the ERP cannot take) until `accept`."""
        with self.lock:
            self.refusals[aggregate] = answer

    def accept(self) -> None:
        with self.lock:
            self.refusals.clear()

    def _receive(self, headers, body: bytes) -> tuple[int, dict[str, str], str]:
        with self.lock:
            self.requests += 1
            if self.script:
                scripted = self.script.popleft()
                return scripted.status, scripted.headers, scripted.body
            try:
                signing.verify(headers.get(signing.HEADER), body, secret=self.secret)
            except signing.SignatureError as error:
                self.bad_signatures += 1
                return 401, {}, str(error)
            event = json.loads(body)
            refusal = self.refusals.get(event["aggregate"])
            if refusal is not None:
                return refusal.status, refusal.headers, refusal.body
            key = headers.get("Idempotency-Key")
            if key != event["id"]:
                return 400, {}, "Idempotency-Key differs from the event id"
            if key in self.applied:
                self.duplicates += 1
                return 200, {}, "already applied"
            aggregate, sequence = event["aggregate"], event["sequence"]
            if sequence != self.last_sequence[aggregate] + 1:
                self.order_violations += 1
            self.last_sequence[aggregate] = max(sequence, self.last_sequence[aggregate])
            self.applied[key] = event
            self.correlation_ids[key] = headers.get("X-Correlation-ID", "")
            self.order.append(key)
            return 200, {}, "applied"

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as an ERP's web server does
            disable_nagle_algorithm = True  # answer at once, not after a delayed ACK

            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status, headers, text = receiver._receive(self.headers, body)
                payload = text.encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format, *args) -> None:
                pass

        return Handler
