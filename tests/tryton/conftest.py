"""A real Tryton 8.0 server per test, started from a copy of the demo template (built once, on demand)."""
from __future__ import annotations

import contextlib
import fcntl
import json
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from erp_bridge.tryton.client import TrytonClient
from tests.conftest import service_missing

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".venv-tryton"
VENV_PYTHON = VENV / "bin" / "python"
REQUIREMENTS = ROOT / "erp_bridge" / "tryton" / "requirements.txt"
DEMO_ERP = ROOT / "erp_bridge" / "tryton" / "demo_erp.py"
TEMPLATE_DIR = ROOT / "var" / "tryton"
START_TIMEOUT = 60.0


@contextlib.contextmanager
def _visible(request: pytest.FixtureRequest) -> Iterator[None]:
    """Let progress (ours and the subprocesses') reach the terminal despite output capture."""
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        yield


def _progress(message: str) -> None:
    print(f"\n[tryton] {message}", file=sys.stderr, flush=True)


def _run(argv: list[str], what: str, **kwargs) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(argv, check=True, stdin=subprocess.DEVNULL, **kwargs)
    except (OSError, subprocess.CalledProcessError) as error:
        service_missing(f"cannot {what}: {error}")
        raise  # service_missing skips or fails; this is never reached


def _ensure_venv() -> None:
    if (VENV / "bin" / "trytond").exists() and (VENV / "bin" / "trytond-admin").exists():
        return
    started = time.monotonic()
    _progress(f"creating {VENV.name} and installing Tryton 8.0 from PyPI (about 30 s)...")
    python = shutil.which("python3") or sys.executable
    _run([python, "-m", "venv", str(VENV)], "create the Tryton venv")
    (VENV / ".gitignore").write_text("*\n")  # as Python 3.13's venv does; keeps it out of git
    _run([str(VENV_PYTHON), "-m", "pip", "install", "--quiet", "-r", str(REQUIREMENTS)],
         "install Tryton into .venv-tryton (is PyPI reachable?)")
    _progress(f"Tryton venv ready in {time.monotonic() - started:.0f} s")


@pytest.fixture(scope="session")
def tryton_template(request: pytest.FixtureRequest) -> Path:
    """DIR holding template.sqlite and api-key.txt; builds venv and template when missing (~2 min)."""
    TEMPLATE_DIR.parent.mkdir(parents=True, exist_ok=True)
    with open(TEMPLATE_DIR.parent / "tryton.lock", "w") as lock, _visible(request):
        fcntl.flock(lock, fcntl.LOCK_EX)  # parallel pytest runs build once
        _ensure_venv()
        if not (TEMPLATE_DIR / "template.sqlite").exists():
            _progress("building the Tryton template database (about 70 s, once)...")
        _run([str(VENV_PYTHON), str(DEMO_ERP), "build-template", "--dir", str(TEMPLATE_DIR)],
             "build the Tryton template database")
    return TEMPLATE_DIR


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class TrytonServer:
    """One trytond process serving one fresh copy of the template."""

    directory: Path
    database: str
    port: int
    key: str
    log: Path
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self, key: str | None = None, **kwargs) -> TrytonClient:
        return TrytonClient(self.base_url, self.database, key or self.key, **kwargs)

    def start(self) -> None:
        with self.log.open("ab") as log:  # the child keeps its own handle
            self.process = subprocess.Popen(
                [str(VENV_PYTHON), str(DEMO_ERP), "serve", "--dir", str(self.directory),
                 "--db", self.database, "--port", str(self.port)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"trytond exited with {self.process.returncode}:\n{self.log.read_text()[-3000:]}")
            with contextlib.suppress(requests.ConnectionError):
                requests.get(f"{self.base_url}/{self.database}/rest/model/ir.model", timeout=5)
                return  # any HTTP answer (401 here) means the server is up
            time.sleep(0.05)
        self.stop()
        pytest.fail(f"trytond did not answer within {START_TIMEOUT:.0f} s:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def demo(self, command: str, *args: str) -> object:
        """Run a demo_erp.py helper (receive, add-purchase) against this database; returns its JSON."""
        result = subprocess.run(
            [str(VENV_PYTHON), str(DEMO_ERP), command, "--dir", str(self.directory), "--db", self.database, *args],
            check=False, stdin=subprocess.DEVNULL, capture_output=True, text=True,
        )
        if result.returncode:
            pytest.fail(f"demo_erp.py {command} failed:\n{result.stderr[-3000:]}")
        return json.loads(result.stdout)


@pytest.fixture
def tryton(tryton_template: Path, tmp_path: Path) -> Iterator[TrytonServer]:
    """A started server on a private copy of the template (copy: milliseconds, start: ~2.5 s)."""
    shutil.copyfile(tryton_template / "template.sqlite", tmp_path / "template.sqlite")
    server = TrytonServer(
        directory=tmp_path, database="erp", port=_free_port(),
        key=(tryton_template / "api-key.txt").read_text().strip(), log=tmp_path / "trytond.log",
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture
def client(tryton: TrytonServer) -> TrytonClient:
    return tryton.client()

