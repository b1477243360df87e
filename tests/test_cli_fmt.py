"""`tarifrules fmt`: rewrite and --check."""

from __future__ import annotations

from pathlib import Path

import pytest

from tarifrules import format_source

from .test_cli import CANTINE, run


def test_fmt_check_and_rewrite(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    messy = tmp_path / "messy.tarif"
    messy.write_text(Path(CANTINE).read_text(encoding="utf-8").replace("\n  tarif_base", "\n      tarif_base"),
                     encoding="utf-8")
    code, out, _ = run(capsys, "fmt", "--check", str(messy))
    assert code == 1 and "à reformater" in out
    code, _, _ = run(capsys, "fmt", str(messy))
    assert code == 0
    canonical = format_source(Path(CANTINE).read_text(encoding="utf-8"))
    assert messy.read_text(encoding="utf-8") == canonical
    code, out, _ = run(capsys, "fmt", "--check", str(messy))
    assert code == 0 and "déjà formaté" in out
