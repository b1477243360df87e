"""The documentation site: `mkdocs build --strict` passes (a broken link or anchor, a page
left out of the nav, fails it) and the built site holds the examples' tariff sheets.
Skipped when MkDocs is not installed (pip install -e '.[dev]')."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from .helpers import ROOT


def test_mkdocs_build_strict(tmp_path: Path) -> None:
    if importlib.util.find_spec("mkdocs") is None:
        pytest.skip("MkDocs n'est pas installé (pip install -e '.[dev]')")
    site = tmp_path / "site"
    # Without `-q`: it hides the warnings, and `--strict` then passes a broken site.
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", "mkdocs.yml",
                             "-d", str(site)], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stdout + result.stderr, result.stdout + result.stderr
    for page in sorted((ROOT / "docs").glob("*.md")):
        assert (site / page.with_suffix(".html").name).exists(), page.name
    sheet = (site / "exemples" / "restauration-scolaire.html").read_text(encoding="utf-8")
    assert "<svg" in sheet and "2,10 €" in sheet
    assert "restauration-scolaire.html" in (site / "exemples" / "index.html").read_text(encoding="utf-8")
    assert list((site / "exemples").glob("comparaison-*.html"))
    assert "exemples/index.html" in (site / "index.html").read_text(encoding="utf-8")  # in the nav
