"""EDIFACT codec speed: `edi.codec.parse_file` vs pydifact 0.2.3 `Interchange.from_str` on a generated file.

The file: ORDRSP D96A messages (UNA, release characters in FTX, CRLF after each segment) in
`--interchanges` back-to-back interchanges, grown until it reaches `--megabytes`. Prints
segments/s and MB/s per parser (best of `--repeat`), and what each made of the file.
No database. Usage: python bench/edi_codec.py [--megabytes 5] [--interchanges 1] [--repeat 3]
"""
from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from edi.codec import build_interchange, parse_file  # noqa: E402


def ordrsp(number: int) -> tuple:
    body = [
        ("BGM", ["231", f"PO-{number:07d}", "4"]),
        ("DTM", [("137", "20250314", "102")]),
        ("FTX", ["AAI", "", "", f"Supplier's note: price 10+2 for PO {number}? confirmed"]),
        ("RFF", [("ON", f"PO-{number:07d}")]),
        ("NAD", ["SU", ("4012345000009", "", "9")]),
        ("NAD", ["BY", ("4098765000002", "", "9")]),
    ]
    for line in range(1, 6):
        body += [
            ("LIN", [str(line), "", ("4000862141404", "SRV")]),
            ("QTY", [("21", str(48 * line), "PCE")]),
            ("DTM", [("2", "20250401", "102")]),
            ("PRI", [("AAA", "12.50")]),
        ]
    body.append(("UNS", ["S"]))
    return ("ORDRSP", "D", "96A", "UN", str(number), body)


def generate(megabytes: float, interchanges: int) -> tuple[bytes, int]:
    sample = build_interchange(sender=("S", "ZZ"), recipient=("R", "ZZ"), control_ref="X", syntax_id="UNOC", messages=[ordrsp(1)], una=True, line_breaks=True)
    per_interchange = max(1, int(megabytes * 1_000_000 / len(sample) / interchanges))
    chunks, number = [], 0
    for index in range(interchanges):
        messages = [ordrsp(number + i) for i in range(per_interchange)]
        number += per_interchange
        chunks.append(build_interchange(
            sender=("4012345000009", "14"), recipient=("4098765000002", "14"), control_ref=f"IC{index + 1:05d}",
            syntax_id="UNOC", messages=messages, una=True, line_breaks=True, prepared_at=datetime(2025, 3, 14, 9, 15),
        ))
    return b"".join(chunks), number


def best_of(repeat: int, run):
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - started)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=5.0)
    parser.add_argument("--interchanges", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-pydifact", action="store_true")
    args = parser.parse_args()

    data, messages = generate(args.megabytes, args.interchanges)
    mb = len(data) / 1_000_000
    print(f"file: {mb:.2f} MB, {args.interchanges} interchange(s), {messages} ORDRSP messages")

    codec_seconds, interchanges = best_of(args.repeat, lambda: parse_file(data))
    seconds = codec_seconds
    segments = sum(ic.segment_count for ic in interchanges)
    errors = sum(len(ic.errors) for ic in interchanges)
    print(f"edi.codec.parse_file        {seconds:7.3f} s  {segments / seconds:12,.0f} segments/s  {mb / seconds:7.2f} MB/s"
          f"  -> {len(interchanges)} interchange(s), {sum(len(ic.messages) for ic in interchanges)} messages, {segments} segments, {errors} errors")

    if args.skip_pydifact:
        return
    import warnings

    warnings.simplefilter("ignore")  # pydifact warns once per service segment about missing XML directories
    from pydifact.segmentcollection import Interchange as PydifactInterchange

    text = data.decode("latin-1")  # pydifact wants str; it has no notion of UNB's charset

    def pydifact_parse():
        interchange = PydifactInterchange.from_str(text)
        return interchange, len(interchange.segments), sum(1 for _ in interchange.get_messages())

    try:
        seconds, (interchange, py_segments, py_messages) = best_of(max(1, min(args.repeat, 1)), pydifact_parse)
    except Exception as exc:  # report what pydifact does with the file, whatever it is
        print(f"pydifact Interchange.from_str failed: {exc!r}")
        return
    # pydifact's Interchange keeps UNB/UNZ apart from .segments: add them so the count is comparable.
    counted = py_segments + 2
    print(f"pydifact Interchange.from_str {seconds:5.3f} s  {counted / seconds:12,.0f} segments/s  {mb / seconds:7.2f} MB/s"
          f"  -> 1 interchange object, {py_messages} messages, {py_segments} segments (without UNB/UNZ)")
    print(f"edi.codec is {codec_seconds / seconds and seconds / codec_seconds:.1f}x as fast as pydifact on this file")


if __name__ == "__main__":
    main()
