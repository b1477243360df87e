"""Every example délibération: its worked examples pass, or (a-corriger/) its diagnostics match the golden file."""

from __future__ import annotations

from pathlib import Path

import pytest

import tarifrules
from tarifrules.examples import run_examples
from tarifrules.render import render_diagnostics

from .helpers import EXAMPLES, GOLDEN, assert_golden

CLEAN = sorted(EXAMPLES.glob("*.tarif"))
TO_FIX = sorted((EXAMPLES / "a-corriger").glob("*.tarif"))


def test_there_are_enough_examples() -> None:
    assert len(CLEAN) >= 8
    total = sum(len(tarifrules.load(path).program.examples) for path in CLEAN)
    assert total >= 30


@pytest.mark.parametrize("path", CLEAN, ids=lambda p: p.name)
def test_examples_pass_and_file_is_clean(path: Path) -> None:
    ruleset = tarifrules.load(path)
    assert ruleset.warnings == ()
    results = run_examples(ruleset)
    assert len(results) >= 3
    failures = [d.message for r in results for d in r.failures]
    assert failures == []


@pytest.mark.parametrize("path", TO_FIX, ids=lambda p: p.name)
def test_files_to_fix_report_their_problem(path: Path) -> None:
    diagnostics = tarifrules.check(path)
    assert any(d.is_error for d in diagnostics)
    relative = str(path.relative_to(EXAMPLES.parents[1]))
    text = render_diagnostics(tarifrules.check(path.read_text(encoding="utf-8"), file=relative),
                              {relative: path.read_text(encoding="utf-8")})
    assert_golden(GOLDEN / "a-corriger" / (path.stem + ".txt"), text + "\n")
