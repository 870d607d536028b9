"""What lies in the private file storage of a test (see the `_isolated_files` fixture)."""
from pathlib import Path


def stored_files(settings) -> list[Path]:
    root = Path(settings.PRIVATE_FILES_ROOT)
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []
