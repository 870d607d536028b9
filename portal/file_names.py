"""Names of files and folders built from data (supplier codes, destinations, partners' control
references): each becomes one plain path segment, so nothing a partner or an import sends can point
a file outside its folder."""
from __future__ import annotations

import re

_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def path_segment(value: str, *, what: str) -> str:
    """`value` itself if it is a plain folder or file name; ValueError otherwise (separators, "..", empty)."""
    if not _SEGMENT.fullmatch(value) or ".." in value:
        raise ValueError(f"{what} {value!r} cannot name a file or folder (letters, digits, '.', '_', '-' only)")
    return value


def sanitized(name: str, *, limit: int = 200) -> str:
    """`name` with every run of other characters replaced by "_" and no leading dot: safe as a file name."""
    return _UNSAFE.sub("_", name).replace("..", "_").lstrip(".")[:limit] or "_"
