"""The fault-injection scenarios of tests/reliability at full size, on PostgreSQL + Redis.

Runs the same tests the suite runs, with the sizes the issue names: 10,000 events while a worker
pool process is SIGKILLed every 2 s; 500 POs x 20 updates from four concurrent publishers; 5,000
events of which every fifth order is refused (422) until a replay; plus the ERP outage and the
broker restarts at their test size. Prints each scenario's events sent / applied / duplicates
recognised (and the recovery time after killed processes) and pytest's verdict: 0 lost, 0 applied
twice, 0 order violations, or a failure.
Usage: python bench/fault_runs.py [--workers 2] [-k expression]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FULL_SIZE = {
    "FAULT_KILL_EVENTS": "10000",
    "FAULT_CONCURRENT_ORDERS": "500",
    "FAULT_CONCURRENT_UPDATES": "5",  # per publisher; four publishers: 20 updates per order
    "FAULT_REFUSED_EVENTS": "5000",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", default="2", help="worker processes per scenario")
    parser.add_argument("-k", dest="expression", default="", help="only scenarios matching (pytest -k)")
    parser.add_argument("--database", default="postgres://postgres@127.0.0.1:5432/portal_faults")
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/12")
    args = parser.parse_args()
    env = {**os.environ, **FULL_SIZE, "FAULT_WORKERS": args.workers, "DATABASE_URL": args.database,
           "CELERY_BROKER_URL": args.broker, "REQUIRE_SERVICES": "1", "PORTAL_VAR_DIR": str(ROOT / "var" / "bench")}
    command = [sys.executable, "-m", "pytest", "tests/reliability", "-s", "-v", "-p", "no:cacheprovider",
               "--durations=0"] + (["-k", args.expression] if args.expression else [])
    print("Running:", " ".join(command), "with", ", ".join(f"{k}={v}" for k, v in FULL_SIZE.items()), flush=True)
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in process.stdout:
        # The scenario reports and pytest's verdicts; worker chatter stays out.
        if any(mark in line for mark in ("sent ", "killed", "PASSED", "FAILED", "ERROR", "passed", "failed", "s call ")):
            print(line.rstrip(), flush=True)
    sys.exit(process.wait())


if __name__ == "__main__":
    main()
