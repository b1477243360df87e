"""Shared test helpers: paths, golden files."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "deliberations"
GOLDEN = Path(__file__).resolve().parent / "golden"


def update_golden() -> bool:
    return os.environ.get("UPDATE_GOLDEN") == "1"


def assert_golden(path: Path, actual: str) -> None:
    """Compare with a golden file; `pytest --update-golden` (or UPDATE_GOLDEN=1) rewrites it."""
    if update_golden():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"fichier de référence absent : {path} (lancez avec UPDATE_GOLDEN=1)"
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, f"sortie différente du fichier de référence {path.name}"
