"""Fuzzing figures: inputs run per target and crashes (goal: 0).

- EDIFACT codec: atheris (coverage-guided, libFuzzer) when it is installed, and Hypothesis' properties;
- EDIFACT inbound path, spreadsheet importers (CSV and Excel, damaged bytes too), and the JSON APIs from
  their OpenAPI schema (schemathesis): the fuzz tests of the suite with FUZZ_EXAMPLES inputs each,
  counted from Hypothesis' statistics.

    python bench/fuzz.py [--examples 1000] [--atheris-runs 300000]

The database is the test run's own (SQLite unless DATABASE_URL is set).
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import re
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {
    "EDIFACT codec (Hypothesis: build/read round trip, agreement with pydifact)": [
        "tests/edi/test_codec.py::test_builder_round_trip_property",
        "tests/edi/test_codec_pydifact.py::test_generated_interchange_reads_the_same_with_codec_and_pydifact",
    ],
    "EDIFACT inbound path (ORDRSP/DESADV/CONTRL with random segments)": ["tests/edi/test_inbound_fuzz.py"],
    "Spreadsheet importers (order answers, shipment notices; CSV/xlsx, damaged bytes)": [
        "tests/collaboration/test_spreadsheet_fuzz.py"],
    "JSON APIs (schemathesis, every operation of the OpenAPI schema)": ["tests/collaboration/test_api_fuzz.py"],
}
CASES = re.compile(r"(\d+) passing, (\d+) failing, and (\d+) invalid")


def atheris_codec(runs: int) -> tuple[int, int, float] | None:
    if importlib.util.find_spec("atheris") is None:
        return None
    started = time.perf_counter()
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "fuzz_edifact_atheris.py"), f"-runs={runs}"],
                            cwd=ROOT, capture_output=True, text=True)
    done = re.search(r"Done (\d+) runs", result.stderr)
    crashes = 0 if result.returncode == 0 else 1
    if crashes:
        print(result.stderr[-3000:], file=sys.stderr)
    return (int(done.group(1)) if done else 0), crashes, time.perf_counter() - started


def hypothesis_targets(examples: int) -> dict[str, tuple[int, int, int, float]]:
    """Per target: inputs run, failing inputs, test cases (operations for the API), seconds."""
    figures = {}
    for name, selectors in TARGETS.items():
        started = time.perf_counter()
        print(f"… {name}", flush=True)
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--hypothesis-show-statistics", *selectors],
            cwd=ROOT, env={**os.environ, "FUZZ_EXAMPLES": str(examples), "LOG_LEVEL": "ERROR", "ACCESS_LOG_LEVEL": "ERROR"},
            capture_output=True, text=True,
        )
        per_test: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        current = ""
        for line in result.stdout.splitlines():
            if line.startswith("tests/") and line.rstrip().endswith(":"):
                current = line.rstrip()[:-1]
            elif (match := CASES.search(line)) and current:
                per_test[current][0] += int(match.group(1)) + int(match.group(2))
                per_test[current][1] += int(match.group(2))
        failed_tests = re.search(r"(\d+) failed", result.stdout)
        crashes = sum(failing for _, failing in per_test.values()) or (int(failed_tests.group(1)) if failed_tests else 0)
        if result.returncode not in (0,):
            print(result.stdout[-4000:], file=sys.stderr)
        figures[name] = (sum(inputs for inputs, _ in per_test.values()), crashes, len(per_test), time.perf_counter() - started)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=500, help="Hypothesis inputs per test (per API operation)")
    parser.add_argument("--atheris-runs", type=int, default=300_000)
    args = parser.parse_args()

    rows = []
    print("… EDIFACT codec with atheris", flush=True)
    atheris = atheris_codec(args.atheris_runs)
    if atheris is None:
        rows.append(("EDIFACT codec (atheris, coverage-guided)", "not installed", "—", "—"))
    else:
        rows.append(("EDIFACT codec (atheris, coverage-guided)", f"{atheris[0]:,}", str(atheris[1]), f"{atheris[2]:.0f} s"))
    for name, (inputs, crashes, tests, seconds) in hypothesis_targets(args.examples).items():
        label = f"{name} — {tests} test{'s' if tests != 1 else ''}"
        rows.append((label, f"{inputs:,}", str(crashes), f"{seconds:.0f} s"))

    print(f"\nFuzzing, {args.examples} Hypothesis inputs per test, {args.atheris_runs:,} atheris runs")
    print(f"{'target':<110} {'inputs':>10} {'crashes':>8} {'time':>7}")
    for row in rows:
        print(f"{row[0]:<110} {row[1]:>10} {row[2]:>8} {row[3]:>7}")
    total = sum(int(row[2]) for row in rows if row[2].isdigit())
    print(f"crashes in all: {total}")
    sys.exit(1 if total else 0)


if __name__ == "__main__":
    main()
