"""How many inputs each fuzz target runs: its default in the test suite, FUZZ_EXAMPLES for a longer
run (bench/fuzz.py), which also counts them through Hypothesis' statistics."""
from __future__ import annotations

import os


def examples(default: int) -> int:
    return int(os.environ.get("FUZZ_EXAMPLES") or default)
