"""Coverage-guided fuzzing of the EDIFACT codec with atheris (libFuzzer): `parse_file` must answer
every byte string with interchanges and their syntax errors, never an exception; what it reads
without errors must build again into an interchange that reads the same.

    python bench/fuzz_edifact_atheris.py -runs=200000      # libFuzzer options pass through

The seed corpus is the EDIFACT fixtures of the tests; libFuzzer prints the runs it made, and a crash
stops the run with the input and its traceback (exit status non-zero).
"""
from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
with atheris.instrument_imports():
    from edi import codec

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "edi" / "fixtures"


def bodies(interchange: codec.Interchange) -> list:
    return [(m.type, [(s.tag, s.elements) for s in m.body]) for m in interchange.messages]


def one_input(data: bytes) -> None:
    for interchange in codec.parse_file(data):
        if interchange.errors or not interchange.messages or not all(m.complete for m in interchange.messages):
            continue
        # What reads without an error writes again, with the same separators, and reads the same.
        rebuilt = codec.build_interchange(
            sender=codec.party(interchange.sender_id, interchange.sender_qualifier),
            recipient=codec.party(interchange.recipient_id, interchange.recipient_qualifier),
            control_ref=interchange.control_ref, syntax_id=interchange.syntax_id, una=interchange.has_una,
            syntax_version=interchange.syntax_version, separators=interchange.separators,
            messages=[(m.type, m.version, m.release, m.agency, m.ref, [(s.tag, s.elements) for s in m.body])
                      for m in interchange.messages],
        )
        [again] = codec.parse_file(rebuilt)
        assert bodies(again) == bodies(interchange), (data, rebuilt)


def main() -> None:
    corpus = Path(tempfile.mkdtemp(prefix="edifact-corpus-"))
    for fixture in FIXTURES.glob("*.edi"):
        shutil.copy(fixture, corpus / fixture.name)
    args = [sys.argv[0], *[arg for arg in sys.argv[1:]], str(corpus)]
    atheris.Setup(args, one_input)
    try:
        atheris.Fuzz()
    finally:
        shutil.rmtree(corpus, ignore_errors=True)


if __name__ == "__main__":
    main()
